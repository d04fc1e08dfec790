"""Storage by URL: schemes checked at validation, unreachable services refused before any Spark job."""

from __future__ import annotations

import json

import pytest

from airflow_mlplat.pipeline import PipelineValidationError, validate_pipeline
from airflow_mlplat.services.process import free_port
from airflow_mlplat.storage.urls import StorageError, exists, filesystem, url_problem


def _reader(path: str) -> dict:
    return {
        "name": "reader",
        "nodes": [{"id": "read", "component": "read_table", "params": {"path": path, "format": "parquet"}}],
        "outputs": {"copy": {"from": "read.data", "path": "out/copy"}},
    }


@pytest.mark.parametrize(
    "url", ["/data/x", "file:///data/x", "hdfs://nn:8020/x", "webhdfs://nn:9870/x", "s3a://bucket/x", "https://h/x.csv"]
)
def test_supported_schemes_validate(url):
    validate_pipeline(_reader(url))


def test_bad_schemes_and_hostless_urls_name_the_place():
    doc = _reader("gs://bucket/x")
    doc["outputs"]["copy"]["path"] = "http://host/out"
    with pytest.raises(PipelineValidationError) as error:
        validate_pipeline(doc, source="reader.json")
    text = str(error.value)
    assert "nodes[0] (read): params.path of read_table 'gs://bucket/x' has the unsupported scheme 'gs'" in text
    assert "outputs.copy.path: 'http://host/out' is an HTTP URL, which can be read but not written" in text
    assert url_problem("hdfs:///x") == "'hdfs:///x' names no host: write hdfs://HOST[:PORT]/PATH"


def test_python_side_filesystems(tmp_path):
    (tmp_path / "m").write_text("x")
    assert exists(f"file://{tmp_path}/m") and not exists(str(tmp_path / "n"))
    fs, path = filesystem("webhdfs://namenode:9870/warehouse/t")
    assert type(fs).__name__ == "WebHDFS" and path == "/warehouse/t"
    with pytest.raises(StorageError, match=r"'ftp://h/x' has the unsupported scheme"):
        filesystem("ftp://h/x")
    port = free_port()
    with pytest.raises(StorageError, match=rf"'webhdfs://127.0.0.1:{port}/x/_SUCCESS': cannot reach 127.0.0.1:{port}"):
        exists(f"webhdfs://127.0.0.1:{port}/x/_SUCCESS")


def test_unreachable_storage_stops_the_run_before_any_node(spark, tmp_path):
    from airflow_mlplat.engine.runner import PreflightFailed, run_pipeline

    port = free_port()
    url = f"hdfs://127.0.0.1:{port}/warehouse/behaviour"
    pipeline = validate_pipeline(_reader(url))
    with pytest.raises(PreflightFailed, match=rf"'{url}': cannot reach 127.0.0.1:{port}"):
        run_pipeline(pipeline, str(tmp_path / "run"), spark=spark)
    report = json.loads((tmp_path / "run" / "report.json").read_text())
    assert report["status"] == "failed" and report["nodes"]["read"]["status"] == "skipped"
