"""What the platform does around a local job: runtimes, restarts with resume, checkpoint and model
export, the queue, TensorBoard and the shell client. Every process is real."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from airflow_mlplat.launcher.backends import LauncherError, conclude, get_backend
from airflow_mlplat.launcher.runtimes import project_root
from airflow_mlplat.launcher.spec import TrainingJob
from airflow_mlplat.services.process import wait_until
from tests.launcher.conftest import assert_no_strays, scripted_job

#: A training loop with checkpoints: one step every 0.25 s, each checkpoint a directory renamed into
#: place; it resumes from its newest one, and worker-0 writes its model to MLPLAT_MODEL_DIR.
STEPPER = (
    "import json, os, sys, time\n"
    "me = os.environ['MLPLAT_ROLE'] + '-' + os.environ['MLPLAT_INDEX']\n"
    "ckpt = os.environ['MLPLAT_CHECKPOINT_DIR']\n"
    "os.makedirs(ckpt, exist_ok=True)\n"
    "mine = sorted(d for d in os.listdir(ckpt) if d.startswith(me + '-step-'))\n"
    "start = int(mine[-1].rsplit('-', 1)[1]) + 1 if mine else 0\n"
    "print(f'{me} starts at step {start}', flush=True)\n"
    "steps = int(os.environ.get('STEPS', '12'))\n"
    "for step in range(start, steps):\n"
    "    time.sleep(0.25)\n"
    "    tmp = os.path.join(ckpt, f'.{me}-{step}')\n"
    "    os.makedirs(tmp)\n"
    "    open(os.path.join(tmp, 'state.json'), 'w').write(json.dumps({'step': step}))\n"
    "    os.replace(tmp, os.path.join(ckpt, f'{me}-step-{step:04d}'))\n"
    "if os.environ.get('MLPLAT_EXPORT') == '1':\n"
    "    if os.environ.get('WRITE_MODEL', '1') == '1':\n"
    "        os.makedirs(os.environ['MLPLAT_MODEL_DIR'], exist_ok=True)\n"
    "        open(os.path.join(os.environ['MLPLAT_MODEL_DIR'], 'model.txt'), 'w').write(f'{me} {steps}')\n"
    "    open(os.environ['MLPLAT_METRICS_FILE'], 'w').write(json.dumps({'started_at': start}))\n"
)


def stepper_job(name: str, **overrides) -> TrainingJob:
    fields = dict(
        name=name,
        framework="pytorch",
        image="pytorch/pytorch:2.13.0",
        command=["python", "-c", STEPPER],
        workers=2,
        timeout=300.0,
    )
    fields.update(overrides)
    return TrainingJob.from_dict(fields)


def submitted(state_root: Path, job: TrainingJob, **options):
    backend = get_backend("local", state_root=str(state_root), **options)
    handle = backend.handle(job)
    backend.submit(job, handle)
    return backend, handle


def checkpoints(handle: dict, replica: str) -> list[str]:
    root = Path(handle["state_dir"]) / "data" / "checkpoints"
    return sorted(p.name for p in root.glob(f"{replica}-step-*")) if root.exists() else []


def test_an_image_without_a_runtime_is_refused_before_anything_exists(state_root: Path):
    job = scripted_job("noruntime", image="mxnet/python:1.9.1")
    backend = get_backend("local", state_root=str(state_root))
    with pytest.raises(LauncherError) as err:
        backend.submit(job, backend.handle(job))
    assert "image 'mxnet/python:1.9.1' has no local runtime" in str(err.value)
    assert "tensorflow/tensorflow -> .venv-tf/bin/python" in str(err.value)
    assert not (state_root / "noruntime").exists()


def test_each_image_runs_on_its_runtime(state_root: Path, tmp_path: Path):
    probe = (
        "import os, sys; out = os.path.join(os.environ['MLPLAT_DATA_DIR'], 'exe'); "
        "open(out, 'w').write(sys.executable + '|' + os.environ['PATH'].split(os.pathsep)[0])"
    )
    seen = {}
    for image, venv in (("tensorflow/tensorflow:2.21.0", ".venv-tf"), ("paddlepaddle/paddle:3.0.0", ".venv-paddle")):
        job = scripted_job("probe", "pytorch", image=image, command=["python", "-c", probe], data_volume={"keep": True})
        backend, handle = submitted(state_root, job)
        status = backend.wait(handle, poll_interval=0.2, on_log=lambda line: None)
        assert status.succeeded, status.message
        seen[venv] = (Path(handle["state_dir"]) / "data" / "exe").read_text().split("|")
    for venv, (exe, first_on_path) in seen.items():
        assert exe == str(project_root() / venv / "bin" / "python")
        assert first_on_path == str(project_root() / venv / "bin")


def test_a_killed_worker_is_restarted_and_resumes_from_its_checkpoint(state_root: Path, tmp_path: Path):
    job = stepper_job("resume", backoff_limit=2, output_path=(tmp_path / "out").as_uri(), env={"STEPS": "16"})
    backend, handle = submitted(state_root, job)
    assert wait_until(lambda: len(checkpoints(handle, "worker-1")) >= 3, timeout=60)
    status = json.loads((Path(handle["state_dir"]) / "status.json").read_text())["status"]
    victim = status["replicas"]["worker-1"]["pid"]
    os.killpg(victim, signal.SIGKILL)
    final = backend.wait(handle, poll_interval=0.2, on_log=lambda line: None)
    assert final.succeeded, final.message
    worker = final.replicas["worker-1"]
    assert worker["restarts"] == 1 and worker["exit_code"] == 0 and len(worker["pids"]) == 2
    assert final.replicas["worker-0"]["restarts"] == 0
    assert_no_strays(handle, final)


def test_resume_reads_the_step_from_the_checkpoint(state_root: Path):
    job = stepper_job("resumelog", backoff_limit=1, workers=1, env={"STEPS": "40"})
    backend, handle = submitted(state_root, job)
    assert wait_until(lambda: len(checkpoints(handle, "worker-0")) >= 4, timeout=60)
    status = json.loads((Path(handle["state_dir"]) / "status.json").read_text())["status"]
    os.killpg(status["replicas"]["worker-0"]["pid"], signal.SIGKILL)

    def after_restart() -> str:
        log = backend.logs(handle, "worker-0", tail=1000)
        return log.split("restart 1/1", 1)[1] if "restart 1/1" in log else ""

    assert wait_until(lambda: re.search(r"worker-0 starts at step (\d+)", after_restart()), timeout=30)
    resumed_at = int(re.search(r"worker-0 starts at step (\d+)", after_restart()).group(1))
    final = backend.wait(handle, poll_interval=0.2, on_log=lambda line: None)
    assert final.succeeded, final.message
    assert resumed_at >= 4 and final.metrics == {"started_at": resumed_at}
    assert_no_strays(handle, final)


def test_a_worker_failing_beyond_the_backoff_limit_fails_the_job(state_root: Path):
    job = scripted_job("giveup", "pytorch", backoff_limit=2, env={"MODE_WORKER_1": "fail"})
    backend, handle = submitted(state_root, job)
    status = backend.wait(handle, poll_interval=0.2, on_log=lambda line: None)
    assert not status.succeeded
    assert status.message.startswith("worker-1 exited with code 3 after 2 restart(s)")
    assert status.replicas["worker-1"]["restarts"] == 2
    assert_no_strays(handle, status)


def test_the_platform_exports_the_model_directory_after_success(state_root: Path, tmp_path: Path):
    output = tmp_path / "models" / "run-1"
    job = stepper_job("export", output_path=output.as_uri(), env={"STEPS": "2"})
    backend, handle = submitted(state_root, job)
    status = backend.wait(handle, poll_interval=0.2, on_log=lambda line: None)
    result = conclude(handle, status)
    assert result["output_path"] == output.as_uri()
    assert (output / "model.txt").read_text() == "worker-0 2"
    assert [p.name for p in output.parent.iterdir()] == ["run-1"]  # no temporary left beside it
    assert_no_strays(handle, status)


def test_an_output_without_a_model_fails_naming_the_model_dir(state_root: Path, tmp_path: Path):
    job = stepper_job("nomodel", output_path=(tmp_path / "out").as_uri(), env={"STEPS": "1", "WRITE_MODEL": "0"})
    backend, handle = submitted(state_root, job)
    status = backend.wait(handle, poll_interval=0.2, on_log=lambda line: None)
    assert not status.succeeded
    assert "worker-0 exited with code 3" in status.message and "MLPLAT_MODEL_DIR" in status.message
    assert not (tmp_path / "out").exists()


def test_a_job_that_does_not_fit_waits_in_the_queue_first_in_first_out(state_root: Path):
    profile = {"local_capacity": {"cpu": "3", "memory": "8Gi"}}
    slow = {"MODE_WORKER_0": "slow", "MODE_WORKER_1": "slow"}
    first = scripted_job("first", env=slow)  # 1 ps + 2 workers of 1 core each: the whole capacity
    second = scripted_job("second", env=slow)
    backend, h1 = submitted(state_root, first, profile=profile)
    assert wait_until(lambda: backend.status(h1).phase == "running", timeout=30)
    h2 = backend.handle(second)
    backend.submit(second, h2)
    assert wait_until(lambda: backend.status(h2).phase == "queued", timeout=30)
    assert "queued: waiting for resources (cpu 3 > 0 free;" in backend.status(h2).message
    s1 = backend.wait(h1, poll_interval=0.2, on_log=lambda line: None)
    started_second = time.time()
    s2 = backend.wait(h2, poll_interval=0.2, on_log=lambda line: None)
    assert s1.succeeded and s2.succeeded, (s1.message, s2.message)
    assert time.time() - started_second > 2.5  # it only ran once the first had ended (its workers sleep 3 s)
    assert_no_strays(h1, s1)
    assert_no_strays(h2, s2)


def test_a_job_larger_than_the_capacity_is_refused(state_root: Path):
    job = scripted_job("huge", worker_resources={"cpu": "4"})
    backend = get_backend("local", state_root=str(state_root), profile={"local_capacity": {"cpu": "2"}})
    with pytest.raises(LauncherError, match=r"needs more than the local capacity \(cpu 9 > 2 free\)"):
        backend.submit(job, backend.handle(job))
    assert not (state_root / "huge").exists()


#: Writes a TensorBoard scalar series with TensorFlow, then waits until the test has read it.
SCALARS = (
    "import os, time\n"
    "import tensorflow as tf\n"
    "logdir = os.path.join(os.environ['MLPLAT_TENSORBOARD_DIR'], 'worker-0')\n"
    "with tf.summary.create_file_writer(logdir).as_default():\n"
    "    for step in range(5):\n"
    "        tf.summary.scalar('loss', 1.0 / (step + 1), step=step)\n"
    "print('scalars written', flush=True)\n"
    "done = os.path.join(os.environ['MLPLAT_DATA_DIR'], 'read')\n"
    "while not os.path.exists(done):\n"
    "    time.sleep(0.2)\n"
)


def test_tensorboard_serves_the_jobs_scalars_on_loopback(state_root: Path):
    job = scripted_job(
        "board", "tensorflow-multiworker", image="tensorflow/tensorflow:2.21.0",
        command=["python", "-c", SCALARS], workers=1, tensorboard=True,
    )  # fmt: skip
    backend, handle = submitted(state_root, job)
    url = handle["tensorboard_url"]
    assert url.startswith("http://127.0.0.1:")
    query = f"{url}data/plugin/scalars/scalars?run=worker-0&tag=loss"

    def series():
        try:
            with urllib.request.urlopen(query, timeout=2) as response:
                return json.loads(response.read())
        except OSError:
            return None

    assert wait_until(lambda: series() and len(series()) == 5, timeout=90, interval=1.0), backend.logs(
        handle, "tensorboard-0"
    )
    assert [round(v, 4) for _, _, v in series()] == [1.0, 0.5, 0.3333, 0.25, 0.2]
    port = int(url.rstrip("/").rsplit(":", 1)[1])
    listeners = subprocess.run(["ss", "-ltnH", f"sport = :{port}"], capture_output=True, text=True).stdout
    assert listeners.strip() and all("127.0.0.1:" in line for line in listeners.splitlines()), listeners
    (Path(handle["state_dir"]) / "data" / "read").write_text("")
    status = backend.wait(handle, poll_interval=0.3, on_log=lambda line: None)
    assert status.succeeded and status.replicas["tensorboard-0"]["state"] == "stopped", status.message
    assert_no_strays(handle, status)


def cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "airflow_mlplat", *args], capture_output=True, text=True, timeout=180, env=env
    )


def test_the_shell_client_submits_watches_exports_and_kills(state_root: Path, tmp_path: Path):
    import yaml

    output = tmp_path / "out"
    spec = tmp_path / "job.yaml"
    fields = stepper_job("shell", output_path=output.as_uri(), env={"STEPS": "400"}).to_dict()
    spec.write_text(yaml.safe_dump(fields))
    where = ["--state-root", str(state_root)]
    submit = cli("train", "submit", str(spec), "--detach", *where)
    assert submit.returncode == 0 and "submitted training job shell (local)" in submit.stdout, submit.stderr
    handle = json.loads((state_root / "shell" / "handle.json").read_text())
    assert wait_until(lambda: len(checkpoints(handle, "worker-1")) >= 2, timeout=60)

    status = cli("train", "status", "shell", *where)
    assert status.returncode == 0 and status.stdout.startswith("shell: running"), status.stderr
    assert "worker-1       running" in status.stdout
    logs = cli("train", "logs", "shell", "--replica", "worker-1", *where)
    assert "worker-1 starts at step 0" in logs.stdout
    export = cli("train", "export", "shell", *where)
    assert export.returncode == 0, export.stderr
    exported = sorted((output / "checkpoints").iterdir())
    assert len(exported) == 1 and exported[0].name.startswith("worker-")
    assert json.loads((exported[0] / "state.json").read_text())["step"] >= 1

    kill = cli("train", "kill", "shell", *where)
    assert kill.returncode == 0 and "killed training job shell" in kill.stdout
    assert not (state_root / "shell").exists()
    unknown = cli("train", "status", "shell", *where)
    assert unknown.returncode == 2 and "no local training job 'shell'" in unknown.stderr

    small = tmp_path / "small.yaml"
    small.write_text(yaml.safe_dump(stepper_job("shell", env={"STEPS": "2"}).to_dict()))
    done = cli("train", "submit", str(small), *where)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout[done.stdout.rindex("\n{\n") :])["phase"] == "succeeded"
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({**fields, "workers": 0}))
    refused = cli("train", "submit", str(bad), *where)
    assert refused.returncode == 2 and "workers must be an integer >= 1, got 0" in refused.stderr
