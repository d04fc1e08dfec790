"""Real work for the resource page's tests: a local training job whose replica keeps a core half busy
until told to stop, and a prediction service on the tiny model (no Spark), with a client load.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from airflow_mlplat.launcher.backends.local import LocalBackend
from airflow_mlplat.launcher.spec import TrainingJob

TINY_MODEL = Path(__file__).resolve().parents[1] / "serving" / "data" / "tiny_model"
#: A replica that spins 20 ms of every 40 until ``$MLPLAT_DATA_DIR/stop`` exists, then succeeds.
HALF_BUSY = (
    "import os, time\n"
    "stop = os.path.join(os.environ['MLPLAT_DATA_DIR'], 'stop')\n"
    "while not os.path.exists(stop):\n"
    "    end = time.perf_counter() + 0.02\n"
    "    while time.perf_counter() < end:\n"
    "        pass\n"
    "    time.sleep(0.02)\n"
)


def busy_job(name: str, **fields: Any) -> TrainingJob:
    return TrainingJob.from_dict(
        {
            "name": name,
            "framework": "pytorch",
            "image": "python:3.11",
            "command": ["python", "-c", HALF_BUSY],
            "workers": 1,
            "timeout": 300.0,
            "worker_resources": {"cpu": "1", "memory": "256Mi"},
            **fields,
        }
    )


class RunningJob:
    def __init__(self, backend: LocalBackend, handle: dict[str, Any]) -> None:
        self.backend, self.handle = backend, handle
        self.name = handle["job"]

    def stop(self, timeout: float = 60.0) -> None:
        """Let the replica end by itself, then clean up as the operator does (the job's directory goes)."""
        stop = Path(self.handle["state_dir"]) / "data" / "stop"
        if stop.parent.is_dir():
            stop.touch()
        deadline = time.monotonic() + timeout
        while not self.backend.status(self.handle).done and time.monotonic() < deadline:
            time.sleep(0.2)
        self.backend.kill(self.handle)


@contextmanager
def running_job(state_root: Path, job: TrainingJob, profile: dict[str, Any] | None = None) -> Iterator[RunningJob]:
    backend = LocalBackend(state_root=state_root, profile=profile)
    handle = backend.handle(job)
    backend.submit(job, handle)
    try:
        yield RunningJob(backend, handle)
    finally:
        backend.kill(handle)


class Load:
    """Posts rows of the tiny model to a service from one thread, about ``rate`` requests per second."""

    def __init__(self, url: str, rate: float = 20.0) -> None:
        self.url, self.rate = url, rate
        self.sent = 0
        self.failures: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        import httpx

        with httpx.Client(base_url=self.url, timeout=10) as http:
            while not self._stop.is_set():
                try:
                    response = http.post("/predict", json={"n": self.sent % 7, "x": 0.5, "s": "a"})
                except httpx.HTTPError as error:
                    self.failures.append(repr(error))
                else:
                    if response.status_code != 200:
                        self.failures.append(f"{response.status_code} {response.text[:200]}")
                self.sent += 1
                self._stop.wait(1.0 / self.rate)

    def __enter__(self) -> Load:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=15)


def deploy_tiny_service(state_root: Path, name: str) -> dict[str, Any]:
    """The tiny model served as a local prediction service under ``state_root`` (the local deploy's way)."""
    from airflow_mlplat.hooks.model_service import LocalModelServiceHook

    return LocalModelServiceHook(state_root).deploy(name, [str(TINY_MODEL)], tracking_uri=None, timeout=90)


def stop_service(state_root: Path, name: str) -> None:
    from airflow_mlplat.hooks.model_service import LocalModelServiceHook

    LocalModelServiceHook(state_root).stop(name)
