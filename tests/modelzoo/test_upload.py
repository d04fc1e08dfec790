"""``airflow-mlplat models upload``: each format is checked by its own library, its signature read from
the model, and registered in a real MLflow server; bad uploads are refused naming file and problem."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from airflow_mlplat.launcher.runtimes import replica_base_env, resolve
from airflow_mlplat.modelzoo.formats import UploadError, inspect_model

SAVEDMODEL = """
import sys, tensorflow as tf
class Scorer(tf.Module):
    def __init__(self):
        self.w = tf.Variable(tf.ones([4, 1]))
    @tf.function(input_signature=[tf.TensorSpec([None, 4], tf.float32, name="features")])
    def __call__(self, features):
        return {"probability": tf.sigmoid(features @ self.w)}
scorer = Scorer()
tf.saved_model.save(scorer, sys.argv[1], signatures={"serving_default": scorer.__call__})
"""
PADDLE = """
import sys, paddle
paddle.disable_static()
layer = paddle.nn.Linear(4, 1)
paddle.jit.save(layer, sys.argv[1], input_spec=[paddle.static.InputSpec([None, 4], "float32", name="features")])
"""


def _on_runtime(image: str, script: str, target: Path) -> None:
    python = resolve(image)
    done = subprocess.run(
        [python, "-c", script, str(target)], env=replica_base_env(python), capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-2000:]


@pytest.fixture(scope="module")
def models(tmp_path_factory) -> dict[str, Path]:
    import torch

    root = tmp_path_factory.mktemp("zoo")
    net = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.ReLU(), torch.nn.Linear(3, 1), torch.nn.Sigmoid())
    sample = torch.zeros(2, 4)
    torch.jit.trace(net, sample).save(str(root / "net.pt"))
    torch.onnx.export(
        net, (sample,), str(root / "net.onnx"), input_names=["features"], output_names=["probability"],
        dynamic_axes={"features": {0: "batch"}, "probability": {0: "batch"}}, dynamo=False,
    )  # fmt: skip
    _on_runtime("tensorflow/tensorflow", SAVEDMODEL, root / "savedmodel")
    (root / "paddle").mkdir()
    _on_runtime("paddlepaddle/paddle", PADDLE, root / "paddle" / "scorer")
    return {
        "onnx": root / "net.onnx",
        "torchscript": root / "net.pt",
        "savedmodel": root / "savedmodel",
        "paddle": root / "paddle",
    }


def test_each_format_is_registered_with_the_signature_read_from_the_model(models, mlflow_server, tmp_path):
    from mlflow import MlflowClient

    client = MlflowClient(mlflow_server)
    for fmt, path in models.items():
        done = subprocess.run(
            [sys.executable, "-m", "airflow_mlplat.cli", "models", "upload", str(path), "--name", f"zoo_{fmt}",
             "--format", fmt, "--tracking-uri", mlflow_server, "--description", f"a tiny {fmt} model"],
            capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr[-3000:]
        registered = json.loads(done.stdout)
        version = client.get_model_version(f"zoo_{fmt}", str(registered["version"]))
        assert version.tags["mlplat.format"] == fmt
        assert version.tags["mlplat.sha256"] == registered["sha256"]
        assert version.description == f"a tiny {fmt} model"
        signature = json.loads(version.tags["mlplat.signature"])
        assert signature == registered["signature"]
        assert signature["inputs"][0]["name"] in ("features", "x") or fmt == "torchscript", (fmt, signature)
        if fmt in ("onnx", "savedmodel", "paddle"):
            assert signature["inputs"][0]["name"] == "features" and signature["inputs"][0]["shape"][-1] == 4
        if fmt in ("onnx", "savedmodel"):
            assert [o["name"] for o in signature["outputs"]] == ["probability"]
        if fmt == "torchscript":
            assert [a["type"] for a in signature["inputs"]] == ["Tensor"]
        # the files and the descriptor are what the version points at
        local = Path(client.download_artifacts(registered["run_id"], "model", str(tmp_path / fmt)))
        descriptor = json.loads((local / "mlplat_model.json").read_text())
        assert descriptor["format"] == fmt and descriptor["signature"] == signature
        assert descriptor["files"] and all((local / f).is_file() for f in descriptor["files"])
        assert version.source.endswith("/model") and version.run_id == registered["run_id"]


def test_bad_uploads_name_the_file_and_the_problem(models, tmp_path, mlflow_server):
    from mlflow import MlflowClient

    from airflow_mlplat.modelzoo.upload import upload_model

    garbage = tmp_path / "garbage.onnx"
    garbage.write_bytes(b"\x08\x07not a protobuf at all" * 50)
    empty_folder = tmp_path / "empty"
    empty_folder.mkdir()
    lonely = tmp_path / "lonely"
    lonely.mkdir()
    (lonely / "scorer.json").write_text("{}")
    cases = [
        (tmp_path / "missing.onnx", "onnx", "missing.onnx: no such file or folder"),
        (models["torchscript"], "onnx", "net.pt: not a valid ONNX model .*zip archive.*--format torchscript"),
        (garbage, "onnx", "garbage.onnx: not a valid ONNX model"),
        (models["onnx"], "torchscript", "net.onnx: not a TorchScript archive"),
        (empty_folder, "savedmodel", "empty: a SavedModel is a folder holding saved_model.pb"),
        (models["onnx"], "savedmodel", "net.onnx: a SavedModel is a folder holding saved_model.pb"),
        (lonely, "paddle", "lonely: a Paddle inference model folder must hold exactly one"),
        (models["onnx"], "keras", "format must be one of onnx, torchscript, savedmodel, paddle, got 'keras'"),
    ]
    for path, fmt, message in cases:
        with pytest.raises(UploadError, match=message):
            inspect_model(path, fmt)
    # a refused upload logs nothing
    client = MlflowClient(mlflow_server)
    before = len(client.search_model_versions("name='zoo_refused'"))
    with pytest.raises(UploadError, match="not a TorchScript archive"):
        upload_model(models["onnx"], name="zoo_refused", fmt="torchscript", tracking_uri=mlflow_server)
    assert len(client.search_model_versions("name='zoo_refused'")) == before == 0
    done = subprocess.run(
        [sys.executable, "-m", "airflow_mlplat.cli", "models", "upload", str(garbage), "--name", "zoo_refused",
         "--format", "onnx", "--tracking-uri", mlflow_server],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 2 and "upload refused: " in done.stderr and "garbage.onnx" in done.stderr
