"""One component call becomes one node of the pipeline document.

Positional arguments are the component's input ports in declared order; keyword arguments
are input ports or parameters by name; ``id`` and ``description`` are the node's own fields
(and ``model`` and ``launcher`` for a ``ranking_model`` node). Unknown parameter names are
kept, so validation reports them with its usual message.
"""

from __future__ import annotations

import copy
from collections.abc import Collection
from typing import Any

from airflow_mlplat.components.spec import ComponentSpec
from airflow_mlplat.ranking.node import RANKING_COMPONENT
from airflow_mlplat.sdk.handles import Output, Stored

#: Keyword arguments that are fields of the node itself, in the order the node document lists them.
NODE_FIELDS = ("id", "description")
RANKING_FIELDS = ("model", "launcher")


def own_fields(spec: ComponentSpec) -> tuple[str, ...]:
    """The node fields a call of ``spec`` takes besides inputs and params (a ranking node: model, launcher too)."""
    return NODE_FIELDS + (RANKING_FIELDS if spec.name == RANKING_COMPONENT else ())


def derive_id(component: str, used: Collection[str]) -> str:
    """The id a node gets when the call names none: the component's name, then ``NAME_2``, ``NAME_3``, ..."""
    if component not in used:
        return component
    index = 2
    while f"{component}_{index}" in used:
        index += 1
    return f"{component}_{index}"


def _input_value(builder: Any, spec: ComponentSpec, port: str, value: Any) -> str | dict[str, str]:
    if isinstance(value, Output):
        if value.builder is not builder:
            raise ValueError(
                f"{spec.name}(): input {port!r} is {value!r} of pipeline {value.builder.name!r}, "
                f"not of the pipeline being built ({builder.name!r})"
            )
        return value.reference
    if isinstance(value, Stored):
        return {"path": value.path}
    hint = "; pick one of its outputs by name" if isinstance(value, tuple) and value else ""
    raise TypeError(
        f"{spec.name}(): input {port!r} takes another component's output or Stored(path), "
        f"got {type(value).__name__}{hint}"
    )


def _is_handle(value: Any) -> bool:
    several = isinstance(value, tuple) and any(isinstance(item, Output) for item in value)
    return several or isinstance(value, Output | Stored)


def node_document(builder: Any, spec: ComponentSpec, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
    """The node a call of ``spec`` adds to ``builder`` (not yet validated); raises TypeError on a misplaced argument."""
    ports = [p.name for p in spec.inputs]
    if len(args) > len(ports):
        raise TypeError(f"{spec.name}() takes {len(ports)} input(s) by position ({', '.join(ports)}), got {len(args)}")
    own = {name: kwargs.pop(name) for name in own_fields(spec) if name in kwargs}
    given = dict(zip(ports, args, strict=False))
    for name in [n for n in kwargs if n in ports]:
        if name in given:
            raise TypeError(f"{spec.name}() got input {name!r} both by position and by name")
        given[name] = kwargs.pop(name)
    inputs = {name: _input_value(builder, spec, name, value) for name, value in given.items() if value is not None}

    node_id = own.get("id")
    node: dict[str, Any] = {"id": derive_id(spec.name, builder.node_ids) if node_id is None else node_id}
    node["component"] = spec.name
    for name in ("description", "model"):
        if own.get(name) is not None:
            node[name] = own[name]
    if inputs:
        node["inputs"] = inputs
    for name, value in kwargs.items():
        if _is_handle(value):
            raise TypeError(
                f"{spec.name}(): {name!r} is a parameter, not an input ({', '.join(ports) or 'it has none'}), "
                f"got {value!r}"
            )
    if kwargs:
        node["params"] = copy.deepcopy(kwargs)
    if own.get("launcher") is not None:
        node["launcher"] = copy.deepcopy(own["launcher"])
    return node
