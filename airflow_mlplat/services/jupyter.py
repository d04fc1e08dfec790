"""JupyterLab for the project: on 127.0.0.1 only, behind a token, its kernels in the project's environment.

``airflow-mlplat notebook`` (``make notebook``) and the tests start it through ``start_jupyter``.
Everything it keeps lives under ``ROOT/jupyter`` (pid, port, token, log), including Jupyter's
and IPython's own folders (config, data, runtime files, history), so it writes nothing into the
user's home and reads no user-level Jupyter configuration. Its data folder holds the project's
kernelspec (``airflow_mlplat.notebook_kernel``): the kernel ``airflow-mlplat`` runs on the
interpreter that started JupyterLab. The token goes to JupyterLab through its environment
(``JUPYTER_TOKEN``), never on a command line other users can read.
"""

from __future__ import annotations

import os
import secrets
import sys
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from airflow_mlplat.services.process import (
    LOOPBACK,
    ServiceState,
    free_port,
    pid_alive,
    start_service,
    stop_service,
    wait_until,
)

DEFAULT_PORT = 8888


@dataclass(frozen=True)
class JupyterLab:
    """A running JupyterLab: where it listens and its token."""

    pid: int
    port: int
    token: str

    @property
    def base_url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    @property
    def url(self) -> str:
        """The address to open, token included."""
        return f"{self.base_url}/lab?token={self.token}"


def jupyter_state(root: Path) -> ServiceState:
    return ServiceState(Path(root) / "jupyter")


def _token_file(state: ServiceState) -> Path:
    return state.directory / "token"


def jupyter_env(state: ServiceState, token: str) -> dict[str, str]:
    """JupyterLab's environment: this one, with Jupyter's and IPython's folders under ``state`` and the token."""
    folder = state.directory.resolve()
    bin_dir = os.path.dirname(sys.executable)
    return {
        **os.environ,
        "JUPYTER_CONFIG_DIR": str(folder / "config"),
        "JUPYTER_DATA_DIR": str(folder / "data"),
        "JUPYTER_RUNTIME_DIR": str(folder / "runtime"),
        "IPYTHONDIR": str(folder / "ipython"),
        "JUPYTER_TOKEN": token,
        # spark-submit (pyspark starts its JVM with it) and the other scripts of this environment.
        "PATH": bin_dir + os.pathsep + os.environ.get("PATH", ""),
    }


def jupyter_command(port: int, notebook_dir: Path) -> list[str]:
    command = [
        sys.executable, "-m", "jupyterlab",
        f"--ServerApp.ip={LOOPBACK}",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        "--ServerApp.open_browser=False",
        "--ServerApp.allow_remote_access=False",
        f"--ServerApp.root_dir={notebook_dir}",
        # No extension search against a package index: extensions come with the environment.
        "--LabApp.extension_manager=readonly",
        # jupyter_lsp's search for language servers runs npm (which writes into the home folder).
        "--LanguageServerManager.autodetect=False",
    ]  # fmt: skip
    if os.geteuid() == 0:
        # Jupyter refuses to run as root unless told; containers and CI machines often are root.
        command.append("--ServerApp.allow_root=True")
    return command


def _answers(lab: JupyterLab) -> bool:
    request = urllib.request.Request(f"{lab.base_url}/api/status", headers={"Authorization": f"token {lab.token}"})
    try:
        with urllib.request.urlopen(request, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def running_jupyter(root: Path) -> JupyterLab | None:
    """The JupyterLab started under ``root`` when it still runs, else None."""
    state = jupyter_state(root)
    token_file = _token_file(state)
    if not state.running() or not token_file.is_file():
        return None
    return JupyterLab(pid=state.pid, port=state.port, token=token_file.read_text().strip())  # type: ignore[arg-type]


def start_jupyter(
    root: Path, *, port: int | None = None, notebook_dir: str | Path = ".", timeout: float = 120.0
) -> JupyterLab:
    """Start JupyterLab (unless one started under ``root`` runs) and return it once it answers.

    ``port`` None or 0: a free one. ``notebook_dir``: the folder its file browser shows.
    Raises ServiceError when it does not start (the end of its log in the message).
    """
    running = running_jupyter(root)
    if running is not None:
        return running
    from airflow_mlplat.notebook_kernel import write_kernelspec

    state = jupyter_state(root)
    state.directory.mkdir(parents=True, exist_ok=True)
    token = secrets.token_urlsafe(32)
    token_file = _token_file(state)
    token_file.unlink(missing_ok=True)
    token_file.touch(mode=0o600)
    token_file.write_text(token)
    env = jupyter_env(state, token)
    write_kernelspec(env["JUPYTER_DATA_DIR"])
    port = port or free_port()
    command = jupyter_command(port, Path(notebook_dir).resolve())
    pid = start_service(state, command, port, env=env, timeout=timeout, name="JupyterLab")
    lab = JupyterLab(pid=pid, port=port, token=token)
    if not wait_until(lambda: _answers(lab), timeout=timeout):
        stop_jupyter(root)
        raise RuntimeError(f"JupyterLab on {LOOPBACK}:{port} never answered; log {state.log}")
    return lab


def stop_jupyter(root: Path, grace: float = 15.0) -> bool:
    """Stop JupyterLab and everything it started (kernels lead process groups of their own, and may
    have started a Spark JVM). True when it was running."""
    import psutil

    state = jupyter_state(root)
    pid = state.pid
    descendants: list[psutil.Process] = []
    if pid is not None and pid_alive(pid):
        try:
            descendants = psutil.Process(pid).children(recursive=True)
        except psutil.NoSuchProcess:
            pass
    stopped = stop_service(state, grace=grace)  # SIGTERM: JupyterLab shuts its kernels down itself
    _, alive = psutil.wait_procs(descendants, timeout=grace)
    for process in alive:
        try:
            process.kill()
        except psutil.NoSuchProcess:
            pass
    psutil.wait_procs(alive, timeout=grace)
    _token_file(state).unlink(missing_ok=True)
    return stopped
