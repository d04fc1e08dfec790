"""A pipeline saved from the page (``"origin": "page"``) reads and writes only under the data roots,
names plain tables and sets only resource settings; a hand-written pipeline is not confined."""

from __future__ import annotations

import pytest

from airflow_mlplat.pipeline import PipelineValidationError, validate_pipeline
from airflow_mlplat.pipeline.page_policy import location_problem

ROOTS = ["/srv/mlplat-data", "hdfs://nn:8020/warehouse/mlplat"]


@pytest.fixture(autouse=True)
def roots(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("AIRFLOW__MLPLAT__PAGE_DATA_ROOTS", ",".join(ROOTS))


def _page(*nodes: dict, **extra) -> dict:
    return {"name": "p", "origin": "page", "nodes": list(nodes), **extra}


def _reader(path: str) -> dict:
    return {"id": "r", "component": "read_table", "params": {"path": path, "format": "parquet"}}


def _problems(doc: dict) -> list[str]:
    try:
        validate_pipeline(doc)
    except PipelineValidationError as error:
        return [str(p) for p in error.problems]
    return []


@pytest.mark.parametrize(
    "url",
    [
        "/srv/mlplat-data/events",
        "/srv/mlplat-data",
        "file:///srv/mlplat-data/events",
        "hdfs://nn:8020/warehouse/mlplat/t/dt=1",
    ],
)
def test_locations_under_a_root_are_allowed(url):
    assert location_problem(url) is None
    assert _problems(_page(_reader(url))) == []


@pytest.mark.parametrize(
    "url",
    [
        "/etc/passwd",
        "/srv/mlplat-data/../../etc/passwd",
        "/srv/mlplat-data-other/x",
        "relative/path",
        "file:///etc/passwd",
        "file:///srv/mlplat-data/%2e%2e/%2e%2e/etc",
        "hdfs://other:8020/warehouse/mlplat/t",
        "hdfs://nn:8020/warehouse/mlplat/../secret",
        "https://attacker.example/data.csv",
        "/srv/mlplat-data/\0x",
    ],
)
def test_locations_outside_every_root_are_refused(url):
    assert location_problem(url) is not None
    problems = _problems(_page(_reader(url)))
    assert problems and "params.path of read_table" in problems[0], problems


def test_hand_written_pipelines_are_not_confined():
    assert _problems({"name": "p", "nodes": [_reader("/etc/passwd")]}) == []


def test_inputs_outputs_sql_tables_and_spark_settings_are_confined():
    doc = _page(
        {"id": "r", "component": "random_split", "inputs": {"data": {"path": "/etc/data"}}},
        {
            "id": "h",
            "component": "run_hiveql",
            "params": {"statements": ["LOAD DATA INPATH '/etc/passwd' INTO TABLE t"]},
        },
        {
            "id": "s",
            "component": "sql_transform",
            "inputs": {"data": "r.train"},
            "params": {"query": "SELECT * FROM csv.`/etc/passwd`"},
        },
        {"id": "t", "component": "read_table", "params": {"table": "parquet.`/etc/passwd`"}},
        outputs={"held_out": {"from": "r.test", "path": "/tmp/elsewhere"}},
        spark_conf={"spark.jars": "/tmp/evil.jar", "spark.sql.shuffle.partitions": "4"},
    )
    problems = "\n".join(_problems(doc))
    assert "inputs.data.path '/etc/data' is outside the data roots" in problems
    assert "params.statements[0] of run_hiveql reads or writes '/etc/passwd'" in problems
    assert "params.query of sql_transform reads or writes '/etc/passwd'" in problems
    assert "params.table of read_table must be a plain table name" in problems
    assert "outputs.held_out.path: '/tmp/elsewhere' is outside" in problems
    assert "spark_conf.spark.jars" in problems and "spark.sql.shuffle.partitions" not in problems.split("allowed")[0]


def test_a_trigger_override_is_confined_too():
    doc = _page(
        {"id": "r", "component": "read_table", "params": {"path": {"$param": "source"}, "format": "parquet"}},
        params={"source": "/srv/mlplat-data/events"},
    )
    assert _problems(doc) == []
    with pytest.raises(PipelineValidationError, match="outside the data roots"):
        validate_pipeline(doc, params={"source": "/etc/shadow"})


def test_the_default_roots_are_the_run_root_and_the_data_folder(monkeypatch: pytest.MonkeyPatch, tmp_path):
    monkeypatch.delenv("AIRFLOW__MLPLAT__PAGE_DATA_ROOTS")
    monkeypatch.setenv("AIRFLOW_HOME", str(tmp_path))
    monkeypatch.setenv("MLPLAT_RUN_ROOT", str(tmp_path / "runs"))
    assert location_problem(str(tmp_path / "runs" / "x")) is None
    assert location_problem(str(tmp_path / "mlplat-data" / "x")) is None
    assert location_problem(str(tmp_path / "dags")) is not None
