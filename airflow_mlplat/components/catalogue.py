"""The component catalogue as people read it: text for the terminal, Markdown for the docs.

``docs/components.md`` is generated from the registry (``airflow-mlplat components docs``);
a test keeps the file in sync with the declarations.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from airflow_mlplat.components.spec import ComponentSpec, Param, Port

CATEGORY_ORDER = (
    "import/export",
    "datasets",
    "data processing",
    "feature engineering",
    "text",
    "statistics",
    "classification",
    "regression",
    "clustering",
    "recommendation",
    "outlier detection",
    "evaluation",
    "model",
)


def _category_key(category: str) -> tuple[int, str]:
    return (CATEGORY_ORDER.index(category) if category in CATEGORY_ORDER else len(CATEGORY_ORDER), category)


def by_category(specs: Iterable[ComponentSpec]) -> dict[str, list[ComponentSpec]]:
    grouped: dict[str, list[ComponentSpec]] = {}
    for spec in sorted(specs, key=lambda s: (_category_key(s.category), s.name)):
        grouped.setdefault(spec.category, []).append(spec)
    return grouped


def _constraint(param: Param) -> str:
    described = param.to_dict()
    parts = []
    for key, symbol in (("minimum", ">="), ("exclusiveMinimum", ">"), ("maximum", "<="), ("exclusiveMaximum", "<")):
        if key in described:
            parts.append(f"{symbol} {described[key]}")
    if "enum" in described:
        parts.append("one of " + ", ".join(json.dumps(v) for v in described["enum"]))
    return "; ".join(parts)


def _default(param: Param) -> str:
    return "required" if param.required else json.dumps(param.default)


def _ports(ports: Iterable[Port]) -> str:
    return ", ".join(f"{p.name} ({p.kind.value}{', optional' if p.optional else ''})" for p in ports) or "none"


def render_text(spec: ComponentSpec) -> str:
    """``airflow-mlplat components show NAME``."""
    lines = [f"{spec.name}  [{spec.category}]", "", spec.description, ""]
    lines.append(f"inputs:  {_ports(spec.inputs)}")
    lines.append(f"outputs: {_ports(spec.outputs)}")
    lines.append("")
    lines.append("parameters:")
    for param in spec.params:
        constraint = _constraint(param)
        lines.append(
            f"  {param.name}: {param.type_name} = {_default(param)}" + (f"  ({constraint})" if constraint else "")
        )
        lines.append(f"      {param.help}")
    if not spec.params:
        lines.append("  (none)")
    return "\n".join(lines)


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def render_markdown(specs: Iterable[ComponentSpec]) -> str:
    """The whole catalogue as Markdown: an index by category, then one section per component."""
    grouped = by_category(specs)
    total = sum(len(v) for v in grouped.values())
    out = [
        "# Component catalogue",
        "",
        "Generated from the component registry by `airflow-mlplat components docs`; do not edit by hand.",
        "",
        f"{total} components in {len(grouped)} categories.",
        "",
        "| category | components |",
        "|---|---|",
    ]
    for category, members in grouped.items():
        out.append(f"| {category} ({len(members)}) | " + ", ".join(f"[{s.name}](#{s.name})" for s in members) + " |")
    for category, members in grouped.items():
        out += ["", f"## {category}"]
        for spec in members:
            out += ["", f"### {spec.name}", "", _cell(spec.description), ""]
            out.append(f"Inputs: {_ports(spec.inputs)}. Outputs: {_ports(spec.outputs)}.")
            out += _param_table(spec.params)
    out += _ranking_models()
    return "\n".join(out) + "\n"


def _param_table(params: Iterable[Param]) -> list[str]:
    params = list(params)
    if not params:
        return []
    out = ["", "| parameter | type | default | constraint | help |", "|---|---|---|---|---|"]
    for param in params:
        out.append(
            f"| `{param.name}` | {_cell(param.type_name)} | `{_default(param)}` | "
            f"{_cell(_constraint(param))} | {_cell(param.help)} |"
        )
    return out


def _ranking_models() -> list[str]:
    """The ``ranking_model`` node: a deep step, trained by the launcher, declared in ``ranking.params``."""
    from airflow_mlplat.ranking.node import RANKING_COMPONENT, ranking_spec
    from airflow_mlplat.ranking.params import MODEL_TITLES, MODELS, launcher_params, model_own_params, shared_params

    spec = ranking_spec()
    out = ["", "## ranking models", "", f"### {RANKING_COMPONENT}", "", _cell(spec.description), ""]
    out.append(f"Inputs: {_ports(spec.inputs)}. Outputs: {_ports(spec.outputs)}.")
    out += [
        "",
        f"`model`: {', '.join(f'`{m}` ({MODEL_TITLES[m]})' for m in MODELS)}.",
        "",
        "Parameters of every model:",
    ]
    out += _param_table(shared_params())
    for model in MODELS:
        own = model_own_params(model)
        if own:
            out += ["", f"Parameters of `{model}` only:"] + _param_table(own)
    out += ["", "`launcher` (the training job's settings):"] + _param_table(launcher_params())
    return out
