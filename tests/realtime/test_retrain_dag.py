"""``realtime_retrain`` through ``dag.test()`` without Flink: partitions are written in the Flink sink's layout by
``write_window_partition``. The promotion, the serving switch and the bad batch run with real Flink in
``test_realtime_loop.py``.
"""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta

from airflow_mlplat.gating import promotion_history
from airflow_mlplat.gating.gate import alias_version
from airflow_mlplat.local_run import run_dag, task_states
from airflow_mlplat.realtime.events import window_events, write_window_partition

W = 5  # window minutes
N = 1500  # events per window
_names = itertools.count()


def _model_name(request) -> str:
    return f"rt_{request.node.name.split('[')[0][-30:]}_{next(_names)}"


def _client(uri):
    from mlflow import MlflowClient

    return MlflowClient(tracking_uri=uri, registry_uri=uri)


def _write(base, start: datetime, windows: int, drift: float, *, seed: int = 11):
    for i in range(windows):
        window = start + timedelta(minutes=i * W)
        events = window_events(window, W, N, seed=seed, drift=drift)
        write_window_partition(base, window, events)


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
