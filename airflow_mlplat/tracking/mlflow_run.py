"""Log one pipeline run to MLflow: params, per-node metrics, report, pipeline JSON, plots; then register."""

from __future__ import annotations

import json
import logging
import math
import os
import tempfile
from typing import Any

import fsspec

from airflow_mlplat import __version__
from airflow_mlplat.pipeline.model import Pipeline
from airflow_mlplat.tracking.lineage import input_lineage, pipeline_document, pipeline_sha256, truncate

log = logging.getLogger("airflow_mlplat.tracking")

#: Tag keys every tracked run carries.
PIPELINE_TAG = "mlplat.pipeline"
PIPELINE_HASH_TAG = "mlplat.pipeline_sha256"
VERSION_TAG = "mlplat.package_version"
RUN_DIR_TAG = "mlplat.run_dir"


class TrackingFailed(RuntimeError):
    """Logging a successful run or registering its model failed; ``report`` says so."""

    def __init__(self, message: str, report: dict[str, Any]) -> None:
        super().__init__(message)
        self.report = report


def flat_metrics(report: dict[str, Any]) -> dict[str, float]:
    """Numeric metrics as ``NODE.METRIC`` (nested dicts joined with dots), plus ``NODE.seconds``."""
    flat: dict[str, float] = {}

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                walk(f"{prefix}.{key}", inner)
        elif isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
            flat[prefix] = float(value)

    for node_id, metrics in report.get("metrics", {}).items():
        walk(node_id, metrics)
    for node_id, entry in report.get("nodes", {}).items():
        if entry.get("seconds") is not None:
            flat[f"{node_id}.seconds"] = float(entry["seconds"])
    return flat


def _local_copy(url: str, directory: str) -> str:
    """A local path of the file at ``url`` (copied into ``directory`` when it is remote)."""
    fs, path = fsspec.core.url_to_fs(url)
    if "file" in (fs.protocol if isinstance(fs.protocol, tuple) else (fs.protocol,)):
        return path
    target = os.path.join(directory, os.path.basename(path))
    fs.get(path, target)
    return target


def log_pipeline_run(
    tracking_uri: str,
    pipeline: Pipeline,
    report: dict[str, Any],
    results: dict[str, Any],
    *,
    out_dir: str,
    tags: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Log a finished run (successful or failed) to the server at ``tracking_uri``; register its model.

    The experiment is the pipeline's name. A successful run with a ``register`` block also
    registers its model (see ``tracking.registration``). Returns what the run report records
    under ``tracking``: the URI, experiment and run ids, and the registered version.
    """
    import mlflow
    from mlflow.entities import RunStatus

    from airflow_mlplat.tracking.registration import register_model

    mlflow.set_tracking_uri(tracking_uri)
    mlflow.set_registry_uri(tracking_uri)
    client = mlflow.MlflowClient(tracking_uri)
    values = report.get("params", {})
    document = pipeline_document(pipeline, values)
    digest = pipeline_sha256(document)
    experiment = client.get_experiment_by_name(pipeline.name)
    experiment_id = experiment.experiment_id if experiment else client.create_experiment(pipeline.name)
    run_tags = {
        PIPELINE_TAG: pipeline.name,
        PIPELINE_HASH_TAG: digest,
        VERSION_TAG: __version__,
        RUN_DIR_TAG: out_dir,
        **{f"mlplat.input.{k}": truncate(v) for k, v in input_lineage(pipeline, values).items()},
        **(tags or {}),
    }
    info: dict[str, Any] = {"uri": tracking_uri, "experiment_id": experiment_id}
    with mlflow.start_run(experiment_id=experiment_id, tags=run_tags, log_system_metrics=False) as run:
        info["run_id"] = run.info.run_id
        log.info("tracking: logging run %s of %s to %s", run.info.run_id, pipeline.name, tracking_uri)
        mlflow.log_params({k: truncate(v if isinstance(v, str) else json.dumps(v), 6000) for k, v in values.items()})
        metrics = flat_metrics(report)
        if metrics:
            mlflow.log_metrics(metrics)
        mlflow.log_dict(document, "pipeline.json")
        with tempfile.TemporaryDirectory(prefix="mlplat-track-") as scratch:
            for node_id, entry in report.get("nodes", {}).items():
                for url in entry.get("artifacts", []):
                    if url.endswith(".png"):
                        mlflow.log_artifact(_local_copy(url, scratch), artifact_path=f"plots/{node_id}")
        try:
            if report.get("status") == "success" and pipeline.registration is not None:
                info["registered_model"] = register_model(
                    client,
                    pipeline,
                    values,
                    results,
                    metrics=metrics,
                    document=document,
                    digest=digest,
                    run_id=run.info.run_id,
                    out_dir=out_dir,
                    tags=tags or {},
                )
        except Exception as exc:
            report["status"] = "failed"
            report["error"] = f"registering the model failed: {type(exc).__name__}: {exc}"
            raise
        finally:
            report["tracking"] = info
            mlflow.log_dict(report, "report.json")
        status = RunStatus.FINISHED if report.get("status") == "success" else RunStatus.FAILED
        mlflow.end_run(RunStatus.to_string(status))
    return info


def run_url(info: dict[str, Any]) -> str:
    return f"{info['uri'].rstrip('/')}/#/experiments/{info['experiment_id']}/runs/{info['run_id']}"
