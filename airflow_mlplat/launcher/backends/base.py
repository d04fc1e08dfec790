"""What every backend does, and the lifecycle rules they share.

A backend turns a validated ``TrainingJob`` into running replicas and reports on them:

- ``handle(job)`` describes where the job will live (primitives only: it travels to triggers
  and XCom) without creating anything, so ``kill`` works even if ``submit`` fails halfway;
- ``submit(job, handle)`` creates everything; ``status(handle)`` reports a ``JobStatus``;
- ``finish(handle, status)`` applies the cleanup rules once the job is over: success or not,
  everything is removed except what the user asked to keep (the data volume when
  ``data_volume.keep``; the output, which lives outside the backend), so the name can be reused;
- ``kill(handle)`` removes everything the same way (``on_kill``);
- ``wait(handle)`` polls until the end, streams the exporting replica's log, then calls ``finish``.

A job is never removed because its status could not be read: the API may be down while the job
is healthy. ``wait`` and the trigger retry with backoff and, after ``status_unknown_timeout``
seconds, give up with an ``UNKNOWN`` status that ``conclude`` turns into ``JobStatusUnknown``,
leaving the job running. Only the one who submitted a job removes it: a sensor reports only.

Every method is idempotent: cleanup may run from the operator, the trigger and the CLI.
"""

from __future__ import annotations

import logging
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from airflow_mlplat.launcher.spec import TrainingJob

PENDING, QUEUED, RUNNING, SUCCEEDED, FAILED = "pending", "queued", "running", "succeeded", "failed"
TERMINAL = frozenset({SUCCEEDED, FAILED})
#: Not a phase of the job: its status could not be read for ``status_unknown_timeout`` seconds.
UNKNOWN = "unknown"
#: Default seconds a status may stay unreadable before a wait gives up (leaving the job running).
STATUS_UNKNOWN_TIMEOUT = 600.0

log = logging.getLogger(__name__)


class LauncherError(RuntimeError):
    """A backend could not create, watch or remove a job; the message names the job and the place."""


class JobStatusUnknown(LauncherError):
    """The job's status could not be read for too long; the job was left running, not removed."""


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

    @abstractmethod
    def export_checkpoint(self, handle: dict[str, Any]) -> str:
        """Copy the running job's newest checkpoint to ``OUTPUT/checkpoints/NAME``; return that URL."""

    def manual_hint(self, handle: dict[str, Any]) -> str:
        """How a person looks at and removes the job by hand (for messages that leave it running)."""
        where = f"{handle['job']} --backend {handle['backend']}"
        return (
            f"look at it with `airflow-mlplat train status {where}`, remove it with `airflow-mlplat train kill {where}`"
        )

    def wait(
        self,
        handle: dict[str, Any],
        *,
        poll_interval: float = 5.0,
        on_log: Callable[[str], None] | None = None,
        status_unknown_timeout: float = STATUS_UNKNOWN_TIMEOUT,
    ) -> JobStatus:
        """Poll until the job is over, passing the exporting replica's new log lines to ``on_log``; then ``finish``.

        A failed status read is retried with backoff (``UnreadableStatus``); once the status has
        been unknown for ``status_unknown_timeout`` seconds, raises ``JobStatusUnknown`` and leaves
        the job running. An interrupt (``KeyboardInterrupt``, ``SystemExit``, the task being
        killed) or an error of ``on_log`` kills the job, as ``on_kill`` does.
        """
        replica = handle.get("exporter", "worker-0")
        emit = on_log or (lambda line: log.info("%s %s: %s", handle["job"], replica, line))
        unreadable = UnreadableStatus(poll_interval, status_unknown_timeout)
        seen = 0
        try:
            while True:
                try:
                    status = self.status(handle)
                except Exception as err:
                    unknown = unreadable.failed(err)
                    if unknown is not None:
                        status = unknown
                        break
                    log.warning("reading the status of %s failed, retrying: %s", handle["job"], err)
                    time.sleep(unreadable.delay())
                    continue
                unreadable.ok()
                seen = self._emit_log(handle, replica, seen, emit)
                if status.done:
                    break
                time.sleep(poll_interval)
        except BaseException:
            self.kill(handle)
            raise
        if status.phase == UNKNOWN:
            raise JobStatusUnknown(_left_running(handle, status))
        self.finish(handle, status)
        return status

    def _emit_log(self, handle: dict[str, Any], replica: str, seen: int, emit: Callable[[str], None]) -> int:
        """Pass the lines of ``replica``'s log after the first ``seen`` to ``emit``; return the new count."""
        try:
            lines = self.logs(handle, replica, tail=10_000).splitlines()
        except Exception as err:  # a log is a courtesy: failing to read it must not end the wait
            log.warning("reading the log of %s %s failed: %s", handle["job"], replica, err)
            return seen
        if len(lines) < seen:
            seen = 0
        for line in lines[seen:]:
            emit(line)
        return len(lines)


class UnreadableStatus:
    """How long a job's status has been unreadable, and when to read it again.

    After the n-th failure in a row the next read waits ``poll_interval * 2**(n-1)`` seconds, at
    most ``max(poll_interval, 60)`` and never past the timeout. ``failed`` returns an ``UNKNOWN``
    status once the status has been unreadable for ``timeout`` seconds, else None; ``ok`` resets.
    """

    def __init__(self, poll_interval: float, timeout: float = STATUS_UNKNOWN_TIMEOUT) -> None:
        self.poll_interval = float(poll_interval)
        self.timeout = float(timeout)
        self.since: float | None = None
        self.failures = 0

    def ok(self) -> None:
        self.since, self.failures = None, 0

    def failed(self, err: BaseException) -> JobStatus | None:
        now = time.monotonic()
        self.since = now if self.since is None else self.since
        self.failures += 1
        elapsed = now - self.since
        if elapsed < self.timeout:
            return None
        return JobStatus(
            UNKNOWN, f"its status could not be read for {elapsed:.0f} s ({self.failures} tries; last error: {err})"
        )

    def delay(self) -> float:
        backoff = min(self.poll_interval * 2 ** min(self.failures - 1, 16), max(self.poll_interval, 60.0))
        left = self.timeout - (time.monotonic() - self.since) if self.since is not None else self.timeout
        return max(0.0, min(backoff, left))


class TrainingJobFailed(LauncherError):
    """The job ran and failed, timed out or was killed; the message says which replica and why."""


def conclude(handle: dict[str, Any], status: JobStatus, *, cleanup: bool = True) -> dict[str, Any]:
    """Apply the cleanup rules to a finished job; return its result, or raise.

    The result (an operator's XCom): ``job``, ``phase``, ``output_path``, ``metrics``, ``message``.
    ``cleanup=False`` (a sensor, which did not submit the job): report only, remove nothing.
    Raises ``JobStatusUnknown`` for an ``UNKNOWN`` status (removing nothing: the job may be
    healthy), ``TrainingJobFailed`` when the job failed (after the cleanup).
    """
    if status.phase == UNKNOWN:
        raise JobStatusUnknown(_left_running(handle, status))
    if cleanup:
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


def _left_running(handle: dict[str, Any], status: JobStatus) -> str:
    hint = backend_from_handle(handle).manual_hint(handle)
    return f"training job {handle['job']!r} ({handle['backend']}): {status.message}; it was left running: {hint}"


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
