"""Declarations of components: ports, parameter constraints, and the component spec.

Everything here is plain Python: declaring, listing and validating components never
imports Spark.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Callable, Sequence
from typing import Any


class PortKind(enum.StrEnum):
    """What travels along an edge between two nodes."""

    TABLE = "table"  # a Spark DataFrame
    MODEL = "model"  # a Spark ML model (Transformer); PipelineModel when fitted from stages
    METRICS = "metrics"  # a JSON-able dict of scalars (and small nested lists)


class Table:
    """Annotation marker: the argument is a Spark DataFrame."""

    kind = PortKind.TABLE


class Model:
    """Annotation marker: the argument is a fitted Spark ML model."""

    kind = PortKind.MODEL


class Metrics:
    """Annotation marker: the argument is a metrics dict."""

    kind = PortKind.METRICS


class SchemaOnly:
    """Annotation marker on a Table input, ``Annotated[Table, SchemaOnly]``: the component reads only the
    table's schema and runs no Spark job on its rows, so the engine does not cache a table for it."""


PORT_MARKERS: dict[Any, PortKind] = {Table: PortKind.TABLE, Model: PortKind.MODEL, Metrics: PortKind.METRICS}


@dataclasses.dataclass(frozen=True)
class Interval:
    """Numeric bounds of a parameter. ``None`` means unbounded on that side."""

    low: float | None = None
    high: float | None = None
    closed: str = "both"  # "both", "left", "right" or "neither"

    def __post_init__(self) -> None:
        if self.closed not in {"both", "left", "right", "neither"}:
            raise ValueError(f"Interval.closed must be both/left/right/neither, got {self.closed!r}")

    def json_schema(self) -> dict[str, Any]:
        schema: dict[str, Any] = {}
        if self.low is not None:
            key = "minimum" if self.closed in {"both", "left"} else "exclusiveMinimum"
            schema[key] = self.low
        if self.high is not None:
            key = "maximum" if self.closed in {"both", "right"} else "exclusiveMaximum"
            schema[key] = self.high
        return schema


@dataclasses.dataclass(frozen=True)
class Options:
    """The parameter must be one of these values."""

    values: tuple[Any, ...]

    def __init__(self, *values: Any) -> None:
        object.__setattr__(self, "values", tuple(values))


@dataclasses.dataclass(frozen=True)
class Sql:
    """The parameter is Spark SQL: ``"query"`` (one SELECT), ``"statement"`` (one per item) or ``"expression"``.

    Validation parses it and refuses SQL that loads or calls code (``airflow_mlplat.pipeline.sql_policy``).
    On a list or mapping parameter every item or value is SQL of this kind.
    """

    kind: str

    def __post_init__(self) -> None:
        if self.kind not in {"query", "statement", "expression"}:
            raise ValueError(f"Sql.kind must be query/statement/expression, got {self.kind!r}")


@dataclasses.dataclass(frozen=True)
class Port:
    name: str
    kind: PortKind
    help: str = ""
    optional: bool = False
    schema_only: bool = False  # a Table input whose rows the component never reads (``SchemaOnly``)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind.value, "help": self.help, "optional": self.optional}


_REQUIRED = object()


@dataclasses.dataclass(frozen=True)
class Param:
    """One parameter of a component, as derived from its signature and docstring."""

    name: str
    annotation: Any  # the Python type, e.g. int, float | None, list[str]
    type_name: str  # the JSON-schema-ish name shown to users: integer, number, string, ...
    default: Any = _REQUIRED
    interval: Interval | None = None
    options: Options | None = None
    help: str = ""
    sql: Sql | None = None

    @property
    def required(self) -> bool:
        return self.default is _REQUIRED

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "type": self.type_name, "help": self.help}
        out["required"] = self.required
        if not self.required:
            out["default"] = self.default
        if self.interval is not None:
            out.update(self.interval.json_schema())
        if self.options is not None:
            out["enum"] = list(self.options.values)
        if self.sql is not None:
            out["sql"] = self.sql.kind
        return out


@dataclasses.dataclass(frozen=True)
class ComponentSpec:
    """A component: its declared metadata and the function that implements it."""

    name: str
    category: str
    description: str
    inputs: tuple[Port, ...]
    outputs: tuple[Port, ...]
    params: tuple[Param, ...]
    func: Callable[..., Any] = dataclasses.field(compare=False, repr=False)

    def input(self, name: str) -> Port | None:
        return next((p for p in self.inputs if p.name == name), None)

    def output(self, name: str) -> Port | None:
        return next((p for p in self.outputs if p.name == name), None)

    def param(self, name: str) -> Param | None:
        return next((p for p in self.params if p.name == name), None)

    @property
    def summary(self) -> str:
        return self.description.strip().splitlines()[0] if self.description.strip() else ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "category": self.category,
            "description": self.description,
            "inputs": [p.to_dict() for p in self.inputs],
            "outputs": [p.to_dict() for p in self.outputs],
            "params": [p.to_dict() for p in self.params],
        }


def port_names(ports: Sequence[Port]) -> list[str]:
    return [p.name for p in ports]
