"""Fixtures for running DAGs for real: a migrated metadata DB, Spark settings, run directories.

``dag.test()`` on Airflow 3.3 needs (1) a migrated metadata DB (``airflow.utils.db.initdb()``
once) and (2) the DAG serialized in the DB under a known bundle, otherwise creating the run
fails with "the dag is not serialized": ``run_dag`` writes it with ``sync_bag_to_db``.
Tasks run in this process (no executor); spark-submit runs as a child process.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
DAGS_FOLDER = REPO_ROOT / "dags"
#: The bundle dag.test() syncs: the default local bundle of the dags folder.
BUNDLE_NAME = "dags-folder"

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
    from airflow.utils import db

    db.initdb()


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
    """A DagBag of ``folder``; fails the test on any import error."""
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(folder), bundle_path=folder, bundle_name=BUNDLE_NAME)
    assert not bag.import_errors, bag.import_errors
    return bag


def run_dag(dag: Any, run_conf: dict[str, Any] | None = None) -> Any:
    """Serialize ``dag`` to the metadata DB, run it with ``dag.test()``; return the DagRun."""
    from airflow.dag_processing.bundles.manager import DagBundlesManager
    from airflow.dag_processing.dagbag import DagBag, sync_bag_to_db

    DagBundlesManager().sync_bundles_to_db()
    bag = DagBag(dag_folder=str(Path(dag.fileloc).parent), collect_dags=False)
    bag.bag_dag(dag)
    sync_bag_to_db(bag, BUNDLE_NAME, None)
    return dag.test(run_conf=run_conf)


def task_states(dag_run: Any) -> dict[str, str]:
    return {ti.task_id: str(ti.state) for ti in dag_run.get_task_instances()}


def xcom(dag_run: Any, task_id: str, key: str = "return_value") -> Any:
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    with create_session() as session:
        query = XComModel.get_many(run_id=dag_run.run_id, dag_ids=dag_run.dag_id, task_ids=task_id, key=key)
        row = session.scalars(query).first()
        assert row is not None, f"no XCom {key!r} from {task_id}"
        return XComModel.deserialize_value(row)
