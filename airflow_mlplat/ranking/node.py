"""The ``ranking_model`` pipeline node: a deep training step among Spark steps.

A node names the model and gives its declared parameters and the launcher's settings::

    {"id": "train", "component": "ranking_model", "model": "deepfm",
     "inputs": {"train": "encode.data", "validation": "validation_rows.data",
                "feature_map": "encode.model", "test": "test_rows.data"},
     "params": {"embedding_dim": 16, "hidden_units": [128, 64], "lr_decay": "step"},
     "launcher": {"workers": 2, "cpu": "2", "memory": "8Gi"}}

It does not run in Spark: the DAG factory makes it a ``RankingModelOperator`` task (a launcher
job), and reads its inputs from tables the Spark tasks before it materialised. Its outputs are
``model`` (the published model folder: TorchScript, ONNX, feature map, metrics, training curve)
and ``predictions`` (the test rows with each task's label and ``p_TASK``), which Spark nodes
after it can read, e.g. to evaluate. Where the deployment runs the job is its setting, not the
pipeline's: ``[mlplat] training_backend`` (``local`` or ``kubernetes``), ``training_namespace``
and ``cluster_profile`` (a YAML or JSON file of ``ClusterProfile`` fields, e.g. ``gpu_types``).
Nothing here imports torch.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING, Any

from airflow_mlplat import config
from airflow_mlplat.components.spec import ComponentSpec, Model, Table
from airflow_mlplat.ranking.params import MODELS, validate_launcher, validate_params

if TYPE_CHECKING:
    from airflow_mlplat.pipeline.model import Pipeline

RANKING_COMPONENT = "ranking_model"
#: Where the ``predictions`` output lies inside the published model folder.
PREDICTIONS_FILE = "test_predictions.parquet"
#: ``[mlplat]`` settings of the deployment's training jobs.
TRAINING_BACKEND = "training_backend"
TRAINING_NAMESPACE = "training_namespace"
CLUSTER_PROFILE = "cluster_profile"


def ranking_model(ctx, train: Table, validation: Table, feature_map: Model, test: Table | None = None):
    """Train a ranking model (Wide&Deep, DeepFM, DCN, DIN or MMoE) as a distributed PyTorch job.

    The node's ``model`` names the network, its ``params`` are the model's declared parameters and
    its ``launcher`` the job's settings (workers, CPU, memory, GPUs). It runs as its own task
    through the launcher, not in Spark.

    Args:
        train: the encoded training table (ctr_feature_encoder's data).
        validation: the encoded validation table (per-epoch AUC and log loss, early stopping).
        feature_map: ctr_feature_encoder's model; its feature map is saved with the trained model.
        test: an encoded test table, scored once after training into predictions.
        model: the published model folder (TorchScript, ONNX, feature map, metrics, training curve).
        predictions: the test rows with each task's label and its probability p_TASK.
    """


@functools.cache
def ranking_spec() -> ComponentSpec:
    """The node's ports (its parameters are per model: ``ranking.params``)."""
    from airflow_mlplat.components.registry import build_spec

    return build_spec(ranking_model, category="ranking models", outputs={"model": Model, "predictions": Table})


def training_settings() -> dict[str, Any]:
    """The deployment's training backend, namespace and cluster profile (``[mlplat]`` settings)."""
    backend = config.setting(TRAINING_BACKEND, "local").strip() or "local"
    profile: dict[str, Any] = {}
    path = config.setting(CLUSTER_PROFILE).strip()
    if path:
        import yaml

        try:
            loaded = yaml.safe_load(Path(path).read_text())
        except (OSError, yaml.YAMLError) as err:
            raise ValueError(f"[mlplat] {CLUSTER_PROFILE} {path}: cannot be read: {err}") from None
        if not isinstance(loaded, dict):
            raise ValueError(f"[mlplat] {CLUSTER_PROFILE} {path}: must hold a mapping of ClusterProfile fields")
        profile = loaded
    return {
        "backend": backend,
        "namespace": config.setting(TRAINING_NAMESPACE, "default").strip() or "default",
        "cluster_profile": profile,
    }


def node_problems(node: Any) -> list[str]:
    """Every problem of a ranking node's ``model``, ``params`` and ``launcher`` (field-named)."""
    if node.model not in MODELS:
        return [f"model must be one of {', '.join(MODELS)}, got {node.model!r}"]
    problems = validate_params(node.model, node.params)
    launcher = node.launcher or {}
    problems += validate_launcher(launcher)
    gpu_type = launcher.get("gpu_type")
    if gpu_type is not None and not any("launcher.gpu_type" in p for p in problems):
        from airflow_mlplat.launcher.spec import ClusterProfile

        known = ClusterProfile.from_dict(training_settings()["cluster_profile"]).gpu_types
        if gpu_type not in known:
            names = ", ".join(sorted(known)) or "none configured"
            problems.append(
                f"launcher.gpu_type {gpu_type!r} maps to no node label in the cluster profile (known: {names})"
            )
        elif not launcher.get("gpu"):
            problems.append(f"launcher.gpu_type {gpu_type!r} is set but launcher.gpu asks for no GPU")
    return problems


def check_spark(pipeline: Pipeline, source: str = "pipeline") -> None:
    """Raise ``PipelineValidationError`` naming every ranking node: they cannot run in a Spark application."""
    from airflow_mlplat.pipeline.errors import PipelineValidationError, Problem

    problems = [
        Problem(
            f"nodes[{index}] ({node.id})",
            f"{RANKING_COMPONENT} trains through the launcher, not in Spark; run the pipeline as its DAG "
            "(the DAG factory gives the node its own task)",
        )
        for index, node in enumerate(pipeline.nodes)
        if node.component == RANKING_COMPONENT
    ]
    if problems:
        raise PipelineValidationError(problems, source=source)
