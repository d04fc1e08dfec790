"""Where a training job runs: ``kubernetes`` (a cluster) or ``local`` (processes on this machine)."""

from airflow_mlplat.launcher.backends.base import (
    JobStatus,
    JobStatusUnknown,
    LauncherError,
    TrainingBackend,
    TrainingJobFailed,
    backend_from_handle,
    conclude,
    get_backend,
)

__all__ = [
    "JobStatus",
    "JobStatusUnknown",
    "LauncherError",
    "TrainingBackend",
    "TrainingJobFailed",
    "backend_from_handle",
    "conclude",
    "get_backend",
]
