"""The behaviour-log Flink job on the embedded mini-cluster: partitions, exactly-once restart, the operator."""

from __future__ import annotations

import collections
import time
from datetime import datetime, timedelta
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from airflow_mlplat.hooks.flink import FlinkHook, FlinkJob, latest_checkpoint
from airflow_mlplat.operators.flink_job import FlinkJobOperator
from airflow_mlplat.realtime import flink_job
from airflow_mlplat.realtime.events import window_events, write_jsonl
from airflow_mlplat.realtime.windows import partition_path
from airflow_mlplat.services.process import ServiceState, pid_alive, stop_service
from tests.realtime.conftest import wait_for_part_files

START = datetime(2026, 11, 27, 12, 0)
WINDOW = 2  # minutes


class XComRecorder:
    """The part of a task instance FlinkJobOperator.execute uses outside a DAG run."""

    def __init__(self) -> None:
        self.pushed: dict[str, object] = {}

    def xcom_push(self, key: str, value: object) -> None:
        self.pushed[key] = value


@pytest.fixture
def job_dirs(tmp_path: Path):
    dirs = {name: tmp_path / name for name in ("source", "sink", "checkpoints", "state")}
    for folder in dirs.values():
        folder.mkdir()
    yield dirs
    for state in dirs["state"].iterdir():  # a test that failed half-way leaves no mini-cluster behind
        stop_service(ServiceState(state))


def operator(dirs: dict[str, Path], **kwargs) -> FlinkJobOperator:
    return FlinkJobOperator(
        task_id="ingest",
        source=str(dirs["source"]),
        sink=str(dirs["sink"]),
        checkpoint_dir=str(dirs["checkpoints"]),
        window_minutes=WINDOW,
        checkpoint_interval="1 s",
        state_root=str(dirs["state"]),
        **kwargs,
    )


def minute(m: float) -> datetime:
    return START + timedelta(minutes=m)


def committed(sink: Path) -> list[Path]:
    return sorted(marker.parent for marker in sink.glob("dt=*/hm=*/_SUCCESS"))


def wait_for_commits(sink: Path, partitions: list[str], timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all((Path(p) / "_SUCCESS").exists() for p in partitions):
            return
        time.sleep(0.5)
    missing = [p for p in partitions if not Path(p, "_SUCCESS").exists()]
    raise AssertionError(f"not committed within {timeout} s: {missing}")


def event_ids(partition: Path) -> list[str]:
    return pq.read_table(partition, columns=["event_id"]).column("event_id").to_pylist()


def test_the_sink_is_partitioned_by_event_time_and_committed_by_watermark():
    sink = flink_job.sink_ddl(flink_job.parse_args(["--source", "s", "--sink", "t", "--checkpoint-dir", "c"]))
    for name, sql_type in flink_job.EVENT_SCHEMA:
        assert f"`{name}` {sql_type}" in sink
    assert "'sink.partition-commit.trigger' = 'partition-time'" in sink
    assert "'sink.partition-commit.policy.kind' = 'success-file'" in sink


def test_the_production_source_is_kafka_with_the_same_schema_and_watermark():
    args = flink_job.parse_args(
        ["--source", "kafka", "--kafka-servers", "k1:9092,k2:9092", "--sink", "t", "--checkpoint-dir", "c"]
    )
    ddl = flink_job.source_ddl(args)
    assert "'connector' = 'kafka'" in ddl and "'properties.bootstrap.servers' = 'k1:9092,k2:9092'" in ddl
    assert "WATERMARK FOR event_time AS event_time - INTERVAL '5' SECOND" in ddl
    assert all(f"`{name}` {sql_type}" in ddl for name, sql_type in flink_job.EVENT_SCHEMA)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--window-minutes", "7"], "--window-minutes 7: must divide 60"),
        (["--window-minutes", "2", "--checkpoint-interval", "2 min"], "shorter than the 2-minute window"),
        (["--checkpoint-interval", "soon"], "--checkpoint-interval 'soon'"),
        (["--commit-policy", "metastore,success-file"], "flink-sql-connector-hive"),
        (["--source", "kafka"], "--source kafka needs --kafka-servers"),
    ],
)
def test_bad_job_arguments_are_named(args, message, capsys):
    with pytest.raises(SystemExit):
        flink_job.parse_args(["--source", "s", "--sink", "t", "--checkpoint-dir", "c", *args])
    assert message in capsys.readouterr().err


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"window_minutes": 7}, r"FlinkJobOperator\(ingest\).window_minutes=7: must divide 60"),
        ({"commit_policy": "metastore,success-file"}, r"commit_policy=.*flink-sql-connector-hive"),
    ],
)
def test_operator_rejects_bad_settings_when_the_dag_is_parsed(kwargs, message):
    with pytest.raises(ValueError, match=message):
        FlinkJobOperator(task_id="ingest", source="s", sink="t", checkpoint_dir="c", **kwargs)


def test_the_newest_completed_checkpoint_wins_across_jobs(tmp_path):
    import os

    def checkpoint(job: str, number: int, age_s: float, complete: bool = True) -> None:
        folder = tmp_path / job / f"chk-{number}"
        folder.mkdir(parents=True)
        if complete:
            (folder / "_metadata").write_bytes(b"x")
            stamp = time.time() - age_s
            os.utime(folder / "_metadata", (stamp, stamp))

    assert latest_checkpoint(tmp_path) is None
    checkpoint("old-job", 40, age_s=600)
    checkpoint("new-job", 3, age_s=5)  # started without restoring: numbering began again
    checkpoint("new-job", 4, age_s=1, complete=False)  # in progress: no _metadata yet
    assert latest_checkpoint(tmp_path) == str(tmp_path / "new-job" / "chk-3")
    with pytest.raises(Exception, match="ftp"):
        latest_checkpoint("ftp://host/checkpoints")


def test_killed_mid_window_and_restarted_from_its_checkpoint_loses_and_repeats_no_event(job_dirs):
    """Crash the job (SIGKILL, no final checkpoint) while it is reading a large file in the middle of a window."""
    hook = FlinkHook()
    source, sink = job_dirs["source"], job_dirs["sink"]
    written: list[str] = []

    def emit(name: str, window_index: int, n: int, *, first: float = 0.0, last: float = 1.0) -> None:
        events = window_events(minute(window_index * WINDOW), WINDOW, n, seed=window_index, drift=0.5)
        events = [
            e
            for e in events
            if first <= (e["event_time"] - minute(window_index * WINDOW)).total_seconds() / (WINDOW * 60) < last
        ]
        write_jsonl(events, source, name)
        written.extend(e["event_id"] for e in events)

    first = operator(job_dirs)
    ti = XComRecorder()
    job = FlinkJob(**first.execute({"ti": ti}))
    assert ti.pushed == {"job_id": job.job_id, "rest_url": job.rest_url}
    assert hook.is_running(job)

    emit("w0", 0, 3000)
    emit("w1-early", 1, 3000, last=0.5)
    hook.wait_for_checkpoints(job, 2)
    wait_for_commits(sink, [partition_path(sink, minute(0))])
    emit("w1-late", 1, 3000, first=0.5)
    emit("w2-big", 2, 150_000)  # still being read when the process dies
    time.sleep(1.0)
    hook.kill_embedded(job)
    in_progress = list(sink.glob("dt=*/hm=*/.part-*"))
    restore_point = latest_checkpoint(job_dirs["checkpoints"])
    assert restore_point is not None and Path(restore_point).parent == job_dirs["checkpoints"] / job.job_id
    as_url = job_dirs["checkpoints"].as_uri()
    assert latest_checkpoint(as_url) == f"{as_url}/{job.job_id}/{Path(restore_point).name}"

    second = operator(job_dirs)  # restore="latest"
    resumed = FlinkJob(**second.execute({"ti": XComRecorder()}))
    assert resumed.job_id != job.job_id
    assert (
        hook.checkpoints(resumed)["latest"]["restored"]["external_path"].rstrip("/").endswith(Path(restore_point).name)
    )
    emit("w3", 3, 2000)  # moves the watermark past window 2's end
    windows = [partition_path(sink, minute(i * WINDOW)) for i in range(3)]
    wait_for_commits(sink, windows)
    hook.cancel(resumed)

    counts = collections.Counter(eid for partition in windows for eid in event_ids(Path(partition)))
    expected = [eid for eid in written if not eid.startswith("202611271206")]
    assert in_progress, "the kill should have caught an in-progress part file"
    assert [eid for eid, n in counts.items() if n > 1] == []
    assert set(expected) - set(counts) == set()
    assert sum(counts.values()) == len(expected) > 150_000
    state = ServiceState(job_dirs["state"] / "behaviour-partitions")
    assert state.pid is None or not pid_alive(state.pid)


def test_operator_reuses_a_running_job_and_on_kill_cancels_it(job_dirs):
    hook = FlinkHook()
    first = operator(job_dirs, restore="none")
    job = FlinkJob(**first.execute({"ti": XComRecorder()}))
    again = FlinkJob(**operator(job_dirs).execute({"ti": XComRecorder()}))
    assert again == job  # one writer per sink
    pid = ServiceState(job_dirs["state"] / "behaviour-partitions").pid
    first.on_kill()
    assert not pid_alive(pid)
    assert hook.attach(job_dirs["state"] / "behaviour-partitions") is None


@pytest.fixture(scope="module")
def flink_cluster(tmp_path_factory):
    from airflow_mlplat.services.flink_cluster import LocalFlinkCluster

    cluster = LocalFlinkCluster(tmp_path_factory.mktemp("flink-cluster"))
    url = cluster.start()
    yield url
    cluster.stop()
    assert not cluster.jobmanager.running() and not cluster.taskmanager.running()


def test_submitted_to_a_session_cluster_with_flink_run(flink_cluster, job_dirs, monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_FLINK_DEFAULT", flink_cluster.replace("http://", "flink://"))
    hook = FlinkHook()
    ingest = operator(job_dirs, restore="none")
    job = FlinkJob(**ingest.execute({"ti": XComRecorder()}))
    assert job.rest_url == flink_cluster and job.state_dir == ""
    assert hook.is_running(job)

    events = window_events(minute(0), WINDOW, 500, seed=7, drift=0.0)
    write_jsonl(events, job_dirs["source"], "w0")
    first = partition_path(job_dirs["sink"], minute(0))
    # Files found in one listing are read in any order: w1 first would make w0's events late (CI saw
    # the window committed with 80 of its 500). The reader finishes a file before it takes the next.
    wait_for_part_files(Path(first))
    write_jsonl(window_events(minute(WINDOW), WINDOW, 10, seed=7, drift=0.0), job_dirs["source"], "w1")
    wait_for_commits(job_dirs["sink"], [first])
    assert sorted(event_ids(Path(first))) == sorted(e["event_id"] for e in events)
    table = pq.read_table(first)
    assert table.schema.field("event_time").type == "timestamp[us]" and table.schema.field("label").type == "int32"

    ingest.on_kill()
    assert hook.state(job) == "CANCELED"


def test_an_undefined_flink_connection_other_than_the_default_is_an_error(monkeypatch):
    from airflow.providers.common.compat.sdk import AirflowNotFoundException

    assert FlinkHook().cluster_rest_url() is None  # flink_default undefined: the embedded mini-cluster
    with pytest.raises(AirflowNotFoundException, match="Flink connection 'flink_nowhere' is not defined"):
        FlinkHook("flink_nowhere").cluster_rest_url()
    monkeypatch.setenv("AIRFLOW_CONN_FLINK_PROD", '{"conn_type": "flink", "host": "jm.example", "port": 8081}')
    assert FlinkHook("flink_prod").cluster_rest_url() == "http://jm.example:8081"
