"""TensorFlow trained for real through the local launcher, on CPU, every replica a real TF process.

- ``tensorflow-ps``: TF 2 ``ParameterServerStrategy`` with a ``ClusterCoordinator`` on the chief the
  launcher adds (2 ps, 2 workers serving as ``tf.distribute.Server``), the example
  ``airflow_mlplat.launcher.examples.tf_ps``. The launcher stops ps and workers once the chief
  succeeded; the platform copies the chief's SavedModel to the job's output.
- ``tensorflow-multiworker``: ``MultiWorkerMirroredStrategy`` over ring collectives (2 workers,
  ``TF_CONFIG`` only), the example ``airflow_mlplat.launcher.examples.tf_multiworker``.

The jobs run on the ``tensorflow/tensorflow`` image's local runtime (``.venv-tf``, built by
``make tf``). A missing runtime fails these tests: it is not a reason to skip them.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from airflow_mlplat.services.process import pid_alive
from tests.launcher.conftest import assert_no_strays
from tests.launcher.framework_jobs import run_job, score_in_runtime

TF_IMAGE = "tensorflow/tensorflow:2.21.0"
EXAMPLES = "airflow_mlplat.launcher.examples"
PS_DEVICE = re.compile(r"^/job:ps/replica:0/task:(\d+)/device:CPU:0$")

#: Loads the exported SavedModel in the TF runtime and scores the sample: argv = model dir, CSV.
PREDICT = (
    "import json, os, sys\n"
    "os.environ['TF_CPP_MIN_LOG_LEVEL'] = '2'\n"
    "import tensorflow as tf\n"
    "from airflow_mlplat.launcher.examples import ctr_data\n"
    "config = json.load(open(os.path.join(sys.argv[1], 'assets.extra', 'mlplat_model.json')))\n"
    "dense, sparse, labels = ctr_data.load_criteo(sys.argv[2], config['buckets'])\n"
    "serve = tf.saved_model.load(sys.argv[1]).signatures['serving_default']\n"
    "prob = serve(dense=tf.constant(dense), sparse=tf.constant(sparse))['probabilities'].numpy()\n"
    "inputs = serve.structured_input_signature[1]\n"
    "print(json.dumps({'inputs': {k: [v.dtype.name, v.shape.as_list()] for k, v in inputs.items()},\n"
    "                  'outputs': sorted(serve.structured_outputs), 'probabilities': prob.tolist(),\n"
    "                  'accuracy': float(((prob > 0.5) == (labels > 0.5)).mean())}))\n"
)


def assert_saved_model(out: Path, metrics: dict[str, Any]) -> None:
    """The platform copied the exporter's SavedModel to ``out``; it serves what the exporter computed."""
    assert {"saved_model.pb", "variables", "assets.extra"} <= {p.name for p in out.iterdir()}
    scored = score_in_runtime(TF_IMAGE, PREDICT, out)
    assert scored["inputs"] == {"dense": ["float32", [None, 13]], "sparse": ["int64", [None, 26]]}
    assert scored["outputs"] == ["probabilities"]
    probabilities = scored["probabilities"]
    assert len(probabilities) == 200 and all(0.0 <= p <= 1.0 for p in probabilities)
    shown = metrics["prediction_rows"]
    for loaded, trained in zip(probabilities[:shown], metrics["predictions"], strict=True):
        assert abs(loaded - trained) < 1e-5, (probabilities[:shown], metrics["predictions"])
    assert scored["accuracy"] > 0.8, scored


def assert_checkpoints(checkpoints: list[str], steps: int) -> None:
    """Only final names (each written under a ``.`` name, then renamed); the newest is of the last step."""
    assert checkpoints and all(re.fullmatch(r"step-\d{6}", name) for name in checkpoints), checkpoints
    assert checkpoints[-1] == f"step-{steps:06d}", checkpoints


def test_tensorflow_ps_trains_on_parameter_servers_and_the_platform_exports_the_model(tmp_path: Path):
    epochs = 8
    job = run_job(
        tmp_path,
        image=TF_IMAGE,
        name="tf-ps",
        framework="tensorflow-ps",
        command=["python", "-m", f"{EXAMPLES}.tf_ps", "--epochs", str(epochs)],
        ps=2,
        workers=2,
    )
    metrics = job.metrics

    # every variable (model and optimizer) lives on a ps task, and both ps tasks hold some
    devices = [v["device"] for v in metrics["variable_devices"]]
    assert devices and all(PS_DEVICE.match(d) for d in devices), devices
    assert {int(PS_DEVICE.match(d).group(1)) for d in devices} == {0, 1}, devices
    assert metrics["num_ps"] == 2 and metrics["num_workers"] == 2

    # the coordinator's steps ran on both workers (8 steps of 25 rows an epoch), and the model learned
    assert metrics["steps"] == epochs * 8 and sum(metrics["steps_by_worker"]) == epochs * 8
    assert all(n > 0 for n in metrics["steps_by_worker"]), metrics["steps_by_worker"]
    history = metrics["loss_history"]
    assert len(history) == epochs and history[-1] < 0.7 * history[0], history
    assert_checkpoints(job.checkpoints, metrics["steps"])

    # the launcher stopped ps and workers (they serve forever) once the chief had succeeded
    replicas = job.status.replicas
    assert replicas["chief-0"]["state"] == "succeeded", replicas
    for name in ("ps-0", "ps-1", "worker-0", "worker-1"):
        assert replicas[name]["state"] == "stopped", replicas
        assert not any(pid_alive(pid) for pid in replicas[name]["pids"]), name
    assert_no_strays(job.handle, job.status)

    out = tmp_path / "out"
    assert job.result["output_path"] == out.as_uri()
    assert_saved_model(out, metrics)


def test_tensorflow_multiworker_keeps_the_workers_identical_and_learns(tmp_path: Path):
    epochs = 8
    job = run_job(
        tmp_path,
        image=TF_IMAGE,
        name="tf-multiworker",
        framework="tensorflow-multiworker",
        command=["python", "-m", f"{EXAMPLES}.tf_multiworker", "--epochs", str(epochs)],
        workers=2,
        tensorboard=True,
    )
    first, second = job.ranks["worker-0"], job.ranks["worker-1"]

    # TF_CONFIG is the whole cluster contract: two workers, each its own task; no ps-style variables
    for index, rank in enumerate((first, second)):
        env = rank["cluster_env"]
        tf_config = json.loads(env.pop("TF_CONFIG"))
        assert tf_config["task"] == {"type": "worker", "index": index}
        assert list(tf_config["cluster"]) == ["worker"] and len(tf_config["cluster"]["worker"]) == 2
        assert env == dict.fromkeys(["PS_HOSTS", "WORKER_HOSTS", "CHIEF_HOSTS", "JOB_NAME", "TASK_INDEX"])

    # synchronous training: the same weights and the same (all-reduced) losses on both workers
    assert first["digest"] == second["digest"], "the workers ended with different weights"
    assert first["loss_history"] == second["loss_history"]
    history = first["loss_history"]
    assert len(history) == epochs and history[-1] < 0.7 * history[0], history

    metrics = job.metrics
    assert metrics["replicas_in_sync"] == 2 and metrics["digest"] == first["digest"]
    assert metrics["steps"] == epochs * 4  # 100 rows per worker, 25 per step
    assert_checkpoints(job.checkpoints, metrics["steps"])
    # each worker logged its losses under MLPLAT_TENSORBOARD_DIR/worker-I (tags are plain strings in the events)
    assert sorted(job.summaries) == ["worker-0", "worker-1"]
    assert all(b"loss" in events and b"epoch_loss" in events for events in job.summaries.values())
    assert job.status.replicas["worker-0"]["state"] == job.status.replicas["worker-1"]["state"] == "succeeded"
    assert_no_strays(job.handle, job.status)

    assert_saved_model(tmp_path / "out", metrics)
