"""The component catalogue as the page reads it: categories, search, and parameter forms.

A form is generated from the component's declaration (``Param.to_dict()``: type, default,
bounds, options, help), the same declaration validation reads, so the form and the validator
cannot disagree. Importing this module imports no Spark.
"""

from __future__ import annotations

from typing import Any

from airflow_mlplat.components.catalogue import by_category
from airflow_mlplat.components.registry import iter_components, load_components
from airflow_mlplat.components.spec import ComponentSpec, Param


def widget(param: Param) -> str:
    """Which input edits ``param``: select, checkbox, integer, number, text, list or json."""
    described = param.to_dict()
    if "enum" in described:
        return "select"
    base = param.type_name.removesuffix(" or null")
    if base == "boolean":
        return "checkbox"
    if base in {"integer", "number", "string"}:
        return base if base != "string" else "text"
    if base == "list of strings":
        return "list"
    return "json"


def param_form(param: Param) -> dict[str, Any]:
    field = param.to_dict()
    field["widget"] = widget(param)
    field["nullable"] = param.type_name.endswith(" or null")
    return field


def component_form(spec: ComponentSpec) -> dict[str, Any]:
    """Everything the page needs to draw a component and edit its parameters."""
    return {
        "name": spec.name,
        "category": spec.category,
        "summary": spec.summary,
        "description": spec.description,
        "inputs": [p.to_dict() for p in spec.inputs],
        "outputs": [p.to_dict() for p in spec.outputs],
        "params": [param_form(p) for p in spec.params],
    }


def _matches(spec: ComponentSpec, words: list[str]) -> bool:
    text = f"{spec.name} {spec.category} {spec.description}".lower()
    return all(word in text for word in words)


def catalogue(query: str = "", category: str | None = None) -> dict[str, Any]:
    """``{"categories": [{name, count}], "components": [form, ...]}``, filtered by words and category.

    Categories always list the whole library, so the page can offer them while searching.
    """
    words = query.lower().split()
    everything = by_category(iter_components())
    components = [
        component_form(spec)
        for name, members in everything.items()
        if category in (None, "", name)
        for spec in members
        if _matches(spec, words)
    ]
    return {
        "categories": [{"name": name, "count": len(members)} for name, members in everything.items()],
        "components": components,
    }


def component(name: str) -> dict[str, Any] | None:
    spec = load_components().get(name)
    return None if spec is None else component_form(spec)
