"""Track a trained ranking model in MLflow and register it as a model version.

Runs where the Airflow task runs, after the training job: it reads only what the exporting
worker published at the job's ``output_path`` (any storage URL), so no replica needs MLflow
credentials. One MLflow run gets the model's parameters, the metrics of every epoch (``step`` =
epoch), the final metrics, the training curve and the feature map; the ONNX model is logged with
MLflow's ``onnx`` flavour (``feature_map.json`` and ``model.torchscript.pt`` beside its
``MLmodel``) and registered, the version tagged with its lineage: the input tables, the pipeline
(name and SHA-256 when given), the package version and the code version (the git commit when the
platform runs from a checkout).
"""

from __future__ import annotations

import json
import logging
import math
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from airflow_mlplat import __version__
from airflow_mlplat.serving.deep import DESCRIPTOR

log = logging.getLogger("airflow_mlplat.ranking")
MODEL_ARTIFACT = "model"
#: Files of the published model folder that are logged to the run (when present).
RUN_ARTIFACTS = ("training_curve.png", "history.json", "metrics.json", "training_config.json", "feature_map.json")


def code_version() -> str:
    """The package version, plus the git commit of the checkout it runs from (when it is one)."""
    root = Path(__file__).resolve().parents[2]
    try:
        commit = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "--short=12", "HEAD"], capture_output=True, text=True, timeout=5
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        commit = ""
    return f"{__version__}+g{commit}" if commit else __version__


def _numbers(values: Mapping[str, Any], prefix: str = "") -> dict[str, float]:
    return {
        f"{prefix}{k}": float(v)
        for k, v in values.items()
        if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(float(v))
    }


def ranking_descriptor(folder: Path, config: Mapping[str, Any]) -> dict[str, Any]:
    """The ModelZoo descriptor serving reads: ONNX (the flavour's ``model.onnx``), its feature map, its tasks."""
    from airflow_mlplat.modelzoo.formats import inspect_model
    from airflow_mlplat.modelzoo.upload import model_descriptor
    from airflow_mlplat.ranking.feature_map import FeatureMap

    feature_map = FeatureMap.from_json((folder / "feature_map.json").read_text())
    return model_descriptor(
        inspect_model(folder / "model.onnx", "onnx"), feature_map=feature_map, tasks=config["tasks"]
    )


def register_ranking_model(
    model_url: str,
    *,
    name: str,
    tracking_uri: str | None = None,
    experiment: str | None = None,
    lineage: Mapping[str, str] | None = None,
    pipeline: str | None = None,
    pipeline_sha256: str | None = None,
    alias: str | None = None,
    version_tags: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Log the model published at ``model_url`` as one MLflow run and register it as a version of ``name``.

    ``lineage``: extra ``{what: where}`` inputs to record (the training config's inputs are
    always recorded). ``version_tags``: further tags of the run and the version, set when the version
    is created (e.g. what the version was warm-started from). Returns ``{"name", "version", "run_id",
    "model_uri", "alias"?}``.
    """
    import mlflow
    import mlflow.onnx
    import onnx
    from mlflow import MlflowClient

    from airflow_mlplat.storage.urls import download_folder
    from airflow_mlplat.tracking.lineage import truncate
    from airflow_mlplat.tracking.uri import resolve_tracking_uri

    uri = resolve_tracking_uri(tracking_uri)
    if uri is None:
        raise ValueError("register_ranking_model: no tracking URI (pass tracking_uri or set MLFLOW_TRACKING_URI)")
    mlflow.set_tracking_uri(uri)
    mlflow.set_experiment(experiment or pipeline or name)
    client = MlflowClient(uri)
    with tempfile.TemporaryDirectory(prefix="mlplat-ranking-") as scratch:
        folder = download_folder(model_url, Path(scratch) / "model")
        metrics = json.loads((folder / "metrics.json").read_text())
        history = json.loads((folder / "history.json").read_text())
        config = json.loads((folder / "training_config.json").read_text())
        inputs = {k: v for k, v in (config.get("inputs") or {}).items() if v}
        inputs.update(lineage or {})
        descriptor = ranking_descriptor(folder, config)
        tags = {
            "mlplat.format": "onnx",
            "mlplat.signature": truncate(json.dumps(descriptor["signature"])),
            "mlplat.model": config["model"],
            "mlplat.package_version": __version__,
            "mlplat.code_version": code_version(),
            "mlplat.model_url": model_url,
            **({"mlplat.pipeline": pipeline} if pipeline else {}),
            **({"mlplat.pipeline_sha256": pipeline_sha256} if pipeline_sha256 else {}),
            **{f"mlplat.input.{k}": truncate(str(v)) for k, v in inputs.items()},
            **{str(k): truncate(str(v)) for k, v in (version_tags or {}).items()},
        }
        with mlflow.start_run(run_name=name, tags=tags) as run:
            mlflow.log_params(
                {
                    "model": config["model"],
                    **{k: json.dumps(v) if isinstance(v, list) else v for k, v in config["params"].items()},
                }
            )
            for record in history:
                mlflow.log_metrics(_numbers(record), step=int(record["epoch"]))
            final = _numbers(metrics)
            final.update(_numbers(metrics.get("export_check") or {}, "export."))
            # The best epoch's validation metrics are in the history already (at their epoch's step).
            per_epoch = set().union(*(record.keys() for record in history)) if history else set()
            mlflow.log_metrics({k: v for k, v in final.items() if k not in per_epoch})
            for artifact in RUN_ARTIFACTS:
                if (folder / artifact).exists():
                    mlflow.log_artifact(str(folder / artifact))
            import onnxruntime

            # Stated, not inferred: inferring requirements loads the model again in a child process.
            logged = mlflow.onnx.log_model(
                onnx.load(str(folder / "model.onnx")),
                name=MODEL_ARTIFACT,
                save_as_external_data=False,
                pip_requirements=[f"onnx=={onnx.__version__}", f"onnxruntime=={onnxruntime.__version__}"],
            )
            (folder / DESCRIPTOR).write_text(json.dumps(descriptor, indent=1))
            for extra in ("feature_map.json", "model.torchscript.pt", DESCRIPTOR):
                if logged.model_id:
                    client.log_model_artifact(logged.model_id, str(folder / extra))
                else:
                    mlflow.log_artifact(str(folder / extra), artifact_path=MODEL_ARTIFACT)
            run_id = run.info.run_id
        version_tags = {**tags, "mlplat.run_id": run_id, **{f"metric.{k}": repr(v) for k, v in final.items()}}
        version = mlflow.register_model(logged.model_uri, name, tags=version_tags)
        described = "; ".join(f"{k}: {v}" for k, v in inputs.items())
        client.update_model_version(
            name,
            version.version,
            truncate(f"{config['model']} trained on {described}. airflow-mlplat {code_version()}."),
        )
        registered: dict[str, Any] = {
            "name": name,
            "version": int(version.version),
            "run_id": run_id,
            "model_uri": logged.model_uri,
        }
        if alias:
            client.set_registered_model_alias(name, alias, version.version)
            registered["alias"] = alias
    log.info("registered ranking model %s version %s (run %s)", name, registered["version"], run_id)
    return registered
