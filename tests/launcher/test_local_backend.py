"""The local backend runs every replica as a real process with its manifest's exact env, and cleans up.

When a job is over its state directory is removed (only a kept data volume stays), so these tests
read what replicas wrote to a kept volume and the PIDs from the last ``JobStatus``.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from pathlib import Path

import pytest

from airflow_mlplat.launcher import FRAMEWORKS
from airflow_mlplat.launcher.backends import get_backend
from airflow_mlplat.launcher.manifests import container_env
from airflow_mlplat.services.process import pid_alive, wait_until
from tests.launcher.conftest import assert_no_strays, job_pids, scripted_job


def run(state_root: Path, job, poll: float = 0.2):
    backend = get_backend("local", state_root=str(state_root))
    handle = backend.handle(job)
    backend.submit(job, handle)
    return backend, handle, backend.wait(handle, poll_interval=poll, on_log=lambda line: None)


def started(state_dir: Path) -> int:
    """How many replicas have recorded their env (i.e. are running their main container)."""
    return len(list((state_dir / "data" / "env").glob("*.json")))


def addresses(env: dict[str, str]) -> list[str]:
    """Every peer address an env names."""
    out = []
    for key in ("PS_HOSTS", "WORKER_HOSTS", "MASTER_ADDR", "PADDLE_TRAINER_ENDPOINTS", "PADDLE_PSERVERS_IP_PORT_LIST"):
        out += env[key].split(",") if env.get(key) else []
    if "TF_CONFIG" in env:
        out += [a for hosts in json.loads(env["TF_CONFIG"])["cluster"].values() for a in hosts]
    return out


def manifest_envs(state_dir: Path) -> dict[str, dict[str, str]]:
    out = {}
    for doc in json.loads((state_dir / "manifests.json").read_text()):
        lbls = doc["metadata"]["labels"]
        if doc["kind"] in ("Job", "Deployment") and lbls.get("mlplat.io/role") in ("ps", "chief", "worker"):
            out[f"{lbls['mlplat.io/role']}-{lbls['mlplat.io/index']}"] = container_env(doc["spec"]["template"]["spec"])
    return out


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_process_env_is_the_manifest_env_over_an_allow_listed_base(
    state_root: Path, framework: str, monkeypatch: pytest.MonkeyPatch
):
    from airflow_mlplat.launcher.runtimes import INHERITED_ENV, project_root

    monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE", "postgresql://etl:hunter2@db/warehouse")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "hunter3")
    job = scripted_job("envjob", framework, data_volume={"keep": True})
    backend = get_backend("local", state_root=str(state_root))
    handle = backend.handle(job)
    backend.submit(job, handle)
    state_dir = Path(handle["state_dir"])
    expected = manifest_envs(state_dir)  # read while the job runs: the folder goes when it ends
    status = backend.wait(handle, poll_interval=0.2, on_log=lambda line: None)
    assert status.succeeded, status.message
    assert set(expected) == {f"{r}-{i}" for r, i in job.replicas()}
    for name, env in expected.items():
        seen = json.loads((state_dir / "data" / "env" / f"{name}.json").read_text())
        inherited = {k: v for k, v in seen.items() if k not in env}
        # Exactly the manifest's variables over the allow-listed base: no connection, key or DB URL.
        assert {k: seen[k] for k in env} == env
        assert set(inherited) <= set(INHERITED_ENV) | {"PWD", "LC_CTYPE"}, sorted(set(inherited) - set(INHERITED_ENV))
        assert inherited["PATH"].split(os.pathsep)[0] == str(Path(sys.executable).parent)
        assert inherited["PYTHONPATH"].split(os.pathsep)[0] == str(project_root())
        assert addresses(env) and all(a.startswith("127.0.0.1") for a in addresses(env))
    assert status.metrics == {"accuracy": 0.9}
    assert_no_strays(handle, status)
    # Nothing of the job but the kept volume is left, and no file there holds a secret.
    assert sorted(p.name for p in state_dir.iterdir()) == ["data"]
    for path in state_root.rglob("*"):
        if path.is_file():
            assert b"hunter" not in path.read_bytes(), path


def test_tensorflow_ps_gets_a_chief_that_ends_the_job(state_root: Path):
    job = scripted_job("tfps", "tensorflow-ps", ps=2, data_volume={"keep": True})
    _, handle, status = run(state_root, job)
    assert status.succeeded and status.message == "chief succeeded; ps, worker stopped"
    assert {n: r["state"] for n, r in status.replicas.items()} == {
        "ps-0": "stopped", "ps-1": "stopped", "chief-0": "succeeded", "worker-0": "succeeded", "worker-1": "succeeded",
    }  # fmt: skip
    env = json.loads((Path(handle["state_dir"]) / "data" / "env" / "chief-0.json").read_text())
    assert env["JOB_NAME"] == "chief" and env["MLPLAT_EXPORT"] == "1"
    assert json.loads(env["TF_CONFIG"])["cluster"]["chief"] == [env["CHIEF_HOSTS"]]
    assert_no_strays(handle, status)


def test_ps_stopped_once_all_workers_succeed(state_root: Path):
    job = scripted_job("psjob", "paddle-ps", env={"MODE_WORKER_1": "slow"})
    _, handle, status = run(state_root, job)
    assert status.succeeded and status.message == "all 2 workers succeeded; ps stopped"
    assert status.replicas["ps-0"]["state"] == "stopped"
    assert [status.replicas[f"worker-{i}"]["exit_code"] for i in range(2)] == [0, 0]
    # One rule for success and failure: nothing stays but what the job asked to keep.
    assert not Path(handle["state_dir"]).exists()
    assert_no_strays(handle, status)


def test_worker_failure_stops_everything_and_removes_the_data(state_root: Path):
    job = scripted_job("failjob", "paddle-ps", env={"MODE_WORKER_1": "fail", "MODE_WORKER_0": "hang"})
    _, handle, status = run(state_root, job)
    assert not status.succeeded
    assert status.message.startswith("worker-1 exited with code 3; log tail:")
    assert {n: r["state"] for n, r in status.replicas.items()} == {
        "ps-0": "stopped",
        "worker-0": "stopped",
        "worker-1": "failed",
    }
    assert not Path(handle["state_dir"]).exists()
    assert_no_strays(handle, status)


def test_failure_keeps_the_data_volume_when_asked(state_root: Path):
    job = scripted_job("keepjob", env={"MODE_WORKER_0": "fail"}, data_volume={"keep": True})
    _, handle, status = run(state_root, job)
    assert not status.succeeded
    assert (Path(handle["state_dir"]) / "data" / "env" / "worker-0.json").exists()
    assert_no_strays(handle, status)


def test_a_finished_name_can_be_submitted_again(state_root: Path):
    for _ in range(2):
        _, handle, status = run(state_root, scripted_job("daily", "pytorch"))
        assert status.succeeded, status.message
        assert_no_strays(handle, status)


def test_timeout_stops_everything(state_root: Path):
    job = scripted_job("slowjob", env={"MODE_WORKER_0": "hang"}, timeout=8.0)
    _, handle, status = run(state_root, job, poll=0.5)
    assert not status.succeeded and status.message.startswith("timed out after 8.0 s")
    assert_no_strays(handle, status)


def test_kill_stops_every_process_and_removes_the_job(state_root: Path):
    job = scripted_job("killjob", env={"MODE_WORKER_0": "hang", "MODE_WORKER_1": "hang"}, data_volume={"keep": True})
    backend = get_backend("local", state_root=str(state_root))
    handle = backend.handle(job)
    backend.submit(job, handle)
    state_dir = Path(handle["state_dir"])
    assert wait_until(lambda: started(state_dir) == 3, timeout=60)
    status = json.loads((state_dir / "status.json").read_text())["status"]
    running = job_pids(handle, status)
    assert len(running) == 4 and all(pid_alive(p) for p in running)
    backend.kill(handle)
    assert not any(pid_alive(p) for p in running)
    assert sorted(p.name for p in state_dir.iterdir()) == ["data"]  # the kept volume only
    assert backend.status(handle).phase == "failed"
    backend.kill(handle)  # idempotent


def test_replicas_die_with_a_killed_controller(state_root: Path):
    job = scripted_job("orphans", env={"MODE_WORKER_0": "hang", "MODE_WORKER_1": "hang"})
    backend = get_backend("local", state_root=str(state_root))
    handle = backend.handle(job)
    backend.submit(job, handle)
    state_dir = Path(handle["state_dir"])
    assert wait_until(lambda: started(state_dir) == 3, timeout=60)
    pids = job_pids(handle)
    os.kill(pids[0], signal.SIGKILL)  # the controller, with no chance to clean up
    assert wait_until(lambda: not any(pid_alive(p) for p in pids), timeout=30)
    status = backend.status(handle)
    assert status.phase == "failed" and "died" in status.message
    backend.finish(handle, status)
    assert_no_strays(handle, status)


def test_init_step_stages_data_once(state_root: Path, tmp_path: Path):
    source = tmp_path / "dataset"
    source.mkdir()
    (source / "part-0.csv").write_text("a,b\n1,2\n")
    job = scripted_job(
        "stagejob", data_source=source.as_uri(), data_volume={"keep": True}, env={"MODE_WORKER_0": "slow"}
    )
    backend = get_backend("local", state_root=str(state_root))
    handle = backend.handle(job)
    backend.submit(job, handle)
    assert wait_until(lambda: started(Path(handle["state_dir"])) == 3, timeout=60)
    logs = "".join(backend.logs(handle, name, tail=1000) for name in ("ps-0", "worker-0", "worker-1"))
    status = backend.wait(handle, poll_interval=0.2, on_log=lambda line: None)
    assert status.succeeded, status.message
    assert (Path(handle["state_dir"]) / "data" / "input" / "part-0.csv").read_text() == "a,b\n1,2\n"
    assert logs.count("(already staged)") == 2 and logs.count("--- stage-data:") == 3
    assert_no_strays(handle, status)


def test_second_submit_of_a_running_job_is_refused(state_root: Path):
    from airflow_mlplat.launcher.backends import LauncherError

    job = scripted_job("twice", env={"MODE_WORKER_0": "hang"})
    backend = get_backend("local", state_root=str(state_root))
    handle = backend.handle(job)
    backend.submit(job, handle)
    status = None
    try:
        with pytest.raises(LauncherError, match="'twice' is already running"):
            backend.submit(job, backend.handle(job))
        assert wait_until(lambda: started(Path(handle["state_dir"])) == 3, timeout=60)
        status = backend.status(handle)
    finally:
        backend.kill(handle)
    assert_no_strays(handle, status)
