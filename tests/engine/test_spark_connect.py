"""Pipelines on a long-lived Spark Connect server: the same report and metrics as under spark-submit."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from airflow_mlplat.engine.connect import CLASSIC_ONLY, check_connect
from airflow_mlplat.pipeline import PipelineValidationError, validate_pipeline

PIPELINES = Path(__file__).resolve().parents[2] / "dags" / "pipelines"
COLUMNS = ["duration", "page_views", "compare_clicks", "price_views"]
ROWS = {"rows": [[1, 0.5]], "schema": "label int, x double"}
BAD_LABEL = {"rows": [[2, 0.5]], "schema": "label int, p double"}

#: Generate, cast, split, assemble, logistic regression, predict, evaluate; a table and the metrics written out.
PIPELINE = {
    "name": "connect_vs_submit",
    "nodes": [
        {"id": "behaviour", "component": "synthetic_purchase_intent", "params": {"rows": 4000, "seed": 3}},
        {
            "id": "cast",
            "component": "cast_columns",
            "inputs": {"data": "behaviour.data"},
            "params": {"columns": COLUMNS, "to_type": "double"},
        },
        {"id": "split", "component": "random_split", "inputs": {"data": "cast.data"}, "params": {"ratio": 0.8}},
        {
            "id": "assemble",
            "component": "vector_assembler",
            "inputs": {"data": "split.train"},
            "params": {"input_cols": COLUMNS, "output_col": "features", "handle_invalid": "skip"},
        },
        {
            "id": "test_features",
            "component": "vector_assembler",
            "inputs": {"data": "split.test"},
            "params": {"input_cols": COLUMNS, "output_col": "features", "handle_invalid": "skip"},
        },
        {"id": "lr", "component": "logistic_regression", "inputs": {"data": "assemble.data"}},
        {"id": "predict", "component": "predict", "inputs": {"model": "lr.model", "data": "test_features.data"}},
        {"id": "evaluate", "component": "binary_classification_evaluation", "inputs": {"data": "predict.data"}},
    ],
    "outputs": {"metrics": "evaluate.metrics", "test": "split.test", "model": "lr.model"},
}


def test_components_that_need_the_jvm_are_refused_up_front_naming_the_node():
    doc = {
        "name": "uses_the_jvm",
        "nodes": [
            {"id": "rows", "component": "inline_table", "params": ROWS},
            {"id": "keep", "component": "write_table", "inputs": {"data": "rows.data"}, "params": {"path": "/tmp/x"}},
        ],
    }
    pipeline = validate_pipeline(doc)
    with pytest.raises(PipelineValidationError, match=r"nodes\[1\] \(keep\): component 'write_table' needs the"):
        check_connect(pipeline)


def test_a_pmml_export_is_refused_on_connect_and_registering_alone_is_not():
    doc = {
        "name": "registers",
        "nodes": [
            {"id": "rows", "component": "inline_table", "params": ROWS},
            {"id": "lr", "component": "logistic_regression", "inputs": {"data": "rows.data"}},
        ],
        "register": {"name": "m", "model": "lr.model", "sample": "rows.data", "pmml": True},
    }
    with pytest.raises(PipelineValidationError, match=r"register.pmml: the PMML export converts the model inside"):
        check_connect(validate_pipeline(doc))
    doc["register"]["pmml"] = False
    check_connect(validate_pipeline(doc))


def test_every_classic_only_name_is_a_component():
    from airflow_mlplat.components.registry import load_components

    assert set(CLASSIC_ONLY) <= set(load_components())


def test_a_pipeline_on_spark_connect_gives_the_metrics_of_spark_submit(
    spark_connect_default: str, spark, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    # ``spark``: a classic session lives in this process, as it does in a task's worker
    # that ran Spark before; the Connect client must start beside it and leave it working.
    from airflow_mlplat.hooks.spark_connect_pipeline import SparkConnectPipelineHook
    from airflow_mlplat.hooks.spark_pipeline import SparkPipelineHook

    monkeypatch.setenv("AIRFLOW__MLPLAT__TABLE_PREVIEWS", "True")
    pipeline = tmp_path / "pipeline.json"
    pipeline.write_text(json.dumps(PIPELINE))
    submitted = SparkPipelineHook(metastore_conn_id=None).submit_pipeline(str(pipeline), str(tmp_path / "submit"))
    connected = SparkConnectPipelineHook().submit_pipeline(str(pipeline), str(tmp_path / "connect"))

    assert connected["status"] == submitted["status"] == "success"
    assert connected["spark"]["session"] == "connect"
    assert set(connected["nodes"]) == set(submitted["nodes"])
    expected, got = submitted["metrics"]["evaluate"], connected["metrics"]["evaluate"]
    assert set(got) == set(expected)
    for name, value in expected.items():
        if isinstance(value, float):
            assert got[name] == pytest.approx(value, abs=1e-9), name
        else:
            assert got[name] == value, name
    assert set(connected["outputs"]) == {"metrics", "test", "model"}
    for url in connected["outputs"].values():
        assert Path(url).exists(), url
    assert not [p for p in (tmp_path / "connect" / "outputs").iterdir() if p.name.startswith(".")]
    # The same table previews, profiled by the same observed jobs.
    for node, entry in submitted["nodes"].items():
        assert set(connected["nodes"][node]["previews"]) == set(entry["previews"]), node
        assert not connected["nodes"][node]["preview_errors"], node
        for port, url in entry["previews"].items():
            theirs = json.loads(Path(connected["nodes"][node]["previews"][port]).read_text())
            ours = json.loads(Path(url).read_text())
            assert theirs["rows_total"] == ours["rows_total"] == connected["nodes"][node]["rows"][port], (node, port)
            assert len(theirs["rows"]) == len(ours["rows"]), (node, port)
            exact = ("name", "type", "missing", "min", "max")
            assert [[c.get(k) for k in exact] for c in theirs["profile"]] == [
                [c.get(k) for k in exact] for c in ours["profile"]
            ], (node, port)
            assert theirs["profiled_in"] == ours["profiled_in"], (node, port)
    assert connected["nodes"]["behaviour"]["previews"]
    assert "SPARK_CONNECT_MODE_ENABLED" not in os.environ
    assert spark.range(3).count() == 3


def test_a_failing_node_on_spark_connect_is_named(spark_connect_default: str, tmp_path: Path):
    from airflow_mlplat.hooks.spark_connect_pipeline import SparkConnectPipelineHook
    from airflow_mlplat.hooks.spark_pipeline import PipelineRunError

    doc = {
        "name": "fails",
        "nodes": [
            {"id": "rows", "component": "inline_table", "params": BAD_LABEL},
            {
                "id": "evaluate",
                "component": "binary_classification_evaluation",
                "inputs": {"data": "rows.data"},
                "params": {"probability_col": "p", "prediction_col": None},
            },
        ],
    }
    pipeline = tmp_path / "pipeline.json"
    pipeline.write_text(json.dumps(doc))
    with pytest.raises(PipelineRunError, match=r"at node 'evaluate' \(binary_classification_evaluation\)") as err:
        SparkConnectPipelineHook().submit_pipeline(str(pipeline), str(tmp_path / "run"))
    assert err.value.report["nodes"]["evaluate"]["status"] == "failed"
    assert json.loads((tmp_path / "run" / "report.json").read_text())["status"] == "failed"


def test_the_operator_refuses_jvm_components_on_connect_before_running(tmp_path: Path, monkeypatch):
    from airflow_mlplat.operators.spark_pipeline import SparkPipelineOperator

    doc = {
        "name": "uses_the_jvm",
        "nodes": [
            {"id": "rows", "component": "inline_table", "params": ROWS},
            {"id": "keep", "component": "write_table", "inputs": {"data": "rows.data"}, "params": {"path": "/x"}},
        ],
    }
    op = SparkPipelineOperator(task_id="t", pipeline=doc, session="connect", out_dir=str(tmp_path))
    with pytest.raises(PipelineValidationError, match=r"nodes\[1\] \(keep\): component 'write_table'"):
        op.execute({"params": {}, "run_id": "r", "ti": None})
    assert "hook" not in op.__dict__  # nothing was started
    with pytest.raises(ValueError, match="session must be 'submit', 'connect' or 'auto', got 'warm'"):
        SparkPipelineOperator(task_id="t", pipeline=doc, session="warm")

    monkeypatch.delenv("AIRFLOW_CONN_SPARK_CONNECT_DEFAULT", raising=False)
    auto = SparkPipelineOperator(task_id="t", pipeline=doc, session="auto")
    assert auto._auto_session(validate_pipeline(doc)) == "submit"  # no connection
    monkeypatch.setenv("AIRFLOW_CONN_SPARK_CONNECT_DEFAULT", "spark-connect://127.0.0.1:15002")
    assert auto._auto_session(validate_pipeline(doc)) == "submit"  # write_table needs the JVM
    doc["nodes"] = doc["nodes"][:1]
    assert auto._auto_session(validate_pipeline(doc)) == "connect"


def test_a_model_registered_from_spark_connect_is_the_trained_model_and_serves(
    spark_connect_default: str, spark, mlflow_server: str, tmp_path: Path
):
    """The real-time training document on Connect, registered: the version is the run's model, and serving loads it."""
    from datetime import datetime

    from airflow_mlplat.engine.storage import load_model
    from airflow_mlplat.hooks.spark_connect_pipeline import SparkConnectPipelineHook
    from airflow_mlplat.realtime.events import FEATURES, window_events, write_window_partition
    from airflow_mlplat.serving.model import load_model_dir
    from airflow_mlplat.serving.registry import ModelRef, RegistryClient

    window = datetime(2026, 12, 1, 8, 0)
    events = window_events(window, 10, 800, seed=5, drift=0.0)
    write_window_partition(tmp_path / "partitions", window, events)
    document = json.loads((PIPELINES / "realtime_retrain_training.json").read_text())
    document["register"]["name"] = name = f"connect_registered_{os.getpid()}"
    pipeline = tmp_path / "pipeline.json"
    pipeline.write_text(json.dumps(document))

    report = SparkConnectPipelineHook().submit_pipeline(
        str(pipeline),
        str(tmp_path / "run"),
        {"partitions_base": str(tmp_path / "partitions"), "max_iter": 20},
        tracking_uri=mlflow_server,
    )

    registered = report["tracking"]["registered_model"]
    assert registered["name"] == name and registered["version"] == 1
    assert not (tmp_path / "run" / ".register").exists() or not list((tmp_path / "run" / ".register").iterdir())
    registry = RegistryClient(mlflow_server)
    try:
        info = registry.resolve(ModelRef.parse(f"models:/{name}/1"))
        model_dir = registry.download(info, tmp_path / "download")
    finally:
        registry.close()
    served = load_model_dir(model_dir, name=name, version="1", slot="primary")
    assert set(served.columns) == set(FEATURES)
    # The run's own model output, read by a classic session, scores the same rows the same way.
    trained = load_model(spark, report["outputs"]["model"])
    rows = [{feature: event[feature] for feature in FEATURES} for event in events[:50]]
    expected = trained.transform(spark.createDataFrame(rows)).select("probability").collect()
    answers = served.predict(rows)
    for answer, row in zip(answers, expected, strict=True):
        assert answer["probability"] == pytest.approx(row.probability.toArray().tolist(), abs=1e-9)
