"""What every backend does, and the lifecycle rules they share.

A backend turns a validated ``TrainingJob`` into running replicas and reports on them:

- ``handle(job)`` describes where the job will live (primitives only: it travels to triggers
  and XCom) without creating anything, so ``kill`` works even if ``submit`` fails halfway;
- ``submit(job, handle)`` creates everything; ``status(handle)`` reports a ``JobStatus``;
- ``finish(handle, status)`` applies the cleanup rules once the job is over: when every worker
  succeeded the ps replicas (and their Services) are removed; on failure or timeout everything
  is removed, the data volume only unless ``data_volume.keep``;
- ``kill(handle)`` removes everything the same way (``on_kill``);
- ``wait(handle)`` polls until the end, streams worker-0's log, then calls ``finish``.

Every method is idempotent: cleanup may run from the operator, the trigger and the sensor.
"""

from __future__ import annotations

import logging
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from airflow_mlplat.launcher.spec import TrainingJob

PENDING, RUNNING, SUCCEEDED, FAILED = "pending", "running", "succeeded", "failed"
TERMINAL = frozenset({SUCCEEDED, FAILED})

log = logging.getLogger(__name__)


class LauncherError(RuntimeError):
    """A backend could not create, watch or remove a job; the message names the job and the place."""


@dataclass
class JobStatus:
    """Where a job stands. ``replicas`` maps ``worker-0`` etc. to their state."""

    phase: str
    message: str = ""
    replicas: dict[str, dict[str, Any]] = field(default_factory=dict)
    metrics: dict[str, Any] | None = None

    @property
    def done(self) -> bool:
        return self.phase in TERMINAL

    @property
    def succeeded(self) -> bool:
        return self.phase == SUCCEEDED

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, value: dict[str, Any]) -> JobStatus:
        return cls(**value)


class TrainingBackend(ABC):
    name: str = ""

    @abstractmethod
    def handle(self, job: TrainingJob) -> dict[str, Any]:
        """Where ``job`` will live (JSON-serializable; includes ``backend``, ``job`` and ``deadline``)."""

    @abstractmethod
    def submit(self, job: TrainingJob, handle: dict[str, Any]) -> None:
        """Create the job; raises ``LauncherError`` (after removing what was created) on failure."""

    @abstractmethod
    def status(self, handle: dict[str, Any]) -> JobStatus: ...

    @abstractmethod
    def finish(self, handle: dict[str, Any], status: JobStatus) -> None:
        """Apply the cleanup rules to a job that is over."""

    @abstractmethod
    def kill(self, handle: dict[str, Any]) -> None:
        """Stop and remove everything (keeping the data volume only if the job asked)."""

    @abstractmethod
    def attach(self, name: str) -> dict[str, Any]:
        """The handle of job ``name`` submitted earlier (by another task); ``LauncherError`` if none."""

    @abstractmethod
    def logs(self, handle: dict[str, Any], replica: str = "worker-0", tail: int = 100) -> str: ...

    def wait(
        self,
        handle: dict[str, Any],
        *,
        poll_interval: float = 5.0,
        on_log: Callable[[str], None] | None = None,
    ) -> JobStatus:
        """Poll until the job is over, passing worker-0's new log lines to ``on_log``; then ``finish``."""
        emit = on_log or (lambda line: log.info("%s worker-0: %s", handle["job"], line))
        seen = 0
        try:
            while True:
                status = self.status(handle)
                lines = self.logs(handle, "worker-0", tail=10_000).splitlines()
                if len(lines) < seen:
                    seen = 0
                for line in lines[seen:]:
                    emit(line)
                seen = len(lines)
                if status.done:
                    break
                time.sleep(poll_interval)
        except BaseException:
            self.kill(handle)
            raise
        self.finish(handle, status)
        return status


class TrainingJobFailed(LauncherError):
    """The job ran and failed, timed out or was killed; the message says which replica and why."""


def conclude(handle: dict[str, Any], status: JobStatus) -> dict[str, Any]:
    """Apply the cleanup rules to a finished job; return its result, or raise ``TrainingJobFailed``.

    The result (an operator's XCom): ``job``, ``phase``, ``output_path``, ``metrics``, ``message``.
    """
    backend_from_handle(handle).finish(handle, status)
    if not status.succeeded:
        raise TrainingJobFailed(f"training job {handle['job']!r} ({handle['backend']}) failed: {status.message}")
    return {
        "job": handle["job"],
        "phase": status.phase,
        "output_path": handle.get("output_path"),
        "metrics": status.metrics or {},
        "message": status.message,
    }


def timed_out(handle: dict[str, Any], now: float | None = None) -> bool:
    deadline = handle.get("deadline")
    return deadline is not None and (now or time.time()) > float(deadline)


def get_backend(name: str, **options: Any) -> TrainingBackend:
    """``local`` (options: ``state_root``) or ``kubernetes`` (``conn_id``, ``namespace``, ``profile``,
    ``request_timeout``)."""
    if name == "local":
        from airflow_mlplat.launcher.backends.local import LocalBackend

        return LocalBackend(**options)
    if name == "kubernetes":
        from airflow_mlplat.launcher.backends.kubernetes import KubernetesBackend

        return KubernetesBackend(**options)
    raise ValueError(f"unknown launcher backend {name!r} (use 'local' or 'kubernetes')")


def backend_from_handle(handle: dict[str, Any]) -> TrainingBackend:
    """The backend that created ``handle`` (a trigger or sensor rebuilds it from primitives)."""
    return get_backend(handle["backend"], **handle.get("options", {}))
