"""Where a run's data came from, and which pipeline made it: tags for runs and model versions."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from airflow_mlplat.pipeline.model import PathInput, Pipeline
from airflow_mlplat.pipeline.resolve import resolved_node_params

#: Parameters of a source node that say what it read.
_SOURCE_KEYS = (
    "path",
    "table",
    "partition_filter",
    "columns",
    "partition",
    "partitions",
    "database",
    "query",
    "format",
    "where",
)
#: MLflow's limit on a model version tag's value.
TAG_LIMIT = 5000


def pipeline_document(pipeline: Pipeline, values: dict[str, Any]) -> dict[str, Any]:
    """The pipeline as run: its JSON with the run's param values as the defaults."""
    document = pipeline.to_dict()
    for name, value in values.items():
        document["params"][name]["default"] = value
    return document


def pipeline_sha256(document: dict[str, Any]) -> str:
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def input_lineage(pipeline: Pipeline, values: dict[str, Any]) -> dict[str, str]:
    """``{NODE: what it read}`` for source nodes (readers) and ``{NODE.PORT: path}`` for materialized inputs."""
    from airflow_mlplat.components.registry import get_component

    found: dict[str, str] = {}
    for node in pipeline.nodes:
        for port, ref in node.inputs.items():
            if isinstance(ref, PathInput):
                found[f"{node.id}.{port}"] = ref.path
        category = get_component(node.component).category
        if node.inputs or category not in ("import/export", "datasets"):
            continue
        params = resolved_node_params(pipeline, node, values)
        keys = params if category == "datasets" else _SOURCE_KEYS  # generated data: all its params
        read = {k: params[k] for k in keys if params.get(k) not in (None, "", [], {})}
        if read:
            found[node.id] = json.dumps({"component": node.component, **read}, sort_keys=True, default=str)
    return found


def truncate(text: str, limit: int = TAG_LIMIT) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."
