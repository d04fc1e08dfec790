"""The model gate as an Airflow task: promote a registered version over the champion alias only if it wins."""

from __future__ import annotations

import ast
import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator

if TYPE_CHECKING:
    from airflow.sdk import Context

ON_STALE = ("fail", "reject")


def _as_mapping(value: Any, field: str) -> dict[str, Any] | None:
    """A templated dict rendered as text (without ``render_template_as_native_obj``) is parsed back."""
    if value is None or value == "" or value == "None":
        return None
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            try:
                value = ast.literal_eval(value)
            except (ValueError, SyntaxError):
                raise ValueError(f"ModelGateOperator.{field}: not a dict: {value[:200]!r}") from None
    if not isinstance(value, Mapping):
        raise ValueError(f"ModelGateOperator.{field}: expected a dict of metric -> number, got {type(value).__name__}")
    return dict(value)


def _bounds(value: Any, field: str) -> dict[str, float]:
    return {str(k): float(v) for k, v in (_as_mapping(value, field) or {}).items()}


def _version_or_none(value: Any) -> str | None:
    text = str(value).strip()
    return None if text in ("", "None") else text


class ModelGateOperator(BaseOperator):
    """Promote ``candidate_version`` of ``model_name`` to ``alias`` only if it beats the current one.

    :param model_name: the registered model (templated).
    :param candidate_version: the version to judge (templated), e.g.
        ``"{{ ti.xcom_pull(task_ids='train', key='tracking')['registered_model']['version'] }}"``.
    :param metric: the metric compared, e.g. ``evaluate.auc_roc``.
    :param direction: ``max`` (higher is better) or ``min``.
    :param margin: how much (absolute, >= 0) the candidate must beat the champion by.
    :param floors: ``{metric: bound}`` the candidate must be at or above; ``ceilings``: at or below.
        ``metric``, ``direction``, ``margin``, ``floors`` and ``ceilings`` are templated too, e.g. from the
        run's Params (``margin="{{ params.margin }}"``, ``floors="{{ params.floors }}"``).
    :param alias: the alias moved on promotion (templated).
    :param candidate_metrics, champion_metrics: metrics supplied by an evaluation task (templated dicts, e.g.
        both versions scored on the same data); by default each version's ``metric.*`` tags.
    :param compared_champion: the champion version ``champion_metrics`` were measured on (templated; ``""`` or
        ``"None"``: there was none). If the alias points elsewhere by the time the gate runs, the outcome is
        ``stale``: metrics of one champion are never used to replace another.
    :param fail_on_reject: fail the task when the candidate is rejected (default: succeed, return the decision).
    :param on_stale: when another gate moved the alias meanwhile: ``fail`` (the task fails; a retry gates again
        against the new champion) or ``reject`` (succeed with decision ``stale``). Either way it is recorded.
    :param tracking_uri: the MLflow server (templated); default from ``mlflow_conn_id``.
    :param lock_ttl, lock_timeout: seconds; see :class:`airflow_mlplat.gating.RegistryLock`.
        A gate that cannot take the lock within ``lock_timeout`` fails (retry-able); the alias is untouched.

    Returns (XCom) the recorded decision: ``decision`` (promoted/rejected/stale), ``reason``, ``candidate``,
    ``champion`` (the version compared with), ``metric``, ``candidate_value``, ``champion_value``, ``who``,
    ``when``, ``history_run_id``. History: ``airflow-mlplat promotions MODEL``.
    """

    template_fields: Sequence[str] = (
        "model_name",
        "candidate_version",
        "metric",
        "direction",
        "margin",
        "floors",
        "ceilings",
        "alias",
        "candidate_metrics",
        "champion_metrics",
        "compared_champion",
        "tracking_uri",
    )
    ui_color = "#f5e6c8"

    def __init__(
        self,
        *,
        model_name: str,
        candidate_version: str | int,
        metric: str,
        direction: str = "max",
        margin: float | str = 0.0,
        floors: Mapping[str, float] | str | None = None,
        ceilings: Mapping[str, float] | str | None = None,
        alias: str = "champion",
        candidate_metrics: Mapping[str, Any] | str | None = None,
        champion_metrics: Mapping[str, Any] | str | None = None,
        compared_champion: str | None = None,
        fail_on_reject: bool = False,
        on_stale: str = "fail",
        tracking_uri: str | None = None,
        mlflow_conn_id: str = "mlflow_default",
        lock_ttl: float = 60.0,
        lock_timeout: float = 120.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        from airflow_mlplat.gating.decision import DIRECTIONS

        if "{{" not in direction and direction not in DIRECTIONS:  # a template is checked once rendered
            raise ValueError(f"ModelGateOperator {self.task_id}: direction must be one of {DIRECTIONS}")
        if on_stale not in ON_STALE:
            raise ValueError(f"ModelGateOperator {self.task_id}: on_stale must be one of {ON_STALE}")
        self.model_name = model_name
        self.candidate_version = candidate_version
        self.metric = metric
        self.direction = direction
        self.margin = margin
        self.floors = floors
        self.ceilings = ceilings
        self.alias = alias
        self.candidate_metrics = candidate_metrics
        self.champion_metrics = champion_metrics
        self.compared_champion = compared_champion
        self.fail_on_reject = fail_on_reject
        self.on_stale = on_stale
        self.tracking_uri = tracking_uri
        self.mlflow_conn_id = mlflow_conn_id
        self.lock_ttl = lock_ttl
        self.lock_timeout = lock_timeout

    def _who(self, context: Context) -> str:
        ti = context.get("ti")
        run_id = context.get("run_id", "")
        return f"airflow:{self.dag_id}/{run_id}/{self.task_id}/try{getattr(ti, 'try_number', '?')}"

    def execute(self, context: Context) -> dict[str, Any]:
        from airflow.providers.common.compat.sdk import AirflowException
        from mlflow import MlflowClient

        from airflow_mlplat.gating import REJECT, STALE, gate
        from airflow_mlplat.gating.decision import DIRECTIONS
        from airflow_mlplat.gating.gate import UNCHECKED
        from airflow_mlplat.hooks.mlflow_tracking import MlflowTrackingHook

        if self.direction not in DIRECTIONS:
            raise AirflowException(f"ModelGateOperator {self.task_id}: direction must be one of {DIRECTIONS}")
        uri = self.tracking_uri or MlflowTrackingHook(self.mlflow_conn_id).tracking_uri()
        if not uri:
            raise AirflowException(
                f"ModelGateOperator {self.task_id}: no MLflow server: set tracking_uri, the connection "
                f"{self.mlflow_conn_id!r} or MLFLOW_TRACKING_URI"
            )
        record = gate(
            MlflowClient(tracking_uri=uri, registry_uri=uri),
            self.model_name,
            str(self.candidate_version).strip(),
            metric=self.metric,
            direction=self.direction,
            margin=float(self.margin),
            floors=_bounds(self.floors, "floors"),
            ceilings=_bounds(self.ceilings, "ceilings"),
            alias=self.alias,
            candidate_metrics=_as_mapping(self.candidate_metrics, "candidate_metrics"),
            champion_metrics=_as_mapping(self.champion_metrics, "champion_metrics"),
            compared_champion=UNCHECKED if self.compared_champion is None else _version_or_none(self.compared_champion),
            who=self._who(context),
            lock_ttl=self.lock_ttl,
            lock_timeout=self.lock_timeout,
        )
        self.log.info("gate %s v%s: %s: %s", self.model_name, record["candidate"], record["decision"], record["reason"])
        if record["decision"] == STALE and self.on_stale == "fail":
            raise AirflowException(f"ModelGateOperator {self.task_id}: stale: {record['reason']}")
        if record["decision"] == REJECT and self.fail_on_reject:
            raise AirflowException(f"ModelGateOperator {self.task_id}: rejected: {record['reason']}")
        return record
