"""Hive through Airflow: the engine writes a partition via spark-submit on the metastore connection,
the Hive provider's hook and sensors see it; the deferrable partition sensor; bounded failures."""

from __future__ import annotations

import datetime
import subprocess
import sys
import threading
import uuid
from pathlib import Path

import pytest

from airflow_mlplat.local_run import run_dag, task_states, xcom_value
from airflow_mlplat.services.hive import connection_uris
from airflow_mlplat.services.process import free_port

pytestmark = pytest.mark.usefixtures("airflow_db")

START = datetime.datetime(2024, 5, 1, tzinfo=datetime.UTC)


@pytest.fixture
def hive_connections(local_hive, hiveserver2, monkeypatch):
    for conn_id, uri in connection_uris(local_hive).items():
        monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", uri)
    return local_hive


def _write_partition_dag(table: str):
    from airflow.sdk import DAG

    from airflow_mlplat.operators.spark_pipeline import SparkPipelineOperator

    pipeline = {
        "name": "write_partition",
        "nodes": [
            {"id": "db", "component": "run_hiveql",
             "params": {"statements": [f"CREATE DATABASE IF NOT EXISTS {table.split('.')[0]}"]}},
            {"id": "rows", "component": "inline_table",
             "params": {"rows": [[1, "a"], [2, "b"], [3, "c"]], "schema": "id int, v string"}},
            {"id": "write", "component": "write_hive_table", "inputs": {"data": "rows.data"},
             "params": {"table": table, "partition": {"dt": "{{ ds }}"}}},
        ],
    }  # fmt: skip
    with DAG(f"hive_write_{uuid.uuid4().hex[:6]}", schedule=None, start_date=START) as dag:
        SparkPipelineOperator(task_id="write", pipeline=pipeline)
    return dag


def test_engine_partition_is_seen_by_hiveserver2_and_the_hive_sensors(hive_connections, run_root):
    from airflow.providers.apache.hive.hooks.hive import HiveServer2Hook
    from airflow.providers.apache.hive.sensors.hive_partition import HivePartitionSensor
    from airflow.providers.apache.hive.sensors.named_hive_partition import NamedHivePartitionSensor

    table = f"hv_{uuid.uuid4().hex[:6]}.events"
    dag_run = run_dag(_write_partition_dag(table))
    assert task_states(dag_run) == {"write": "success"}
    ds = dag_run.logical_date.strftime("%Y-%m-%d") if dag_run.logical_date else None
    report_rows = xcom_value(dag_run, "write")
    assert report_rows is not None

    records = HiveServer2Hook().get_records(f"SELECT id, v, dt FROM {table} ORDER BY id")
    assert [tuple(r) for r in records] == [(1, "a", ds), (2, "b", ds), (3, "c", ds)]

    db, name = table.split(".")
    present = HivePartitionSensor(task_id="p", table=name, schema=db, partition=f"dt='{ds}'")
    absent = HivePartitionSensor(task_id="q", table=name, schema=db, partition="dt='1999-01-01'")
    assert present.poke({}) is True
    assert absent.poke({}) is False
    named = NamedHivePartitionSensor(task_id="n", partition_names=[f"{table}/dt={ds}"])
    assert named.poke({}) is True


def _sensor_dag(partition_url: str, timeout: float, deferrable: bool = True):
    from airflow.sdk import DAG

    from airflow_mlplat.sensors.partition_ready import PartitionReadySensor

    with DAG(f"partition_sensor_{uuid.uuid4().hex[:6]}", schedule=None, start_date=START) as dag:
        PartitionReadySensor(
            task_id="wait",
            partition_url=partition_url,
            poke_interval=0.5,
            timeout=timeout,
            deferrable=deferrable,
        )
    return dag


@pytest.mark.parametrize("deferrable", [True, False], ids=["deferrable", "poke"])
def test_partition_sensor_succeeds_once_the_marker_appears(tmp_path: Path, deferrable: bool):
    partition = tmp_path / "events" / "dt=2024-05-01" / "hm=1000"
    writer = threading.Timer(2.0, lambda: (partition.mkdir(parents=True), (partition / "_SUCCESS").touch()))
    writer.start()
    try:
        dag_run = run_dag(_sensor_dag(f"file://{partition}", timeout=60, deferrable=deferrable))
    finally:
        writer.cancel()
    assert task_states(dag_run) == {"wait": "success"}
    assert xcom_value(dag_run, "wait") == f"file://{partition}/_SUCCESS"


def test_partition_sensor_times_out_cleanly(tmp_path: Path, capfd):
    partition = tmp_path / "never"
    dag_run = run_dag(_sensor_dag(str(partition), timeout=2))
    assert task_states(dag_run) == {"wait": "failed"}
    assert f"AirflowSensorTimeout: wait: {partition}/_SUCCESS did not appear within 2 s" in "".join(capfd.readouterr())


def test_partition_sensor_rejects_a_bad_url_scheme(capfd):
    dag_run = run_dag(_sensor_dag("ftp://host/events/dt=2024-05-01", timeout=60))
    assert task_states(dag_run) == {"wait": "failed"}
    assert "wait: partition_url 'ftp://host/events/dt=2024-05-01' has the unsupported scheme 'ftp'" in "".join(
        capfd.readouterr()
    )


def test_unreachable_metastore_fails_fast_and_names_it(tmp_path: Path):
    port = free_port()  # nothing listens there
    pipeline = tmp_path / "p.json"
    pipeline.write_text(
        '{"name": "p", "nodes": [{"id": "r", "component": "read_hive_table", "params": {"table": "db.t"}}]}'
    )
    env = {**__import__("os").environ, "MLPLAT_HIVE_METASTORE_URIS": f"thrift://127.0.0.1:{port}"}
    done = subprocess.run(
        [sys.executable, "-m", "airflow_mlplat.engine", "run", str(pipeline), "--out", str(tmp_path / "out")],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,  # bounded: the probe answers in seconds; the Hive client would retry for minutes
    )
    assert done.returncode == 1, done.stderr[-2000:]
    assert f"the Hive metastore thrift://127.0.0.1:{port} is unreachable" in done.stderr
