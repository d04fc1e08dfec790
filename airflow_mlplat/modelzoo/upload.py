"""Register an uploaded deep model as an MLflow model version: its files, format, signature and lineage.

One MLflow run (experiment ``modelzoo``) holds the files under ``model/`` with ``mlplat_model.json``
(format, signature, file list, SHA-256 of the files) beside them; a version of the registered model
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

from airflow_mlplat.modelzoo.formats import InspectedModel, inspect_model

log = logging.getLogger("airflow_mlplat.modelzoo")
MODEL_ARTIFACT = "model"
DESCRIPTOR = "mlplat_model.json"
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


def upload_model(
    path: str | os.PathLike[str],
    *,
    name: str,
    fmt: str,
    tracking_uri: str | None = None,
    description: str = "",
    uploaded_by: str | None = None,
    tags: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Check the model at ``path`` and register it as a new version of ``name``.

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
    uri = resolve_tracking_uri(tracking_uri)
    if uri is None:
        raise ValueError("no MLflow tracking URI: pass --tracking-uri or set MLFLOW_TRACKING_URI")
    sha256 = files_digest(model)
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
        descriptor = {
            "format": fmt,
            "signature": model.signature,
            "files": [str(f) for f in model.files],
            "sha256": sha256,
        }
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
