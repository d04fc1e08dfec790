"""A tracked purchase-intent run against the real MLflow server: run, metrics, plots, registered version."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from airflow_mlplat import __version__
from airflow_mlplat.engine.runner import NodeFailed, run_pipeline
from airflow_mlplat.pipeline import validate_pipeline
from airflow_mlplat.tracking.lineage import pipeline_document, pipeline_sha256
from tests.conftest import REPO_ROOT

PURCHASE = REPO_ROOT / "dags" / "pipelines" / "purchase_intent_gbdt.json"
SMALL = {"max_iter": 4, "max_depth": 3}
FEATURES = ["duration", "freqs_rank", "page_views", "visit_days", "compare_clicks", "dealer_calls", "price_views",
            "image_views"]  # fmt: skip
PLOTS = {"roc_curve.png", "precision_recall_curve.png", "confusion_matrix.png", "score_distribution.png"}


def _artifacts(client, run_id, path=""):
    found = []
    for item in client.list_artifacts(run_id, path):
        found += _artifacts(client, run_id, item.path) if item.is_dir else [item.path]
    return found


@pytest.fixture(scope="module")
def tracked(spark, purchase_table, mlflow_server, tmp_path_factory):
    doc = json.loads(PURCHASE.read_text())
    doc["register"]["name"] = "purchase_intent_test"
    params = {**purchase_table, **SMALL}
    pipeline = validate_pipeline(doc, params=params)
    out = tmp_path_factory.mktemp("run")
    tags = {"airflow.dag_id": "test_dag", "airflow.run_id": "manual__1"}
    report = run_pipeline(
        pipeline, str(out), spark=spark, params=params, tracking_uri=mlflow_server, tracking_tags=tags
    )
    return pipeline, report, out


def test_run_is_logged_with_params_metrics_report_and_plots(tracked, mlflow_server, tmp_path):
    from mlflow import MlflowClient

    pipeline, report, out = tracked
    client = MlflowClient(mlflow_server)
    tracking = report["tracking"]
    assert tracking["uri"] == mlflow_server
    run = client.get_run(tracking["run_id"])
    assert run.info.status == "FINISHED"
    assert run.data.params["max_iter"] == "4" and run.data.params["input_table"] == report["params"]["input_table"]
    assert run.data.metrics["evaluate.auc_roc"] == pytest.approx(report["metrics"]["evaluate"]["auc_roc"])
    assert run.data.metrics["evaluate.confusion_matrix.tp"] == report["metrics"]["evaluate"]["confusion_matrix"]["tp"]
    assert "gbdt.seconds" in run.data.metrics
    assert run.data.tags["mlplat.pipeline"] == "purchase_intent_gbdt"
    assert run.data.tags["airflow.dag_id"] == "test_dag"
    artifacts = set(_artifacts(client, run.info.run_id))
    assert {"report.json", "pipeline.json", "plots/importance/feature_importance.png"} <= artifacts
    assert {f"plots/evaluate/{name}" for name in PLOTS} <= artifacts
    logged_report = json.loads(
        Path(client.download_artifacts(run.info.run_id, "report.json", str(tmp_path))).read_text()
    )
    assert logged_report["metrics"] == report["metrics"]
    # the run directory's report says where the run was logged
    assert json.loads((out / "report.json").read_text())["tracking"]["run_id"] == run.info.run_id


def test_model_version_carries_metrics_and_lineage(tracked, mlflow_server, purchase_table):
    from mlflow import MlflowClient

    pipeline, report, _ = tracked
    client = MlflowClient(mlflow_server)
    registered = report["tracking"]["registered_model"]
    assert registered["name"] == "purchase_intent_test"
    version = client.get_model_version("purchase_intent_test", str(registered["version"]))
    tags = version.tags
    assert tags["mlplat.pipeline_sha256"] == pipeline_sha256(pipeline_document(pipeline, report["params"]))
    assert tags["mlplat.package_version"] == __version__
    assert tags["mlplat.run_id"] == report["tracking"]["run_id"]
    read = json.loads(tags["mlplat.input.behaviour"])
    assert read["table"] == purchase_table["input_table"]
    assert read["partition_filter"] == purchase_table["partition_filter"]
    assert float(tags["metric.evaluate.auc_roc"]) == pytest.approx(report["metrics"]["evaluate"]["auc_roc"])
    assert float(tags["mlplat.pmml.max_abs_diff"]) <= 1e-6
    assert tags["airflow.run_id"] == "manual__1"
    assert purchase_table["input_table"] in version.description
    # no alias moves unless the pipeline asks for one
    assert client.get_registered_model("purchase_intent_test").aliases == {}


def test_registry_round_trip_scores_like_the_run(tracked, mlflow_server, spark, purchase_table, tmp_path):
    """Download the version, load its sparkml/ folder, and score the held-out rows like the run's model did."""
    import mlflow
    import yaml
    from pyspark.ml import PipelineModel

    _, report, out = tracked
    registered = report["tracking"]["registered_model"]
    mlflow.set_tracking_uri(mlflow_server)
    local = mlflow.artifacts.download_artifacts(
        f"models:/purchase_intent_test/{registered['version']}", dst_path=str(tmp_path)
    )
    files = {p.name for p in Path(local).iterdir()}
    assert {"MLmodel", "sparkml", "model.pmml", "pipeline.json"} <= files
    mlmodel = yaml.safe_load((Path(local) / "MLmodel").read_text())
    inputs = json.loads(mlmodel["signature"]["inputs"])
    assert [c["name"] for c in inputs] == FEATURES and {c["type"] for c in inputs} == {"double"}
    import pyspark

    requirements = (Path(local) / "requirements.txt").read_text().split()
    assert f"pyspark=={pyspark.__version__}" in requirements and f"mlflow=={mlflow.__version__}" in requirements

    loaded = PipelineModel.load(str(Path(local) / "sparkml"))
    original = PipelineModel.load(report["outputs"]["model"])
    data = spark.table(purchase_table["input_table"]).limit(200)
    from airflow_mlplat.components.processing import cast_columns
    from airflow_mlplat.engine.context import ComponentContext

    data = cast_columns(ComponentContext(spark=spark, node_id="t", artifacts_dir=str(tmp_path)), data,
                        columns=FEATURES, to_type="double")  # fmt: skip
    got = [r.probability[1] for r in loaded.transform(data).select("probability").collect()]
    want = [r.probability[1] for r in original.transform(data).select("probability").collect()]
    assert got == want and len(got) == 200


def test_a_failed_run_is_logged_failed_and_registers_nothing(spark, purchase_table, mlflow_server, tmp_path):
    from mlflow import MlflowClient

    doc = json.loads(PURCHASE.read_text())
    doc["name"] = "purchase_intent_failing"
    doc["register"]["name"] = "never_registered"
    params = {**purchase_table, **SMALL}
    # a label that is not there: the GBDT node fails
    doc["nodes"][[n["id"] for n in doc["nodes"]].index("gbdt")]["params"]["label_col"] = "no_label"
    pipeline = validate_pipeline(doc, params=params)
    with pytest.raises(NodeFailed) as info:
        run_pipeline(pipeline, str(tmp_path), spark=spark, params=params, tracking_uri=mlflow_server)
    client = MlflowClient(mlflow_server)
    run = client.get_run(info.value.report["tracking"]["run_id"])
    assert run.info.status == "FAILED"
    assert client.search_registered_models("name = 'never_registered'") == []


def test_without_a_tracking_uri_nothing_is_logged(spark, behaviour, mlflow_server, tmp_path, no_env_tracking):
    from mlflow import MlflowClient

    doc = {
        "name": "untracked_pipeline",
        "nodes": [{"id": "data", "component": "read_table", "params": {"path": behaviour, "format": "parquet"}}],
    }
    report = run_pipeline(validate_pipeline(doc), str(tmp_path), spark=spark)
    assert "tracking" not in report
    assert MlflowClient(mlflow_server).get_experiment_by_name("untracked_pipeline") is None
