"""The page's model upload (``POST /mlplat/api/models/upload``): an editor registers a model in a real
MLflow server as ``airflow-mlplat models upload`` does; other users, bad fields, refused models, hostile
archives and too large uploads register nothing and leave nothing behind."""

from __future__ import annotations

import io
import json
import tarfile
import tempfile
import zipfile
from pathlib import Path

import pytest

URL = "/mlplat/api/models/upload"


def tiny_onnx() -> bytes:
    """``probability = sigmoid(features @ w)``, features ``[batch, 4]``."""
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    graph = helper.make_graph(
        [
            helper.make_node("MatMul", ["features", "w"], ["logit"]),
            helper.make_node("Sigmoid", ["logit"], ["probability"]),
        ],
        "tiny",
        [helper.make_tensor_value_info("features", TensorProto.FLOAT, ["batch", 4])],
        [helper.make_tensor_value_info("probability", TensorProto.FLOAT, ["batch", 1])],
        [numpy_helper.from_array(np.ones((4, 1), dtype=np.float32), "w")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=8)
    onnx.checker.check_model(model)
    return model.SerializeToString()


@pytest.fixture(scope="module")
def onnx_bytes() -> bytes:
    return tiny_onnx()


@pytest.fixture
def tracked(monkeypatch, mlflow_server: str) -> str:
    """The plugin's MLflow connection points at the test server."""
    monkeypatch.setenv("AIRFLOW_CONN_MLFLOW_DEFAULT", mlflow_server)
    return mlflow_server


@pytest.fixture
def temp_root(monkeypatch, tmp_path: Path) -> Path:
    """The temporary folder uploads are written to: empty again after each request."""
    root = tmp_path / "tmp"
    root.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(root))
    return root


def upload(client, headers, name="zoo_tiny", fmt="onnx", content=b"", filename="net.onnx", **fields):
    data = {"name": name, "format": fmt, **fields}
    return client.post(URL, data=data, files={"file": (filename, content)}, headers=headers)


def versions(uri: str, name: str) -> list:
    from mlflow import MlflowClient

    return MlflowClient(uri).search_model_versions(f"name='{name}'")


def test_an_editor_uploads_an_onnx_model(client, editor_a, tracked, temp_root, onnx_bytes):
    response = upload(client, editor_a, "zoo_editor", content=onnx_bytes, description="tiny", tasks="")
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["name"] == "zoo_editor" and body["version"] == 1 and body["format"] == "onnx"
    assert body["signature"]["inputs"] == [{"name": "features", "type": "float", "shape": ["batch", 4]}]
    assert body["signature"]["outputs"][0]["name"] == "probability"
    [version] = versions(tracked, "zoo_editor")
    assert version.tags["mlplat.uploaded_by"] == "editor_a"
    assert version.tags["mlplat.format"] == "onnx" and version.tags["mlplat.source"] == "page upload: net.onnx"
    assert version.description == "tiny"
    assert list(temp_root.iterdir()) == []  # the upload's temporary folder is gone


@pytest.mark.parametrize(("role", "status"), [("viewer", 403), ("anonymous", 401)])
def test_others_may_not_upload(client, viewer, tracked, temp_root, onnx_bytes, role, status):
    headers = {"viewer": viewer, "anonymous": {}}[role]
    response = upload(client, headers, f"zoo_{role}", content=onnx_bytes)
    assert response.status_code == status, response.text
    assert versions(tracked, f"zoo_{role}") == []
    assert list(temp_root.iterdir()) == []


def test_every_author_under_star_must_also_edit_dags(client, viewer, tracked, monkeypatch, onnx_bytes):
    monkeypatch.setenv("AIRFLOW__MLPLAT__PIPELINE_AUTHORS", "*")
    response = upload(client, viewer, "zoo_star", content=onnx_bytes)
    assert response.status_code == 403 and "editing DAGs" in response.text
    assert versions(tracked, "zoo_star") == []


def test_a_torchscript_file_sent_as_onnx_is_refused_naming_the_problem(client, admin, tracked, temp_root, tmp_path):
    import torch

    torch.jit.save(torch.jit.script(torch.nn.Linear(4, 1)), str(tmp_path / "net.pt"))
    scripted = (tmp_path / "net.pt").read_bytes()
    response = upload(client, admin, "zoo_mismatch", content=scripted, filename="net.pt")
    assert response.status_code == 422, response.text
    message = response.json()["message"]
    assert message.startswith("model.onnx: not a valid ONNX model") and "zip archive" in message, message
    assert str(temp_root) not in message
    assert versions(tracked, "zoo_mismatch") == []
    assert list(temp_root.iterdir()) == []


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as zipped:
        for name, data in members.items():
            zipped.writestr(name, data)
    return buffer.getvalue()


def _zip_with_link() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zipped:
        info = zipfile.ZipInfo("model/saved_model.pb")
        info.external_attr = 0o120777 << 16  # a symbolic link
        zipped.writestr(info, "/etc/passwd")
    return buffer.getvalue()


def _tar_with_link() -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tarred:
        link = tarfile.TarInfo("model/saved_model.pb")
        link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
        tarred.addfile(link)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("archive", "filename"),
    [
        (_zip({"model/saved_model.pb": b"x", "../evil": b"evil"}), "m.zip"),
        (_zip({"/tmp/evil": b"evil"}), "m.zip"),
        (_zip_with_link(), "m.zip"),
        (_tar_with_link(), "m.tar.gz"),
    ],
    ids=["dot-dot", "absolute", "zip-link", "tar-link"],
)
def test_a_hostile_archive_is_refused_and_writes_nothing_outside(client, admin, tracked, temp_root, archive, filename):
    response = upload(client, admin, "zoo_evil", "savedmodel", archive, filename)
    assert response.status_code == 422, response.text
    assert "archive member" in response.json()["message"]
    assert not (temp_root / "evil").exists() and not Path("/tmp/evil").exists()
    assert list(temp_root.iterdir()) == []
    assert versions(tracked, "zoo_evil") == []


def test_too_large_is_413(client, admin, tracked, temp_root, monkeypatch):
    monkeypatch.setenv("AIRFLOW__MLPLAT__UPLOAD_MAX_BYTES", "4096")
    response = upload(client, admin, "zoo_large", content=b"\0" * 4097)
    assert response.status_code == 413, response.text
    bomb = _zip({"model/saved_model.pb": b"\0" * 100_000})  # compresses below the limit, extracts above it
    assert len(bomb) < 4096
    response = upload(client, admin, "zoo_large", "savedmodel", bomb, "m.zip")
    assert response.status_code == 413 and "extracts to more than" in response.text
    assert list(temp_root.iterdir()) == []
    assert versions(tracked, "zoo_large") == []


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"name": "bad/name"}, "name"),
        ({"name": ""}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"fmt": "pickle"}, "format"),
        ({"tasks": "a,b"}, "tasks"),
    ],
)
def test_bad_fields_are_400_naming_the_field(client, admin, tracked, temp_root, onnx_bytes, fields, named):
    response = upload(client, admin, content=onnx_bytes, **{"name": "zoo_fields", **fields})
    assert response.status_code == 400, response.text
    assert response.json()["message"].startswith(f"{named}:")
    assert list(temp_root.iterdir()) == []


def test_a_form_without_a_file_or_with_unknown_fields_is_400(client, admin, tracked, temp_root):
    data = {"name": "zoo_nofile", "format": "onnx"}
    missing = client.post(URL, data=data, files={"feature_map": ("fm.json", b"{}")}, headers=admin)
    assert missing.status_code == 400 and missing.json()["message"].startswith("file:")
    extra = client.post(URL, data={**data, "path": "/etc/passwd"}, files={"file": ("m.onnx", b"x")}, headers=admin)
    assert extra.status_code == 400 and extra.json()["message"].startswith("path:")
    not_a_form = client.post(URL, json={"name": "zoo_x"}, headers=admin)
    assert not_a_form.status_code == 400 and not_a_form.json()["message"].startswith("form:")
    assert list(temp_root.iterdir()) == []


def test_a_savedmodel_folder_is_uploaded_as_a_zip(client, editor_a, tracked, tmp_path):
    from tests.modelzoo.test_upload import SAVEDMODEL, _on_runtime

    folder = tmp_path / "scorer"
    _on_runtime("tensorflow/tensorflow", SAVEDMODEL, folder)
    members = {f"scorer/{p.relative_to(folder)}": p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    response = upload(client, editor_a, "zoo_saved", "savedmodel", _zip(members), "scorer.zip")
    assert response.status_code == 201, response.text
    assert response.json()["signature"]["inputs"][0]["name"] == "features"
    [version] = versions(tracked, "zoo_saved")
    assert json.loads(version.tags["mlplat.signature"]) == response.json()["signature"]
