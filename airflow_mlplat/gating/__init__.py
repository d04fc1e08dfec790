"""The model gate: promote a candidate version over the champion alias only if it wins, with a history.

:func:`decide` is the pure rule; :func:`gate` applies it to an MLflow registry with a compare-and-set alias
move (:class:`RegistryLock`) and records every outcome; :func:`promotion_history` reads the record back.
Importing this package does not import mlflow.
"""

from airflow_mlplat.gating.decision import PROMOTE, REJECT, STALE, Decision, decide
from airflow_mlplat.gating.gate import gate, version_metrics
from airflow_mlplat.gating.history import promotion_history
from airflow_mlplat.gating.lock import LockLost, LockTimeout, RegistryLock

__all__ = [
    "PROMOTE",
    "REJECT",
    "STALE",
    "Decision",
    "LockLost",
    "LockTimeout",
    "RegistryLock",
    "decide",
    "gate",
    "promotion_history",
    "version_metrics",
]
