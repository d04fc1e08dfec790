"""PaddlePaddle trained for real through the local launcher, on CPU, every replica a real Paddle process.

- ``paddle-ps``: fleet in parameter-server mode (1 pserver, 2 trainers, asynchronous), the example
  ``airflow_mlplat.launcher.examples.paddle_ps``. The ps replica serves until the launcher stops it
  once both trainers succeeded; the platform copies worker-0's inference model to the job's output.
- ``paddle-collective``: ``paddle.DataParallel`` over gloo (2 trainers), the example
  ``airflow_mlplat.launcher.examples.paddle_collective``.

The jobs run on the ``paddlepaddle/paddle`` images' local runtime (``.venv-paddle``, built by
``make paddle``). A missing runtime fails these tests: it is not a reason to skip them. The
runtime is Paddle 3.0.0, the last release whose parameter server works (3.1.0 lacks the ``send``
operator, 3.1.1+ the whole PS core: see ``paddle_ps``); the collective example also runs on 3.3.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

from airflow_mlplat.launcher.backends import conclude, get_backend
from airflow_mlplat.launcher.runtimes import project_root, resolve
from airflow_mlplat.launcher.spec import TrainingJob
from airflow_mlplat.services.process import pid_alive
from tests.launcher.conftest import CRITEO, assert_no_strays

PS_IMAGE = "paddlepaddle/paddle:3.0.0"
COLLECTIVE_IMAGE = PS_IMAGE
EXAMPLES = "airflow_mlplat.launcher.examples"

#: Loads the exported inference model in the Paddle runtime and scores the sample: argv = model prefix, CSV.
PREDICT = (
    "import json, os, sys\n"
    "os.environ['FLAGS_enable_pir_api'] = '0'  # the PS example exports the legacy program format\n"
    "import numpy as np, paddle\n"
    "from airflow_mlplat.launcher.examples import ctr_data\n"
    "paddle.enable_static()\n"
    "exe = paddle.static.Executor(paddle.CPUPlace())\n"
    "program, feeds, fetches = paddle.static.load_inference_model(sys.argv[1], exe)\n"
    "dense, sparse, labels = ctr_data.load_criteo(sys.argv[2], 100)\n"
    "(prob,) = exe.run(program, feed={'dense': dense, 'sparse': sparse}, fetch_list=fetches)\n"
    "prob = np.asarray(prob).reshape(-1)\n"
    "print(json.dumps({'feeds': feeds, 'n': int(prob.size), 'min': float(prob.min()), 'max': float(prob.max()),\n"
    "                  'accuracy': float(((prob > 0.5) == (labels > 0.5)).mean())}))\n"
)


def run_job(tmp_path: Path, **fields: Any) -> tuple[dict[str, Any], Any, dict[str, Any], dict[str, Any]]:
    """Submit, wait, read what the replicas left under ``MLPLAT_DATA_DIR/ranks``, conclude.

    Returns ``(handle, status, ranks, result)``; ``ranks`` maps ``worker-0`` etc. to its JSON.
    """
    spec: dict[str, Any] = dict(
        data_source=CRITEO.as_uri(),
        output_path=(tmp_path / "out").as_uri(),
        timeout=240.0,
        data_volume={"keep": True},  # what the replicas wrote there outlives the job, for the assertions
    )
    spec.update(fields)
    job = TrainingJob.from_dict(spec)
    backend = get_backend("local", state_root=str(tmp_path / "launcher"))
    handle = backend.handle(job)
    backend.submit(job, handle)
    status = backend.wait(handle, poll_interval=0.5, on_log=lambda line: None)
    ranks_dir = Path(handle["state_dir"]) / "data" / "ranks"
    ranks = {p.stem: json.loads(p.read_text()) for p in ranks_dir.glob("*.json")} if ranks_dir.is_dir() else {}
    assert status.succeeded, f"{status.message}\n{worker_logs(backend, handle)}"
    result = conclude(handle, status)
    return handle, status, ranks, result


def worker_logs(backend: Any, handle: dict[str, Any]) -> str:
    try:
        return "\n".join(backend.logs(handle, f"worker-{i}", tail=30) for i in (0, 1))
    except Exception as exc:  # the logs of a job that is gone: the status message has to do
        return f"(no logs: {exc})"


def predict(model_prefix: Path) -> dict[str, Any]:
    python = resolve(PS_IMAGE)
    env = {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", ""), "OMP_NUM_THREADS": "1"}
    env["PYTHONPATH"] = str(project_root())
    done = subprocess.run(
        [python, "-c", PREDICT, str(model_prefix), str(CRITEO)], capture_output=True, text=True, timeout=120, env=env
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_paddle_ps_trains_through_parameter_servers_and_the_platform_exports_the_model(tmp_path: Path):
    handle, status, ranks, result = run_job(
        tmp_path,
        name="paddle-ps",
        framework="paddle-ps",
        image=PS_IMAGE,
        command=["python", "-m", f"{EXAMPLES}.paddle_ps", "--epochs", "8"],
        ps=1,
        workers=2,
    )
    metrics = result["metrics"]

    # fleet ran in parameter-server mode: a pserver served, both trainers worked against it.
    server = ranks["ps-0"]
    assert server["is_server"] and not server["is_worker"] and server["runtime"] == "TheOnePSRuntime"
    assert server["server_endpoints"] == [server["endpoint"]]
    for index in (0, 1):
        trainer = ranks[f"worker-{index}"]
        assert trainer["is_worker"] and not trainer["is_server"], trainer
        assert trainer["worker_index"] == index and trainer["worker_num"] == 2
        assert trainer["server_endpoints"] == [server["endpoint"]] and trainer["runtime"] == "TheOnePSRuntime"
        assert trainer["steps"] > 0 and trainer["rows"] == 100
    assert metrics["is_worker"] and metrics["worker_index"] == 0 and metrics["a_sync"] is True

    # the servers' model, as worker-0 measured it after each epoch, learned
    history = metrics["loss_history"]
    assert len(history) == 8 and history[-1] < 0.5 * history[0], history

    # the launcher stopped the pserver once both trainers had succeeded
    assert status.replicas["ps-0"]["state"] == "stopped", status.replicas
    assert status.replicas["worker-0"]["state"] == status.replicas["worker-1"]["state"] == "succeeded"
    assert not any(pid_alive(pid) for pid in status.replicas["ps-0"]["pids"])
    assert_no_strays(handle, status)

    # the platform copied worker-0's inference model to the output; it loads and predicts in the runtime
    out = tmp_path / "out"
    assert result["output_path"] == out.as_uri()
    assert {"deepfm.pdmodel", "deepfm.pdiparams"} <= {p.name for p in out.iterdir()}
    scored = predict(out / "deepfm")
    assert scored["feeds"] == ["dense", "sparse"] and scored["n"] == 200
    assert 0.0 <= scored["min"] <= scored["max"] <= 1.0
    assert scored["accuracy"] > 0.8, scored


def test_paddle_collective_keeps_the_replicas_identical_and_learns(tmp_path: Path):
    handle, status, ranks, result = run_job(
        tmp_path,
        name="paddle-collective",
        framework="paddle-collective",
        image=COLLECTIVE_IMAGE,
        command=["python", "-m", f"{EXAMPLES}.paddle_collective", "--epochs", "6"],
        workers=2,
    )
    first, second = ranks["worker-0"], ranks["worker-1"]
    assert (first["rank"], second["rank"]) == (0, 1)
    assert first["digest"] == second["digest"], "DataParallel replicas ended with different parameters"
    assert first["loss_history"] == second["loss_history"]  # all-reduced: the same on every rank
    history = first["loss_history"]
    assert len(history) == 6 and history[-1] < 0.5 * history[0], history
    assert all(b < a for a, b in zip(history, history[1:], strict=False)), history

    metrics = result["metrics"]
    assert metrics["world_size"] == 2 and metrics["backend"] == "gloo" and metrics["digest"] == first["digest"]
    out = tmp_path / "out"
    assert {"deepfm.pdiparams", "model.pdparams", "config.json"} <= {p.name for p in out.iterdir()}
    assert_no_strays(handle, status)
