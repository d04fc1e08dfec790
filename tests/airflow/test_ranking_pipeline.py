"""A pipeline of Spark nodes and a deep ``ranking_model`` node, cut into one DAG.

``pipelines/ctr_deepfm.json``: Spark generates click rows, splits and encodes them; DeepFM trains
with 2 DDP workers through the local launcher; Spark evaluates its test predictions; the model is
registered in MLflow. The DAG factory cuts it into three tasks with the tables between them
materialised under the run directory. Such a DAG runs end to end in ``tests/ui/test_e2e_ranking.py``,
built on the canvas and run by a real scheduler and triggerer.
"""

from __future__ import annotations

from pathlib import Path

import pytest

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
