"""Every registered component as a function that adds its node to the pipeline being built.

``components.NAME(*inputs, id=None, description=None, **params)`` (``ranking_model`` also takes
``model`` and ``launcher``) returns the node's output handle, a named tuple of handles when it
has several outputs, or None when it has none. The functions are made from the registry on
first use; ``components.pyi`` (generated: ``airflow-mlplat components stub``) lists them for
IDEs and type checkers.
"""

from __future__ import annotations

import difflib
import functools
import inspect
from collections.abc import Callable
from typing import Any

from airflow_mlplat.components.registry import load_components
from airflow_mlplat.components.spec import ComponentSpec
from airflow_mlplat.ranking.node import RANKING_COMPONENT, ranking_spec
from airflow_mlplat.sdk.node import node_document, own_fields
from airflow_mlplat.sdk.pipeline import building


def component_specs() -> dict[str, ComponentSpec]:
    """Every component a pipeline node can name: the registry's, and ``ranking_model``."""
    return {**load_components(), RANKING_COMPONENT: ranking_spec()}


def _signature(spec: ComponentSpec) -> inspect.Signature:
    keyword, empty = inspect.Parameter.KEYWORD_ONLY, inspect.Parameter.empty
    positional = inspect.Parameter.POSITIONAL_OR_KEYWORD
    inputs = [inspect.Parameter(p.name, positional, default=None if p.optional else empty) for p in spec.inputs]
    own = [inspect.Parameter(name, keyword, default=None) for name in own_fields(spec)]
    params = [inspect.Parameter(p.name, keyword, default=empty if p.required else p.default) for p in spec.params]
    if spec.name == RANKING_COMPONENT:  # its parameters depend on the model: see ranking.params
        params = [inspect.Parameter("params", inspect.Parameter.VAR_KEYWORD)]
    return inspect.Signature([*inputs, *own, *params])


@functools.cache
def component_function(name: str) -> Callable[..., Any]:
    """The SDK function of component ``name``; AttributeError (with a suggestion) for an unknown name."""
    specs = component_specs()
    spec = specs.get(name)
    if spec is None:
        close = difflib.get_close_matches(name, list(specs), n=1, cutoff=0.6)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise AttributeError(f"component {name!r} is unknown{hint}")

    def call(*inputs: Any, **arguments: Any) -> Any:
        builder = building(spec.name)
        return builder.add_node(spec, node_document(builder, spec, inputs, arguments))

    call.__name__ = call.__qualname__ = spec.name
    call.__module__ = __name__
    call.__doc__ = spec.description
    call.__signature__ = _signature(spec)  # type: ignore[attr-defined]
    return call


def __getattr__(name: str) -> Callable[..., Any]:
    if name.startswith("__"):
        raise AttributeError(name)
    return component_function(name)


def __dir__() -> list[str]:
    return sorted([*globals(), *component_specs()])
