"""Execute Jupyter notebooks with papermill, on a kernel of the project's environment.

The kernel is the project's ``airflow-mlplat`` kernel (``airflow_mlplat.notebook_kernel``): this
interpreter, from a kernelspec written into a temporary folder for the run, so neither the
user's installed kernels nor the one named in the notebook's metadata decide where it runs.
The Airflow connections are resolved here, in the task (a kernel is no task and cannot reach
them), and handed to the kernel as the environment ``airflow_mlplat.sdk.spark()`` reads:
``MLPLAT_HIVE_METASTORE_URIS`` (and ``MLPLAT_HIVE_WAREHOUSE_DIR``) from the Hive metastore
connection, ``MLFLOW_TRACKING_URI`` from the MLflow one. Importing this module imports neither
papermill nor Jupyter.
"""

from __future__ import annotations

import contextlib
import os
import signal
import tempfile
import time
from pathlib import Path
from typing import Any

from airflow.providers.common.compat.sdk import BaseHook

from airflow_mlplat.hooks.hive_metastore import DEFAULT_METASTORE_CONN_ID


class NotebookHook(BaseHook):
    """Run notebooks with papermill on the project's kernel (or a named installed one).

    :param metastore_conn_id: the Hive metastore connection the kernel's Spark session uses;
        ``metastore_default`` may be undefined (no Hive), None resolves no connection.
    :param mlflow_conn_id: the MLflow connection the kernel tracks to; when the default
        ``mlflow_default`` is not defined, ``$MLFLOW_TRACKING_URI`` (if any), None resolves none.
    :param kernel_name: None: the project's kernel (this interpreter); else the name of an
        installed kernelspec, found on the Jupyter path (it gets the same environment).
    :param start_timeout: seconds the kernel may take to start.
    :param cell_timeout: seconds one cell may run; None: no limit.
    :param log_output: copy every cell's output to the log as it comes.
    :param kill_grace_s: seconds between SIGTERM and SIGKILL when the kernel is stopped.
    """

    hook_name = "Jupyter notebook (papermill)"

    def __init__(
        self,
        *,
        metastore_conn_id: str | None = DEFAULT_METASTORE_CONN_ID,
        mlflow_conn_id: str | None = "mlflow_default",
        kernel_name: str | None = None,
        start_timeout: float = 120.0,
        cell_timeout: float | None = None,
        log_output: bool = True,
        kill_grace_s: float = 5.0,
    ) -> None:
        super().__init__()
        self.metastore_conn_id = metastore_conn_id
        self.mlflow_conn_id = mlflow_conn_id
        self.kernel_name = kernel_name
        self.start_timeout = start_timeout
        self.cell_timeout = cell_timeout
        self.log_output = log_output
        self.kill_grace_s = kill_grace_s
        self._kernel_manager: Any = None
        self._kill_requested = False

    def declared_parameters(self, notebook: str | os.PathLike[str]) -> dict[str, Any]:
        """``{name: {"name", "inferred_type_name", "default", "help"}}`` of the cell tagged ``parameters``."""
        import papermill

        return papermill.inspect_notebook(os.fspath(notebook))

    def kernel_env(self) -> dict[str, str]:
        """The environment the connections give the kernel (see the module doc).

        ``$MLPLAT_RESOLVED_CONNECTIONS`` names the connection ids resolved here, so that
        ``sdk.spark()`` in the kernel reads their values from the environment instead of asking
        Airflow again (a kernel is no task: it cannot reach the task's connections, and
        importing Airflow there costs seconds).
        """
        from airflow_mlplat.engine.session import METASTORE_URIS_ENV, WAREHOUSE_DIR_ENV
        from airflow_mlplat.hooks.hive_metastore import metastore_spark_conf
        from airflow_mlplat.hooks.mlflow_tracking import MlflowTrackingHook
        from airflow_mlplat.sdk.session import RESOLVED_CONNECTIONS_ENV
        from airflow_mlplat.tracking import TRACKING_URI_ENV

        env: dict[str, str] = {}
        resolved = []
        if self.metastore_conn_id:
            hive = metastore_spark_conf(self.metastore_conn_id)
            if hive.get("spark.hadoop.hive.metastore.uris"):
                env[METASTORE_URIS_ENV] = hive["spark.hadoop.hive.metastore.uris"]
                if hive.get("spark.sql.warehouse.dir"):
                    env[WAREHOUSE_DIR_ENV] = hive["spark.sql.warehouse.dir"]
            resolved.append(self.metastore_conn_id)
        if self.mlflow_conn_id:
            uri = MlflowTrackingHook(self.mlflow_conn_id).tracking_uri()
            if uri:
                env[TRACKING_URI_ENV] = uri
            resolved.append(self.mlflow_conn_id)
        if resolved:
            env[RESOLVED_CONNECTIONS_ENV] = ",".join(resolved)
        return env

    def run_notebook(
        self,
        notebook: str | os.PathLike[str],
        output: str | os.PathLike[str],
        parameters: dict[str, Any] | None = None,
        *,
        cwd: str | os.PathLike[str] | None = None,
    ) -> None:
        """Execute ``notebook`` with ``parameters`` injected after its ``parameters`` cell; save it as ``output``.

        The executed notebook is saved after every cell, so a failed run's notebook shows the
        error in place. The kernel starts in ``cwd`` (default: the notebook's folder, as in
        JupyterLab) and is stopped afterwards with everything it started (a Spark JVM included).

        :raises papermill.PapermillExecutionError: a cell raised (the saved notebook has its traceback).
        :raises RuntimeError: the run was killed (``on_kill``).
        """
        import papermill

        notebook, output = Path(notebook), Path(output)
        output.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="mlplat-kernel-") as scratch:
            manager = self._kernel_manager_for(Path(scratch))
            self._kernel_manager = manager
            if self._kill_requested:
                raise RuntimeError("the notebook run was killed before its kernel started")
            self.log.info("Executing %s on kernel %s; output %s", notebook, manager.kernel_name, output)
            try:
                papermill.execute_notebook(
                    str(notebook),
                    str(output),
                    parameters=parameters or {},
                    kernel_name=manager.kernel_name,
                    language="python",
                    progress_bar=False,
                    log_output=self.log_output,
                    start_timeout=int(self.start_timeout),
                    execution_timeout=self.cell_timeout,
                    km=manager,
                    resources={"metadata": {"path": str(Path(cwd) if cwd else notebook.parent)}},
                )
            except Exception as exc:
                if self._kill_requested:
                    raise RuntimeError("the notebook run was killed") from exc
                raise
            finally:
                self._stop_kernel_group(manager)

    def _kernel_manager_for(self, scratch: Path) -> Any:
        """A kernel manager for the kernel to use, its files (connection file, IPython's) under ``scratch``."""
        from jupyter_client.kernelspec import KernelSpecManager
        from jupyter_client.manager import AsyncKernelManager

        from airflow_mlplat.notebook_kernel import KERNEL_NAME, copy_kernelspec, write_kernelspec

        env = {**self.kernel_env(), "IPYTHONDIR": str(scratch / "ipython")}
        if self.kernel_name:
            copy_kernelspec(self.kernel_name, scratch / "jupyter", env=env)
        else:
            write_kernelspec(scratch / "jupyter", env=env)
        return AsyncKernelManager(
            kernel_name=self.kernel_name or KERNEL_NAME,
            kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(scratch / "jupyter" / "kernels")]),
            connection_file=str(scratch / "kernel-connection.json"),
        )

    def _stop_kernel_group(self, manager: Any) -> None:
        """End whatever is left of the kernel's process group (it leads one: its children are in it).

        After a normal run the kernel has exited, but a Spark JVM it started is still shutting
        down (it exits, running its shutdown hooks, when its parent's pipe closes; SIGTERM runs
        the same hooks): SIGTERM, then SIGKILL after ``kill_grace_s``.
        """
        pgid = getattr(getattr(manager, "provisioner", None), "pid", None)
        if not pgid:
            return
        for sig in (signal.SIGTERM, signal.SIGKILL):
            if not _group_alive(pgid):
                return
            self.log.info("Sending %s to what is left of the kernel's process group %s", sig.name, pgid)
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pgid, sig)
            deadline = time.monotonic() + self.kill_grace_s
            while _group_alive(pgid) and time.monotonic() < deadline:
                time.sleep(0.1)

    def on_kill(self) -> None:
        """Stop the kernel and everything it started; ``run_notebook`` then raises. Safe to call twice."""
        self._kill_requested = True
        if self._kernel_manager is not None:
            self._stop_kernel_group(self._kernel_manager)


def _group_alive(pgid: int) -> bool:
    """Whether a process of group ``pgid`` still runs (zombies, already ended, do not count)."""
    import psutil

    for process in psutil.process_iter(["status"]):
        try:
            if process.info["status"] != psutil.STATUS_ZOMBIE and os.getpgid(process.pid) == pgid:
                return True
        except (ProcessLookupError, psutil.Error):
            continue
    return False
