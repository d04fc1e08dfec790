"""Fixtures of the real-time retraining tests: partitions written like the Flink job's, without Flink.

``write_window_partition`` writes ``BASE/dt=YYYY-MM-DD/hm=HHMM/part-0.parquet`` (hidden file, then
rename) and then ``_SUCCESS``, the layout and commit order of the Flink filesystem sink.
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from tests.airflow.conftest import airflow_db, run_root, spark_test_defaults  # noqa: F401  (DB, run dirs, Spark conf)

REPO_ROOT = Path(__file__).resolve().parents[2]
REALTIME_DAG_FILE = REPO_ROOT / "dags" / "realtime_retrain.py"


def write_window_partition(base: str | os.PathLike[str], window_start: datetime, events: list[dict[str, Any]]) -> Path:
    """Write ``events`` as the window's Parquet partition and commit it with ``_SUCCESS``; returns the folder."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from airflow_mlplat.realtime.events import EVENT_SCHEMA
    from airflow_mlplat.realtime.windows import partition_path

    types = {"STRING": pa.string(), "TIMESTAMP(3)": pa.timestamp("ms"), "DOUBLE": pa.float64(), "INT": pa.int32()}
    schema = pa.schema([(name, types[kind]) for name, kind in EVENT_SCHEMA])
    table = pa.Table.from_pylist(events, schema=schema)
    folder = Path(partition_path(base, window_start))
    folder.mkdir(parents=True, exist_ok=True)
    scratch = folder / ".part-0.parquet.inprogress"
    pq.write_table(table, scratch)
    os.replace(scratch, folder / "part-0.parquet")
    (folder / "_SUCCESS").write_bytes(b"")
    return folder


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
