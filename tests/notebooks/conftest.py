"""Fixtures of the notebook tests: the Airflow fixtures of tests/airflow, and its Spark defaults."""

from __future__ import annotations

import pytest

from tests.airflow.conftest import SPARK_DEFAULTS, airflow_db, run_root  # noqa: F401  (fixtures used here)


@pytest.fixture(scope="package", autouse=True)
def spark_test_defaults(tmp_path_factory: pytest.TempPathFactory):
    """Small-machine Spark settings for every session a notebook's kernel starts (read from SPARK_CONF_DIR)."""
    conf_dir = tmp_path_factory.mktemp("spark-conf")
    (conf_dir / "spark-defaults.conf").write_text("".join(f"{k} {v}\n" for k, v in SPARK_DEFAULTS.items()))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SPARK_CONF_DIR", str(conf_dir))
        patch.setenv("SPARK_LOCAL_IP", "127.0.0.1")
        yield conf_dir


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
