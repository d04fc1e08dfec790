"""Validation problems placed on the page: which node and which field each one belongs to.

The messages are the validator's own (``str(problem)`` is what the CLI prints after the
file name); this module only works out where to show them.
"""

from __future__ import annotations

import re
from typing import Any

from airflow_mlplat.pipeline.errors import PipelineValidationError, Problem

_NODE_WHERE = re.compile(r"^nodes\[(\d+)\](?: \([^)]*\))?(?::\s*(?P<field>.+))?$")
_FIELD_IN_MESSAGE = re.compile(r"^(?P<field>(?:params|inputs|launcher)\.[A-Za-z0-9_]+)")


def placed(problem: Problem, doc: Any) -> dict[str, Any]:
    """``{"where", "message", "text", "node", "field"}``; node and field are None where the problem has none."""
    node_id = None
    field = problem.where or None
    match = _NODE_WHERE.match(problem.where)
    if match:
        index = int(match.group(1))
        nodes = doc.get("nodes") if isinstance(doc, dict) else None
        if isinstance(nodes, list) and index < len(nodes) and isinstance(nodes[index], dict):
            node_id = nodes[index].get("id")
        field = match.group("field")
        if field is None:
            in_message = _FIELD_IN_MESSAGE.match(problem.message)
            field = in_message.group("field") if in_message else None
        if field is not None:
            field = ".".join(field.split(".")[:2])  # params.columns.0 is shown on params.columns
    return {"where": problem.where, "message": problem.message, "text": str(problem), "node": node_id, "field": field}


def placed_problems(error: PipelineValidationError, doc: Any) -> list[dict[str, Any]]:
    return [placed(problem, doc) for problem in error.problems]
