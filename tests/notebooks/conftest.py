"""Fixtures of the notebook tests: the Airflow fixtures of tests/airflow (its Spark defaults too, for every
session a notebook's kernel starts)."""

from __future__ import annotations

from tests.airflow.conftest import airflow_db, run_root, spark_test_defaults  # noqa: F401  (fixtures used here)


def child_pids() -> set[int]:
    """The PIDs of this process's running descendants (session fixtures of other tests may own some)."""

    return {child.pid for child in _running_children()}


def leftover_children(before: set[int], timeout: float = 15.0) -> list[str]:
    """Descendants of this process not in ``before`` that still run after ``timeout`` seconds."""
    import psutil

    psutil.wait_procs([c for c in _running_children() if c.pid not in before], timeout=timeout)
    described = []
    for child in _running_children():
        if child.pid in before:
            continue
        try:
            described.append(f"{child.pid}: {' '.join(child.cmdline())[:200]}")
        except psutil.Error:
            pass
    return described


def _running_children() -> list:
    import psutil

    alive = []
    for child in psutil.Process().children(recursive=True):
        try:
            if child.status() != psutil.STATUS_ZOMBIE:
                alive.append(child)
        except psutil.Error:
            pass
    return alive
