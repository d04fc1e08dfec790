"""Where pipeline runs write: the run root, and run ids as path segments.

A run's directory is ``RUN_ROOT/DAG_ID/RUN_ID`` (the run id made path-safe). This module imports
neither Airflow nor Spark: the validator, the engine's driver and the UI all read it.
"""

from __future__ import annotations

import os
import re

#: Where runs go when no ``out_dir`` is given: ``$MLPLAT_RUN_ROOT``, else this under $AIRFLOW_HOME.
RUN_ROOT_ENV = "MLPLAT_RUN_ROOT"

_UNSAFE_PATH_CHARS = re.compile(r"[^A-Za-z0-9._-]")


def default_run_root() -> str:
    """``$MLPLAT_RUN_ROOT``, else ``$AIRFLOW_HOME/mlplat-runs`` (AIRFLOW_HOME defaulting to ~/airflow)."""
    if os.environ.get(RUN_ROOT_ENV):
        return os.environ[RUN_ROOT_ENV]
    airflow_home = os.environ.get("AIRFLOW_HOME") or os.path.join(os.path.expanduser("~"), "airflow")
    return os.path.join(airflow_home, "mlplat-runs")


def path_safe(text: str) -> str:
    """``text`` usable as one path segment on every filesystem Spark writes to.

    Run ids such as ``manual__2026-11-01T10:00:00+00:00`` hold ``:``, which Hadoop paths reject.
    A segment of dots only (``.``, ``..``) would name this folder or its parent: its dots become ``_``.
    """
    safe = _UNSAFE_PATH_CHARS.sub("_", text)
    return "_" * len(safe) if not safe.strip(".") else safe


def task_run_dir(dag_id: str, run_id: str, task_id: str) -> str:
    """Where a task of a DAG run writes its run output: ``RUN_ROOT/DAG_ID/RUN_ID (path-safe)/TASK_ID``."""
    return os.path.join(default_run_root(), dag_id, path_safe(run_id), task_id)
