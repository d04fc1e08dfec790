"""The whole loop with real Flink, real Spark and real MLflow.

Drifting behaviour events land as JSON lines, and ``realtime_ingest`` keeps the Flink job running. The job
commits ten-minute Parquet partitions with ``_SUCCESS``. ``realtime_retrain`` runs for the closed windows:
it trains, evaluates candidate and champion on the same window, gates and promotes. A prediction service
follows the alias: its answers move to the new version with no failed request, and a bad batch is rejected.
The Spark models train in Spark; ``deepfm`` through the launcher (local processes), served by ONNX Runtime.
"""

from __future__ import annotations

import itertools
import json
import time
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest

from airflow_mlplat.gating import promotion_history
from airflow_mlplat.gating.gate import alias_version
from airflow_mlplat.hooks.flink import FlinkHook, FlinkJob
from airflow_mlplat.local_run import load_dags, run_dag, task_states, xcom_value
from airflow_mlplat.realtime.events import FEATURES, window_events, write_jsonl
from airflow_mlplat.realtime.windows import partition_path
from airflow_mlplat.services.process import ServiceState, stop_service
from airflow_mlplat.services.spark_connect import connection_uri
from airflow_mlplat.serving.watch import VersionWatcher
from tests.realtime.conftest import REPO_ROOT, wait_for_part_files

W = 10  # the production window: event time is simulated, so it costs no wall time
N = 1500
START = datetime(2026, 11, 27, 8, 0)
KINDS = ("spark_lr", "ftrl", "deepfm")  # the realtime_retrain models the loop runs, side by side on the same windows
ON_CONNECT = ("ftrl",)  # trained on the session's Spark Connect server; spark_lr in its own spark-submit
CONTINUED = ("ftrl", "deepfm")  # warm-started from the champion: each version records which one
_names = itertools.count()


def window(i: int) -> datetime:
    return START + timedelta(minutes=i * W)


def emit(dirs: dict[str, Path], i: int, drift: float, *, corrupt: bool = False) -> None:
    """Window ``i``'s file, once the previous window's is being read (see ``wait_for_part_files``)."""
    if i > 0:
        wait_for_part_files(Path(partition_path(dirs["partitions"], window(i - 1))))
    events = window_events(window(i), W, N, seed=31, drift=drift, corrupt=corrupt)
    write_jsonl(events, dirs["source"], f"w{i:02d}")


def wait_committed(sink: Path, windows: range, timeout: float = 120.0) -> None:
    """Every window a run reads: Flink may commit partitions of one checkpoint in any order."""
    markers = [Path(partition_path(sink, window(i))) / "_SUCCESS" for i in windows]
    deadline = time.monotonic() + timeout
    while not all(marker.exists() for marker in markers):
        missing = [str(m) for m in markers if not m.exists()]
        assert time.monotonic() < deadline, f"{missing} did not appear within {timeout} s"
        time.sleep(0.25)


@pytest.fixture
def loop_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mlflow_server: str):
    dirs = {name: tmp_path / name for name in ("source", "partitions", "checkpoints", "flink", "services")}
    for folder in dirs.values():
        folder.mkdir()
    monkeypatch.setenv("MLPLAT_REALTIME_SOURCE", str(dirs["source"]))
    monkeypatch.setenv("MLPLAT_REALTIME_PARTITIONS", str(dirs["partitions"]))
    monkeypatch.setenv("MLPLAT_REALTIME_CHECKPOINTS", str(dirs["checkpoints"]))
    monkeypatch.setenv("MLPLAT_FLINK_STATE_DIR", str(dirs["flink"]))
    monkeypatch.setenv("MLFLOW_TRACKING_URI", mlflow_server)
    yield dirs
    for state in [*dirs["flink"].iterdir(), *dirs["services"].iterdir()]:  # nothing left if the test failed
        stop_service(ServiceState(state))


def ftrl_details(run) -> dict:
    """The ftrl_train node's details in the run's report: rows learnt, examples before and after."""
    report = json.loads(Path(xcom_value(run, "train", "report_path")).read_text())
    return report["nodes"]["classifier"]["details"]["ftrl"]


def test_flink_partitions_retrain_gate_promote_and_serving_follows(
    loop_dirs, airflow_db, run_root, mlflow_server, spark_connect_server
):
    """One Flink job feeds every model: ``spark_lr`` retrained from scratch, ``ftrl`` and ``deepfm`` continuing
    from their champion.

    The train task runs on Spark Connect when ``spark_connect_default`` exists: it does for ``ftrl`` (whose
    state is Python models, read and written through the client), not for ``spark_lr``; ``deepfm`` trains
    through the launcher, without Spark.
    """
    from mlflow import MlflowClient

    from airflow_mlplat.hooks.model_service import LocalModelServiceHook
    from airflow_mlplat.realtime.training import MODELS, WARM_START_TAG

    dags = load_dags(REPO_ROOT / "dags")
    ingest, retrain = dags.get_dag("realtime_ingest"), dags.get_dag("realtime_retrain")
    sink = loop_dirs["partitions"]
    models = {kind: f"rt_loop_{kind}_{next(_names)}" for kind in KINDS}
    registry = MlflowClient(tracking_uri=mlflow_server, registry_uri=mlflow_server)

    def retrain_for(kind: str, i: int, **conf):
        with pytest.MonkeyPatch.context() as env:
            if kind in ON_CONNECT:
                env.setenv("AIRFLOW_CONN_SPARK_CONNECT_DEFAULT", connection_uri(spark_connect_server))
            else:
                env.delenv("AIRFLOW_CONN_SPARK_CONNECT_DEFAULT", raising=False)
            run = run_dag(
                retrain,
                {
                    "model": kind,
                    "window_minutes": W,
                    "window_end": (window(i) + timedelta(minutes=W)).isoformat(),
                    "train_windows": 2,
                    "model_name": models[kind],
                    "sensor_timeout_s": 60,
                    "sensor_poke_interval_s": 0.5,
                    **conf,
                },
            )
        assert str(run.state) == "success", (kind, task_states(run))
        report = json.loads(Path(xcom_value(run, "train", "report_path")).read_text())
        if MODELS[kind].ranking:  # a launcher job, no Spark
            assert report["kind"] == kind and report["launcher"]["phase"] == "succeeded", report
        else:
            assert report["spark"].get("session", "submit") == ("connect" if kind in ON_CONNECT else "submit"), kind
        return run

    def warm_start_of(kind: str, version: str) -> str | None:
        return registry.get_model_version(models[kind], version).tags.get(WARM_START_TAG)

    started = run_dag(ingest, {"checkpoint_interval": "2 s"})
    assert str(started.state) == "success", task_states(started)
    job = FlinkJob(
        xcom_value(started, "ensure_running", "job_id"),
        xcom_value(started, "ensure_running", "rest_url"),
        str(loop_dirs["flink"] / "behaviour-partitions"),
    )
    hook = FlinkHook()
    services: dict[str, dict] = {}
    watchers: dict[str, VersionWatcher] = {}
    hooks = LocalModelServiceHook(loop_dirs["services"])
    try:
        for i in range(3):
            emit(loop_dirs, i, drift=0.0)
        emit(loop_dirs, 3, drift=1.0)  # its events move the watermark past window 2
        wait_committed(sink, range(0, 3))
        for kind in KINDS:
            first = retrain_for(kind, 2)
            assert xcom_value(first, "gate")["decision"] == "promoted", kind
            assert alias_version(registry, models[kind], "champion") == "1"
            services[kind] = hooks.deploy(
                f"loop-{kind}", [f"models:/{models[kind]}@champion"], tracking_uri=mlflow_server, poll_interval=3600
            )
            watchers[kind] = VersionWatcher(services[kind]["url"], dict.fromkeys(FEATURES, 1.0))
            watchers[kind].start()
        assert {kind: warm_start_of(kind, "1") for kind in CONTINUED} == dict.fromkeys(CONTINUED, "none")

        emit(loop_dirs, 4, drift=1.0)
        emit(loop_dirs, 5, drift=1.0)
        emit(loop_dirs, 6, drift=1.0, corrupt=True)  # a bad batch, committed when window 7 arrives
        wait_committed(sink, range(3, 6))
        for kind in KINDS:
            second = retrain_for(kind, 5, serving_url=services[kind]["url"])  # trains on windows 3 and 4
            evaluation = xcom_value(second, "evaluate")
            assert evaluation["candidate"]["rows"] == evaluation["champion"]["rows"] == N
            assert evaluation["candidate"]["auc_roc"] > evaluation["champion"]["auc_roc"], (kind, evaluation)
            assert xcom_value(second, "gate")["decision"] == "promoted", kind
            answer = httpx.post(f"{services[kind]['url']}/predict", json=dict.fromkeys(FEATURES, 1.0), timeout=10)
            assert answer.status_code == 200 and answer.headers["x-model-version"] == "2", kind
            watchers[kind].stop()
            assert watchers[kind].seen and watchers[kind].failures == [], (kind, watchers[kind].failures[:5])
            versions = watchers[kind].versions()
            assert versions[0] == "1" and versions[-1] == "2" and versions == sorted(versions), kind
        assert {kind: warm_start_of(kind, "2") for kind in CONTINUED} == dict.fromkeys(CONTINUED, "1")

        emit(loop_dirs, 7, drift=1.0)
        emit(loop_dirs, 8, drift=1.0)
        wait_committed(sink, range(6, 8))
        thirds = {}
        for kind in KINDS:
            # Trains on the bad batch alone; no floors, so it is rejected for losing to the champion on the same rows.
            third = thirds[kind] = retrain_for(kind, 7, train_windows=1, floors={}, serving_url=services[kind]["url"])
            evaluation = xcom_value(third, "evaluate")
            assert evaluation["candidate"]["auc_roc"] < evaluation["champion"]["auc_roc"] - 0.2, (kind, evaluation)
            assert evaluation["candidate"]["rows"] == evaluation["champion"]["rows"] == N
            decision = xcom_value(third, "gate")
            assert decision["decision"] == "rejected", (kind, decision)
            assert xcom_value(third, "notify_serving")["notified"] is False
            assert alias_version(registry, models[kind], "champion") == "2"
            latest = promotion_history(models[kind], mlflow_server)[0]
            assert latest["decision"] == "rejected"
            assert (str(latest["candidate"]), str(latest["champion"])) == ("3", "2")
            assert latest["candidate_value"] == pytest.approx(evaluation["candidate"]["auc_roc"])
            assert latest["champion_value"] == pytest.approx(evaluation["champion"]["auc_roc"])
            still = httpx.post(f"{services[kind]['url']}/predict", json=dict.fromkeys(FEATURES, 1.0), timeout=10)
            assert still.headers["x-model-version"] == "2", kind
        assert {kind: warm_start_of(kind, "3") for kind in CONTINUED} == dict.fromkeys(CONTINUED, "2")

        emit(loop_dirs, 9, drift=1.0)
        wait_committed(sink, range(8, 9))
        after = {kind: retrain_for(kind, 8, train_windows=1, floors={}) for kind in CONTINUED}
        # version 3 (window 6) is forgotten
        assert {kind: warm_start_of(kind, "4") for kind in CONTINUED} == dict.fromkeys(CONTINUED, "2")
        rejected, continued = ftrl_details(thirds["ftrl"]), ftrl_details(after["ftrl"])
        assert continued["examples_before"] == rejected["examples_before"] == 4 * N, (rejected, continued)
        assert continued["examples"] == 5 * N
        # deepfm started from version 2's exported weights and encoded with its feature map, as version 3 did
        reports = [
            json.loads(Path(xcom_value(run, "train", "report_path")).read_text())
            for run in (thirds["deepfm"], after["deepfm"])
        ]
        assert [r["warm_started_from"] for r in reports] == ["2", "2"]
        assert all(Path(r["warm_start"].removeprefix("file://")).parent.name == "2" for r in reports)
        assert reports[0]["feature_map"] == reports[1]["feature_map"]
        assert hook.is_running(job)  # one job served every window
    finally:
        for watcher in watchers.values():
            watcher.stop()
        for kind in services:
            hooks.stop(f"loop-{kind}")
        hook.cancel(job)
