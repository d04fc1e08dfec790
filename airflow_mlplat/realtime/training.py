"""The ``train`` task of ``realtime_retrain``: the run's ``params.model`` picks how the model is trained, and an
incremental model continues from the champion's state.

A Spark model (``spark_lr``, ``ftrl``) is a training document run by the ML engine. It is incremental when
its document has nodes whose ``model`` input can take the previous model (``ftrl``: the running scaler and
FTRL): the task downloads the version ``MODEL@alias`` points at and feeds its Spark model folder to those
inputs.

A ranking model (``deepfm``) is trained through the launcher (``ranking.job``: a PyTorch job on the
deployment's training backend, ``[mlplat] training_backend``, local processes by default): the task encodes
the training windows (``realtime.deep_training``), starts the job from the champion's weights and feature map
when the champion was trained as the same kind (else from scratch, with its own feature map), waits for it,
and registers the exported ONNX model (``ranking.registration``), which the prediction service loads with
the feature map that encodes its raw feature rows.

No model continues from a rejected candidate: the alias only moves on promotion, so a bad window is learnt by
one candidate and forgotten with it. A champion trained as another kind (``spark_lr`` before the Param
changed) is not continued: the model starts fresh, and says so. The registered version records its kind and
the version it continued from (``none`` when it started fresh).

Importing this module imports neither pyspark, mlflow nor torch.
"""

from __future__ import annotations

import copy
import hashlib
import json
import shutil
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
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
    document: str | None = None  # a Spark model: the training pipeline's file under dags/pipelines/
    warm_start: tuple[str, ...] = ()  # the nodes whose ``model`` input takes the previous model
    ranking: Mapping[str, Any] | None = None  # a ranking model: ``{"model", "params", "launcher"}`` of its job


#: ``deepfm``: small enough that one window's job takes seconds on a CPU core; always warm-started.
DEEPFM = {
    "model": "deepfm",
    "params": {
        "embedding_dim": 4,
        "hidden_units": [16],
        "learning_rate": 0.01,
        "batch_size": 128,
        "epochs": 5,
        "early_stopping_patience": 2,
        "seed": 2026,
    },
    "launcher": {"workers": 1, "cpu": "1", "memory": "2Gi", "timeout": 600.0},
}

#: ``params.model`` of ``realtime_retrain``.
MODELS = {
    "spark_lr": TrainingModel("realtime_retrain_training.json"),
    "ftrl": TrainingModel("realtime_retrain_ftrl.json", ("scale", "classifier")),
    "deepfm": TrainingModel(ranking=DEEPFM),
}
#: Seconds between two status reads of a ranking job (the loop's freshness depends on it).
RANKING_POLL_INTERVAL = 0.5


def continue_from(document: dict[str, Any], nodes: Sequence[str], model_url: str) -> None:
    """Feed the Spark model at ``model_url`` to the ``model`` input of ``nodes`` of ``document`` (in place)."""
    for node in document["nodes"]:
        if node["id"] in nodes:
            node.setdefault("inputs", {})["model"] = {"path": model_url}


@dataclass(frozen=True)
class Champion:
    version: str
    model_dir: Path  # the downloaded version's folder
    tags: Mapping[str, str] = field(default_factory=dict)

    @property
    def spark_model(self) -> Path:
        """The Spark PipelineModel folder of a Spark model version."""
        from airflow_mlplat.serving.model import spark_model_dir
        from airflow_mlplat.serving.signature import read_mlmodel

        return spark_model_dir(self.model_dir, read_mlmodel(self.model_dir))


def download_champion(tracking_uri: str, name: str, alias: str, kind: str, dest: Path) -> Champion | None:
    """The version ``name@alias``, downloaded into ``dest``, when it exists and was trained as ``kind``."""
    from airflow_mlplat.serving.errors import ModelNotFoundError
    from airflow_mlplat.serving.registry import ModelRef, RegistryClient

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
        return Champion(info.version, registry.download(info, dest), dict(info.tags))
    finally:
        registry.close()


class RealtimeTrainOperator(BaseSparkPipelineOperator):
    """Train ``params.model``, warm-started from the champion where it can be, and register the version.

    :param pipelines: ``{kind: pipeline document}`` of the Spark models (templated; string values are rendered).
    :param warm_start: ``{kind: [node ids]}``: the nodes whose ``model`` input takes the champion's model.
    :param ranking: ``{kind: {"model", "params", "launcher"}}`` of the ranking models trained through the
        launcher (``MODELS[kind].ranking``): the ranking model, its declared parameters and the job's
        settings (``airflow_mlplat.ranking.params``). A DAG Param ``KIND_NAME`` (e.g. ``deepfm_epochs``)
        sets the parameter ``NAME`` for the run. Checked when the task is made.

    The champion is ``params.model_name`` at ``params.alias`` in the registry of ``mlflow_conn_id``.
    A ranking model's job runs on the deployment's training backend (``[mlplat] training_backend``).
    Both kinds push the ``report_path`` XCom (a ranking model's report: windows, rows, warm start, the
    job's metrics and the phases' seconds) and the ``tracking`` XCom with the registered version.
    See ``BaseSparkPipelineOperator`` for the other arguments.
    """

    template_fields: Sequence[str] = ("pipelines", *BaseSparkPipelineOperator.template_fields)

    def __init__(
        self,
        *,
        pipelines: Mapping[str, dict[str, Any]],
        warm_start: Mapping[str, Sequence[str]] | None = None,
        ranking: Mapping[str, Mapping[str, Any]] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.pipelines = {kind: dict(document) for kind, document in pipelines.items()}
        self.warm_start = {kind: list(nodes) for kind, nodes in (warm_start or {}).items()}
        self.ranking = {kind: _checked_ranking(self, kind, spec) for kind, spec in (ranking or {}).items()}
        for kind, nodes in self.warm_start.items():
            known = {node.get("id") for node in self.pipelines.get(kind, {}).get("nodes", [])}
            if kind not in self.pipelines or not set(nodes) <= known:
                raise ValueError(
                    f"{type(self).__name__} {self.task_id!r}: warm_start[{kind!r}] names {nodes}, which are not "
                    f"nodes of pipelines[{kind!r}]"
                )
        both = sorted(set(self.pipelines) & set(self.ranking))
        if both:
            raise ValueError(f"{type(self).__name__} {self.task_id!r}: {both[0]!r} is in both pipelines and ranking")
        self._tags: dict[str, str] = {}
        self._job_handle: dict[str, Any] | None = None

    @property
    def kinds(self) -> list[str]:
        return sorted({*self.pipelines, *self.ranking})

    def execute(self, context: Context) -> dict[str, Any]:
        kind = str((context.get("params") or {}).get("model", ""))
        if kind in self.ranking:
            return self._train_ranking(context, kind)
        return super().execute(context)

    def pipeline_document(self, context: Context) -> tuple[dict[str, Any], str]:
        params = context.get("params") or {}
        kind = str(params.get("model", ""))
        if kind not in self.pipelines:
            raise ValueError(f"{self.task_id}: params.model is {kind!r}; it must be one of {self.kinds}")
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

    def on_kill(self) -> None:
        if self._job_handle is not None:
            from airflow_mlplat.launcher.backends import backend_from_handle

            backend_from_handle(self._job_handle).kill(self._job_handle)
        super().on_kill()

    def _tracking_uri(self, kind: str) -> str:
        from airflow_mlplat.hooks.mlflow_tracking import MlflowTrackingHook

        tracking_uri = MlflowTrackingHook(self.mlflow_conn_id).tracking_uri() if self.mlflow_conn_id else None
        if not tracking_uri:
            raise ValueError(
                f"{self.task_id}: params.model {kind!r} continues from the champion, but there is no MLflow "
                "registry (define the mlflow_default connection or MLFLOW_TRACKING_URI)"
            )
        return tracking_uri

    def _champion(self, context: Context, params: Mapping[str, Any], kind: str) -> Champion | None:
        tracking_uri = self._tracking_uri(kind)
        name, alias = str(params["model_name"]), str(params["alias"])
        dest = Path(self.out_dir or self._default_out_dir(context)) / "champion"
        champion = download_champion(tracking_uri, name, alias, kind, dest)
        if champion is None:
            self.log.info("%s: no %s champion at %s@%s: the model starts fresh", self.task_id, kind, name, alias)
        else:
            self.log.info("%s: continuing from version %s of %s (%s)", self.task_id, champion.version, name, alias)
        return champion

    # -- ranking models ----------------------------------------------------------------------

    def _ranking_params(self, params: Mapping[str, Any], kind: str) -> dict[str, Any]:
        """The model's parameters: ``ranking[kind]["params"]``, then the run's ``KIND_NAME`` Params."""
        from airflow_mlplat.ranking.params import model_params

        spec = self.ranking[kind]
        declared = {p.name for p in model_params(spec["model"])}
        values = dict(spec.get("params") or {})
        for param, value in params.items():
            if not param.startswith(f"{kind}_") or value in (None, ""):
                continue
            name = param[len(kind) + 1 :]
            if name not in declared:
                raise ValueError(
                    f"{self.task_id}: params.{param} sets {name!r}, which is not a parameter of the "
                    f"{spec['model']} model (known: {', '.join(sorted(declared))})"
                )
            values[name] = value
        return values

    def _train_ranking(self, context: Context, kind: str) -> dict[str, Any]:
        """Encode the committed training windows, train through the launcher (from the champion's weights
        when it was trained as ``kind``), register the exported model; return ``{kind: metrics}``."""
        import time

        from airflow_mlplat.operators.spark_pipeline import REPORT_PATH_XCOM_KEY, TRACKING_XCOM_KEY
        from airflow_mlplat.ranking.job import ranking_job
        from airflow_mlplat.ranking.params import RankingParamsError
        from airflow_mlplat.ranking.registration import register_ranking_model
        from airflow_mlplat.realtime import deep_training
        from airflow_mlplat.realtime.tasks import committed_training_partitions

        started = time.perf_counter()
        params = context["params"]
        spec = self.ranking[kind]
        name = str(params["model_name"])
        out_dir = Path(self.out_dir or self._default_out_dir(context))
        for stale in ("champion", "data", "model"):  # a retried task starts clean
            shutil.rmtree(out_dir / stale, ignore_errors=True)
        out_dir.mkdir(parents=True, exist_ok=True)
        report_path = out_dir / "report.json"
        context["ti"].xcom_push(key=REPORT_PATH_XCOM_KEY, value=str(report_path))
        tracking_uri = self._tracking_uri(kind)
        dag_run = context.get("dag_run")
        partitions = committed_training_partitions(
            params, context.get("data_interval_end"), getattr(dag_run, "run_after", None)
        )
        rows = deep_training.read_windows(partitions)
        champion = self._champion(context, params, kind)
        where = f"{self.task_id}: champion version {champion.version} of {name} (trained as {kind})" if champion else ""
        encoded = deep_training.encode_windows(rows, out_dir / "data", champion.model_dir if champion else None, where)
        token = f"{name}|{context['run_id']}|{getattr(context['ti'], 'try_number', 1)}"
        try:
            job = ranking_job(
                name=f"rt-{kind}-{hashlib.sha1(token.encode()).hexdigest()[:10]}",
                model=spec["model"],
                params=self._ranking_params(params, kind),
                output_path=(out_dir / "model").as_uri(),
                launcher=spec.get("launcher"),
                **encoded.job_inputs(),
            )
        except RankingParamsError as err:
            raise ValueError(f"{self.task_id} ({kind}): {err}") from err
        prepared = time.perf_counter()
        result = run_ranking_job(job, log=self.log.info, on_submit=lambda handle: setattr(self, "_job_handle", handle))
        trained = time.perf_counter()
        warm_started_from = champion.version if champion else "none"
        registered = register_ranking_model(
            result["output_path"],
            name=name,
            tracking_uri=tracking_uri,
            lineage={"partitions": ", ".join(partitions)},
            version_tags={
                KIND_TAG: kind,
                WARM_START_TAG: warm_started_from,
                "airflow.dag_id": self.dag_id,
                "airflow.task_id": self.task_id,
                "airflow.run_id": str(context["run_id"]),
            },
        )
        context["ti"].xcom_push(
            key=TRACKING_XCOM_KEY,
            value={"uri": tracking_uri, "run_id": registered["run_id"], "registered_model": registered},
        )
        metrics = {k: v for k, v in (result.get("metrics") or {}).items() if isinstance(v, (int, float))}
        report = {
            "kind": kind,
            "model": spec["model"],
            "launcher": {"job": result["job"], "phase": result["phase"], "output_path": result["output_path"]},
            "partitions": partitions,
            "rows": {"train": encoded.tables["train_rows"], "validation": encoded.tables["validation_rows"]},
            "warm_started_from": warm_started_from,
            "warm_start": encoded.warm_start,
            "feature_map": encoded.feature_map.to_dict(),
            "metrics": metrics,
            "registered": registered,
            "seconds": {
                "prepare": prepared - started,
                "train": trained - prepared,
                "register": time.perf_counter() - trained,
            },
        }
        report_path.write_text(json.dumps(report, indent=1, default=str))
        self.log.info(
            "%s: %s version %s registered (warm-started from %s) in %.1f s",
            self.task_id,
            kind,
            registered["version"],
            warm_started_from,
            time.perf_counter() - started,
        )
        return {kind: metrics}


def run_ranking_job(
    job: Mapping[str, Any], *, log: Callable[[str], None], on_submit: Callable[[dict[str, Any]], None] | None = None
) -> dict[str, Any]:
    """Submit a ranking job to the deployment's training backend and wait for it (it takes seconds); return
    its result (``launcher.backends.conclude``). ``on_submit`` gets the job's handle once it is submitted."""
    from airflow_mlplat.launcher.backends import conclude, get_backend
    from airflow_mlplat.launcher.backends.options import backend_options
    from airflow_mlplat.launcher.spec import ClusterProfile, TrainingJob
    from airflow_mlplat.ranking.node import training_settings

    settings = training_settings()
    backend = get_backend(
        settings["backend"],
        **backend_options(
            settings["backend"],
            namespace=settings["namespace"],
            kubernetes_conn_id="kubernetes_default",
            cluster_profile=settings["cluster_profile"],
            state_root=None,
            request_timeout=30.0,
        ),
    )
    training_job = TrainingJob.from_dict(dict(job)).validate(ClusterProfile.from_dict(settings["cluster_profile"]))
    handle = backend.handle(training_job)
    if on_submit is not None:
        on_submit(handle)
    backend.submit(training_job, handle)
    log(f"submitted training job {training_job.name} ({settings['backend']} backend)")
    status = backend.wait(handle, poll_interval=RANKING_POLL_INTERVAL, on_log=log)
    return conclude(handle, status)


def _checked_ranking(operator: BaseSparkPipelineOperator, kind: str, spec: Mapping[str, Any]) -> dict[str, Any]:
    """``ranking[kind]`` with its model, parameters and launcher settings checked (errors name them)."""
    from airflow_mlplat.ranking.params import validate_launcher, validate_params

    where = f"{type(operator).__name__} {operator.task_id!r}: ranking[{kind!r}]"
    if not isinstance(spec, Mapping):
        raise ValueError(f"{where} must be a mapping with model, params and launcher, got {type(spec).__name__}")
    unknown = sorted(set(spec) - {"model", "params", "launcher"})
    if unknown:
        raise ValueError(f"{where}: unknown keys {unknown} (known: launcher, model, params)")
    problems = validate_params(spec.get("model"), spec.get("params")) + validate_launcher(spec.get("launcher"))
    if problems:
        raise ValueError(f"{where}: " + "; ".join(problems))
    return {
        "model": spec["model"],
        "params": dict(spec.get("params") or {}),
        "launcher": dict(spec.get("launcher") or {}),
    }
