"""Register a run's model as a model version with its metrics and lineage (and a verified PMML)."""

from __future__ import annotations

import json
import logging
import os
import tempfile
import uuid
from typing import Any

from airflow_mlplat import __version__
from airflow_mlplat.engine.connect import is_connect
from airflow_mlplat.pipeline.model import Pipeline
from airflow_mlplat.tracking.lineage import input_lineage, truncate

log = logging.getLogger("airflow_mlplat.tracking")

#: The artifact path of the model inside its run, and the PMML file's name next to ``MLmodel``.
MODEL_ARTIFACT = "model"
PMML_FILE = "model.pmml"

_MLFLOW_TYPES = {
    "double": "double",
    "float": "float",
    "int": "integer",
    "bigint": "long",
    "smallint": "integer",
    "tinyint": "integer",
    "string": "string",
    "boolean": "boolean",
}


def model_signature(model: Any, sample: Any) -> Any:
    """Inputs: the raw columns the model reads, typed from ``sample``'s schema; output: ``prediction``."""
    from mlflow.models import ModelSignature
    from mlflow.types import ColSpec, Schema

    from airflow_mlplat.components._stages import raw_input_columns

    inputs = []
    for column in raw_input_columns(model):
        if column not in sample.columns:
            raise ValueError(
                f"register.sample lacks column {column!r}, which the model reads (its columns: "
                f"{', '.join(sample.columns)})"
            )
        spark_type = sample.schema[column].dataType.simpleString()
        if spark_type not in _MLFLOW_TYPES:
            raise ValueError(f"register.sample column {column!r} has type {spark_type}, which a signature cannot hold")
        inputs.append(ColSpec(_MLFLOW_TYPES[spark_type], column))
    return ModelSignature(inputs=Schema(inputs), outputs=Schema([ColSpec("double", "prediction")]))


def _verified_pmml(model: Any, sample: Any, rows: int, directory: str) -> tuple[str, dict[str, Any]]:
    from airflow_mlplat.pmml import export_pmml, verify_pmml

    document = export_pmml(model, sample)
    result = verify_pmml(document, model, sample, rows=rows)
    path = os.path.join(directory, PMML_FILE)
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(document)
    return path, result.as_metrics()


def model_requirements() -> list[str]:
    """What loading the Spark flavour needs: the pyspark and mlflow this run used."""
    import mlflow
    import pyspark

    return [f"pyspark=={pyspark.__version__}", f"mlflow=={mlflow.__version__}"]


class _ServerSavedSparkFlavor:
    """``mlflow.spark``'s ``save_model`` for a model on a Spark Connect server.

    MLflow's own copies the server's save to the client through the JVM gateway, which a Connect
    client lacks (the call never returns). Here the server saves the model to a URL both sides
    reach (the run directory), and the client copies it with fsspec; the folder and ``MLmodel``
    are what ``mlflow.spark.log_model`` writes, so loading and serving do not change.
    """

    __name__ = "mlflow.spark"

    @staticmethod
    def save_model(
        path: str, mlflow_model: Any, spark_model: Any, staging_url: str, signature: Any, pip_requirements: list[str]
    ) -> None:
        import mlflow.spark

        from airflow_mlplat.storage.urls import filesystem

        staged_url = f"{staging_url.rstrip('/')}/{uuid.uuid4().hex}"
        fs, staged = filesystem(staged_url)
        spark_model.write().save(staged_url)
        try:
            os.makedirs(path, exist_ok=True)
            fs.get(staged, os.path.join(path, "sparkml"), recursive=True)
        finally:
            fs.rm(staged, recursive=True)
        mlflow.spark._save_model_metadata(  # the Spark flavour's own MLmodel, requirements and env files
            dst_dir=path,
            spark_model=spark_model,
            mlflow_model=mlflow_model,
            conda_env=None,
            code_paths=None,
            signature=signature,
            pip_requirements=pip_requirements,
        )


def log_connect_model(model: Any, staging_url: str, signature: Any, pip_requirements: list[str]) -> Any:
    """Log a Spark Connect session's model in the Spark flavour, staged under ``staging_url``."""
    from mlflow.models import Model

    return Model.log(
        artifact_path=MODEL_ARTIFACT,
        flavor=_ServerSavedSparkFlavor,
        spark_model=model,
        staging_url=staging_url,
        signature=signature,
        pip_requirements=pip_requirements,
    )


def register_model(
    client: Any,
    pipeline: Pipeline,
    values: dict[str, Any],
    results: dict[str, Any],
    *,
    metrics: dict[str, float],
    document: dict[str, Any],
    digest: str,
    run_id: str,
    out_dir: str,
    tags: dict[str, str],
) -> dict[str, Any]:
    """Log the model (Spark flavour, signature, pipeline JSON, verified PMML) and register it as a version.

    Must run inside the active MLflow run ``run_id``. The PMML is exported and verified before
    anything is registered, so a model whose PMML disagrees with Spark never becomes a version.
    Returns ``{"name", "version", "model_uri", "alias"?, "pmml"?}``.
    """
    import mlflow
    import mlflow.spark

    spec = pipeline.registration
    assert spec is not None
    model, sample = results[spec.model], results[spec.sample]
    signature = model_signature(model, sample)
    with tempfile.TemporaryDirectory(prefix="mlplat-register-") as scratch:
        pmml_path, pmml_metrics = None, {}
        if spec.pmml:
            log.info("tracking: exporting %s as PMML and verifying it on %d rows", spec.model, spec.sample_rows)
            pmml_path, pmml_metrics = _verified_pmml(model, sample, spec.sample_rows, scratch)
            mlflow.log_metrics({f"pmml.{k}": float(v) for k, v in pmml_metrics.items()})
        # (This MLflow's Spark flavour names the model by artifact_path, not name=.)
        # Stated, not inferred: inference loads the model again in a child process (about 20 s).
        if is_connect(sample.sparkSession):
            logged = log_connect_model(model, f"{out_dir.rstrip('/')}/.register", signature, model_requirements())
        else:
            logged = mlflow.spark.log_model(
                model, artifact_path=MODEL_ARTIFACT, signature=signature, pip_requirements=model_requirements()
            )
        pipeline_path = os.path.join(scratch, "pipeline.json")
        with open(pipeline_path, "w", encoding="utf-8") as handle:
            json.dump(document, handle, indent=2, default=str)
        for path in filter(None, (pipeline_path, pmml_path)):
            # Next to MLmodel and sparkml/, before the version exists.
            if logged.model_id:
                client.log_model_artifact(logged.model_id, path)
            else:
                mlflow.log_artifact(path, artifact_path=MODEL_ARTIFACT)

    version_tags = {
        "mlplat.pipeline": pipeline.name,
        "mlplat.pipeline_sha256": digest,
        "mlplat.package_version": __version__,
        "mlplat.run_id": run_id,
        "mlplat.run_dir": out_dir,
        "mlplat.model_ref": spec.model,
        **{f"mlplat.input.{k}": truncate(v) for k, v in input_lineage(pipeline, values).items()},
        **{f"metric.{k}": repr(v) for k, v in metrics.items() if not k.endswith(".seconds")},
        **{f"mlplat.pmml.{k}": repr(v) for k, v in pmml_metrics.items()},
        **tags,
    }
    version = mlflow.register_model(logged.model_uri, spec.name, tags=version_tags)
    inputs = "; ".join(f"{k}: {v}" for k, v in input_lineage(pipeline, values).items()) or "no recorded input"
    description = spec.description or f"{pipeline.name} run {run_id}"
    client.update_model_version(
        spec.name, version.version, truncate(f"{description}. Trained on {inputs}. airflow-mlplat {__version__}.")
    )
    registered: dict[str, Any] = {"name": spec.name, "version": int(version.version), "model_uri": logged.model_uri}
    if spec.alias:
        client.set_registered_model_alias(spec.name, spec.alias, version.version)
        registered["alias"] = spec.alias
    if pmml_metrics:
        registered["pmml"] = pmml_metrics
    log.info("tracking: registered %s version %s", spec.name, version.version)
    return registered
