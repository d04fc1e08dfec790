"""The pipeline document: a pydantic model of the JSON an experiment is stored as.

Example::

    {
      "name": "purchase_intent_gbdt",
      "params": {"max_iter": {"default": 20, "description": "boosting rounds"}},
      "nodes": [
        {"id": "data", "component": "read_table", "params": {"path": "/data/behaviour.csv"}},
        {"id": "gbdt", "component": "gbdt_classifier", "inputs": {"data": "data.data"},
         "params": {"max_iter": {"$param": "max_iter"}}}
      ],
      "outputs": {"model": "gbdt.model"}
    }

A node input is ``"NODE.PORT"`` (another node's output) or ``{"path": URL}`` (a dataset
materialized earlier). A node parameter may be ``{"$param": NAME}``: the pipeline
parameter's value, which a DAG trigger may override. A pipeline output is ``"NODE.PORT"``
(written under the run's output directory) or ``{"from": "NODE.PORT", "path": URL}``.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

IDENTIFIER = r"^[A-Za-z_][A-Za-z0-9_]*$"
REFERENCE = r"^[A-Za-z_][A-Za-z0-9_]*\.[A-Za-z_][A-Za-z0-9_]*$"
PARAM_REF_KEY = "$param"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class PipelineParam(_Strict):
    """A value a run (or a UI trigger) may override; nodes refer to it with ``{"$param": NAME}``."""

    default: Any
    description: str = ""

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        # "rows": 200000 is shorthand for "rows": {"default": 200000}
        if isinstance(value, dict) and "default" in value:
            return value
        return {"default": value}


class PathInput(_Strict):
    """A node input read from a dataset materialized earlier (table: parquet; model: Spark ML)."""

    path: str = Field(min_length=1)


class PipelineOutput(_Strict):
    """A node output written to a chosen location."""

    from_: str = Field(alias="from", pattern=REFERENCE)
    path: str | None = None


class Node(_Strict):
    id: str = Field(pattern=IDENTIFIER)
    component: str = Field(min_length=1)
    description: str = ""
    params: dict[str, Any] = Field(default_factory=dict)
    inputs: dict[str, str | PathInput] = Field(default_factory=dict)
    # ranking_model nodes only (a deep training step, see ``airflow_mlplat.ranking.node``):
    # the network, and the training job's launcher settings.
    model: str | None = None
    launcher: dict[str, Any] | None = None


class Registration(_Strict):
    """Register a fitted model in the MLflow model registry when the run is tracked.

    ``model`` is a ``NODE.PORT`` model: a ranking_model node's (registered from its ONNX
    export; no ``sample``), or a Spark one (one PipelineModel from raw columns to predictions,
    e.g. ``pipeline_model``'s). For a Spark model, ``sample`` is a ``NODE.PORT`` table with its
    raw input columns and the label (e.g. the held-out split): its schema is the signature, its
    first ``sample_rows`` rows verify the PMML export. ``alias`` is set on the new version only when given.
    """

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    model: str = Field(pattern=REFERENCE)
    sample: str | None = Field(default=None, pattern=REFERENCE)  # required for a Spark model
    pmml: bool = False
    sample_rows: int = Field(default=1000, ge=1)
    alias: str | None = Field(default=None, pattern=IDENTIFIER)
    description: str = ""


class Pipeline(_Strict):
    name: str = Field(pattern=IDENTIFIER)
    description: str = ""
    execution: Literal["fused", "per_node"] = "fused"
    schedule: str | None = None  # the schedule of the pipeline's DAG (cron or preset); None: manual
    params: dict[str, PipelineParam] = Field(default_factory=dict)
    nodes: list[Node] = Field(min_length=1)
    outputs: dict[str, str | PipelineOutput] = Field(default_factory=dict)
    spark_conf: dict[str, str] = Field(default_factory=dict)
    # Write each table output's first rows and column profile beside the run report, for the page
    # (``airflow_mlplat.engine.preview``): about one small Spark job per table output.
    preview: bool = True
    # "page" when the page's store saved it: its locations, tables and Spark settings are confined
    # (see ``airflow_mlplat.pipeline.page_policy``); the store sets it, whatever the request said.
    origin: Literal["file", "page"] = "file"
    # "register" in JSON; done only when the run is tracked (an MLflow URI is configured).
    registration: Registration | None = Field(default=None, alias="register")

    def node(self, node_id: str) -> Node:
        for node in self.nodes:
            if node.id == node_id:
                return node
        raise KeyError(node_id)

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True, exclude_defaults=False)


def split_reference(ref: str) -> tuple[str, str]:
    node_id, _, port = ref.partition(".")
    return node_id, port
