"""An MLflow tracking and model-registry server on 127.0.0.1: SQLite backend store, local artifact root.

``python -m airflow_mlplat.services mlflow up|down|status`` (``make mlflow-up``), and the tests' session fixture.
"""

from __future__ import annotations

import os
import sys
import urllib.request
from pathlib import Path

from airflow_mlplat.services.process import LOOPBACK, ServiceState, free_port, start_service, stop_service, wait_until

DEFAULT_PORT = 5055


def mlflow_state(root: Path) -> ServiceState:
    return ServiceState(Path(root) / "mlflow")


def tracking_uri(state: ServiceState) -> str:
    return f"http://{LOOPBACK}:{state.port}"


def _healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://{LOOPBACK}:{port}/health", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def start_mlflow(root: Path, port: int | None = None, timeout: float = 120.0) -> str:
    """Start the server (unless it already runs) and return its tracking URI."""
    state = mlflow_state(root)
    if state.running():
        return tracking_uri(state)
    port = port or free_port()
    data = state.directory.resolve()
    data.mkdir(parents=True, exist_ok=True)
    command = [
        os.path.join(os.path.dirname(sys.executable), "mlflow"),
        "server",
        "--host", LOOPBACK,
        "--port", str(port),
        "--workers", "1",
        "--backend-store-uri", f"sqlite:///{data / 'mlflow.db'}",
        "--artifacts-destination", (data / "artifacts").as_uri(),
    ]  # fmt: skip
    start_service(state, command, port, timeout=timeout, name="MLflow tracking server")
    if not wait_until(lambda: _healthy(port), timeout=timeout):
        stop_service(state)
        raise RuntimeError(f"MLflow server on {LOOPBACK}:{port} never became healthy; log {state.log}")
    return tracking_uri(state)


def stop_mlflow(root: Path) -> bool:
    return stop_service(mlflow_state(root))
