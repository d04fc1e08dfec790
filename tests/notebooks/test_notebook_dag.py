"""The shipped notebook as a scheduled task: ``dags/notebook_example.py`` through ``dag.test()``."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from airflow_mlplat.local_run import run_dag, task_states, xcom_value
from airflow_mlplat.storage.runs import path_safe
from tests.airflow.conftest import DAGS_FOLDER
from tests.notebooks.conftest import child_pids, leftover_children

pytestmark = pytest.mark.usefixtures("airflow_db")

DAG_ID = "purchase_intent_notebook"


def _text(cell: dict) -> str:
    return "".join(
        output.get("text", "")
        if output["output_type"] == "stream"
        else "".join(output.get("data", {}).get("text/plain", ""))
        for output in cell.get("outputs", [])
    )


def test_the_notebook_dag_runs_the_notebook_with_the_dag_params(run_root: Path):
    import nbformat
    from airflow.dag_processing.dagbag import DagBag

    from airflow_mlplat.ui import results

    bag = DagBag(dag_folder=str(DAGS_FOLDER / "notebook_example.py"))
    assert bag.import_errors == {}
    dag = bag.dags[DAG_ID]
    before = child_pids()
    dag_run = run_dag(dag, {"rows": 3000, "max_iter": 5})

    assert task_states(dag_run) == {"notebook": "success"}
    run_dir = run_root / DAG_ID / path_safe(dag_run.run_id) / "notebook"
    executed_path = run_dir / "purchase_intent.ipynb"
    returned = xcom_value(dag_run, "notebook")
    assert returned["notebook"] == str(executed_path)
    assert returned["parameters"] == {
        "rows": 3000, "input_table": "", "max_iter": 5, "max_depth": 4, "run_dir": str(run_dir),
    }  # fmt: skip

    executed = nbformat.read(executed_path, as_version=4)
    (injected,) = [c for c in executed.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert "rows = 3000" in injected.source and f"run_dir = {str(run_dir)!r}" in injected.source.replace('"', "'")
    errors = [o for c in executed.cells for o in c.get("outputs", []) if o["output_type"] == "error"]
    assert errors == []
    printed = "\n".join(_text(c) for c in executed.cells if c.cell_type == "code")
    assert "3000 users" in printed
    auc = float(re.search(r"test AUC (\d\.\d+)", printed).group(1))
    assert 0.6 < auc <= 1.0
    images = [o for c in executed.cells for o in c.get("outputs", []) if "image/png" in o.get("data", {})]
    assert len(images) == 2  # the ROC curve and the feature importances
    # The notebook's pipeline runs went to the task's run folder.
    assert (run_dir / "train" / "report.json").is_file()

    # The results page offers the executed notebook for download.
    found = results.run_results(DAG_ID, dag_run.run_id)
    assert found["notebooks"] == [{"task": "notebook", "node": "notebook", "index": 0, "name": "purchase_intent.ipynb"}]
    name, content = results.artifact(DAG_ID, dag_run.run_id, "notebook", "notebook", 0)
    assert (name, content) == ("purchase_intent.ipynb", executed_path.resolve())

    # The kernel and its Spark JVM are gone.
    assert leftover_children(before) == []


def test_the_shipped_notebook_is_stored_without_outputs_on_the_project_kernel():
    import nbformat

    from airflow_mlplat.notebook_kernel import KERNEL_NAME
    from tests.conftest import REPO_ROOT

    notebook = nbformat.read(REPO_ROOT / "notebooks" / "purchase_intent.ipynb", as_version=4)
    nbformat.validate(notebook)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert all(cell.outputs == [] and cell.execution_count is None for cell in code)
    assert notebook.metadata.kernelspec.name == KERNEL_NAME
    assert [cell for cell in code if "parameters" in cell.metadata.get("tags", [])] == code[:1]
