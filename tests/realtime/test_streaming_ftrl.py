"""The streaming FTRL job on Flink's embedded mini-cluster, real MLflow and a real prediction service.

- Killed (SIGKILL, no final checkpoint) while learning and restored from its newest checkpoint, the job
  ends with exactly the state an uninterrupted learner reaches over the same events in event-time order.
- Snapshots are atomic through the job: a reader polling the folder never lists one it cannot read.
- The ``streaming_ftrl`` DAG registers each new snapshot, gates it on the progressive AUC against the
  champion scored on the same rows, and the prediction service follows the alias with no failed request;
  a snapshot learnt from labels that carry no signal is rejected.
- The model folder a snapshot is registered as, written without Spark, loads in Spark (MLflow's Spark
  flavour) with the loop's FTRL stages and scores as the job does.
"""

from __future__ import annotations

import itertools
import math
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import numpy as np
import pytest

from airflow_mlplat.hooks.flink import FlinkHook, FlinkJob, latest_checkpoint
from airflow_mlplat.online.progressive import StreamingLearner
from airflow_mlplat.operators.streaming_ftrl import StreamingFtrlJobOperator
from airflow_mlplat.realtime.events import FEATURES, window_events, write_jsonl
from airflow_mlplat.realtime.snapshots import latest_snapshot, list_snapshots, read_snapshot
from airflow_mlplat.services.process import ServiceState, pid_alive, stop_service
from tests.realtime.conftest import REPO_ROOT

START = datetime(2026, 11, 27, 12, 0)
WINDOW = 2  # minutes of event time per file
LATENESS_MS = 5000
_names = itertools.count()


class XComRecorder:
    def __init__(self) -> None:
        self.pushed: dict[str, object] = {}

    def xcom_push(self, key: str, value: object) -> None:
        self.pushed[key] = value


class SnapshotReader(threading.Thread):
    """Reads every snapshot the folder lists, as fast as it can, and records any it cannot read."""

    def __init__(self, root: Path) -> None:
        super().__init__(daemon=True)
        self.root, self.read, self.problems = root, set(), []
        self._done = threading.Event()

    def run(self) -> None:
        while not self._done.is_set():
            for folder in list_snapshots(self.root):
                try:
                    info, arrays = read_snapshot(folder)
                    assert info["events"] == int(arrays["counters"][1])
                    self.read.add(folder.name)
                except Exception as error:  # noqa: BLE001 (any failure is the finding)
                    self.problems.append(f"{folder.name}: {error!r}")
            time.sleep(0.01)

    def stop(self) -> None:
        self._done.set()
        self.join(timeout=30)


@pytest.fixture
def stream_dirs(tmp_path: Path):
    dirs = {name: tmp_path / name for name in ("source", "snapshots", "checkpoints", "state", "services")}
    for folder in dirs.values():
        folder.mkdir()
    yield dirs
    for state in [*dirs["state"].iterdir(), *dirs["services"].iterdir()]:  # nothing left if a test failed
        stop_service(ServiceState(state))


def minute(m: float) -> datetime:
    return START + timedelta(minutes=m)


def event_ms(event: dict) -> int:
    return int(round(event["event_time"].timestamp() * 1000))


def learnable(events: list[dict]) -> list[dict]:
    """The events the watermark has passed once all of ``events`` are read, in the job's order."""
    newest = max(event_ms(e) for e in events)
    passed = [e for e in events if event_ms(e) <= newest - LATENESS_MS]
    return sorted(passed, key=lambda e: (event_ms(e), e["event_id"]))


def replay(events: list[dict], window: int) -> StreamingLearner:
    learner = StreamingLearner(len(FEATURES), window=window, alpha=0.1)
    for e in events:
        learner.learn_one([e[name] for name in FEATURES], e["label"], event_ms(e))
    return learner


def wait_for_events(root: Path, count: int, timeout: float = 120.0) -> Path:
    """Until the newest snapshot has learnt ``count`` events; returns it."""
    deadline = time.monotonic() + timeout
    seen = None
    while time.monotonic() < deadline:
        newest = latest_snapshot(root)
        if newest is not None:
            seen = int(newest.name.rsplit("-", 1)[1])
            if seen == count:
                return newest
            assert seen < count, f"{newest.name}: more events than the {count} expected"
        time.sleep(0.2)
    raise AssertionError(f"no snapshot of {count} events within {timeout} s (newest has {seen})")


def job_operator(dirs: dict[str, Path], **kwargs) -> StreamingFtrlJobOperator:
    return StreamingFtrlJobOperator(
        task_id="learn",
        source=str(dirs["source"]),
        snapshot_dir=str(dirs["snapshots"]),
        checkpoint_dir=str(dirs["checkpoints"]),
        snapshot_interval="1 s",
        checkpoint_interval="1 s",
        state_root=str(dirs["state"]),
        **kwargs,
    )


def test_killed_and_restored_from_its_checkpoint_it_learns_what_an_uninterrupted_run_learns(stream_dirs):
    from airflow_mlplat.realtime.snapshot_model import write_spark_model
    from airflow_mlplat.serving.model import load_model_dir

    hook, window = FlinkHook(), 5000
    source, snapshots = stream_dirs["source"], stream_dirs["snapshots"]
    reader = SnapshotReader(snapshots)
    reader.start()
    first = job_operator(stream_dirs, metric_window=window)
    job = FlinkJob(**first.execute({"ti": XComRecorder()}))
    resumed = None
    try:
        a = window_events(minute(0), WINDOW, 2000, seed=1, drift=0.0)
        b = window_events(minute(WINDOW), WINDOW, 12_000, seed=1, drift=0.7)
        c = window_events(minute(2 * WINDOW), WINDOW, 1000, seed=1, drift=1.0)
        write_jsonl(a, source, "a")
        wait_for_events(snapshots, len(learnable(a)))
        hook.wait_for_checkpoints(job, 1)
        write_jsonl(b, source, "b")
        deadline = time.monotonic() + 60
        while (newest := latest_snapshot(snapshots)) is None or int(newest.name[-10:]) <= len(learnable(a)):
            assert time.monotonic() < deadline, "the job did not start learning b"
            time.sleep(0.05)
        hook.kill_embedded(job)  # while b is being learnt: no cancel, no final checkpoint
        at_kill = int(latest_snapshot(snapshots).name[-10:])
        for folder in list_snapshots(snapshots):  # the killed writer left no snapshot half-written
            assert read_snapshot(folder)[0]["events"] <= at_kill
        assert len(learnable(a)) < at_kill < len(learnable(a + b)), "the kill should catch b half-learnt"
        restore_point = latest_checkpoint(stream_dirs["checkpoints"])
        assert restore_point is not None and Path(restore_point).parent.name == job.job_id

        second = job_operator(stream_dirs, metric_window=window)  # restore="latest"
        resumed = FlinkJob(**second.execute({"ti": XComRecorder()}))
        assert resumed.job_id != job.job_id
        restored = hook.checkpoints(resumed)["latest"]["restored"]["external_path"]
        assert restored.rstrip("/").endswith(Path(restore_point).name)
        wait_for_events(snapshots, len(learnable(a + b)))  # b is read whole before c is written
        write_jsonl(c, source, "c")
        expected = learnable(a + b + c)
        final = wait_for_events(snapshots, len(expected))
    finally:
        reader.stop()
        hook.cancel(resumed or job)

    info, arrays = read_snapshot(final)
    uninterrupted = replay(expected, window).to_arrays()
    assert info["late_events"] == 0 and info["events"] == len(expected)
    for name in ("ftrl_z", "ftrl_n", "ftrl_meta", "scaler_count", "scaler_mean", "scaler_m2", "imputer_sum"):
        np.testing.assert_array_equal(arrays[name], uninterrupted[name], err_msg=name)
    np.testing.assert_array_equal(arrays["window_rows"], uninterrupted["window_rows"])  # progressive scores too
    assert reader.problems == [] and len(reader.read) >= 3

    # Each snapshot, served, predicts the next event as the job scored it.
    rows = arrays["window_rows"]
    checked = 0
    for folder in list_snapshots(snapshots):
        snap_info, snap_arrays = read_snapshot(folder)
        following = rows[rows[:, 0] == snap_info["events"] + 1]
        if not len(following) or checked == 3:
            continue
        model = load_model_dir(
            write_spark_model(snap_info, snap_arrays, folder.parent.parent / f"model-{folder.name}"),
            name="streaming",
            version=str(checked),
            slot="test",
        )
        answer = model.predict([dict(zip(FEATURES, following[0, 4:].tolist(), strict=True))])[0]
        assert answer["probability"][1] == pytest.approx(following[0, 2], rel=1e-12, abs=1e-15)
        checked += 1
    assert checked == 3
    state = ServiceState(stream_dirs["state"] / "streaming-ftrl")
    assert state.pid is None or not pid_alive(state.pid)


def noise_labels(events: list[dict], seed: int) -> list[dict]:
    """The same events with their labels shuffled: the labels carry no signal any more."""
    labels = np.random.default_rng(seed).permutation([e["label"] for e in events])
    return [{**e, "label": int(y)} for e, y in zip(events, labels, strict=True)]


def test_snapshots_are_registered_gated_on_the_same_rows_and_served(
    stream_dirs, airflow_db, run_root, mlflow_server, monkeypatch
):
    from mlflow import MlflowClient

    from airflow_mlplat.gating import promotion_history
    from airflow_mlplat.gating.gate import alias_version
    from airflow_mlplat.hooks.model_service import LocalModelServiceHook
    from airflow_mlplat.local_run import load_dags, run_dag, task_states, xcom_value
    from airflow_mlplat.serving.watch import VersionWatcher

    monkeypatch.setenv("MLPLAT_FLINK_STATE_DIR", str(stream_dirs["state"]))
    monkeypatch.setenv("MLFLOW_TRACKING_URI", mlflow_server)
    dag = load_dags(REPO_ROOT / "dags").get_dag("streaming_ftrl")
    model = f"streaming_ftrl_{next(_names)}_{int(time.time())}"
    registry = MlflowClient(tracking_uri=mlflow_server, registry_uri=mlflow_server)
    source, snapshots = stream_dirs["source"], stream_dirs["snapshots"]
    conf = {
        "source": str(source),
        "snapshots": str(snapshots),
        "checkpoints": str(stream_dirs["checkpoints"]),
        "snapshot_interval": "1 s",
        "checkpoint_interval": "1 s",
        "model_name": model,
        "sensor_timeout_s": 120,
        "sensor_poke_interval_s": 0.5,
    }

    def run(**extra):
        dag_run = run_dag(dag, {**conf, **extra})
        assert str(dag_run.state) == "success", task_states(dag_run)
        return dag_run

    hooks = LocalModelServiceHook(stream_dirs["services"])
    watcher = None
    job = None
    written: list[dict] = []
    try:
        w0 = window_events(minute(0), WINDOW, 3000, seed=2, drift=0.0)
        write_jsonl(w0, source, "w0")
        written += w0
        first = run(floors={})  # starts the job; the first snapshot has no champion to beat
        job = FlinkJob(xcom_value(first, "ensure_running", "job_id"), xcom_value(first, "ensure_running", "rest_url"))
        assert xcom_value(first, "gate")["decision"] == "promoted"
        assert alias_version(registry, model, "champion") == "1"
        one = registry.get_model_version(model, "1").tags
        assert one["mlplat.kind"] == "streaming_ftrl" and one["mlplat.warm_started_from"] == "none"
        service = hooks.deploy(
            "streaming", [f"models:/{model}@champion"], tracking_uri=mlflow_server, poll_interval=3600
        )
        watcher = VersionWatcher(service["url"], dict.fromkeys(FEATURES, 1.0))
        watcher.start()

        wait_for_events(snapshots, len(learnable(written)))  # w0 learnt whole, before w1 is written
        w1 = window_events(minute(WINDOW), WINDOW, 4000, seed=2, drift=1.0)  # the concept moves
        write_jsonl(w1, source, "w1")
        written += w1
        newest = wait_for_events(snapshots, len(learnable(written)))
        second = run(serving_url=service["url"])
        assert xcom_value(second, "wait_snapshot") == str(newest)
        evaluation = xcom_value(second, "evaluate")
        assert evaluation["champion_version"] == "1" and evaluation["candidate_version"] == "2"
        assert evaluation["basis"] == "the window's rows the champion snapshot had not learnt"
        assert evaluation["candidate"]["rows"] == evaluation["champion"]["rows"] == evaluation["compared_rows"]
        assert evaluation["candidate"]["auc_roc"] > 0.8 > 0.5 > evaluation["champion"]["auc_roc"], evaluation
        info, _ = read_snapshot(newest)
        assert evaluation["candidate"]["auc_roc"] == pytest.approx(info["auc_roc"])  # the window all unseen by v1
        assert xcom_value(second, "gate")["decision"] == "promoted"
        assert xcom_value(second, "notify_serving")["notified"] is True
        answer = httpx.post(f"{service['url']}/predict", json=dict.fromkeys(FEATURES, 1.0), timeout=10)
        assert answer.status_code == 200 and answer.headers["x-model-version"] == "2"
        watcher.stop()
        assert watcher.seen and watcher.failures == [], watcher.failures[:5]
        versions = watcher.versions()
        assert versions[0] == "1" and versions[-1] == "2" and versions == sorted(versions)
        two = registry.get_model_version(model, "2").tags
        assert two["mlplat.snapshot"] == str(newest) and two["mlplat.events_seen"] == str(info["events"])
        assert two["mlplat.warm_started_from"] == "1"
        assert float(two["metric.auc_roc"]) == pytest.approx(info["auc_roc"])
        assert float(two["metric.log_loss"]) == pytest.approx(info["log_loss"])

        w2 = noise_labels(window_events(minute(2 * WINDOW), WINDOW, 3000, seed=2, drift=1.0), seed=5)
        write_jsonl(w2, source, "w2")
        written += w2
        wait_for_events(snapshots, len(learnable(written)))
        third = run(serving_url=service["url"], floors={"auc_roc": 0.6})
        evaluation = xcom_value(third, "evaluate")
        assert evaluation["candidate"]["auc_roc"] < 0.6, evaluation
        decision = xcom_value(third, "gate")
        assert decision["decision"] == "rejected" and "below the floor 0.6" in decision["reason"], decision
        assert xcom_value(third, "notify_serving")["notified"] is False
        assert alias_version(registry, model, "champion") == "2"
        latest = promotion_history(model, mlflow_server)[0]
        assert (latest["decision"], str(latest["candidate"]), str(latest["champion"])) == ("rejected", "3", "2")
        still = httpx.post(f"{service['url']}/predict", json=dict.fromkeys(FEATURES, 1.0), timeout=10)
        assert still.headers["x-model-version"] == "2"
        assert FlinkHook().is_running(job)  # one job served every run
    finally:
        if watcher is not None:
            watcher.stop()
        hooks.stop("streaming")
        if job is not None:
            FlinkHook().cancel(FlinkJob(job.job_id, job.rest_url, str(stream_dirs["state"] / "streaming-ftrl")))


def test_a_snapshot_model_folder_loads_in_spark_as_the_loops_ftrl_model(tmp_path):
    """Written without Spark, the folder is a real Spark-flavour model: MLflow's Spark loader reads it and
    Spark scores as the job would (so the ten-minute loop can continue from a streaming champion)."""
    import json
    import subprocess
    import sys
    import textwrap

    from airflow_mlplat.realtime.snapshot_model import write_spark_model

    learner = StreamingLearner(len(FEATURES), window=300, alpha=0.1)
    for e in learnable(window_events(minute(0), WINDOW, 1500, seed=4, drift=0.3)):
        learner.learn_one([e[name] for name in FEATURES], e["label"], event_ms(e))
    folder = write_spark_model(
        {**learner.metrics(), "features": list(FEATURES), "name": "snapshot-x"}, learner.to_arrays(), tmp_path / "m"
    )
    rows = [[float(v) for v in row] for row in np.random.default_rng(1).gamma(2.0, 2.0, size=(20, len(FEATURES)))]
    rows[0][1] = None  # a missing duration: Spark's ImputerModel fills the running mean
    script = textwrap.dedent(
        f"""
        import json
        import mlflow.spark
        from pyspark.sql import SparkSession

        spark = SparkSession.builder.master("local[1]").config("spark.ui.enabled", "false").getOrCreate()
        try:
            model = mlflow.spark.load_model({str(folder)!r})
            frame = spark.createDataFrame({rows!r}, "{", ".join(f"{name} double" for name in FEATURES)}")
            scored = model.transform(frame).select("probability").collect()
            print(json.dumps({{"stages": [type(s).__name__ for s in model.stages],
                               "p": [row.probability[1] for row in scored]}}))
        finally:
            spark.stop()
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=REPO_ROOT, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["stages"] == ["ImputerModel", "VectorAssembler", "OnlineStandardScalerModel", "FtrlModel"]
    expected = [learner.predict([math.nan if v is None else v for v in row]) for row in rows]
    np.testing.assert_allclose(result["p"], expected, rtol=1e-12, atol=1e-15)
