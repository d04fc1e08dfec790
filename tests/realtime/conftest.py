"""Fixtures of the real-time retraining tests: partitions written like the Flink job's, without Flink
(``write_window_partition``, from ``airflow_mlplat.realtime.events``).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.airflow.conftest import airflow_db, run_root, spark_test_defaults  # noqa: F401  (DB, run dirs, Spark conf)
from tests.gating.conftest import client, model_name  # noqa: F401  (the real registry, a fresh model name)

REPO_ROOT = Path(__file__).resolve().parents[2]
REALTIME_DAG_FILE = REPO_ROOT / "dags" / "realtime_retrain.py"


@pytest.fixture
def realtime_partitions(tmp_path: Path) -> Path:
    """An empty partitions base folder for one test."""
    base = tmp_path / "partitions"
    base.mkdir()
    return base


@pytest.fixture
def realtime_mlflow(mlflow_server: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """The session's MLflow server as the DAG's tracking server (``$MLFLOW_TRACKING_URI``)."""
    monkeypatch.setenv("MLFLOW_TRACKING_URI", mlflow_server)
    return mlflow_server


@pytest.fixture
def realtime_dag(airflow_db, run_root):  # noqa: F811
    """The ``realtime_retrain`` DAG, parsed from its file."""
    from airflow_mlplat.local_run import load_dags

    return load_dags(REALTIME_DAG_FILE.parent).get_dag("realtime_retrain")


def wait_for_part_files(partition: Path, timeout: float = 120.0) -> None:
    """Until the sink has opened a part file (in progress or not) in ``partition``: its window is being read.

    Files the source finds in one listing are read in any order, and the first one read moves the
    watermark: a test writes a window's file only once the previous window's is being read.
    """
    import time

    deadline = time.monotonic() + timeout
    while not any(partition.glob("*part-*")):
        if time.monotonic() > deadline:
            raise AssertionError(f"no part file in {partition} within {timeout} s")
        time.sleep(0.2)
