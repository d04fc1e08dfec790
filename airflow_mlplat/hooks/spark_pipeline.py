"""spark-submit of the ML engine: one pipeline JSON in, its run report out.

Builds on the apache-spark provider's ``SparkSubmitHook`` (command line, connection extras,
Kerberos, YARN/Kubernetes/standalone cluster handling) and changes three things:

- a missing ``spark_default`` connection means ``local[*]``, and any other missing connection
  is an error (the stock hook silently falls back to ``yarn``);
- ``submit_pipeline`` ships this package as ``--py-files``, runs the engine application in its
  own process session and returns the run's ``report.json``;
- ``on_kill`` ends the whole local process tree (spark-submit JVM, Python driver, Python
  workers), not just the spark-submit JVM.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import fsspec
import psutil
from airflow.providers.apache.spark.hooks.spark_submit import SparkSubmitHook
from airflow.providers.common.compat.sdk import AirflowException

import airflow_mlplat
from airflow_mlplat.hooks.connections import connection_or_fallback
from airflow_mlplat.hooks.hive_metastore import DEFAULT_METASTORE_CONN_ID, metastore_spark_conf

#: The spark-submit application (it runs ``airflow_mlplat.engine.cli``).
ENGINE_APP = Path(airflow_mlplat.__file__).parent / "engine" / "spark_app.py"
#: The master used when the default connection is not defined.
LOCAL_MASTER = "local[*]"
#: Where a local run's driver, block manager and UI listen: never beyond this machine.
LOOPBACK = "127.0.0.1"
#: Settings of a ``local[...]`` run, unless the connection or the caller set them.
LOCAL_BIND_CONF = {"spark.driver.bindAddress": LOOPBACK, "spark.driver.host": LOOPBACK}


class PipelineRunError(AirflowException):
    """A pipeline run failed or was killed. ``report`` is its run report when one was written."""

    def __init__(self, message: str, report: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.report = report


def build_package_zip(dest_dir: str | Path) -> Path:
    """Zip the ``airflow_mlplat`` package (no ``__pycache__``) into ``dest_dir``; return the zip's path.

    The zip goes to ``--py-files`` so the driver and executors of a real cluster can import the
    engine and its components without the package being installed there.
    """
    package_dir = Path(airflow_mlplat.__file__).parent
    target = Path(dest_dir) / "airflow_mlplat.zip"
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(package_dir.rglob("*")):
            relative = path.relative_to(package_dir.parent)
            if "__pycache__" in relative.parts or path.suffix == ".pyc" or not path.is_file():
                continue
            archive.write(path, relative.as_posix())
    return target


def _report_url(out_dir: str) -> str:
    from airflow_mlplat.engine.runner import REPORT_NAME

    return f"{out_dir.rstrip('/')}/{REPORT_NAME}"


def _read_report(out_dir: str) -> dict[str, Any] | None:
    from airflow_mlplat.engine.storage import read_json

    try:
        return read_json(_report_url(out_dir))
    except (OSError, ValueError):
        return None


def _remove_report(out_dir: str) -> None:
    # A retry reuses the run directory: an earlier attempt's report must not pass for this one's.
    fs, path = fsspec.core.url_to_fs(_report_url(out_dir))
    if fs.exists(path):
        fs.rm(path)


def _failure_message(report: dict[str, Any]) -> str:
    for node_id, entry in report.get("nodes", {}).items():
        if entry.get("status") == "failed":
            return (
                f"pipeline {report.get('pipeline')!r} failed at node {node_id!r} "
                f"({entry.get('component')}): {entry.get('error')}"
            )
    return f"pipeline {report.get('pipeline')!r} failed: {report.get('error', 'no node reported an error')}"


def _pmml_jars() -> str:
    # The engine's JVM starts inside spark-submit, so JPMML-SparkML must come as --jars.
    from airflow_mlplat.engine.session import _pmml_jars as jars

    return jars()


class SparkPipelineHook(SparkSubmitHook):
    """Run pipeline JSONs with the ML engine through ``spark-submit``.

    :param conn_id: the Spark connection. When it is the default ``spark_default`` and is not
        defined, Spark runs locally (``local[*]``); any other undefined connection is an error.
    :param metastore_conn_id: the Hive metastore connection (``hive_metastore``) the session's
        catalogue uses; ``metastore_default`` may be undefined (no Hive), None turns Hive off.
    :param kill_grace_s: seconds ``on_kill`` waits after SIGTERM before it sends SIGKILL.
    :param kwargs: passed to ``SparkSubmitHook`` (``conf``, ``executor_memory``,
        ``driver_memory``, ``num_executors``, ``py_files``, ``env_vars``, ``name``, ...).

    One hook runs one pipeline at a time; ``on_kill`` may be called from another thread or a
    signal handler while ``submit_pipeline`` runs.
    """

    hook_name = "Spark ML pipeline"

    def __init__(
        self,
        *,
        conn_id: str = "spark_default",
        metastore_conn_id: str | None = DEFAULT_METASTORE_CONN_ID,
        kill_grace_s: float = 5.0,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("name", "airflow-mlplat")
        super().__init__(conn_id=conn_id, **kwargs)
        # Explicit --conf entries win over the connection's.
        self._conf = {**metastore_spark_conf(metastore_conn_id), **self._conf}
        if self.is_local:
            self._conf = {**LOCAL_BIND_CONF, **self._conf}
        self._conf = {**self._driver_env_conf(), **self._conf}
        self._kill_grace_s = kill_grace_s
        self._kill_lock = threading.Lock()
        self._kill_requested = False
        self._killed_tree = False
        self._user_py_files = self._py_files
        self._jars = ",".join(filter(None, [self._jars, _pmml_jars()])) or None
        if self._env_vars and not (self._is_yarn or self._is_kubernetes):
            # Here the stock hook replaces spark-submit's environment with os.environ + env_vars
            # (dropping the env given to Popen), so the interpreter settings must travel inside.
            self._env_vars = {**self._local_env(), **self._env_vars}

    def _resolve_connection(self) -> dict[str, Any]:
        conn = connection_or_fallback(self._conn_id, self.default_conn_name, what="Spark", example="spark://HOST:PORT")
        if conn is None:
            data = super()._resolve_connection()
            data["master"] = LOCAL_MASTER
            self.log.info(
                "Spark connection %r is not defined: running Spark locally (master %s)",
                self._conn_id,
                LOCAL_MASTER,
            )
            return data
        return super()._resolve_connection()

    @property
    def master(self) -> str:
        """The Spark master URL the pipeline is submitted to."""
        return self._connection["master"]

    @property
    def is_local(self) -> bool:
        """Whether Spark runs inside spark-submit on this machine (``local``, ``local[*]``, ``local[4, 2]``)."""
        return str(self.master).startswith("local")

    def _driver_env_conf(self) -> dict[str, str]:
        """On YARN and Kubernetes the driver validates the pipeline again, away from this machine's
        environment: hand it the ``[mlplat]`` settings this worker validated with."""
        from airflow_mlplat.config import driver_env

        if self._is_yarn:
            prefix = "spark.yarn.appMasterEnv."
        elif self._is_kubernetes:
            prefix = "spark.kubernetes.driverEnv."
        else:
            return {}
        return {f"{prefix}{key}": value for key, value in driver_env().items()}

    def _local_env(self) -> dict[str, str]:
        """Variables spark-submit needs on this machine: this interpreter and its scripts, the
        deployment's ``[mlplat]`` validation settings, and (local runs) the loopback address."""
        from airflow_mlplat.config import driver_env

        bin_dir = os.path.dirname(sys.executable)
        env = {"PATH": bin_dir + os.pathsep + os.environ.get("PATH", ""), **driver_env()}
        if self.is_local:
            # Spark's web UI binds SPARK_LOCAL_IP (else every interface); the driver settings do not reach it.
            env["SPARK_LOCAL_IP"] = LOOPBACK
        # A cluster may need its own interpreter: keep one the deployment already chose.
        if "PYSPARK_PYTHON" not in os.environ and "spark.pyspark.python" not in self._conf:
            env["PYSPARK_PYTHON"] = sys.executable
        return env

    def submit_pipeline(
        self,
        pipeline_path: str,
        out_dir: str,
        params: dict[str, Any] | None = None,
        *,
        tracking_uri: str | None = None,
        tracking_tags: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """Run the pipeline JSON at ``pipeline_path`` with the engine; return its run report.

        :param pipeline_path: a pipeline JSON file the driver can read.
        :param out_dir: the run directory (path or URL); the engine writes ``report.json``,
            ``outputs/`` and ``artifacts/`` there.
        :param params: overrides of the pipeline's params.
        :param tracking_uri: the MLflow tracking URI the engine logs the run to; None: the
            driver's ``$MLFLOW_TRACKING_URI``, if any.
        :param tracking_tags: tags for the MLflow run and the registered model version.
        :raises PipelineRunError: the run failed (naming the failing node and its error when the
            report says) or was killed.
        :raises AirflowException: spark-submit failed before the engine wrote a report.
        """
        if not ENGINE_APP.is_file():
            raise FileNotFoundError(f"the engine application {ENGINE_APP} is missing")
        _remove_report(str(out_dir))
        with tempfile.TemporaryDirectory(prefix="mlplat-submit-") as staging:
            package_zip = str(build_package_zip(staging))
            self._py_files = ",".join(filter(None, [self._user_py_files, package_zip]))
            self._application_args = [
                "run",
                str(pipeline_path),
                "--out",
                str(out_dir),
                "--params",
                json.dumps(params or {}),
            ]
            if tracking_uri:
                self._application_args += ["--tracking-uri", tracking_uri]
            if tracking_tags:
                self._application_args += ["--tracking-tags", json.dumps(tracking_tags)]
            if self._kill_requested:
                raise PipelineRunError("the pipeline run was killed before spark-submit started")
            self.log.info("Submitting pipeline %s to %s; run directory %s", pipeline_path, self.master, out_dir)
            try:
                self.submit(str(ENGINE_APP), env={**os.environ, **self._local_env()}, start_new_session=True)
                if self._should_track_driver_status:
                    self._wait_for_cluster_driver()
                if self._kill_requested:
                    raise AirflowException("spark-submit ended after on_kill")
            except AirflowException as exc:
                if self._kill_requested:
                    raise PipelineRunError("the pipeline run was killed") from exc
                report = _read_report(str(out_dir))
                if report is not None and report.get("status") == "failed":
                    raise PipelineRunError(_failure_message(report), report) from exc
                raise
        report = _read_report(str(out_dir))
        if report is None:
            raise PipelineRunError(f"spark-submit succeeded but {out_dir} holds no readable run report")
        if report.get("status") != "success":
            raise PipelineRunError(_failure_message(report), report)
        self.log.info("Pipeline %r succeeded in %ss", report.get("pipeline"), report.get("seconds"))
        return report

    def _wait_for_cluster_driver(self) -> None:
        """Standalone cluster mode: spark-submit returns once the driver is launched; wait for it."""
        try:
            self._start_driver_status_tracking()
        finally:
            self._run_post_submit_commands()
        if self._driver_status != "FINISHED":
            raise AirflowException(f"Spark driver {self._driver_id} ended with status {self._driver_status}")

    def _process_spark_submit_log(self, itr: Iterator[Any]) -> None:
        # Called right after Popen: a kill that arrived while the process was starting lands here.
        if self._kill_requested:
            self._terminate(self._process_tree())
        super()._process_spark_submit_log(itr)

    def on_kill(self) -> None:
        """Stop the run: the local process tree of spark-submit, and the driver on a cluster.

        SIGTERM to spark-submit's whole process group (it runs in its own session), SIGKILL to
        whatever is left after ``kill_grace_s``; then the stock hook's cleanup (standalone
        driver kill, ``yarn application -kill``, driver pod deletion, post-submit commands).
        When the driver runs on the cluster, the stock cleanup goes first, because its YARN
        kill only runs while spark-submit is still alive. Calling it again does nothing.
        """
        with self._kill_lock:
            if self._kill_requested:
                return
            self._kill_requested = True
        tree = self._process_tree()
        remote_driver = self._connection["deploy_mode"] == "cluster"
        if remote_driver:
            super().on_kill()
        self._terminate(tree)
        if not remote_driver:
            super().on_kill()

    def _process_tree(self) -> list[psutil.Process]:
        """spark-submit and its descendants, taken before anything is killed (orphans lose their parent)."""
        if self._submit_sp is None:
            return []
        try:
            root = psutil.Process(self._submit_sp.pid)
            return [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []

    def _terminate(self, members: list[psutil.Process]) -> None:
        process = self._submit_sp
        with self._kill_lock:
            if process is None or self._killed_tree:
                return
            self._killed_tree = True
        # spark-submit itself is reaped through Popen only: psutil reaping it would make Popen
        # report exit status 0.
        descendants = [m for m in members if m.pid != process.pid]
        self.log.info("Stopping spark-submit (pid %s) and %d descendant processes", process.pid, len(descendants))
        # start_new_session made spark-submit a group leader: its group id is its pid.
        self._signal_group(process.pid, signal.SIGTERM)
        for member in descendants:
            _signal(member, signal.SIGTERM)
        deadline = time.monotonic() + self._kill_grace_s
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=self._kill_grace_s)
        _, alive = psutil.wait_procs(descendants, timeout=max(deadline - time.monotonic(), 0.1))
        self._signal_group(process.pid, signal.SIGKILL)
        if process.poll() is None:
            self.log.warning(
                "spark-submit (pid %s) ignored SIGTERM for %ss; sending SIGKILL", process.pid, self._kill_grace_s
            )
            process.kill()
        for member in alive:
            self.log.warning("pid %s ignored SIGTERM for %ss; sending SIGKILL", member.pid, self._kill_grace_s)
            _signal(member, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=self._kill_grace_s)
        psutil.wait_procs(alive, timeout=self._kill_grace_s)

    def _signal_group(self, pgid: int, sig: signal.Signals) -> None:
        try:
            os.killpg(pgid, sig)
        except ProcessLookupError:
            pass
        except PermissionError as exc:
            self.log.warning("Cannot signal process group %s: %s", pgid, exc)


def _signal(process: psutil.Process, sig: signal.Signals) -> None:
    # Members that left spark-submit's process group (e.g. a setsid'd child) still get the signal.
    try:
        process.send_signal(sig)
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        pass
