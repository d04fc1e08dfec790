"""A pipeline submitted through an Airflow connection to a Spark standalone cluster.

The master and one worker are started from pyspark's own jars (``spark-class``), bound to
loopback on free ports, and stopped by PID at the end.
"""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from airflow_mlplat.local_run import run_dag, task_states
from airflow_mlplat.local_run import xcom_value as xcom
from airflow_mlplat.services.process import free_port


@dataclass
class Standalone:
    master_url: str
    ui_url: str

    def state(self) -> dict:
        with urllib.request.urlopen(f"{self.ui_url}/json", timeout=5) as response:
            return json.load(response)


def _wait_for(condition, what: str, timeout: float = 90, processes: tuple = ()) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if condition():
                return
        except (OSError, ValueError):
            pass  # not listening yet, or a UI still starting (it serves HTML before its JSON handler)
        for process, log in processes:
            assert process.poll() is None, f"{what}: process exited\n{Path(log).read_text()[-3000:]}"
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.5)


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=15)


@pytest.fixture
def standalone(tmp_path: Path) -> Iterator[Standalone]:
    spark_home = Path(importlib.util.find_spec("pyspark").origin).parent
    spark_class = str(spark_home / "bin" / "spark-class")
    port, ui_port, worker_ui_port = free_port(), free_port(), free_port()
    env = {
        **os.environ,
        "SPARK_HOME": str(spark_home),
        "SPARK_LOCAL_IP": "127.0.0.1",
        "SPARK_WORKER_DIR": str(tmp_path / "worker"),
        "SPARK_LOG_DIR": str(tmp_path / "logs"),
    }
    cluster = Standalone(master_url=f"spark://127.0.0.1:{port}", ui_url=f"http://127.0.0.1:{ui_port}")
    master_log, worker_log = tmp_path / "master.log", tmp_path / "worker.log"
    processes: list[subprocess.Popen] = []
    try:
        with master_log.open("w") as log:
            master = subprocess.Popen(
                [spark_class, "org.apache.spark.deploy.master.Master"]
                + ["--host", "127.0.0.1", "--port", str(port), "--webui-port", str(ui_port)],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        processes.append(master)
        _wait_for(lambda: cluster.state()["status"] == "ALIVE", "the master", processes=((master, master_log),))
        with worker_log.open("w") as log:
            worker = subprocess.Popen(
                [spark_class, "org.apache.spark.deploy.worker.Worker", cluster.master_url]
                + ["--host", "127.0.0.1", "--webui-port", str(worker_ui_port), "--cores", "2", "--memory", "2g"]
                + ["--work-dir", str(tmp_path / "worker")],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        processes.append(worker)
        _wait_for(lambda: cluster.state()["aliveworkers"] >= 1, "the worker", processes=((worker, worker_log),))
        yield cluster
    finally:
        for process in reversed(processes):
            _stop(process)


@pytest.mark.usefixtures("airflow_db")
def test_pipeline_runs_on_standalone_cluster_from_connection(
    standalone: Standalone, run_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    from airflow.sdk import DAG

    from airflow_mlplat.operators.spark_pipeline import SparkPipelineOperator

    monkeypatch.setenv("AIRFLOW_CONN_SPARK_STANDALONE", standalone.master_url)
    pipeline = {
        "name": "on_standalone",
        "nodes": [
            {"id": "gen", "component": "synthetic_purchase_intent", "params": {"rows": 2000, "partitions": 2}},
            {"id": "split", "component": "random_split", "inputs": {"data": "gen.data"}},
        ],
        "outputs": {"test": {"from": "split.test", "path": str(tmp_path / "test_rows")}},
    }
    with DAG("standalone_pipeline", schedule=None) as dag:
        SparkPipelineOperator(
            task_id="run",
            pipeline=pipeline,
            conn_id="spark_standalone",
            executor_memory="512m",
            total_executor_cores=2,
        )

    dag_run = run_dag(dag)

    assert task_states(dag_run) == {"run": "success"}
    report = json.loads(Path(xcom(dag_run, "run", key="report_path")).read_text())
    assert report["status"] == "success"
    assert report["spark"]["master"] == standalone.master_url
    app_id = report["spark"]["app_id"]
    _wait_for(
        lambda: app_id in [app["id"] for app in standalone.state()["completedapps"]],
        f"application {app_id} to be listed as completed by the master",
        timeout=30,
    )
    (app,) = [a for a in standalone.state()["completedapps"] if a["id"] == app_id]
    assert app["state"] == "FINISHED"
    assert any((tmp_path / "test_rows").glob("*.parquet"))

    # The resource page reads the same master: the application is a recent one, with its granted cores.
    from airflow_mlplat.ui.resources.spark import spark_report

    report = spark_report(standalone.master_url, [standalone.ui_url])
    [status] = report.statuses
    assert status.state == "ok" and status.message.startswith("master ALIVE: 1 worker(s), ")
    [listed] = [a for a in report.rows["spark"] if a["id"] == app_id]
    assert listed["state"] == "finished" and not listed["running"] and listed["source"] == standalone.ui_url
    assert listed["cores"] == app["cores"] and listed["memory_per_executor_bytes"] == 512 * 2**20
