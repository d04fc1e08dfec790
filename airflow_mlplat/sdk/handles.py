"""What a component call returns and takes: handles on node outputs, stored inputs, param references.

A handle stands for one output port of a node in the pipeline being built; passing it to
another component's input wires the edge (``"NODE.PORT"`` in the document). A node with
several outputs returns them as a named tuple of handles (``train, test = ...`` or
``split.train``). Nothing here imports Spark.
"""

from __future__ import annotations

import dataclasses
import functools
from collections import namedtuple
from typing import Any, ClassVar, TypedDict

from airflow_mlplat.components.spec import PortKind

#: A reference to a pipeline param, exactly as the document writes it (``p.param(NAME)`` makes one).
ParamRef = TypedDict("ParamRef", {"$param": str})


class Output:
    """One output port of a node: ``reference`` is its ``"NODE.PORT"`` in the document."""

    kind: ClassVar[PortKind]
    __slots__ = ("builder", "node_id", "port")

    def __init__(self, builder: Any, node_id: str, port: str) -> None:
        self.builder = builder  # the sdk Pipeline the node belongs to
        self.node_id = node_id
        self.port = port

    @property
    def reference(self) -> str:
        return f"{self.node_id}.{self.port}"

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.reference}>"


class TableOutput(Output):
    """A table (a Spark DataFrame when the pipeline runs)."""

    kind = PortKind.TABLE


class ModelOutput(Output):
    """A fitted model."""

    kind = PortKind.MODEL


class MetricsOutput(Output):
    """A metrics dict."""

    kind = PortKind.METRICS


OUTPUT_TYPES: dict[PortKind, type[Output]] = {
    PortKind.TABLE: TableOutput,
    PortKind.MODEL: ModelOutput,
    PortKind.METRICS: MetricsOutput,
}


@dataclasses.dataclass(frozen=True)
class Stored:
    """A node input read from a table or model materialized earlier: ``{"path": URL}`` in the document."""

    path: str


@functools.cache
def outputs_tuple(component: str, ports: tuple[str, ...]) -> type[tuple]:
    """The named tuple a component with several outputs returns, e.g. ``RandomSplitOutputs(train, test)``."""
    return namedtuple(outputs_tuple_name(component), ports)


def outputs_tuple_name(component: str) -> str:
    return "".join(part.capitalize() for part in component.split("_")) + "Outputs"
