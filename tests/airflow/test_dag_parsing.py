"""DAG files and the DAG factory: parsing is light, invalid pipelines fail the import, shapes are right."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.airflow.conftest import DAGS_FOLDER, REPO_ROOT

HEAVY_MODULES = ("pyspark", "mlflow", "pyflink", "pyarrow")

PER_NODE = {
    "name": "per_node_example",
    "execution": "per_node",
    "schedule": "@daily",
    "params": {"rows": {"default": 1000, "description": "rows to generate"}, "ratio": 0.8},
    "nodes": [
        {"id": "gen", "component": "synthetic_purchase_intent", "params": {"rows": {"$param": "rows"}}},
        {
            "id": "split",
            "component": "random_split",
            "inputs": {"data": "gen.data"},
            "params": {"ratio": {"$param": "ratio"}},
        },
        {
            "id": "cast",
            "component": "cast_columns",
            "inputs": {"data": "split.train"},
            "params": {"columns": ["duration"]},
        },
    ],
    "outputs": {"held_out": {"from": "split.test", "path": "/data/held_out"}},
}


def test_dag_files_import_neither_pyspark_nor_mlflow():
    """Parsing every file in dags/ (as the DAG processor does) keeps Spark and MLflow out."""
    script = textwrap.dedent(
        f"""
        import json, sys
        from airflow.dag_processing.dagbag import DagBag
        bag = DagBag(dag_folder={str(DAGS_FOLDER)!r})
        heavy = sorted(m for m in sys.modules if m.split(".")[0] in {HEAVY_MODULES!r})
        print(json.dumps({{"errors": bag.import_errors, "dags": sorted(bag.dags), "heavy": heavy}}))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=REPO_ROOT, env=os.environ, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["errors"] == {}
    expected = {"purchase_intent_gbdt", "purchase_intent_gbdt_synthetic", "realtime_ingest", "realtime_retrain"}
    assert expected | {"streaming_ftrl"} <= set(result["dags"])
    assert result["heavy"] == []


def _pipelines_folder(tmp_path: Path, **files: dict | str) -> Path:
    """A DAGs folder with the repo's ``pipeline_dags.py`` and ``pipelines/NAME.json`` for each file given."""
    pipelines = tmp_path / "pipelines"
    pipelines.mkdir()
    for name, doc in files.items():
        (pipelines / f"{name}.json").write_text(doc if isinstance(doc, str) else json.dumps(doc))
    (tmp_path / "pipeline_dags.py").write_text((DAGS_FOLDER / "pipeline_dags.py").read_text())
    return pipelines


def test_a_bad_pipeline_file_hides_no_other_pipeline_dag(tmp_path: Path):
    from airflow.dag_processing.dagbag import DagBag

    bad = json.loads(json.dumps(PER_NODE))
    bad["name"] = "bad"
    bad["nodes"][1]["params"]["ratio"] = 1.5
    good = {**PER_NODE, "name": "good"}
    pipelines = _pipelines_folder(tmp_path, good=good, bad=bad, broken="{not json")

    DagBag(dag_folder=str(tmp_path))  # the first parse writes each pipeline's DAG file, as the DAG processor's would
    bag = DagBag(dag_folder=str(tmp_path))

    assert set(bag.dags) == {"good"}
    errors = {Path(path).name: error for path, error in bag.import_errors.items()}
    assert set(errors) == {"bad.py", "broken.py"}
    assert f"{pipelines / 'bad.json'}: nodes[1] (split): params.ratio of random_split must be" in errors["bad.py"]
    assert "got 1.5" in errors["bad.py"]
    assert f"{pipelines / 'broken.json'}: line 1 column 2" in errors["broken.py"]


def test_a_pipeline_is_named_after_its_file(tmp_path: Path):
    from airflow.dag_processing.dagbag import DagBag

    pipelines = _pipelines_folder(tmp_path, realtime_retrain={**PER_NODE, "name": "realtime_retrain_training"})
    DagBag(dag_folder=str(tmp_path))
    bag = DagBag(dag_folder=str(tmp_path))
    assert bag.dags == {}
    (error,) = bag.import_errors.values()
    assert f"{pipelines / 'realtime_retrain.json'}: name: must be 'realtime_retrain'" in error


def test_the_repo_pipelines_are_named_after_their_files():
    for path in sorted((DAGS_FOLDER / "pipelines").glob("*.json")):
        assert json.loads(path.read_text())["name"] == path.stem, path


def test_the_generated_dag_files_are_up_to_date(tmp_path: Path):
    import shutil

    from airflow_mlplat.dag_files import sync_dag_files

    copy = tmp_path / "pipelines"
    shutil.copytree(DAGS_FOLDER / "pipelines", copy)
    assert sync_dag_files(copy) == [], "run airflow_mlplat.dag_files.sync_dag_files('dags/pipelines')"


def test_dag_files_are_written_for_new_pipelines_and_removed_with_them(tmp_path: Path):
    from airflow_mlplat.dag_files import sync_dag_files

    pipelines = _pipelines_folder(tmp_path, a=PER_NODE)
    (pipelines / "mine.py").write_text("# a hand-written file is never touched\n")
    assert [p.name for p in sync_dag_files(pipelines)] == ["a.py"]
    (pipelines / "a.json").unlink()
    (pipelines / "mine.json").write_text(json.dumps({**PER_NODE, "name": "mine"}))
    assert [p.name for p in sync_dag_files(pipelines)] == ["a.py"]  # removed; mine.py is not generated
    assert not (pipelines / "a.py").exists()
    assert (pipelines / "mine.py").read_text() == "# a hand-written file is never touched\n"


def test_per_node_tasks_of_a_page_pipeline_stay_confined(tmp_path: Path):
    from airflow_mlplat.dag_factory import pipeline_dags

    (tmp_path / "p.json").write_text(json.dumps({**PER_NODE, "origin": "page", "outputs": {}}))
    dag = pipeline_dags(tmp_path, run_root="/runs")["per_node_example"]
    doc, _ = dag.get_task("gen").pipeline_document({"params": {"rows": 10, "ratio": 0.8}})
    assert doc["origin"] == "page"


def test_per_node_tasks_write_no_previews_when_the_pipeline_says_so(tmp_path: Path):
    from airflow_mlplat.dag_factory import pipeline_dags

    (tmp_path / "p.json").write_text(json.dumps({**PER_NODE, "preview": False}))
    dag = pipeline_dags(tmp_path, run_root="/runs")["per_node_example"]
    doc, _ = dag.get_task("split").pipeline_document({"params": {"rows": 10, "ratio": 0.8}})
    assert doc["preview"] is False


def test_every_invalid_file_is_named(tmp_path: Path):
    from airflow_mlplat.dag_factory import pipeline_dags
    from airflow_mlplat.pipeline import PipelineValidationError

    (tmp_path / "a.json").write_text(json.dumps({**PER_NODE, "nodes": [{"id": "x", "component": "nope"}]}))
    (tmp_path / "b.json").write_text("{not json")
    with pytest.raises(PipelineValidationError) as caught:
        pipeline_dags(tmp_path)
    message = str(caught.value)
    assert f"{tmp_path / 'a.json'}: nodes[0] (x): component 'nope' is unknown" in message
    assert f"{tmp_path / 'b.json'}: line 1 column 2" in message


def test_duplicate_pipeline_names_are_an_error(tmp_path: Path):
    from airflow_mlplat.dag_factory import pipeline_dags
    from airflow_mlplat.pipeline import PipelineValidationError

    for name in ("a.json", "b.json"):
        (tmp_path / name).write_text(json.dumps(PER_NODE))
    with pytest.raises(PipelineValidationError, match="already the name of .*a.json"):
        pipeline_dags(tmp_path)


def test_per_node_dag_shape(tmp_path: Path):
    from airflow_mlplat.dag_factory import SAFE_RUN_ID, pipeline_dags
    from airflow_mlplat.operators.spark_component import SparkComponentOperator

    (tmp_path / "p.json").write_text(json.dumps(PER_NODE))
    dag = pipeline_dags(tmp_path, run_root="/runs")["per_node_example"]

    assert dag.schedule == "@daily" and dag.catchup is False
    assert set(dag.task_ids) == {"gen", "split", "cast"}
    assert dag.get_task("split").upstream_task_ids == {"gen"}
    assert dag.get_task("cast").upstream_task_ids == {"split"}
    run_dir = f"/runs/per_node_example/{SAFE_RUN_ID}"
    gen, split, cast = (dag.get_task(t) for t in ("gen", "split", "cast"))
    assert all(isinstance(t, SparkComponentOperator) for t in (gen, split, cast))
    assert gen.outputs == {"data": f"{run_dir}/gen/data"}
    assert split.inputs == {"data": f"{run_dir}/gen/data"}
    # A pipeline output with a path is where that port is materialized, and read from.
    assert split.outputs == {"train": f"{run_dir}/split/train", "test": "/data/held_out"}
    assert cast.inputs == {"data": f"{run_dir}/split/train"}
    assert split.component_params == {"ratio": {"$param": "ratio"}}
    assert split.out_dir == f"{run_dir}/split/_run"


def test_dag_params_are_typed_from_component_declarations(tmp_path: Path):
    from airflow_mlplat.dag_factory import pipeline_dags

    (tmp_path / "p.json").write_text(json.dumps(PER_NODE))
    params = pipeline_dags(tmp_path)["per_node_example"].params
    params = {name: params.get_param(name) for name in params}
    assert params["rows"].value == 1000
    assert params["rows"].description == "rows to generate"
    assert params["rows"].schema["type"] == "integer" and params["rows"].schema["minimum"] == 1
    assert params["ratio"].schema["type"] == "number"
    assert params["ratio"].value == 0.8


def test_fused_dag_is_one_pipeline_task():
    from airflow_mlplat.dag_factory import FUSED_TASK_ID, pipeline_dag
    from airflow_mlplat.operators.spark_pipeline import SparkPipelineOperator

    dag = pipeline_dag(DAGS_FOLDER / "pipelines" / "purchase_intent_gbdt.json")
    assert dag.dag_id == "purchase_intent_gbdt" and dag.schedule is None
    (task,) = dag.tasks
    assert task.task_id == FUSED_TASK_ID and isinstance(task, SparkPipelineOperator)
    assert task.pipeline["name"] == "purchase_intent_gbdt"
    assert set(dag.params) == {
        "input_table",
        "partition_filter",
        "split_ratio",
        "max_iter",
        "max_depth",
        "step_size",
        "seed",
    }


def test_operator_template_fields_are_attributes():
    from airflow_mlplat.operators.spark_component import SparkComponentOperator
    from airflow_mlplat.operators.spark_pipeline import SparkPipelineOperator

    pipeline_op = SparkPipelineOperator(task_id="p", pipeline={"name": "x"})
    component_op = SparkComponentOperator(task_id="c", component="read_table")
    for op in (pipeline_op, component_op):
        for field in op.template_fields:
            assert hasattr(op, field), (type(op).__name__, field)
