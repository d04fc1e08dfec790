"""Distributed deep-learning jobs: a ``TrainingJob`` spec, its Kubernetes manifests, and two backends.

``spec`` (what the user asks for) -> ``env`` (the variables each replica gets) -> ``manifests``
(Kubernetes objects) -> ``backends`` (``kubernetes`` through the cncf-kubernetes provider, or
``local`` processes on 127.0.0.1). Importing this package imports neither kubernetes nor torch.
"""

from airflow_mlplat.launcher.spec import (
    FRAMEWORKS,
    ClusterProfile,
    DataVolume,
    Resources,
    SharedGpu,
    TrainingJob,
    TrainingJobSpecError,
)

__all__ = [
    "FRAMEWORKS",
    "ClusterProfile",
    "DataVolume",
    "Resources",
    "SharedGpu",
    "TrainingJob",
    "TrainingJobSpecError",
]
