"""``realtime_retrain`` through ``dag.test()``: real Spark (spark-submit), the session's real MLflow server, a real
local prediction service. Partitions are written in the Flink sink's layout by ``write_window_partition``.
"""

from __future__ import annotations

import itertools
import threading
from datetime import datetime, timedelta

import httpx
import pytest

from airflow_mlplat.gating import promotion_history
from airflow_mlplat.gating.gate import alias_version
from airflow_mlplat.local_run import run_dag, task_states, xcom_value
from airflow_mlplat.realtime.events import FEATURES, window_events
from tests.realtime.conftest import write_window_partition

W = 5  # window minutes
N = 1500  # events per window
_names = itertools.count()


def _model_name(request) -> str:
    return f"rt_{request.node.name.split('[')[0][-30:]}_{next(_names)}"


def _client(uri):
    from mlflow import MlflowClient

    return MlflowClient(tracking_uri=uri, registry_uri=uri)


def _write(base, start: datetime, windows: int, drift: float, *, corrupt_at: int | None = None, seed: int = 11):
    for i in range(windows):
        window = start + timedelta(minutes=i * W)
        events = window_events(window, W, N, seed=seed, drift=drift, corrupt=i == corrupt_at)
        write_window_partition(base, window, events)


def _report_durations(run) -> None:
    """Seconds per task, printed (``pytest -s``) for the record; nothing is asserted on wall time."""
    spans = {
        ti.task_id: (ti.end_date - ti.start_date).total_seconds() for ti in run.get_task_instances() if ti.end_date
    }
    print(f"realtime_retrain task seconds: {spans}")


def _conf(base, model, window_end: datetime, **more):
    return {
        "partitions_base": str(base),
        "window_minutes": W,
        "window_end": window_end.isoformat(),
        "train_windows": 2,
        "model_name": model,
        "sensor_timeout_s": 60,
        "sensor_poke_interval_s": 0.5,
        **more,
    }


class _Traffic(threading.Thread):
    """Requests to the service in a loop; records (status, version) of each."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.seen: list[tuple[int, str | None]] = []
        self.errors: list[str] = []
        self.done = threading.Event()

    def run(self) -> None:
        row = dict.fromkeys(FEATURES, 1.0)
        with httpx.Client(timeout=10) as client:
            while not self.done.is_set():
                try:
                    response = client.post(f"{self.url}/predict", json=row)
                    self.seen.append((response.status_code, response.headers.get("x-model-version")))
                except httpx.HTTPError as error:
                    self.errors.append(repr(error))
                self.done.wait(0.05)


def test_newer_windows_promote_and_serving_switches_without_a_failed_request(
    realtime_dag, realtime_partitions, realtime_mlflow, tmp_path, request
):
    from airflow_mlplat.hooks.model_service import LocalModelServiceHook

    model = _model_name(request)
    start = datetime(2026, 11, 27, 10, 0)
    _write(realtime_partitions, start, 3, drift=0.0)  # 10:00, 10:05 train; 10:10 evaluates
    first = run_dag(realtime_dag, _conf(realtime_partitions, model, start + timedelta(minutes=3 * W)))
    assert str(first.state) == "success", task_states(first)
    _report_durations(first)
    decision = xcom_value(first, "gate")
    assert decision["decision"] == "promoted" and decision["champion"] is None, decision
    assert alias_version(_client(realtime_mlflow), model, "champion") == "1"

    hook = LocalModelServiceHook(tmp_path / "services")
    service = hook.deploy("rt", [f"models:/{model}@champion"], tracking_uri=realtime_mlflow, poll_interval=3600)
    traffic = _Traffic(service["url"])
    traffic.start()
    try:
        # The signal drifts: the next windows follow the new weights.
        later = start + timedelta(minutes=3 * W)
        _write(realtime_partitions, later, 3, drift=1.0)
        second = run_dag(
            realtime_dag,
            _conf(realtime_partitions, model, later + timedelta(minutes=3 * W), serving_url=service["url"]),
        )
        assert str(second.state) == "success", task_states(second)
        _report_durations(second)
        evaluation = xcom_value(second, "evaluate")
        assert evaluation["candidate_version"] == "2" and evaluation["champion_version"] == "1"
        assert evaluation["eval_window"] == (later + timedelta(minutes=2 * W)).isoformat()
        assert evaluation["candidate"]["auc_roc"] > evaluation["champion"]["auc_roc"] + 0.05, evaluation
        assert xcom_value(second, "gate")["decision"] == "promoted"
        assert xcom_value(second, "notify_serving")["notified"] is True
        assert alias_version(_client(realtime_mlflow), model, "champion") == "2"
        after = httpx.post(f"{service['url']}/predict", json=dict.fromkeys(FEATURES, 1.0), timeout=10)
        assert after.status_code == 200 and after.headers["x-model-version"] == "2"
    finally:
        traffic.done.set()
        traffic.join(timeout=10)
        hook.stop("rt")
    assert not traffic.errors, traffic.errors[:3]
    assert traffic.seen and all(status == 200 for status, _ in traffic.seen), traffic.seen[:5]
    versions = [version for _, version in traffic.seen]
    assert versions[0] == "1" and versions[-1] == "2"
    assert versions == sorted(versions), "the service went back to an older version"


def test_a_bad_batch_is_not_promoted_and_the_rejection_is_recorded(
    realtime_dag, realtime_partitions, realtime_mlflow, request
):
    model = _model_name(request)
    start = datetime(2026, 11, 27, 11, 0)
    _write(realtime_partitions, start, 3, drift=0.5)
    first = run_dag(realtime_dag, _conf(realtime_partitions, model, start + timedelta(minutes=3 * W)))
    assert xcom_value(first, "gate")["decision"] == "promoted", task_states(first)

    # 11:15 is a bad batch (labels inverted); 11:20, clean, is the evaluation window.
    _write(realtime_partitions, start + timedelta(minutes=3 * W), 2, drift=0.5, corrupt_at=0, seed=12)
    second = run_dag(
        realtime_dag,
        # No floor: the candidate is rejected because it loses to the champion on the same rows.
        _conf(realtime_partitions, model, start + timedelta(minutes=5 * W), train_windows=1, floors={}),
    )
    assert str(second.state) == "success", task_states(second)
    evaluation = xcom_value(second, "evaluate")
    assert evaluation["candidate"]["auc_roc"] < evaluation["champion"]["auc_roc"] - 0.2, evaluation
    assert evaluation["candidate"]["rows"] == evaluation["champion"]["rows"] == N
    decision = xcom_value(second, "gate")
    assert decision["decision"] == "rejected", decision
    assert xcom_value(second, "notify_serving")["notified"] is False
    assert alias_version(_client(realtime_mlflow), model, "champion") == "1"
    latest = promotion_history(model, realtime_mlflow)[0]
    assert latest["decision"] == "rejected" and str(latest["candidate"]) == "2" and str(latest["champion"]) == "1"
    assert latest["candidate_value"] == pytest.approx(evaluation["candidate"]["auc_roc"])
    assert latest["champion_value"] == pytest.approx(evaluation["champion"]["auc_roc"])


def test_a_partition_that_never_arrives_times_out_and_promotes_nothing(
    realtime_dag, realtime_partitions, realtime_mlflow, request, capfd
):
    model = _model_name(request)
    start = datetime(2026, 11, 27, 12, 0)
    _write(realtime_partitions, start, 2, drift=0.0)  # the training windows exist; 12:10 never arrives
    conf = _conf(realtime_partitions, model, start + timedelta(minutes=3 * W), sensor_timeout_s=3)
    run = run_dag(realtime_dag, conf)
    states = task_states(run)
    assert str(run.state) == "failed", states
    assert states["wait_partition"] == "failed", states
    assert all(states[t] == "upstream_failed" for t in ("train", "evaluate", "gate", "notify_serving")), states
    logged = "".join(capfd.readouterr())
    assert "dt=2026-11-27/hm=1210/_SUCCESS did not appear within 3 s" in logged
    assert alias_version(_client(realtime_mlflow), model, "champion") is None
    assert promotion_history(model, realtime_mlflow) == []
