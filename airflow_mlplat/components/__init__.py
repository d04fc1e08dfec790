"""The component library. Import ``registry`` to list or look up components; the
implementations import Spark lazily, inside the functions."""

from airflow_mlplat.components.registry import component, get_component, iter_components, load_components
from airflow_mlplat.components.spec import (
    ComponentSpec,
    Interval,
    Metrics,
    Model,
    Options,
    PortKind,
    SchemaOnly,
    Table,
)

__all__ = [
    "ComponentSpec",
    "Interval",
    "Metrics",
    "Model",
    "Options",
    "PortKind",
    "SchemaOnly",
    "Table",
    "component",
    "get_component",
    "iter_components",
    "load_components",
]
