"""Operators that run pipelines with the ML engine through ``spark-submit``.

``SparkPipelineOperator`` runs a whole pipeline JSON in one Spark application; the component
operator (``spark_component.py``) runs one component as its own task. Both validate before
any cluster time is spent, write the resolved pipeline next to the run's report, submit it
through ``SparkPipelineHook`` and return the run's metrics (the task's XCom), pushing the
report's location as the ``report_path`` XCom.

Importing this module imports neither pyspark nor the component implementations.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator

from airflow_mlplat.storage.runs import RUN_ROOT_ENV as RUN_ROOT_ENV  # re-exported: operators documented it
from airflow_mlplat.storage.runs import task_run_dir

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_mlplat.hooks.spark_connect_pipeline import SparkConnectPipelineHook
    from airflow_mlplat.hooks.spark_pipeline import SparkPipelineHook
    from airflow_mlplat.sdk import Pipeline as SdkPipeline

REPORT_PATH_XCOM_KEY = "report_path"
#: XCom with where a tracked run was logged: ``{"uri", "experiment_id", "run_id", "registered_model"?}``.
TRACKING_XCOM_KEY = "tracking"
PIPELINE_FILE_NAME = "pipeline.json"


class BaseSparkPipelineOperator(BaseOperator):
    """What running any pipeline document takes: param merging, run directory, hook and XComs.

    Subclasses say which document to run by implementing ``pipeline_document``.

    :param params_override: values for the pipeline's params, over the DAG's Params (templated).
        Values rendered from templates are strings unless the DAG renders native objects.
    :param conn_id: the Spark connection; ``spark_default`` falls back to ``local[*]`` when it is
        not defined, any other connection must exist.
    :param metastore_conn_id: the Hive metastore connection for the session's catalogue;
        ``metastore_default`` may be undefined (no Hive), None turns Hive off.
    :param out_dir: the run directory, local or on a mounted shared filesystem (templated);
        default ``$MLPLAT_RUN_ROOT`` (or ``$AIRFLOW_HOME/mlplat-runs``)``/DAG_ID/RUN_ID/TASK_ID``.
    :param conf: Spark configuration passed as ``--conf`` (templated).
    :param driver_memory: e.g. ``2g``.
    :param executor_memory: e.g. ``4g``.
    :param executor_cores: cores per executor.
    :param num_executors: executors to launch (YARN, Kubernetes).
    :param total_executor_cores: cores for all executors (standalone).
    :param spark_submit_kwargs: any other ``SparkSubmitHook`` argument (``deploy_mode``,
        ``jars``, ``packages``, ``env_vars``, ``verbose``, ...).
    :param session: ``"submit"`` (default): the pipeline runs in its own ``spark-submit``;
        ``"connect"``: on the long-lived Spark Connect server of ``connect_conn_id``, without a
        JVM or session start (for short pipelines). The report, outputs, metrics and errors are
        the same; a pipeline whose components need the classic JVM API is refused before it
        runs, naming the node. ``conn_id``, ``conf`` and the spark-submit settings do not apply
        to ``"connect"`` (the server has its own). ``"auto"``: ``"connect"`` when
        ``connect_conn_id`` is defined and every component can run there, else ``"submit"``
        (decided when the task runs).
    :param connect_conn_id: the ``spark_connect`` connection used with ``session="connect"``.
    :param mlflow_conn_id: the MLflow tracking connection the engine logs the run to (and
        registers the pipeline's ``register`` model in); when the default ``mlflow_default``
        is not defined, ``$MLFLOW_TRACKING_URI``, else the run is not tracked. None: resolve no
        connection (only a ``$MLFLOW_TRACKING_URI`` of the driver's environment applies).

    The DAG's Params (``context["params"]``) fill the pipeline params of the same name; Params
    the pipeline does not declare are ignored, and ``params_override`` wins over both.
    """

    template_fields: Sequence[str] = ("params_override", "out_dir", "conf")
    template_fields_renderers = {"params_override": "json", "conf": "json"}
    ui_color = "#f4a460"

    def __init__(
        self,
        *,
        params_override: Mapping[str, Any] | None = None,
        conn_id: str = "spark_default",
        metastore_conn_id: str | None = "metastore_default",
        out_dir: str | None = None,
        conf: Mapping[str, Any] | None = None,
        driver_memory: str | None = None,
        executor_memory: str | None = None,
        executor_cores: int | None = None,
        num_executors: int | None = None,
        total_executor_cores: int | None = None,
        spark_submit_kwargs: Mapping[str, Any] | None = None,
        mlflow_conn_id: str | None = "mlflow_default",
        session: str = "submit",
        connect_conn_id: str = "spark_connect_default",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if session not in ("submit", "connect", "auto"):
            raise ValueError(f"{type(self).__name__}: session must be 'submit', 'connect' or 'auto', got {session!r}")
        self.session = session
        self.connect_conn_id = connect_conn_id
        self.mlflow_conn_id = mlflow_conn_id
        self.params_override = dict(params_override or {})
        self.conn_id = conn_id
        self.metastore_conn_id = metastore_conn_id
        self.out_dir = out_dir
        self.conf = dict(conf or {})
        self.driver_memory = driver_memory
        self.executor_memory = executor_memory
        self.executor_cores = executor_cores
        self.num_executors = num_executors
        self.total_executor_cores = total_executor_cores
        self.spark_submit_kwargs = dict(spark_submit_kwargs or {})
        self._kill_requested = False

    def pipeline_document(self, context: Context) -> tuple[dict[str, Any], str]:
        """The raw pipeline document to run, and the name validation messages give it."""
        raise NotImplementedError

    def tracking_tags(self, context: Context) -> dict[str, str]:
        """Tags, beyond the DAG's, task's and run's ids, for the tracked run and its registered version."""
        return {}

    @cached_property
    def hook(self) -> SparkPipelineHook | SparkConnectPipelineHook:
        if self.session == "connect":
            from airflow_mlplat.hooks.spark_connect_pipeline import SparkConnectPipelineHook

            return SparkConnectPipelineHook(conn_id=self.connect_conn_id)
        from airflow_mlplat.hooks.spark_pipeline import SparkPipelineHook

        return SparkPipelineHook(
            conn_id=self.conn_id,
            metastore_conn_id=self.metastore_conn_id,
            conf={key: str(value) for key, value in self.conf.items()},
            name=f"mlplat:{self.dag_id}.{self.task_id}",
            driver_memory=self.driver_memory,
            executor_memory=self.executor_memory,
            executor_cores=self.executor_cores,
            num_executors=self.num_executors,
            total_executor_cores=self.total_executor_cores,
            **self.spark_submit_kwargs,
        )

    def execute(self, context: Context) -> dict[str, Any]:
        from airflow_mlplat.engine.runner import REPORT_NAME
        from airflow_mlplat.pipeline import validate_pipeline
        from airflow_mlplat.ranking.node import check_spark

        doc, source = self.pipeline_document(context)
        values = self._param_values(doc, context)
        pipeline = validate_pipeline(doc, source=source, params=values)
        check_spark(pipeline, source=source)
        if self.session == "auto":
            self.session = self._auto_session(pipeline)
        if self.session == "connect":
            from airflow_mlplat.engine.connect import check_connect

            check_connect(pipeline, source=source)

        out_dir = self.out_dir or self._default_out_dir(context)
        Path(out_dir).mkdir(parents=True, exist_ok=True)
        resolved = pipeline.to_dict()
        for name, value in values.items():
            resolved["params"][name]["default"] = value
        pipeline_path = Path(out_dir) / PIPELINE_FILE_NAME
        pipeline_path.write_text(json.dumps(resolved, indent=2))

        # Pushed before the run so a failed run's report can be found too.
        context["ti"].xcom_push(key=REPORT_PATH_XCOM_KEY, value=str(Path(out_dir) / REPORT_NAME))
        hook = self.hook
        if self._kill_requested:
            hook.on_kill()  # killed while the hook was being made: submit_pipeline refuses to start
        tracking_uri = None
        if self.mlflow_conn_id:
            from airflow_mlplat.hooks.mlflow_tracking import MlflowTrackingHook

            tracking_uri = MlflowTrackingHook(self.mlflow_conn_id).tracking_uri()
        tags = {
            "airflow.dag_id": self.dag_id,
            "airflow.task_id": self.task_id,
            "airflow.run_id": context["run_id"],
            **self.tracking_tags(context),
        }
        report = hook.submit_pipeline(
            str(pipeline_path), out_dir, values, tracking_uri=tracking_uri, tracking_tags=tags if tracking_uri else None
        )
        if report.get("tracking"):
            context["ti"].xcom_push(key=TRACKING_XCOM_KEY, value=report["tracking"])
        return report["metrics"]

    def _auto_session(self, pipeline: Any) -> str:
        from airflow.providers.common.compat.sdk import AirflowNotFoundException, BaseHook

        from airflow_mlplat.engine.connect import connect_problems

        try:
            BaseHook.get_connection(self.connect_conn_id)
        except AirflowNotFoundException:
            self.log.info("session='auto': no %r connection, running with spark-submit", self.connect_conn_id)
            return "submit"
        problems = connect_problems(pipeline)
        if problems:
            self.log.info("session='auto': running with spark-submit, since %s", problems[0])
            return "submit"
        self.log.info("session='auto': running on Spark Connect (%r)", self.connect_conn_id)
        return "connect"

    def on_kill(self) -> None:
        self._kill_requested = True
        # Only a hook that exists can have started anything; execute checks the flag otherwise.
        if "hook" in self.__dict__:
            self.hook.on_kill()

    def _param_values(self, doc: dict[str, Any], context: Context) -> dict[str, Any]:
        declared = doc.get("params") if isinstance(doc.get("params"), dict) else {}
        dag_params = context.get("params") or {}
        values = {name: dag_params[name] for name in declared if name in dag_params}
        values.update(self.params_override)
        return values

    def _default_out_dir(self, context: Context) -> str:
        return task_run_dir(self.dag_id, context["run_id"], self.task_id)


class SparkPipelineOperator(BaseSparkPipelineOperator):
    """Run a pipeline JSON in one Spark application; return its metrics.

    :param pipeline: the pipeline: a dict, a JSON string, the path of a ``.json`` file, or a
        pipeline built with the SDK (``airflow_mlplat.sdk.Pipeline``, taken as its ``to_json()``)
        (templated; string values inside a dict are rendered too).

    See ``BaseSparkPipelineOperator`` for the other arguments. Returns (as XCom) the run's
    metrics ``{node_id: {metric: value}}``; the ``report_path`` XCom is the run's report.json,
    and a tracked run's ``tracking`` XCom says where it was logged (and the registered version).

    :raises PipelineValidationError: the pipeline or a param value is invalid (nothing was submitted).
    :raises PipelineRunError: the run failed, naming the failing node and its error.
    """

    template_fields: Sequence[str] = ("pipeline", *BaseSparkPipelineOperator.template_fields)
    template_fields_renderers = {**BaseSparkPipelineOperator.template_fields_renderers, "pipeline": "json"}

    def __init__(self, *, pipeline: dict[str, Any] | str | os.PathLike[str] | SdkPipeline, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not isinstance(pipeline, dict | str | os.PathLike):
            # Only a DAG file that built the pipeline with the SDK gets here: the import is already paid.
            from airflow_mlplat.sdk import Pipeline as SdkPipeline

            if isinstance(pipeline, SdkPipeline):
                pipeline = pipeline.to_json()
        self.pipeline = os.fspath(pipeline) if isinstance(pipeline, os.PathLike) else pipeline

    def pipeline_document(self, context: Context) -> tuple[dict[str, Any], str]:
        from airflow_mlplat.pipeline import load_pipeline

        source = self.pipeline
        is_path = isinstance(source, str) and not source.lstrip().startswith("{")
        return load_pipeline(source), source if is_path else "pipeline"
