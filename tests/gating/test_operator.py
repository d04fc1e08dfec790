"""ModelGateOperator through ``dag.test()`` against the real MLflow server, and the ``promotions`` command."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from airflow_mlplat.local_run import run_dag, task_states
from airflow_mlplat.local_run import xcom_value as xcom
from tests.gating.conftest import METRIC, add_version, alias_of

pytestmark = pytest.mark.usefixtures("airflow_db")


def _gate_dag(dag_id: str, model_name: str, version: str, **gate_kwargs):
    from airflow.sdk import DAG, task

    from airflow_mlplat.operators.model_gate import ModelGateOperator

    with DAG(dag_id, schedule=None) as dag:

        @task(task_id="train")
        def train(ti=None):
            ti.xcom_push(key="tracking", value={"registered_model": {"name": model_name, "version": int(version)}})

        gate = ModelGateOperator(
            task_id="gate",
            model_name=model_name,
            candidate_version="{{ ti.xcom_pull(task_ids='train', key='tracking')['registered_model']['version'] }}",
            metric=METRIC,
            margin=0.01,
            floors={METRIC: 0.6},
            **gate_kwargs,
        )
        train() >> gate
    return dag


def test_gate_task_promotes_then_rejects_a_worse_candidate(client, model_name, tmp_path, mlflow_server, monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_MLFLOW_DEFAULT", mlflow_server)  # through MlflowTrackingHook
    good = add_version(client, model_name, tmp_path, evaluate__auc_roc=0.82)
    run = run_dag(_gate_dag("gate_good", model_name, good))
    assert task_states(run) == {"train": "success", "gate": "success"}
    promoted = xcom(run, "gate")
    assert (promoted["decision"], promoted["candidate"], promoted["champion"]) == ("promoted", good, None)
    assert promoted["who"].startswith(f"airflow:gate_good/{run.run_id}/gate/")
    assert alias_of(client, model_name) == good

    worse = add_version(client, model_name, tmp_path, evaluate__auc_roc=0.78)
    run = run_dag(_gate_dag("gate_worse", model_name, worse))
    assert task_states(run) == {"train": "success", "gate": "success"}  # a rejection is not a failure by default
    rejected = xcom(run, "gate")
    assert (rejected["decision"], rejected["champion"], rejected["candidate_value"]) == ("rejected", good, 0.78)
    run = run_dag(_gate_dag("gate_strict", model_name, worse, fail_on_reject=True, tracking_uri=mlflow_server))
    assert task_states(run) == {"train": "success", "gate": "failed"}
    assert alias_of(client, model_name) == good

    out = subprocess.run(
        [sys.executable, "-m", "airflow_mlplat", "promotions", model_name, "--tracking-uri", mlflow_server, "--json"],
        capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    history = json.loads(out.stdout)
    assert [(h["decision"], h["candidate"]) for h in history] == [
        ("rejected", worse), ("rejected", worse), ("promoted", good)
    ]  # fmt: skip
    assert history[0]["who"].startswith("airflow:gate_strict/")
    text = subprocess.run(
        [sys.executable, "-m", "airflow_mlplat", "promotions", model_name, "--tracking-uri", mlflow_server],
        capture_output=True, text=True, timeout=120, check=True,
    ).stdout  # fmt: skip
    assert f"promoted  v{good} over -" in text and "3 decisions" in text


def test_gate_task_takes_metrics_from_an_evaluation_task(client, model_name, tmp_path, mlflow_server):
    champion = add_version(client, model_name, tmp_path, evaluate__auc_roc=0.9)
    client.set_registered_model_alias(model_name, "champion", champion)
    candidate = add_version(client, model_name, tmp_path, evaluate__auc_roc=0.5)
    dag = _gate_dag(
        "gate_same_data", model_name, candidate, tracking_uri=mlflow_server,
        candidate_metrics="{{ {'evaluate.auc_roc': 0.84} }}", champion_metrics={METRIC: 0.8},
    )  # fmt: skip
    run = run_dag(dag)
    record = xcom(run, "gate")
    assert (record["decision"], record["candidate_value"], record["champion_value"]) == ("promoted", 0.84, 0.8)
    assert alias_of(client, model_name) == candidate


def test_invalid_settings_fail_at_definition():
    from airflow_mlplat.operators.model_gate import ModelGateOperator

    with pytest.raises(ValueError, match="direction"):
        ModelGateOperator(task_id="g", model_name="m", candidate_version="1", metric=METRIC, direction="up")
    with pytest.raises(ValueError, match="on_stale"):
        ModelGateOperator(task_id="g", model_name="m", candidate_version="1", metric=METRIC, on_stale="ignore")
