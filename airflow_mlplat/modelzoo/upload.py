"""Register an uploaded deep model as an MLflow model version: its files, format, signature and lineage.

One MLflow run (experiment ``modelzoo``) holds the files under ``model/`` with ``mlplat_model.json``
(format, signature, file list, SHA-256 of the files, and the feature map when one goes with the
model: serving then encodes raw fields as training did) beside them; a version of the registered model
points at that folder. The version's tags say what serving and people need without downloading:
``mlplat.format``, ``mlplat.signature`` (JSON, cut at the tag limit: the descriptor has it whole),
``mlplat.sha256``, ``mlplat.source`` (the uploaded path), ``mlplat.uploaded_by`` and
``mlplat.code_version``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from airflow_mlplat.modelzoo.formats import FEATURE_MAP_FORMATS, InspectedModel, UploadError, inspect_model
from airflow_mlplat.ranking.feature_map import FILE_NAME as FEATURE_MAP_FILE
from airflow_mlplat.serving.deep import DESCRIPTOR

log = logging.getLogger("airflow_mlplat.modelzoo")
MODEL_ARTIFACT = "model"
EXPERIMENT = "modelzoo"


def files_digest(model: InspectedModel) -> str:
    """SHA-256 over every file's relative path and bytes, in order."""
    base = model.root.parent if model.root.is_file() else model.root
    digest = hashlib.sha256()
    for relative in model.files:
        digest.update(str(relative).encode() + b"\0")
        with open(base / relative, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def model_descriptor(
    model: InspectedModel, *, feature_map: Any = None, tasks: list[str] | None = None
) -> dict[str, Any]:
    """``mlplat_model.json`` of a checked model; ``feature_map`` (a ``FeatureMap``) is saved beside it.

    A feature map must name the model's inputs: an ONNX model's input names are its fields, a
    TorchScript model takes one positional input per field, in the map's order.
    """
    descriptor: dict[str, Any] = {
        "format": model.format,
        "signature": model.signature,
        "files": [str(f) for f in model.files],
        "sha256": files_digest(model),
    }
    if feature_map is not None:
        inputs = [i["name"] for i in model.signature.get("inputs", [])]
        if model.format == "onnx" and sorted(inputs) != sorted(feature_map.names):
            raise UploadError(
                f"{model.root}: the ONNX inputs {inputs} are not the feature map's fields {feature_map.names}"
            )
        if model.format == "torchscript" and len(inputs) != len(feature_map.names):
            raise UploadError(
                f"{model.root}: the TorchScript model takes {len(inputs)} inputs, the feature map has "
                f"{len(feature_map.names)} fields"
            )
        if model.format not in FEATURE_MAP_FORMATS:
            raise UploadError(f"{model.root}: a feature map goes with ONNX and TorchScript models only")
        descriptor["feature_map"] = FEATURE_MAP_FILE
        if tasks:  # else serving names the outputs after the map's labels, in order
            unknown = [t for t in tasks if t not in feature_map.labels]
            if unknown:
                labels = feature_map.labels
                raise UploadError(f"{model.root}: tasks {unknown} are not labels of the feature map {labels}")
            descriptor["tasks"] = list(tasks)
    return descriptor


def upload_model(
    path: str | os.PathLike[str],
    *,
    name: str,
    fmt: str,
    tracking_uri: str | None = None,
    description: str = "",
    uploaded_by: str | None = None,
    tags: dict[str, str] | None = None,
    feature_map: str | os.PathLike[str] | None = None,
    tasks: list[str] | None = None,
) -> dict[str, Any]:
    """Check the model at ``path`` and register it as a new version of ``name``.

    ``feature_map``: the ``feature_map.json`` the model was trained on (serving encodes raw fields by it);
    ``tasks``: the labels its outputs predict, in order (default: the map's labels, as many as it has outputs).

    Returns ``{"name", "version", "run_id", "format", "signature", "sha256"}``. Raises
    ``UploadError`` (nothing is logged) when the model is not what ``fmt`` says.
    """
    import mlflow
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    from airflow_mlplat.ranking.registration import code_version
    from airflow_mlplat.tracking.lineage import truncate
    from airflow_mlplat.tracking.uri import resolve_tracking_uri

    model = inspect_model(path, fmt)  # before anything is logged
    fields = _read_feature_map(feature_map) if feature_map is not None else None
    descriptor = model_descriptor(model, feature_map=fields, tasks=tasks)
    uri = resolve_tracking_uri(tracking_uri)
    if uri is None:
        raise ValueError("no MLflow tracking URI: pass --tracking-uri or set MLFLOW_TRACKING_URI")
    sha256 = descriptor["sha256"]
    version_tags = {
        "mlplat.format": fmt,
        "mlplat.signature": truncate(json.dumps(model.signature)),
        "mlplat.sha256": sha256,
        "mlplat.source": truncate(str(Path(path).resolve())),
        "mlplat.uploaded_by": uploaded_by or os.environ.get("USER", "unknown"),
        "mlplat.code_version": code_version(),
        **(tags or {}),
    }
    client = MlflowClient(uri)
    mlflow.set_tracking_uri(uri)
    mlflow.set_experiment(EXPERIMENT)
    with tempfile.TemporaryDirectory(prefix="mlplat-upload-") as scratch:
        folder = Path(scratch) / MODEL_ARTIFACT
        base = model.root.parent if model.root.is_file() else model.root
        for relative in model.files:
            (folder / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(base / relative, folder / relative)
        if fields is not None:
            (folder / FEATURE_MAP_FILE).write_text(fields.to_json())
        (folder / DESCRIPTOR).write_text(json.dumps(descriptor, indent=1))
        with mlflow.start_run(run_name=f"upload {name}", tags=version_tags) as run:
            mlflow.log_artifacts(str(folder), artifact_path=MODEL_ARTIFACT)
            run_id = run.info.run_id
            source = f"{run.info.artifact_uri.rstrip('/')}/{MODEL_ARTIFACT}"
    try:
        client.create_registered_model(name)
    except MlflowException as err:
        if err.error_code != "RESOURCE_ALREADY_EXISTS":
            raise
    version = client.create_model_version(name, source, run_id=run_id, tags=version_tags, description=description)
    log.info("registered %s version %s (%s, run %s)", name, version.version, fmt, run_id)
    return {
        "name": name,
        "version": int(version.version),
        "run_id": run_id,
        "format": fmt,
        "signature": model.signature,
        "sha256": sha256,
    }


def _read_feature_map(path: str | os.PathLike[str]) -> Any:
    from airflow_mlplat.ranking.feature_map import FeatureMap, FeatureMapError

    try:
        return FeatureMap.from_json(Path(path).read_text())
    except OSError as err:
        raise UploadError(f"{path}: the feature map cannot be read ({err.strerror or err})") from None
    except (FeatureMapError, ValueError) as err:
        raise UploadError(f"{path}: not a feature map ({err})") from None


def register_exported_model(
    output_url: str,
    *,
    name: str,
    fmt: str | None = None,
    tracking_uri: str | None = None,
    tags: dict[str, str] | None = None,
    description: str = "",
) -> dict[str, Any]:
    """Register the model a training job exported to ``output_url`` (any storage URL), as an upload.

    The format is found in the folder (``formats.find_model``) unless ``fmt`` names it; a
    ``feature_map.json`` beside the model goes with it.
    """
    from airflow_mlplat.modelzoo.formats import find_model
    from airflow_mlplat.storage.urls import download_folder

    with tempfile.TemporaryDirectory(prefix="mlplat-register-") as scratch:
        folder = download_folder(output_url, Path(scratch) / "exported")
        found, path = find_model(folder, fmt)
        feature_map = folder / FEATURE_MAP_FILE
        return upload_model(
            path,
            name=name,
            fmt=found,
            tracking_uri=tracking_uri,
            description=description,
            uploaded_by="airflow",
            tags={"mlplat.source": output_url, **(tags or {})},
            feature_map=feature_map if feature_map.is_file() and found in FEATURE_MAP_FORMATS else None,
        )
