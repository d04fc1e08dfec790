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

from pathlib import Path

from airflow_mlplat.services.process import pid_alive
from tests.launcher.conftest import assert_no_strays
from tests.launcher.framework_jobs import run_job, score_in_runtime

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


def test_paddle_ps_trains_through_parameter_servers_and_the_platform_exports_the_model(tmp_path: Path):
    job = run_job(
        tmp_path,
        name="paddle-ps",
        framework="paddle-ps",
        image=PS_IMAGE,
        command=["python", "-m", f"{EXAMPLES}.paddle_ps", "--epochs", "8"],
        ps=1,
        workers=2,
    )
    metrics = job.metrics

    # fleet ran in parameter-server mode: a pserver served, both trainers worked against it.
    server = job.ranks["ps-0"]
    assert server["is_server"] and not server["is_worker"] and server["runtime"] == "TheOnePSRuntime"
    assert server["server_endpoints"] == [server["endpoint"]]
    for index in (0, 1):
        trainer = job.ranks[f"worker-{index}"]
        assert trainer["is_worker"] and not trainer["is_server"], trainer
        assert trainer["worker_index"] == index and trainer["worker_num"] == 2
        assert trainer["server_endpoints"] == [server["endpoint"]] and trainer["runtime"] == "TheOnePSRuntime"
        assert trainer["steps"] > 0 and trainer["rows"] == 100
    assert metrics["is_worker"] and metrics["worker_index"] == 0 and metrics["a_sync"] is True

    # the servers' model, as worker-0 measured it after each epoch, learned
    history = metrics["loss_history"]
    assert len(history) == 8 and history[-1] < 0.5 * history[0], history

    # the launcher stopped the pserver once both trainers had succeeded
    replicas = job.status.replicas
    assert replicas["ps-0"]["state"] == "stopped", replicas
    assert replicas["worker-0"]["state"] == replicas["worker-1"]["state"] == "succeeded"
    assert not any(pid_alive(pid) for pid in replicas["ps-0"]["pids"])
    assert_no_strays(job.handle, job.status)

    # the platform copied worker-0's inference model to the output; it loads and predicts in the runtime
    out = tmp_path / "out"
    assert job.result["output_path"] == out.as_uri()
    assert {"deepfm.pdmodel", "deepfm.pdiparams"} <= {p.name for p in out.iterdir()}
    scored = score_in_runtime(PS_IMAGE, PREDICT, out / "deepfm")
    assert scored["feeds"] == ["dense", "sparse"] and scored["n"] == 200
    assert 0.0 <= scored["min"] <= scored["max"] <= 1.0
    assert scored["accuracy"] > 0.8, scored


def test_paddle_collective_keeps_the_replicas_identical_and_learns(tmp_path: Path):
    job = run_job(
        tmp_path,
        name="paddle-collective",
        framework="paddle-collective",
        image=COLLECTIVE_IMAGE,
        command=["python", "-m", f"{EXAMPLES}.paddle_collective", "--epochs", "6"],
        workers=2,
    )
    first, second = job.ranks["worker-0"], job.ranks["worker-1"]
    assert (first["rank"], second["rank"]) == (0, 1)
    assert first["digest"] == second["digest"], "DataParallel replicas ended with different parameters"
    assert first["loss_history"] == second["loss_history"]  # all-reduced: the same on every rank
    history = first["loss_history"]
    assert len(history) == 6 and history[-1] < 0.5 * history[0], history
    assert all(b < a for a, b in zip(history, history[1:], strict=False)), history

    metrics = job.metrics
    assert metrics["world_size"] == 2 and metrics["backend"] == "gloo" and metrics["digest"] == first["digest"]
    out = tmp_path / "out"
    assert {"deepfm.pdiparams", "model.pdparams", "config.json"} <= {p.name for p in out.iterdir()}
    assert_no_strays(job.handle, job.status)
