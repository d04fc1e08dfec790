"""SavedModel and Paddle models served on their own runtimes (``.venv-tf``, ``.venv-paddle``).

Each framework builds a small ranking model (an item embedding and dense features through an MLP)
in its own process, saves it as it would for serving and scores 1,000 rows itself: those outputs
are the reference. The model is uploaded through the ModelZoo to the real MLflow server and deployed
locally (the deploy starts ``python -m airflow_mlplat.serving`` on the framework's interpreter, found
from the version's format); the service's answers on the same rows must equal the framework's
within 1e-5.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import httpx
import numpy as np
import pytest

from airflow_mlplat.launcher.runtimes import replica_base_env, resolve
from airflow_mlplat.modelzoo.formats import RUNTIME_IMAGES

TOLERANCE = 1e-5
ROWS = 1000
DATA = """
import numpy as np
rng = np.random.default_rng(0)
item = rng.integers(0, 50, {rows}).astype(np.int64)
dense = rng.normal(size=({rows}, 3)).astype(np.float32)
"""
SAVEDMODEL = """
import sys, tensorflow as tf
tf.random.set_seed(0)
class Ranker(tf.Module):
    def __init__(self):
        self.embedding = tf.Variable(tf.random.normal([50, 4]))
        self.hidden = tf.Variable(tf.random.normal([7, 8]))
        self.bias = tf.Variable(tf.random.normal([8]))
        self.out = tf.Variable(tf.random.normal([8, 1]))
    @tf.function(input_signature=[tf.TensorSpec([None], tf.int64, name="item"),
                                  tf.TensorSpec([None, 3], tf.float32, name="dense")])
    def __call__(self, item, dense):
        x = tf.concat([tf.nn.embedding_lookup(self.embedding, item), dense], axis=1)
        return {"probability": tf.sigmoid(tf.nn.relu(x @ self.hidden + self.bias) @ self.out)}
ranker = Ranker()
tf.saved_model.save(ranker, sys.argv[1] + "/model", signatures={"serving_default": ranker.__call__})
reference = ranker(tf.constant(item), tf.constant(dense))["probability"].numpy()
np.save(sys.argv[1] + "/reference.npy", reference)
"""
PADDLE = """
import sys, paddle
paddle.disable_static()
paddle.seed(0)
class Ranker(paddle.nn.Layer):
    def __init__(self):
        super().__init__()
        self.embedding = paddle.nn.Embedding(50, 4)
        self.hidden = paddle.nn.Linear(7, 8)
        self.out = paddle.nn.Linear(8, 1)
    def forward(self, item, dense):
        x = paddle.concat([self.embedding(item), dense], axis=1)
        return paddle.nn.functional.sigmoid(self.out(paddle.nn.functional.relu(self.hidden(x))))
ranker = Ranker()
ranker.eval()
InputSpec = paddle.static.InputSpec
spec = [InputSpec([None], "int64", name="item"), InputSpec([None, 3], "float32", name="dense")]
paddle.jit.save(ranker, sys.argv[1] + "/model/ranker", input_spec=spec)
reference = ranker(paddle.to_tensor(item), paddle.to_tensor(dense)).numpy()
np.save(sys.argv[1] + "/reference.npy", reference)
"""
CASES = {"savedmodel": (SAVEDMODEL, "probability"), "paddle": (PADDLE, "output_0")}


def rows() -> list[dict]:
    namespace: dict = {}
    exec(DATA.format(rows=ROWS), namespace)  # the same rows the framework scored
    return [{"item": int(i), "dense": d.tolist()} for i, d in zip(namespace["item"], namespace["dense"], strict=True)]


@pytest.mark.parametrize("fmt", sorted(CASES))
def test_served_on_its_runtime_equals_the_framework_on_1000_rows(fmt, mlflow_server, tmp_path: Path):
    from airflow_mlplat.modelzoo.upload import upload_model

    script, output = CASES[fmt]
    python = resolve(RUNTIME_IMAGES[fmt])
    build = tmp_path / "build.py"  # a file: Paddle's dy2static reads the layer's source
    build.write_text(DATA.format(rows=ROWS) + script)
    built = subprocess.run(
        [python, str(build), str(tmp_path)],
        env=replica_base_env(python),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert built.returncode == 0, built.stderr[-3000:]
    name = f"framework-serving-{fmt}"
    registered = upload_model(tmp_path / "model", name=name, fmt=fmt, tracking_uri=mlflow_server)
    assert registered["version"] == 1
    from mlflow import MlflowClient

    MlflowClient(mlflow_server).set_registered_model_alias(name, "champion", "1")

    # One-click deploy finds the runtime from the version's format tag and starts the service on it.
    from airflow_mlplat.hooks.model_service import LocalModelServiceHook

    hook = LocalModelServiceHook(tmp_path / "services")
    deployed = hook.deploy("framework", [f"models:/{name}@champion=1.0"], tracking_uri=mlflow_server, poll_interval=0)
    url = deployed["url"]
    try:
        assert Path(f"/proc/{deployed['pid']}/cmdline").read_bytes().split(b"\0")[0].decode() == python
        assert httpx.get(f"{url}/metadata", timeout=10).json()["slots"]["champion"]["flavor"] == fmt
        answer = httpx.post(f"{url}/predict", json={"rows": rows()}, timeout=60)
        assert answer.status_code == 200, answer.text
        served = np.array([p[output] for p in answer.json()["predictions"]])
        reference = np.load(tmp_path / "reference.npy")
        assert served.shape == reference.shape == (ROWS, 1)
        assert np.max(np.abs(served - reference)) <= TOLERANCE
        bad = httpx.post(f"{url}/predict", json={"item": 3, "dense": [1.0, 2.0]}, timeout=10)
        assert bad.status_code == 422 and "'dense'" in bad.json()["message"]
    finally:
        hook.stop("framework")


def test_a_framework_format_on_the_platform_runtime_names_the_runtime_it_needs(tmp_path: Path):
    from airflow_mlplat.serving.deep import DESCRIPTOR
    from airflow_mlplat.serving.errors import ModelLoadError
    from airflow_mlplat.serving.model import load_model_dir

    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "saved_model.pb").write_bytes(b"")
    (tmp_path / DESCRIPTOR).write_text('{"format": "savedmodel", "signature": {}, "files": ["model/saved_model.pb"]}')
    needs = "savedmodel runtime is not installed here .* tensorflow/tensorflow runtime"
    with pytest.raises(ModelLoadError, match=needs):
        load_model_dir(tmp_path, name="m", version="1", slot="s")
