"""Running a DAG for real on this machine with ``dag.test()`` (the demo and the tests).

Airflow 3.3's ``dag.test()`` needs a migrated metadata DB and the DAG serialized in it under
a known bundle, else creating the run fails with "the dag is not serialized".
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

#: The bundle of the configured dags folder (Airflow's default local bundle).
BUNDLE_NAME = "dags-folder"


def configure_airflow(home: Path, dags_folder: Path) -> None:
    """Point Airflow at a SQLite DB under ``home/airflow`` and at ``dags_folder``; engine runs under ``home/runs``.

    Airflow reads these when first imported: call this before anything imports it.
    """
    airflow_home = home / "airflow"
    airflow_home.mkdir(parents=True, exist_ok=True)
    os.environ["AIRFLOW_HOME"] = str(airflow_home)
    os.environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = f"sqlite:///{airflow_home / 'airflow.db'}"
    os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(dags_folder)
    os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
    os.environ["AIRFLOW__DATABASE__LOAD_DEFAULT_CONNECTIONS"] = "False"
    os.environ["MLPLAT_RUN_ROOT"] = str(home / "runs")
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ["PATH"] = os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", "")


def migrate_db() -> None:
    """Create or upgrade the metadata DB Airflow is configured with."""
    from airflow.utils import db

    db.initdb()


def load_dags(folder: str | Path) -> Any:
    """A DagBag of ``folder``; raises with every import error (file and message) if there are any."""
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(folder), bundle_path=Path(folder), bundle_name=BUNDLE_NAME)
    if bag.import_errors:
        details = "\n".join(f"{path}: {error}" for path, error in bag.import_errors.items())
        raise RuntimeError(f"DAG import errors in {folder}:\n{details}")
    return bag


def run_dag(dag: Any, run_conf: dict[str, Any] | None = None) -> Any:
    """Serialize ``dag`` to the metadata DB and run it with ``dag.test()``; return the DagRun."""
    from airflow.dag_processing.bundles.manager import DagBundlesManager
    from airflow.dag_processing.dagbag import DagBag, sync_bag_to_db

    DagBundlesManager().sync_bundles_to_db()
    bag = DagBag(dag_folder=str(Path(dag.fileloc).parent), collect_dags=False)
    bag.bag_dag(dag)
    sync_bag_to_db(bag, BUNDLE_NAME, None)
    return dag.test(run_conf=run_conf)


def xcom_value(dag_run: Any, task_id: str, key: str = "return_value") -> Any:
    """The XCom ``key`` a task of ``dag_run`` pushed (None if it pushed none)."""
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    with create_session() as session:
        query = XComModel.get_many(run_id=dag_run.run_id, dag_ids=dag_run.dag_id, task_ids=task_id, key=key)
        row = session.scalars(query).first()
        return None if row is None else XComModel.deserialize_value(row)


def task_states(dag_run: Any) -> dict[str, str]:
    return {ti.task_id: str(ti.state) for ti in dag_run.get_task_instances()}
