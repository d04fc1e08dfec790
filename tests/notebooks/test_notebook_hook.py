"""NotebookHook: papermill on the project's kernel, connections handed to the kernel, failures saved."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from tests.notebooks.conftest import child_pids, leftover_children


def _notebook(path: Path) -> Path:
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    cells = [
        new_code_cell('greeting = "hi"\nrun_dir = ""', metadata={"tags": ["parameters"]}),
        new_code_cell(
            "import json, os, sys\n"
            'assert greeting != "fail", "asked to fail"\n'
            "keys = ['MLPLAT_HIVE_METASTORE_URIS', 'MLPLAT_HIVE_WAREHOUSE_DIR', 'MLFLOW_TRACKING_URI',"
            " 'PYSPARK_PYTHON']\n"
            "print(json.dumps({'python': sys.executable, 'cwd': os.getcwd(), 'greeting': greeting,"
            " **{k: os.environ.get(k) for k in keys}}))"
        ),
        new_code_cell(
            "from airflow_mlplat import sdk\n"
            "session = sdk.spark()\n"
            "conf = session.sparkContext.getConf()\n"
            "print(json.dumps({'catalog': conf.get('spark.sql.catalogImplementation'),"
            " 'uris': conf.get('spark.hadoop.hive.metastore.uris'), 'warehouse': conf.get('spark.sql.warehouse.dir'),"
            " 'bind': conf.get('spark.driver.bindAddress'), 'tracking': os.environ['MLFLOW_TRACKING_URI'],"
            " 'airflow_imported': 'airflow' in sys.modules}))"
        ),
    ]
    nb = new_notebook(
        cells=cells, metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}
    )
    nbformat.write(nb, path)
    return path


def _printed(path: Path) -> list[dict]:
    import nbformat

    executed = nbformat.read(path, as_version=4)
    return [json.loads(o["text"]) for c in executed.cells for o in c.get("outputs", []) if o.get("name") == "stdout"]


@pytest.fixture
def connections(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "AIRFLOW_CONN_METASTORE_DEFAULT", "hive-metastore://127.0.0.1:19083/?warehouse_dir=file%3A%2F%2F%2Ftmp%2Fwh"
    )
    monkeypatch.setenv("AIRFLOW_CONN_MLFLOW_DEFAULT", "http://127.0.0.1:15055")
    for name in ("MLFLOW_TRACKING_URI", "PYSPARK_PYTHON", "MLPLAT_HIVE_METASTORE_URIS", "MLPLAT_RESOLVED_CONNECTIONS"):
        monkeypatch.delenv(name, raising=False)


def test_the_kernel_runs_here_and_its_spark_session_gets_the_tasks_connections(tmp_path: Path, connections):
    from airflow_mlplat.hooks.notebook import NotebookHook

    notebook = _notebook(tmp_path / "probe.ipynb")
    hook = NotebookHook()
    assert set(hook.declared_parameters(notebook)) == {"greeting", "run_dir"}
    before = child_pids()
    hook.run_notebook(notebook, tmp_path / "out" / "probe.ipynb", {"greeting": "hello"})

    kernel, session = _printed(tmp_path / "out" / "probe.ipynb")
    assert kernel == {
        "python": sys.executable,
        "cwd": str(tmp_path),
        "greeting": "hello",
        "MLPLAT_HIVE_METASTORE_URIS": "thrift://127.0.0.1:19083",
        "MLPLAT_HIVE_WAREHOUSE_DIR": "file:///tmp/wh",
        "MLFLOW_TRACKING_URI": "http://127.0.0.1:15055",
        "PYSPARK_PYTHON": sys.executable,
    }
    # sdk.spark(): the engine's session settings with the task's metastore, MLflow from the task,
    # and no Airflow lookups (or imports) in the kernel.
    assert session == {
        "catalog": "hive",
        "uris": "thrift://127.0.0.1:19083",
        "warehouse": "file:///tmp/wh",
        "bind": "127.0.0.1",
        "tracking": "http://127.0.0.1:15055",
        "airflow_imported": False,
    }
    assert leftover_children(before) == []


def test_sdk_spark_reads_the_connections_it_is_given(monkeypatch: pytest.MonkeyPatch):
    from airflow.providers.common.compat.sdk import AirflowNotFoundException

    from airflow_mlplat.sdk.session import metastore_conf, tracking_uri

    monkeypatch.setenv("AIRFLOW_CONN_NB_METASTORE", "hive-metastore://meta-1,meta-2:29083")
    monkeypatch.setenv("AIRFLOW_CONN_NB_MLFLOW", "http://127.0.0.1:25055")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:35055")
    monkeypatch.delenv("AIRFLOW_CONN_METASTORE_DEFAULT", raising=False)
    monkeypatch.delenv("AIRFLOW_CONN_MLFLOW_DEFAULT", raising=False)
    monkeypatch.delenv("MLPLAT_RESOLVED_CONNECTIONS", raising=False)

    conf = metastore_conf("nb_metastore")
    assert conf["spark.sql.catalogImplementation"] == "hive"
    assert conf["spark.hadoop.hive.metastore.uris"] == "thrift://meta-1:29083,thrift://meta-2:29083"
    assert tracking_uri("nb_mlflow") == "http://127.0.0.1:25055"
    # Undefined defaults: Spark's own catalogue (or $MLPLAT_HIVE_METASTORE_URIS), $MLFLOW_TRACKING_URI.
    assert metastore_conf() == {} and tracking_uri() == "http://127.0.0.1:35055"
    with pytest.raises(AirflowNotFoundException, match="'nb_missing' is not defined"):
        metastore_conf("nb_missing")
    # Ids a task resolved into the environment are not asked again.
    monkeypatch.setenv("MLPLAT_RESOLVED_CONNECTIONS", "nb_metastore,nb_mlflow")
    assert metastore_conf("nb_metastore") == {} and tracking_uri("nb_mlflow") == "http://127.0.0.1:35055"


def test_a_failing_cell_fails_the_run_and_the_saved_notebook_shows_it(tmp_path: Path):
    import nbformat
    from papermill.exceptions import PapermillExecutionError

    from airflow_mlplat.hooks.notebook import NotebookHook

    notebook = _notebook(tmp_path / "probe.ipynb")
    before = child_pids()
    with pytest.raises(PapermillExecutionError, match="asked to fail"):
        # An installed kernel by name (ipykernel's own, in this environment) runs as well.
        NotebookHook(metastore_conn_id=None, mlflow_conn_id=None, kernel_name="python3").run_notebook(
            notebook, tmp_path / "failed.ipynb", {"greeting": "fail"}
        )
    executed = nbformat.read(tmp_path / "failed.ipynb", as_version=4)
    errors = [o for c in executed.cells for o in c.get("outputs", []) if o["output_type"] == "error"]
    assert [e["evalue"] for e in errors] == ["asked to fail"]
    assert leftover_children(before) == []
