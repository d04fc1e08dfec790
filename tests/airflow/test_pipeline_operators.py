"""The operators run for real through ``dag.test()``: spark-submit, the engine, XComs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from airflow_mlplat.local_run import run_dag, task_states
from airflow_mlplat.local_run import xcom_value as xcom
from tests.airflow.conftest import load_dag_folder

pytestmark = pytest.mark.usefixtures("airflow_db")

ROWS = 3000


def _report(dag_run, task_id: str) -> dict:
    return json.loads(Path(xcom(dag_run, task_id, key="report_path")).read_text())


def test_purchase_intent_dag_end_to_end_with_dag_params(run_root: Path, local_hive, monkeypatch):
    """generate (into a Hive partition) -> train (reading it); the trigger's Params reach both Spark runs."""
    from airflow_mlplat.services.hive import connection_uris

    monkeypatch.setenv("AIRFLOW_CONN_METASTORE_DEFAULT", connection_uris(local_hive)["metastore_default"])
    dag = load_dag_folder().dags["purchase_intent_gbdt_synthetic"]

    dag_run = run_dag(dag, {"rows": ROWS, "max_iter": 3, "max_depth": 3, "seed": 5})

    assert task_states(dag_run) == {"generate": "success", "train": "success"}
    day = (dag_run.logical_date or dag_run.run_after).strftime("%Y-%m-%d")
    generated = _report(dag_run, "generate")
    assert generated["params"]["rows"] == ROWS and generated["params"]["seed"] == 5
    assert generated["params"]["partition"] == {"dt": day}
    assert generated["nodes"]["write"]["details"]["partition"] == f"dt={day}"

    trained = _report(dag_run, "train")
    # Declared params take the trigger's values; "rows" (not declared by the pipeline) stays out.
    assert trained["params"]["max_iter"] == 3 and trained["params"]["max_depth"] == 3
    assert trained["params"]["seed"] == 5 and trained["params"]["split_ratio"] == 0.85
    assert trained["params"]["input_table"] == "mlplat.purchase_intent_behaviour"
    assert trained["params"]["partition_filter"] == f"dt = '{day}'"
    assert "rows" not in trained["params"]
    resolved = json.loads((Path(xcom(dag_run, "train", key="report_path")).parent / "pipeline.json").read_text())
    assert resolved["params"]["max_iter"]["default"] == 3

    metrics = xcom(dag_run, "train")
    assert metrics == trained["metrics"]
    assert trained["metrics"]["evaluate"]["rows"] + trained["nodes"]["assemble"]["rows"]["data"] == ROWS
    auc = metrics["evaluate"]["auc_roc"]
    assert 0.5 < auc <= 1.0


def test_per_node_pipeline_dag_passes_datasets_by_path(tmp_path: Path, run_root: Path):
    from airflow_mlplat.dag_factory import pipeline_dags

    held_out = tmp_path / "held_out"
    pipelines = tmp_path / "pipelines"
    pipelines.mkdir()
    (pipelines / "split_example.json").write_text(
        json.dumps(
            {
                "name": "split_example",
                "execution": "per_node",
                "params": {"rows": 1000, "ratio": 0.7},
                "nodes": [
                    {"id": "gen", "component": "synthetic_purchase_intent", "params": {"rows": {"$param": "rows"}}},
                    {
                        "id": "split",
                        "component": "random_split",
                        "inputs": {"data": "gen.data"},
                        "params": {"ratio": {"$param": "ratio"}},
                    },
                ],
                "outputs": {"held_out": {"from": "split.test", "path": str(held_out)}},
            }
        )
    )
    dag = pipeline_dags(pipelines)["split_example"]

    dag_run = run_dag(dag, {"rows": 2000})

    assert task_states(dag_run) == {"gen": "success", "split": "success"}
    run_dirs = list((run_root / "split_example").iterdir())
    assert len(run_dirs) == 1 and ":" not in run_dirs[0].name
    assert (run_dirs[0] / "gen" / "data").is_dir()
    assert (run_dirs[0] / "split" / "train").is_dir()
    assert any(held_out.glob("*.parquet"))
    split = _report(dag_run, "split")
    assert split["params"] == {"ratio": 0.7}
    train_rows, test_rows = split["nodes"]["split"]["rows"]["train"], split["nodes"]["split"]["rows"]["test"]
    assert train_rows + test_rows == 2000 and train_rows > test_rows


def test_invalid_pipeline_fails_before_spark_submit(run_root: Path, monkeypatch: pytest.MonkeyPatch):
    from airflow.sdk import DAG

    from airflow_mlplat.hooks.spark_pipeline import SparkPipelineHook
    from airflow_mlplat.operators.spark_pipeline import SparkPipelineOperator
    from airflow_mlplat.pipeline import PipelineValidationError

    submitted = []
    monkeypatch.setattr(SparkPipelineHook, "submit", lambda self, *a, **k: submitted.append(a))
    pipeline = {
        "name": "bad",
        "params": {"depth": 3},
        "nodes": [
            {"id": "gen", "component": "synthetic_purchase_intent", "params": {"rows": 10}},
            {
                "id": "gbdt",
                "component": "gbdt_classifier",
                "inputs": {"data": "gen.data"},
                "params": {"max_depth": {"$param": "depth"}},
            },
        ],
    }
    with DAG("invalid_pipeline", schedule=None, params={"depth": "deep"}) as dag:
        task = SparkPipelineOperator(task_id="run", pipeline=pipeline)

    dag_run = run_dag(dag)

    assert task_states(dag_run) == {"run": "failed"}
    assert submitted == []
    assert not (run_root / "invalid_pipeline").exists()
    with pytest.raises(PipelineValidationError) as caught:
        task.execute({"params": {"depth": "deep"}, "run_id": "r", "ti": None})
    assert "nodes[1] (gbdt): params.max_depth of gbdt_classifier must be an integer" in str(caught.value)
    assert "got 'deep' (from pipeline param 'depth')" in str(caught.value)
