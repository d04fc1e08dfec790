"""The component catalogue as the page reads it: categories, search, and parameter forms.

A form is generated from the component's declaration (``Param.to_dict()``: type, default,
bounds, options, help), the same declaration validation reads, so the form and the validator
cannot disagree. Importing this module imports no Spark.

The ranking models are entries of their own (category "ranking models"), one per model, named
``ranking_model.MODEL``: a node made from one is ``{"component": "ranking_model", "model": MODEL,
"params": {...}, "launcher": {...}}``. Their ports are ``ranking_spec()``'s, their ``params`` form
is ``model_params(MODEL)`` and their ``launcher`` form ``launcher_params()``, the declarations the
validator reads. Every entry says which ``component`` (and ``model``) its node gets.
"""

from __future__ import annotations

from typing import Any

from airflow_mlplat.components.catalogue import by_category
from airflow_mlplat.components.registry import iter_components, load_components
from airflow_mlplat.components.spec import ComponentSpec, Param
from airflow_mlplat.ranking.node import RANKING_COMPONENT, ranking_spec
from airflow_mlplat.ranking.params import MODEL_TITLES, MODELS, launcher_params, model_params

RANKING_CATEGORY = "ranking models"


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
        "component": spec.name,
        "category": spec.category,
        "summary": spec.summary,
        "description": spec.description,
        "inputs": [p.to_dict() for p in spec.inputs],
        "outputs": [p.to_dict() for p in spec.outputs],
        "params": [param_form(p) for p in spec.params],
    }


def ranking_form(model: str) -> dict[str, Any]:
    """The catalogue entry of one ranking model: its params and launcher forms, the node's ports."""
    spec = ranking_spec()
    title = MODEL_TITLES[model]
    return {
        "name": f"{RANKING_COMPONENT}.{model}",
        "component": RANKING_COMPONENT,
        "model": model,
        "title": title,
        "category": RANKING_CATEGORY,
        "summary": f"{title}, trained as a distributed PyTorch job",
        # the spec's first line lists every model: searching for one would find them all
        "description": f"{title} ({model}). " + spec.description.partition("\n\n")[2],
        "inputs": [p.to_dict() for p in spec.inputs],
        "outputs": [p.to_dict() for p in spec.outputs],
        "params": [param_form(p) for p in model_params(model)],
        "launcher": [param_form(p) for p in launcher_params()],
    }


def _matches(form: dict[str, Any], words: list[str]) -> bool:
    text = f"{form['name']} {form['category']} {form['description']}".lower()
    return all(word in text for word in words)


def catalogue(query: str = "", category: str | None = None) -> dict[str, Any]:
    """``{"categories": [{name, count}], "components": [form, ...]}``, filtered by words and category.

    Categories always list the whole library, so the page can offer them while searching.
    """
    words = query.lower().split()
    everything = {
        name: [component_form(spec) for spec in members] for name, members in by_category(iter_components()).items()
    }
    everything.setdefault(RANKING_CATEGORY, []).extend(ranking_form(model) for model in MODELS)
    components = [
        form
        for name, members in everything.items()
        if category in (None, "", name)
        for form in members
        if _matches(form, words)
    ]
    return {
        "categories": [{"name": name, "count": len(members)} for name, members in everything.items()],
        "components": components,
    }


def component(name: str) -> dict[str, Any] | None:
    """One entry's form: a component's name, or ``ranking_model.MODEL``."""
    prefix, _, model = name.partition(".")
    if prefix == RANKING_COMPONENT and model in MODELS:
        return ranking_form(model)
    spec = load_components().get(name)
    return None if spec is None else component_form(spec)
