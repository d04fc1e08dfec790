"""The experiment graph: the pipeline JSON model, its validation and its order. No Spark here."""

from airflow_mlplat.pipeline.errors import PipelineValidationError, Problem
from airflow_mlplat.pipeline.graph import topological_order
from airflow_mlplat.pipeline.model import Node, Pipeline
from airflow_mlplat.pipeline.resolve import resolved_node_params
from airflow_mlplat.pipeline.validate import load_pipeline, validate_pipeline

__all__ = [
    "Node",
    "Pipeline",
    "PipelineValidationError",
    "Problem",
    "load_pipeline",
    "resolved_node_params",
    "topological_order",
    "validate_pipeline",
]
