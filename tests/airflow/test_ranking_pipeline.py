"""A pipeline of Spark nodes and a deep ``ranking_model`` node, run end to end as one DAG.

``pipelines/ctr_deepfm.json``: Spark generates click rows, splits and encodes them; DeepFM trains
with 2 DDP workers through the local launcher; Spark evaluates its test predictions; the model is
registered in MLflow. The DAG factory cuts it into three tasks with the tables between them
materialised under the run directory.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from airflow_mlplat.local_run import run_dag, task_states
from airflow_mlplat.local_run import xcom_value as xcom

PIPELINE = Path(__file__).parent / "pipelines" / "ctr_deepfm.json"


def test_the_dag_has_a_spark_stage_a_training_task_and_a_spark_stage(tmp_path: Path):
    from airflow_mlplat.dag_factory import pipeline_dag
    from airflow_mlplat.operators.ranking_model import RankingModelOperator
    from airflow_mlplat.operators.spark_pipeline import SparkPipelineOperator

    dag = pipeline_dag(PIPELINE, run_root=str(tmp_path))
    assert set(dag.task_dict) == {"spark_stage_1", "deepfm", "spark_stage_2"}
    first, train, last = (dag.task_dict[t] for t in ("spark_stage_1", "deepfm", "spark_stage_2"))
    assert isinstance(first, SparkPipelineOperator) and isinstance(last, SparkPipelineOperator)
    assert isinstance(train, RankingModelOperator)
    assert train.upstream_task_ids == {"spark_stage_1"} and last.upstream_task_ids == {"deepfm"}
    assert [n["id"] for n in first.pipeline["nodes"]] == [
        "clicks", "split", "holdout", "encode", "validation_rows", "test_rows"
    ]  # fmt: skip
    assert [n["id"] for n in last.pipeline["nodes"]] == ["evaluate"]
    assert "register" not in first.pipeline and "register" not in last.pipeline
    assert train.register == {"name": "ctr_deepfm", "alias": None}
    assert train.job["workers"] == 2 and train.job["framework"] == "pytorch"
    assert "deep" in dag.tags


def test_a_ranking_node_cannot_run_in_one_spark_application(tmp_path: Path):
    from airflow_mlplat.operators.spark_pipeline import SparkPipelineOperator
    from airflow_mlplat.pipeline import PipelineValidationError

    op = SparkPipelineOperator(task_id="t", pipeline=str(PIPELINE), out_dir=str(tmp_path))
    with pytest.raises(PipelineValidationError, match=r"nodes\[6\] \(deepfm\): ranking_model trains through the"):
        op.execute({"params": {}, "run_id": "r", "ti": None})
    assert not any(tmp_path.iterdir())  # refused before anything was written


def test_spark_and_deep_nodes_run_as_one_dag_and_the_model_is_registered(
    airflow_db, run_root: Path, mlflow_server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    import pyarrow.parquet as pq
    from mlflow import MlflowClient
    from sklearn.metrics import roc_auc_score

    from airflow_mlplat.dag_factory import pipeline_dag

    monkeypatch.setenv("AIRFLOW_CONN_MLFLOW_DEFAULT", mlflow_server)
    monkeypatch.setenv("MLPLAT_LAUNCHER_ROOT", str(tmp_path / "launcher"))
    folder = tmp_path / "pipelines"
    folder.mkdir()
    shutil.copy(PIPELINE, folder / PIPELINE.name)
    dag = pipeline_dag(folder / PIPELINE.name)

    dag_run = run_dag(dag, run_conf={"rows": 6000})

    assert task_states(dag_run) == {"spark_stage_1": "success", "deepfm": "success", "spark_stage_2": "success"}
    [run_dir] = (run_root / "ctr_deepfm").iterdir()
    # the tables between the tasks, materialised under the run directory
    for materialised in ("encode/data", "encode/model", "validation_rows/data", "test_rows/data"):
        assert (run_dir / materialised).is_dir(), materialised
    model_dir = run_dir / "deepfm" / "model"
    assert {"model.onnx", "model.torchscript.pt", "feature_map.json", "training_curve.png"} <= {
        p.name for p in model_dir.iterdir()
    }

    trained = xcom(dag_run, "deepfm")
    assert trained["phase"] == "succeeded" and trained["metrics"]["world_size"] == 2
    used = trained["metrics"]["train_rows"] + trained["metrics"]["validation_rows"]
    assert 0.8 * 6000 < used < 6000  # the DAG's param reached the generator (3000 by default)

    # Spark evaluated the predictions the deep step wrote (its one-pass histogram puts scores
    # closer than 2**-16 in one bin: within 1e-4 of the exact AUC)
    metrics = xcom(dag_run, "spark_stage_2")["evaluate"]
    predictions = pq.read_table(model_dir / "test_predictions.parquet").to_pydict()
    assert metrics["rows"] == len(predictions["label"]) == trained["metrics"]["test_rows"]
    assert metrics["auc_roc"] == pytest.approx(roc_auc_score(predictions["label"], predictions["p_label"]), abs=1e-4)
    assert metrics["auc_roc"] == pytest.approx(trained["metrics"]["test_auc_label"], abs=1e-4)
    assert metrics["auc_roc"] > 0.6, metrics

    registered = trained["registered"]
    client = MlflowClient(mlflow_server)
    version = client.get_model_version("ctr_deepfm", str(registered["version"]))
    assert version.tags["mlplat.model"] == "deepfm" and version.tags["mlplat.pipeline"] == "ctr_deepfm"
    assert version.tags["mlplat.input.train"] == str(run_dir / "encode" / "data")
    run = client.get_run(registered["run_id"])
    epochs = [m.step for m in client.get_metric_history(run.info.run_id, "val_auc_label")]
    assert epochs == list(range(1, trained["metrics"]["epochs_run"] + 1))
    assert "training_curve.png" in {a.path for a in client.list_artifacts(run.info.run_id)}
    assert xcom(dag_run, "deepfm", key="tracking")["registered_model"]["version"] == registered["version"]
    assert json.loads((model_dir / "training_config.json").read_text())["name"].startswith("ctr_deepfm")
