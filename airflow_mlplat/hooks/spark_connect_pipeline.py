"""Pipelines on a long-lived Spark Connect server: the engine runs in the task's process as a Connect client.

No spark-submit, JVM start or session start per run: for short pipelines (the real-time loop's
retraining) those dominate. The connection is the apache-spark provider's ``spark_connect``
type (``sc://HOST:PORT``, user id, token, SSL), ``spark_connect_default`` by default;
``python -m airflow_mlplat.services connect up`` starts one on 127.0.0.1 and prints it.

Same contract as ``SparkPipelineHook.submit_pipeline``: the same run report, outputs and
errors. Components that need the classic JVM API are refused before the session is opened
(``airflow_mlplat.engine.connect``).
"""

from __future__ import annotations

import threading
from typing import Any

from airflow.providers.common.compat.sdk import AirflowNotFoundException, BaseHook

from airflow_mlplat.hooks.connections import connection_or_fallback
from airflow_mlplat.hooks.spark_pipeline import PipelineRunError, _failure_message, _remove_report

DEFAULT_CONNECT_CONN_ID = "spark_connect_default"


class SparkConnectPipelineHook(BaseHook):
    """Run pipeline JSONs with the ML engine on a Spark Connect server.

    :param conn_id: a ``spark_connect`` connection (the apache-spark provider's type).
    """

    conn_name_attr = "conn_id"
    default_conn_name = DEFAULT_CONNECT_CONN_ID
    hook_name = "Spark ML pipeline on Spark Connect"

    def __init__(self, conn_id: str = DEFAULT_CONNECT_CONN_ID) -> None:
        super().__init__()
        self.conn_id = conn_id
        self._session: Any = None
        self._lock = threading.Lock()
        self._kill_requested = False

    def connect_url(self) -> str:
        """The ``sc://`` URL of the connection (user id, token and SSL as its parameters)."""
        from airflow.providers.apache.spark.hooks.spark_connect import SparkConnectHook

        conn = connection_or_fallback(
            self.conn_id, DEFAULT_CONNECT_CONN_ID, what="Spark Connect", example="sc://127.0.0.1:15002"
        )
        if conn is None:
            raise AirflowNotFoundException(
                f"Spark Connect connection {self.conn_id!r} is not defined: start a server with "
                "`python -m airflow_mlplat.services connect up` and export the connection it prints, "
                "or run the pipeline with session='submit'"
            )
        return SparkConnectHook(self.conn_id).get_connection_url()

    def submit_pipeline(
        self,
        pipeline_path: str,
        out_dir: str,
        params: dict[str, Any] | None = None,
        *,
        tracking_uri: str | None = None,
        tracking_tags: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """Run the pipeline JSON at ``pipeline_path`` on the Connect server; return its run report.

        :raises PipelineValidationError: the pipeline is invalid, or a node's component needs the
            classic Spark API (nothing ran).
        :raises PipelineRunError: the run failed (naming the failing node and its error) or was killed.
        """
        from airflow_mlplat.engine.connect import check_connect, connect_session
        from airflow_mlplat.engine.runner import NodeFailed, PreflightFailed, run_pipeline
        from airflow_mlplat.pipeline import load_pipeline, validate_pipeline
        from airflow_mlplat.tracking.mlflow_run import TrackingFailed

        pipeline = validate_pipeline(load_pipeline(pipeline_path), source=pipeline_path, params=params)
        check_connect(pipeline, source=pipeline_path)
        url = self.connect_url()
        _remove_report(str(out_dir))
        self.log.info("Running pipeline %s on Spark Connect %s; run directory %s", pipeline_path, url, out_dir)
        with connect_session(url) as spark:
            with self._lock:
                if self._kill_requested:
                    raise PipelineRunError("the pipeline run was killed before it started")
                self._session = spark
            try:
                for key, value in pipeline.spark_conf.items():
                    spark.conf.set(key, str(value))  # session-scoped; a static setting is an error naming it
                report = run_pipeline(
                    pipeline,
                    out_dir,
                    spark=spark,
                    params=params,
                    tracking_uri=tracking_uri,
                    tracking_tags=tracking_tags,
                )
            except (NodeFailed, PreflightFailed, TrackingFailed) as failure:
                if self._kill_requested:
                    raise PipelineRunError("the pipeline run was killed", failure.report) from failure
                raise PipelineRunError(_failure_message(failure.report), failure.report) from failure
            finally:
                with self._lock:
                    self._session = None
        self.log.info("Pipeline %r succeeded in %ss", report.get("pipeline"), report.get("seconds"))
        return report

    def on_kill(self) -> None:
        """Interrupt the run's operations on the server; the server keeps running for other runs."""
        with self._lock:
            self._kill_requested = True
            session = self._session
        if session is not None:
            session.interruptAll()
