"""The ``train`` task of ``realtime_retrain``: the run's ``params.model`` picks the training document, and an
incremental model continues from the champion's state.

A model is incremental when its document has nodes whose ``model`` input can take the previous model
(``ftrl``: the running scaler and FTRL). The task downloads the version ``MODEL@alias`` points at and feeds
its Spark model folder to those inputs. It never continues from a rejected candidate: the alias only moves on
promotion, so a bad window is learnt by one candidate and forgotten with it. A champion trained as another
kind (``spark_lr`` before the Param changed) is not continued: the model starts fresh, and says so. The
registered version records its kind and the version it continued from (``none`` when it started fresh).

Importing this module imports neither pyspark nor mlflow.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from airflow_mlplat.operators.spark_pipeline import BaseSparkPipelineOperator

if TYPE_CHECKING:
    from airflow.sdk import Context

#: Version tags: the ``params.model`` that trained the version, and the version it continued from.
KIND_TAG = "mlplat.realtime.model"
WARM_START_TAG = "mlplat.warm_started_from"


@dataclass(frozen=True)
class TrainingModel:
    document: str  # the training pipeline's file under dags/pipelines/
    warm_start: tuple[str, ...] = ()  # the nodes whose ``model`` input takes the previous model


#: ``params.model`` of ``realtime_retrain``.
MODELS = {
    "spark_lr": TrainingModel("realtime_retrain_training.json"),
    "ftrl": TrainingModel("realtime_retrain_ftrl.json", ("scale", "classifier")),
}


def continue_from(document: dict[str, Any], nodes: Sequence[str], model_url: str) -> None:
    """Feed the Spark model at ``model_url`` to the ``model`` input of ``nodes`` of ``document`` (in place)."""
    for node in document["nodes"]:
        if node["id"] in nodes:
            node.setdefault("inputs", {})["model"] = {"path": model_url}


@dataclass(frozen=True)
class Champion:
    version: str
    spark_model: Path  # the downloaded version's Spark PipelineModel folder


def download_champion(tracking_uri: str, name: str, alias: str, kind: str, dest: Path) -> Champion | None:
    """The version ``name@alias``, downloaded into ``dest``, when it exists and was trained as ``kind``."""
    from airflow_mlplat.serving.errors import ModelNotFoundError
    from airflow_mlplat.serving.model import spark_model_dir
    from airflow_mlplat.serving.registry import ModelRef, RegistryClient
    from airflow_mlplat.serving.signature import read_mlmodel

    registry = RegistryClient(tracking_uri)
    try:
        try:
            version = registry.alias_version(name, alias)
        except ModelNotFoundError:
            return None
        if version is None:
            return None
        info = registry.resolve(ModelRef.parse(f"models:/{name}/{version}"))
        if info.tags.get(KIND_TAG) != kind:
            return None
        model_dir = registry.download(info, dest)
        return Champion(info.version, spark_model_dir(model_dir, read_mlmodel(model_dir)))
    finally:
        registry.close()


class RealtimeTrainOperator(BaseSparkPipelineOperator):
    """Run the training document of ``params.model``, warm-started from the champion where it can be.

    :param pipelines: ``{kind: pipeline document}`` (templated; string values are rendered).
    :param warm_start: ``{kind: [node ids]}``: the nodes whose ``model`` input takes the champion's model.

    The champion is ``params.model_name`` at ``params.alias`` in the registry of ``mlflow_conn_id``.
    See ``BaseSparkPipelineOperator`` for the other arguments.
    """

    template_fields: Sequence[str] = ("pipelines", *BaseSparkPipelineOperator.template_fields)

    def __init__(
        self,
        *,
        pipelines: Mapping[str, dict[str, Any]],
        warm_start: Mapping[str, Sequence[str]] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.pipelines = {kind: dict(document) for kind, document in pipelines.items()}
        self.warm_start = {kind: list(nodes) for kind, nodes in (warm_start or {}).items()}
        for kind, nodes in self.warm_start.items():
            known = {node.get("id") for node in self.pipelines.get(kind, {}).get("nodes", [])}
            if kind not in self.pipelines or not set(nodes) <= known:
                raise ValueError(
                    f"{type(self).__name__} {self.task_id!r}: warm_start[{kind!r}] names {nodes}, which are not "
                    f"nodes of pipelines[{kind!r}]"
                )
        self._tags: dict[str, str] = {}

    def pipeline_document(self, context: Context) -> tuple[dict[str, Any], str]:
        params = context.get("params") or {}
        kind = str(params.get("model", ""))
        if kind not in self.pipelines:
            raise ValueError(f"{self.task_id}: params.model is {kind!r}; it must be one of {sorted(self.pipelines)}")
        document = copy.deepcopy(self.pipelines[kind])
        self._tags = {KIND_TAG: kind}
        nodes = self.warm_start.get(kind)
        if nodes:
            champion = self._champion(context, params, kind)
            self._tags[WARM_START_TAG] = champion.version if champion else "none"
            if champion is not None:
                continue_from(document, nodes, champion.spark_model.as_uri())
        return document, f"{self.task_id} ({kind} training pipeline)"

    def tracking_tags(self, context: Context) -> dict[str, str]:
        return dict(self._tags)

    def _champion(self, context: Context, params: Mapping[str, Any], kind: str) -> Champion | None:
        from airflow_mlplat.hooks.mlflow_tracking import MlflowTrackingHook

        tracking_uri = MlflowTrackingHook(self.mlflow_conn_id).tracking_uri() if self.mlflow_conn_id else None
        if not tracking_uri:
            raise ValueError(
                f"{self.task_id}: params.model {kind!r} continues from the champion, but there is no MLflow "
                "registry (define the mlflow_default connection or MLFLOW_TRACKING_URI)"
            )
        name, alias = str(params["model_name"]), str(params["alias"])
        dest = Path(self.out_dir or self._default_out_dir(context)) / "champion"
        champion = download_champion(tracking_uri, name, alias, kind, dest)
        if champion is None:
            self.log.info("%s: no %s champion at %s@%s: the model starts fresh", self.task_id, kind, name, alias)
        else:
            self.log.info("%s: continuing from version %s of %s (%s)", self.task_id, champion.version, name, alias)
        return champion
