"""The streaming FTRL job's pure parts, without Flink: progressive validation, state round trips, the atomic
snapshot writer, the snapshot as a served model, and the arguments the job and its operator refuse."""

from __future__ import annotations

import math
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import log_loss as sk_log_loss
from sklearn.metrics import roc_auc_score

from airflow_mlplat.online.ftrl import Ftrl
from airflow_mlplat.online.moments import Moments
from airflow_mlplat.online.progressive import StreamingLearner
from airflow_mlplat.realtime.events import FEATURES, window_events
from airflow_mlplat.realtime.snapshots import (
    PARTIAL_PREFIX,
    SnapshotError,
    latest_snapshot,
    list_snapshots,
    local_root,
    read_snapshot,
    remove_partial,
    write_snapshot,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
START = datetime(2026, 11, 27, 12, 0)


def stream(n: int = 1500, *, seed: int = 3, drift: float = 0.0, missing: float = 0.0):
    """``(features, label, time_ms)`` in event-time order; ``missing`` of the feature values are NaN."""
    rng = np.random.default_rng(seed)
    for event in window_events(START, 2, n, seed=seed, drift=drift):
        x = [event[name] for name in FEATURES]
        x = [math.nan if rng.random() < missing else v for v in x]
        yield x, event["label"], event["event_time"].timestamp() * 1000


def learnt(n: int = 1500, window: int = 500, **kwargs) -> StreamingLearner:
    learner = StreamingLearner(len(FEATURES), window=window, alpha=0.1)
    for x, y, t in stream(n, **kwargs):
        learner.learn_one(x, y, t)
    return learner


def test_progressive_scores_are_made_before_learning_and_the_window_metrics_recompute():
    learner = StreamingLearner(len(FEATURES), window=400, alpha=0.1)
    # The same steps spelt out with the Ftrl and Moments classes: impute by the observed means, scale by
    # the moments before the event, predict, learn, then merge.
    ftrl, moments = Ftrl(len(FEATURES), alpha=0.1), Moments.empty(len(FEATURES))
    seen, total = np.zeros(len(FEATURES)), np.zeros(len(FEATURES))
    expected = []
    for x, y, t in stream(1200, missing=0.05):
        raw = np.asarray(x)
        means = np.divide(total, seen, out=np.zeros_like(total), where=seen > 0)
        filled = np.where(np.isnan(raw), means, raw)
        std = moments.std()
        scaled = (filled - moments.mean) * np.where(std > 0, 1 / np.where(std > 0, std, 1), 0)
        before = ftrl.predict_one(np.arange(len(FEATURES)), scaled)
        ftrl.learn_one(np.arange(len(FEATURES)), scaled, y)
        seen += ~np.isnan(raw)
        total += np.nan_to_num(raw)
        moments = moments.merge(Moments(1.0, filled, np.zeros(len(FEATURES))))
        expected.append((before, y))
        assert learner.learn_one(x, y, t) == pytest.approx(before, rel=1e-12, abs=1e-15)
    np.testing.assert_allclose(learner.ftrl.z, ftrl.z, rtol=1e-12)
    rows = learner.window_rows()
    assert rows.shape == (400, 4 + len(FEATURES))
    assert rows[:, 0].tolist() == list(range(801, 1201))  # the last 400 events, oldest first
    scores, labels = np.array([p for p, _ in expected[-400:]]), np.array([y for _, y in expected[-400:]])
    np.testing.assert_allclose(rows[:, 2], scores, rtol=1e-12)
    metrics = learner.metrics()
    assert metrics["auc_roc"] == pytest.approx(roc_auc_score(labels, scores), abs=1e-12)
    assert metrics["log_loss"] == pytest.approx(sk_log_loss(labels, scores), rel=1e-9)
    assert metrics["rows"] == 400 and metrics["events"] == 1200
    assert 0.8 < metrics["auc_roc"] < 1.0  # a learnt concept, not a coin


def test_one_class_window_has_no_auc_but_a_log_loss():
    learner = StreamingLearner(len(FEATURES), window=5)
    for x, _, t in stream(10):
        learner.learn_one(x, 1, t)
    metrics = learner.metrics()
    assert metrics["auc_roc"] is None and metrics["log_loss"] > 0 and metrics["rows"] == 5


@pytest.mark.parametrize("path", ["model_vector", "arrays"])
def test_state_round_trips_and_continues_identically(path):
    original, copy_source = learnt(900), learnt(900)
    if path == "model_vector":
        window = {slot: row.tolist() for slot, row in enumerate(copy_source.rows)}
        restored = StreamingLearner.from_model_vector(copy_source.model_vector(), window)
    else:
        restored = StreamingLearner.from_arrays(copy_source.to_arrays())
    for x, y, t in stream(300, seed=9, drift=1.0):
        assert restored.learn_one(x, y, t) == original.learn_one(x, y, t)
    np.testing.assert_array_equal(restored.ftrl.z, original.ftrl.z)
    np.testing.assert_array_equal(restored.window_rows(), original.window_rows())
    assert restored.metrics() == original.metrics()


def test_bad_events_and_windows_are_refused():
    learner = StreamingLearner(len(FEATURES))
    with pytest.raises(ValueError, match="label must be 0 or 1, got 2"):
        learner.learn_one([1.0] * len(FEATURES), 2, 0)
    with pytest.raises(ValueError, match="must have 6 features, got 5"):
        learner.learn_one([1.0] * 5, 1, 0)
    with pytest.raises(ValueError, match="metric window must be an integer >= 1, got 0"):
        StreamingLearner(len(FEATURES), window=0)


# -- the snapshot writer ---------------------------------------------------------------------------
def test_snapshots_are_listed_newest_last_and_read_back(tmp_path):
    learner = learnt(600)
    first = write_snapshot(tmp_path / "snaps", learner.to_arrays(), {**learner.metrics(), "features": list(FEATURES)})
    second = write_snapshot(tmp_path.as_uri() + "/snaps", learner.to_arrays(), {"events": 601}, written_at_ms=9e12)
    assert list_snapshots(tmp_path / "snaps") == [first, second]
    assert latest_snapshot(tmp_path / "snaps") == second
    assert latest_snapshot(tmp_path / "snaps", after=second.name) is None
    info, arrays = read_snapshot(first)
    assert info["events"] == 600 and info["format"] == "mlplat-streaming-ftrl/1" and info["name"] == first.name
    np.testing.assert_array_equal(StreamingLearner.from_arrays(arrays).ftrl.z, learner.ftrl.z)


def test_readers_never_see_a_partial_snapshot_while_one_is_written(tmp_path):
    """A reader polling the folder reads every snapshot it lists completely, while big snapshots land."""
    root = tmp_path / "snaps"
    root.mkdir()
    big = {"window_rows": np.random.default_rng(0).random((400_000, 10))}  # ~32 MB: a write takes a while
    problems, reads, done = [], [], threading.Event()

    def reader() -> None:
        while not done.is_set():
            for folder in list_snapshots(root):
                try:
                    info, arrays = read_snapshot(folder)
                    assert arrays["window_rows"].shape == (400_000, 10) and info["events"] > 0
                    reads.append(folder.name)
                except Exception as error:  # noqa: BLE001 (any failure is the finding)
                    problems.append(f"{folder.name}: {error!r}")

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        for events in range(1, 6):
            write_snapshot(root, big, {"events": events, "format": "ignored"})
    finally:
        done.set()
        thread.join()
    assert problems == []
    assert len(set(reads)) >= 1 and len(list_snapshots(root)) == 5


def test_a_writer_killed_mid_write_leaves_no_snapshot(tmp_path):
    """SIGKILL a writer after its files are written and before the rename: only a hidden folder remains."""
    root, ready = tmp_path / "snaps", tmp_path / "ready"
    script = textwrap.dedent(
        f"""
        import os, sys, time
        sys.path.insert(0, {str(REPO_ROOT)!r})
        import numpy as np
        from airflow_mlplat.realtime import snapshots

        def stalled_rename(source, target):  # the writer dies here, its files complete but unpublished
            open({str(ready)!r}, "w").write(str(source))
            time.sleep(120)

        snapshots.os.rename = stalled_rename
        snapshots.write_snapshot({str(root)!r}, {{"z": np.arange(10.0)}}, {{"events": 7}})
        """
    )
    writer = subprocess.Popen([sys.executable, "-c", script])
    try:
        deadline = time.monotonic() + 60
        while not ready.exists():
            assert writer.poll() is None, "the writer exited before its rename"
            assert time.monotonic() < deadline
            time.sleep(0.05)
        os.kill(writer.pid, signal.SIGKILL)
        writer.wait(timeout=30)
    finally:
        if writer.poll() is None:
            writer.kill()
            writer.wait()
    partial = Path(ready.read_text())
    assert partial.parent == root and partial.name.startswith(PARTIAL_PREFIX) and (partial / "state.npz").exists()
    assert list_snapshots(root) == [] and latest_snapshot(root) is None
    assert remove_partial(root) == [partial.name]
    assert list(root.iterdir()) == []


@pytest.mark.parametrize(
    ("location", "message"),
    [
        ("hdfs://nn:8020/snaps", "snapshot_dir 'hdfs://nn:8020/snaps': .* local filesystem only"),
        ("", "snapshot_dir must be a folder path or file:// URL"),
        ("file://host/snaps", "must not name a host"),
    ],
)
def test_snapshot_locations_that_cannot_be_renamed_atomically_are_refused(location, message):
    with pytest.raises(SnapshotError, match=message):
        local_root(location)


def test_the_trigger_fires_with_the_first_snapshot_newer_than_the_registered_one(tmp_path):
    import asyncio

    from airflow_mlplat.triggers.snapshot import NewSnapshotTrigger

    root = tmp_path / "snaps"
    old = write_snapshot(root, {"z": np.zeros(2)}, {"events": 1}, written_at_ms=1_000)
    trigger = NewSnapshotTrigger(str(root), after=old.name, poke_interval=0.05, deadline=time.time() + 30)
    path, kwargs = trigger.serialize()
    assert path == "airflow_mlplat.triggers.snapshot.NewSnapshotTrigger"
    assert NewSnapshotTrigger(**kwargs).serialize() == (path, kwargs)

    async def first_event():
        events = trigger.run()
        waiting = asyncio.ensure_future(events.__anext__())
        await asyncio.sleep(0.3)
        assert not waiting.done()  # only the registered snapshot is there
        new = await asyncio.to_thread(write_snapshot, root, {"z": np.ones(2)}, {"events": 2})
        return new, (await asyncio.wait_for(waiting, 10)).payload

    new, payload = asyncio.run(first_event())
    assert payload == {"status": "success", "snapshot": str(new)}
    late = NewSnapshotTrigger(str(root), after=new.name, poke_interval=0.05, deadline=time.time() + 0.2)
    payload = asyncio.run(late.run().__anext__()).payload
    assert payload["status"] == "timeout" and payload["after"] == new.name


# -- the snapshot as a served model ----------------------------------------------------------------
def test_a_snapshot_served_predicts_what_the_job_would(tmp_path):
    from airflow_mlplat.realtime.snapshot_model import write_spark_model
    from airflow_mlplat.serving.model import load_model_dir
    from airflow_mlplat.serving.spark_files import read_pipeline

    learner = learnt(1000, missing=0.03)
    folder = write_snapshot(tmp_path / "snaps", learner.to_arrays(), {**learner.metrics(), "features": list(FEATURES)})
    info, arrays = read_snapshot(folder)
    model_dir = write_spark_model(info, arrays, tmp_path / "model")
    stages = [stage.short_class for stage in read_pipeline(model_dir / "sparkml")]
    assert stages == ["ImputerModel", "VectorAssembler", "OnlineStandardScalerModel", "FtrlModel"]
    served = load_model_dir(model_dir, name="streaming", version="1", slot="test")
    assert served.flavor == "spark-files" and set(served.columns) == set(FEATURES)
    upcoming = list(stream(200, seed=11, drift=0.5, missing=0.1))
    requests = [
        {name: (None if math.isnan(v) else v) for name, v in zip(FEATURES, x, strict=True)} for x, _, _ in upcoming
    ]
    answers = served.predict(requests)
    job = [learner.predict(x) for x, _, _ in upcoming]
    np.testing.assert_allclose([a["probability"][1] for a in answers], job, rtol=1e-12, atol=1e-15)
    # ... and the first of them is exactly the progressive score the job gives the next event.
    x, y, t = upcoming[0]
    assert learner.learn_one(x, y, t) == pytest.approx(answers[0]["probability"][1], rel=1e-12)
    with pytest.raises(ValueError, match="features"):
        write_spark_model({**info, "features": ["a"]}, arrays, tmp_path / "other")


# -- arguments ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--snapshot-interval", "0 s"], "--snapshot-interval '0 s': must be a duration > 0"),
        (["--snapshot-interval", "-5 s"], "--snapshot-interval '-5 s': must be a duration > 0"),
        (["--snapshot-interval", "soon"], "--snapshot-interval 'soon'"),
        (["--checkpoint-interval", "0 ms"], "--checkpoint-interval '0 ms'"),
        (["--metric-window", "0"], "--metric-window must be > 0, got '0'"),
        (["--metric-window", "many"], "--metric-window must be a number, got 'many'"),
        (["--alpha", "0"], "--alpha must be > 0, got '0'"),
        (["--l1", "-1"], "--l1 must be >= 0, got '-1'"),
        (["--lateness-seconds", "-1"], "--lateness-seconds -1: must be >= 0"),
        (["--snapshot-dir", "s3a://bucket/snaps"], "--snapshot-dir 's3a://bucket/snaps'"),
        (["--source", "kafka"], "--source kafka needs --kafka-servers"),
    ],
)
def test_bad_job_arguments_are_named(args, message, capsys):
    from airflow_mlplat.realtime import streaming_ftrl

    base = ["--source", "s", "--snapshot-dir", "snaps", "--checkpoint-dir", "c"]
    with pytest.raises(SystemExit):
        streaming_ftrl.parse_args([*base, *args])
    assert message in capsys.readouterr().err


def test_good_job_arguments_parse():
    from airflow_mlplat.realtime import streaming_ftrl

    args = streaming_ftrl.parse_args(
        ["--source", "s", "--snapshot-dir", "file:///tmp/snaps", "--checkpoint-dir", "c", "--snapshot-interval", "2 s"]
    )
    assert args.snapshot_interval_ms == 2000 and args.metric_window == 2000 and args.alpha == 0.1
    ddl = streaming_ftrl.flink_job.source_ddl(
        streaming_ftrl.parse_args(
            ["--source", "kafka", "--kafka-servers", "k:9092", "--snapshot-dir", "s", "--checkpoint-dir", "c"]
        ),
        group_id="mlplat-streaming-ftrl",
    )
    assert "'properties.group.id' = 'mlplat-streaming-ftrl'" in ddl  # its own consumer group, not the partitioner's


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"metric_window": 0}, r"StreamingFtrlJobOperator\(learn\).metric_window must be an integer >= 1, got 0"),
        ({"alpha": 0.0}, r"StreamingFtrlJobOperator\(learn\).alpha must be a number > 0, got 0.0"),
        ({"l2": -1.0}, r"\.l2 must be a number >= 0, got -1.0"),
        ({"lateness_seconds": -2}, r"\.lateness_seconds must be an integer >= 0, got -2"),
    ],
)
def test_operator_rejects_bad_settings_when_the_dag_is_parsed(kwargs, message):
    from airflow_mlplat.operators.streaming_ftrl import StreamingFtrlJobOperator

    with pytest.raises(ValueError, match=message):
        StreamingFtrlJobOperator(task_id="learn", source="s", snapshot_dir="snaps", checkpoint_dir="c", **kwargs)
