"""The tracking URI from an Airflow connection, and a tracked run through spark-submit (the operator's path)."""

from __future__ import annotations

import json

import pytest

from airflow_mlplat.hooks.mlflow_tracking import MlflowTrackingHook
from airflow_mlplat.pipeline import validate_pipeline
from tests.conftest import REPO_ROOT

PURCHASE = REPO_ROOT / "dags" / "pipelines" / "purchase_intent_gbdt.json"


def test_uri_from_the_default_connection(monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_MLFLOW_DEFAULT", "http://127.0.0.1:5055")
    assert MlflowTrackingHook().tracking_uri() == "http://127.0.0.1:5055"


def test_https_schema_and_json_connection(monkeypatch):
    monkeypatch.setenv(
        "AIRFLOW_CONN_MLFLOW_PROD", json.dumps({"conn_type": "http", "host": "mlflow.example", "schema": "https"})
    )
    assert MlflowTrackingHook("mlflow_prod").tracking_uri() == "https://mlflow.example"


def test_undefined_default_falls_back_to_the_environment_or_nothing(monkeypatch):
    monkeypatch.delenv("AIRFLOW_CONN_MLFLOW_DEFAULT", raising=False)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    assert MlflowTrackingHook().tracking_uri() is None
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:6000")
    assert MlflowTrackingHook().tracking_uri() == "http://127.0.0.1:6000"


def test_undefined_named_connection_is_an_error():
    from airflow.providers.common.compat.sdk import AirflowNotFoundException

    with pytest.raises(AirflowNotFoundException, match="'mlflow_nowhere' is not defined"):
        MlflowTrackingHook("mlflow_nowhere").tracking_uri()


def test_register_block_is_validated():
    from airflow_mlplat.pipeline import PipelineValidationError

    doc = json.loads(PURCHASE.read_text())
    doc["register"]["model"] = "split.test"
    doc["register"]["sample"] = "gbdt.mdl"
    with pytest.raises(PipelineValidationError) as info:
        validate_pipeline(doc)
    assert "register.model: expects a model but 'split.test' is a table" in str(info.value)
    assert "register.sample: refers to output 'mdl' of node 'gbdt'" in str(info.value)


def test_tracked_run_through_spark_submit(purchase_table, local_hive, mlflow_server, tmp_path, monkeypatch):
    """spark-submit gets the JPMML jars as --jars and the URI as --tracking-uri; the version has a verified PMML."""
    from mlflow import MlflowClient

    from airflow_mlplat.hooks.spark_pipeline import SparkPipelineHook

    conf_dir = tmp_path / "conf"
    conf_dir.mkdir()
    (conf_dir / "spark-defaults.conf").write_text(
        "spark.ui.enabled false\nspark.driver.host 127.0.0.1\nspark.driver.bindAddress 127.0.0.1\n"
        "spark.driver.memory 1g\nspark.sql.shuffle.partitions 4\n"
    )
    monkeypatch.setenv("SPARK_CONF_DIR", str(conf_dir))
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    # The engine's session finds the Hive metastore through the environment (no Airflow connection here).
    monkeypatch.setenv("MLPLAT_HIVE_METASTORE_URIS", local_hive.metastore_uri)
    monkeypatch.setenv("MLPLAT_HIVE_WAREHOUSE_DIR", local_hive.warehouse.as_uri())
    doc = json.loads(PURCHASE.read_text())
    doc["register"].update(name="purchase_intent_submitted", sample_rows=200, alias="candidate")
    path = tmp_path / "pipeline.json"
    path.write_text(json.dumps(doc))
    hook = SparkPipelineHook(conf={"spark.master": "local[2]"})
    assert "pmml-sparkml" in hook._jars
    report = hook.submit_pipeline(
        str(path),
        str(tmp_path / "run"),
        {**purchase_table, "max_iter": 3, "max_depth": 3},
        tracking_uri=mlflow_server,
        tracking_tags={"airflow.dag_id": "submitted"},
    )
    registered = report["tracking"]["registered_model"]
    assert registered["pmml"]["verified_rows"] == 200 and registered["pmml"]["max_abs_diff"] <= 1e-6
    client = MlflowClient(mlflow_server)
    version = client.get_model_version_by_alias("purchase_intent_submitted", "candidate")
    assert version.version == str(registered["version"]) and version.tags["airflow.dag_id"] == "submitted"


def test_operator_tracks_through_its_connection(behaviour, mlflow_server, tmp_path, monkeypatch):
    """The mlflow_default connection reaches the engine; the tracking XCom names the logged run."""
    from mlflow import MlflowClient

    from airflow_mlplat.operators.spark_pipeline import SparkPipelineOperator

    monkeypatch.setenv("AIRFLOW_CONN_MLFLOW_DEFAULT", mlflow_server)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    pushed = {}

    class TaskInstance:
        def xcom_push(self, key, value):
            pushed[key] = value

    pipeline = {
        "name": "operator_tracked",
        "nodes": [
            {"id": "data", "component": "read_table", "params": {"path": behaviour, "format": "parquet"}},
            {"id": "stats", "component": "summary_statistics", "inputs": {"data": "data.data"}},
        ],
    }
    op = SparkPipelineOperator(
        task_id="train", pipeline=pipeline, out_dir=str(tmp_path / "run"), conf={"spark.master": "local[1]"}
    )
    op.execute({"params": {}, "run_id": "manual__op", "ti": TaskInstance()})
    run = MlflowClient(mlflow_server).get_run(pushed["tracking"]["run_id"])
    assert run.data.tags["airflow.task_id"] == "train" and run.data.tags["airflow.run_id"] == "manual__op"
    assert run.data.tags["mlplat.pipeline"] == "operator_tracked"
    assert json.loads(run.data.tags["mlplat.input.data"])["path"] == behaviour
