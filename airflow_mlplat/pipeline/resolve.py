"""Turning a validated pipeline into the concrete values a run uses."""

from __future__ import annotations

from typing import Any

from airflow_mlplat.components.registry import get_component
from airflow_mlplat.pipeline.model import PARAM_REF_KEY, Node, Pipeline
from airflow_mlplat.pipeline.params import coerce_value


def resolved_node_params(pipeline: Pipeline, node: Node, values: dict[str, Any]) -> dict[str, Any]:
    """The node's keyword arguments: declared defaults, its params, ``$param`` references filled in.

    ``values`` are the pipeline param values of the run (defaults merged with overrides).
    Assumes the pipeline was validated with the same values.
    """
    spec = get_component(node.component)
    kwargs: dict[str, Any] = {}
    for param in spec.params:
        if param.name in node.params:
            raw = node.params[param.name]
            if isinstance(raw, dict) and PARAM_REF_KEY in raw:
                raw = values[raw[PARAM_REF_KEY]]
            kwargs[param.name] = coerce_value(param, raw)
        elif not param.required:
            kwargs[param.name] = param.default
    return kwargs
