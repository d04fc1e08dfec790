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


def test_deepfm_starts_fresh_then_continues_from_its_champion_with_the_same_encoding(
    realtime_dag, realtime_partitions, realtime_mlflow, request
):
    """``model=deepfm`` through the launcher: version 1 starts fresh and fits its buckets; version 2 starts
    from version 1's weights and encodes with its feature map; both are scored by the serving scorer."""
    import json
    from pathlib import Path

    from airflow_mlplat.local_run import xcom_value
    from airflow_mlplat.realtime.deep_training import FEATURE_BUCKETS
    from airflow_mlplat.realtime.events import FEATURES
    from airflow_mlplat.realtime.training import KIND_TAG, WARM_START_TAG

    model = _model_name(request)
    client = _client(realtime_mlflow)
    start = datetime(2026, 11, 27, 14, 0)
    _write(realtime_partitions, start, 3, drift=0.0)
    _write(realtime_partitions, start + timedelta(minutes=3 * W), 3, drift=1.0, seed=12)

    def retrain(window_end: datetime):
        run = run_dag(realtime_dag, {**_conf(realtime_partitions, model, window_end), "model": "deepfm"})
        assert str(run.state) == "success", task_states(run)
        report = json.loads(Path(xcom_value(run, "train", "report_path")).read_text())
        return run, report

    first, fresh = retrain(start + timedelta(minutes=3 * W))
    assert fresh["warm_started_from"] == "none" and fresh["warm_start"] is None
    assert fresh["rows"]["train"] + fresh["rows"]["validation"] == 2 * N
    assert [f["name"] for f in fresh["feature_map"]["fields"]] == list(FEATURES)
    assert all(0 < len(f["boundaries"]) < FEATURE_BUCKETS for f in fresh["feature_map"]["fields"])
    assert xcom_value(first, "gate")["decision"] == "promoted"
    tags = client.get_model_version(model, "1").tags
    assert (tags[KIND_TAG], tags[WARM_START_TAG], tags["mlplat.format"]) == ("deepfm", "none", "onnx")

    second, warm = retrain(start + timedelta(minutes=6 * W))  # trains on the two drifted windows
    assert warm["warm_started_from"] == "1" and warm["warm_start"].endswith("/model.torchscript.pt")
    assert "/champion/" in warm["warm_start"]  # the downloaded champion's exported weights
    assert warm["feature_map"] == fresh["feature_map"]  # the champion's encoding, not one fitted again
    config = json.loads(
        (Path(warm["launcher"]["output_path"].removeprefix("file://")) / "training_config.json").read_text()
    )
    assert config["warm_start"] == warm["warm_start"]
    evaluation = xcom_value(second, "evaluate")
    assert (evaluation["candidate_version"], evaluation["champion_version"]) == ("2", "1")
    assert evaluation["candidate"]["rows"] == evaluation["champion"]["rows"] == N
    assert evaluation["candidate"]["auc_roc"] > evaluation["champion"]["auc_roc"] + 0.2, evaluation
    assert xcom_value(second, "gate")["decision"] == "promoted"
    assert client.get_model_version(model, "2").tags[WARM_START_TAG] == "1"
    assert alias_version(client, model, "champion") == "2"
