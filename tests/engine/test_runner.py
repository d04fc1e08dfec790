"""The engine end to end, in the test process's SparkSession."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from airflow_mlplat.components.datasets import PURCHASE_INTENT_FEATURES
from airflow_mlplat.engine.runner import NodeFailed, run_pipeline
from airflow_mlplat.engine.storage import load_model
from airflow_mlplat.pipeline import validate_pipeline
from tests.conftest import REPO_ROOT

PURCHASE = REPO_ROOT / "dags" / "pipelines" / "purchase_intent_gbdt.json"
SMALL = {"max_iter": 5, "max_depth": 3}


def run(doc, out, spark, **params):
    pipeline = validate_pipeline(doc, params=params)
    return run_pipeline(pipeline, str(out), spark=spark, params=params)


def test_purchase_intent_end_to_end(spark, purchase_table, tmp_path):
    # Other tests' models (e.g. ALS factors) may stay cached in the shared session: compare.
    cached_before = spark.sparkContext._jsc.getPersistentRDDs().size()
    report = run(json.loads(PURCHASE.read_text()), tmp_path, spark, **purchase_table, **SMALL)

    assert report["status"] == "success"
    assert json.loads((tmp_path / "report.json").read_text()) == report
    assert all(n["status"] == "success" and n["seconds"] >= 0 for n in report["nodes"].values())
    metrics = report["metrics"]["evaluate"]
    assert 0.7 < metrics["auc_roc"] < 1.0
    assert report["params"]["max_iter"] == 5
    # the assembled training part has two consumers (gbdt, importance): cached, counted from the cache
    train_rows = report["nodes"]["assemble"]["rows"]["data"]
    assert train_rows + metrics["rows"] == 4000
    assert report["nodes"]["importance"]["rows"]["importance"] == 8
    # the test part feeds predict and, for its schema only, model: not cached, so not counted
    assert report["nodes"]["split"]["rows"]["test"] is None

    outputs = report["outputs"]
    assert set(outputs) == {"model", "feature_importance", "metrics"}
    assert json.loads((tmp_path / "outputs" / "metrics").read_text()) == metrics
    model = load_model(spark, outputs["model"])
    # one servable model from the raw columns: imputer, assembler, GBDT
    assert [type(s).__name__ for s in model.stages] == ["ImputerModel", "VectorAssembler", "GBTClassificationModel"]
    assert model.stages[-1].getNumTrees == 5
    importance = spark.read.parquet(outputs["feature_importance"]).orderBy("rank").collect()
    assert abs(sum(r.importance for r in importance) - 1.0) < 1e-9
    assert {r.feature for r in importance} == set(PURCHASE_INTENT_FEATURES)
    # nothing but the final outputs: no temporary siblings left behind
    assert sorted(p.name for p in (tmp_path / "outputs").iterdir()) == ["feature_importance", "metrics", "model"]
    assert spark.sparkContext._jsc.getPersistentRDDs().size() == cached_before  # the engine released its cache


def test_a_failing_node_leaves_a_report_and_no_partial_output(spark, behaviour, tmp_path):
    doc = {
        "name": "failing",
        "nodes": [
            {"id": "data", "component": "read_table", "params": {"path": behaviour, "format": "parquet"}},
            {
                "id": "keep",
                "component": "select_columns",
                "inputs": {"data": "data.data"},
                "params": {"columns": ["duration", "label"]},
            },
            {
                "id": "broken",
                "component": "filter_rows",
                "inputs": {"data": "keep.data"},
                "params": {"condition": "no_such_column > 1"},
            },
            {"id": "after", "component": "drop_duplicates", "inputs": {"data": "broken.data"}},
        ],
        "outputs": {"kept": "keep.data", "final": "after.data"},
    }
    with pytest.raises(NodeFailed, match="node 'broken' \\(filter_rows\\) failed"):
        run(doc, tmp_path, spark)
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["status"] == "failed"
    assert [report["nodes"][n]["status"] for n in ("data", "keep", "broken", "after")] == [
        "success",
        "success",
        "failed",
        "skipped",
    ]
    assert "no_such_column" in report["nodes"]["broken"]["error"]
    assert report["nodes"]["keep"]["rows"]["data"] == 4000
    assert sorted(p.name for p in (tmp_path / "outputs").iterdir()) == ["kept"]


def test_materialized_inputs_and_outputs_at_chosen_paths(spark, behaviour, tmp_path):
    first = {
        "name": "first",
        "nodes": [
            {"id": "data", "component": "read_table", "params": {"path": behaviour, "format": "parquet"}},
            {"id": "split", "component": "random_split", "inputs": {"data": "data.data"}, "params": {"ratio": 0.5}},
        ],
        "outputs": {"train": {"from": "split.train", "path": str(tmp_path / "m" / "train")}},
    }
    report = run(first, tmp_path / "run1", spark)
    assert report["outputs"]["train"] == str(tmp_path / "m" / "train")
    second = {
        "name": "second",
        "nodes": [
            {
                "id": "dedupe",
                "component": "drop_duplicates",
                "inputs": {"data": {"path": str(tmp_path / "m" / "train")}},
            }
        ],
        "outputs": {"data": "dedupe.data"},
    }
    report = run(second, tmp_path / "run2", spark)
    assert report["nodes"]["dedupe"]["rows"]["data"] == spark.read.parquet(str(tmp_path / "m" / "train")).count()


def test_cli_runs_a_pipeline_and_fails_with_exit_1(behaviour, tmp_path):
    doc = {
        "name": "cli",
        "params": {"condition": "duration IS NOT NULL"},
        "nodes": [
            {"id": "data", "component": "read_table", "params": {"path": behaviour, "format": "parquet"}},
            {
                "id": "rows",
                "component": "filter_rows",
                "inputs": {"data": "data.data"},
                "params": {"condition": {"$param": "condition"}},
            },
        ],
        "outputs": {"rows": "rows.data"},
    }
    path = tmp_path / "cli.json"
    path.write_text(json.dumps(doc))
    cmd = [sys.executable, "-m", "airflow_mlplat.engine", "run", str(path), "--out", str(tmp_path / "ok")]
    ok = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO_ROOT)
    assert ok.returncode == 0, ok.stderr[-2000:]
    assert json.loads((tmp_path / "ok" / "report.json").read_text())["nodes"]["rows"]["rows"]["data"] == 4000

    cmd = [*cmd[:-1], str(tmp_path / "bad"), "--params", json.dumps({"condition": "nope > 1"})]
    bad = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO_ROOT)
    assert bad.returncode == 1
    assert "node 'rows' (filter_rows) failed" in bad.stderr
