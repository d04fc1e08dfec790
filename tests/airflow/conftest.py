"""Fixtures for running DAGs for real: a migrated metadata DB, Spark settings, run directories.

``dag.test()`` runs through ``airflow_mlplat.local_run`` (migrated DB, DAG serialized first).
Tasks run in this process (no executor); spark-submit runs as a child process.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from airflow_mlplat.local_run import load_dags

REPO_ROOT = Path(__file__).resolve().parents[2]
DAGS_FOLDER = REPO_ROOT / "dags"

#: Small-machine Spark settings for every spark-submit of these tests (read from SPARK_CONF_DIR).
SPARK_DEFAULTS = {
    "spark.ui.enabled": "false",
    "spark.sql.shuffle.partitions": "4",
    "spark.driver.host": "127.0.0.1",
    "spark.driver.bindAddress": "127.0.0.1",
    "spark.driver.memory": "1g",
}


@pytest.fixture(scope="session")
def airflow_db() -> None:
    """The metadata DB of the session (SQLite under the session's AIRFLOW_HOME), migrated once."""
    from airflow_mlplat.local_run import migrate_db

    migrate_db()


@pytest.fixture(scope="package", autouse=True)
def spark_test_defaults(tmp_path_factory: pytest.TempPathFactory):
    conf_dir = tmp_path_factory.mktemp("spark-conf")
    (conf_dir / "spark-defaults.conf").write_text("".join(f"{k} {v}\n" for k, v in SPARK_DEFAULTS.items()))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SPARK_CONF_DIR", str(conf_dir))
        patch.setenv("SPARK_LOCAL_IP", "127.0.0.1")
        yield conf_dir


@pytest.fixture
def run_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Where operators and DAG files put runs during this test (MLPLAT_RUN_ROOT)."""
    root = tmp_path / "runs"
    monkeypatch.setenv("MLPLAT_RUN_ROOT", str(root))
    return root


def load_dag_folder(folder: Path = DAGS_FOLDER) -> Any:
    """A DagBag of ``folder``; fails on any import error."""
    return load_dags(folder)
