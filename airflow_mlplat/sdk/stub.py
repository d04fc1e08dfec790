"""The type stub of ``airflow_mlplat.sdk.components``, generated from the component registry.

``components.pyi`` lists every component function with its inputs, parameters (types, option
sets, defaults, help) and return type, so an IDE completes names and arguments. It is written
by ``airflow-mlplat components stub`` and a test keeps it in sync with the registry.
"""

from __future__ import annotations

import json
import math
import textwrap
import typing
from pathlib import Path
from typing import Any

from airflow_mlplat.components.spec import ComponentSpec, Param, PortKind
from airflow_mlplat.ranking import params as ranking_params
from airflow_mlplat.ranking.node import RANKING_COMPONENT
from airflow_mlplat.sdk.handles import OUTPUT_TYPES, outputs_tuple_name

STUB_PATH = Path(__file__).with_name("components.pyi")
LAUNCHER_TYPE = "RankingLauncher"
_WIDTH = 100  # of docstring text
_LINE = 120  # the formatter's line length (ruff.toml)
_HEADER = '''"""The SDK's component functions, for IDEs and type checkers.

Generated from the component registry by `airflow-mlplat components stub`: do not edit.
"""

from typing import Any, Literal, NamedTuple, TypedDict

from airflow_mlplat.sdk.handles import MetricsOutput, ModelOutput, ParamRef, Stored, TableOutput'''


def _literal(value: Any) -> str:
    """A Python literal, strings in double quotes (as the formatter writes them)."""
    return json.dumps(value) if isinstance(value, str) else repr(value)


def _type_text(annotation: Any) -> str:
    if isinstance(annotation, type) and not typing.get_args(annotation):
        return annotation.__name__
    return str(annotation).replace("typing.", "").replace("NoneType", "None")


def _param_type(param: Param) -> str:
    if param.options is not None:
        text = f"Literal[{', '.join(_literal(v) for v in param.options.values)}]"
    else:
        text = _type_text(param.annotation)
    return f"{text} | ParamRef"


def _default_text(value: Any) -> str:
    simple = value is None or isinstance(value, bool | int | str) or (isinstance(value, float) and math.isfinite(value))
    return _literal(value) if simple and len(repr(value)) <= 40 else "..."


def _wrap(line: str, width: int) -> list[str]:
    if len(line) <= width:
        return [line]
    indent = line[: len(line) - len(line.lstrip())]
    return textwrap.wrap(line, width, initial_indent="", subsequent_indent=indent) or [""]


def _docstring(spec: ComponentSpec, params: tuple[Param, ...]) -> list[str]:
    text = spec.description.strip().replace("\\", "\\\\")
    lines = [part for line in text.splitlines() for part in _wrap(line.rstrip(), _WIDTH - 4)]
    lines = [line.replace('"""', '\\"\\"\\"') for line in lines] or [spec.name]
    inputs = {port.name for port in spec.inputs}
    sections = {
        "Args": [(port.name, port.help) for port in spec.inputs] + [(param.name, param.help) for param in params],
        # an output named like an input has that input's help in the registry: give its kind instead
        "Returns": [
            (port.name, f"a {port.kind.value}" if port.name in inputs or not port.help else port.help)
            for port in spec.outputs
        ],
    }
    for title, items in sections.items():
        if items:
            lines += ["", f"{title}:"]
        for name, text in items:
            wrapped = textwrap.wrap(f"{name}: {text}", _WIDTH - 8, subsequent_indent="    ")
            lines += [f"    {line}" for line in wrapped]
    body = ['    """' + lines[0], *[f"    {line}" if line else "" for line in lines[1:]], '    """']
    return body


def _return_type(spec: ComponentSpec) -> tuple[str, list[str]]:
    """The return annotation, and the NamedTuple class it needs (several outputs)."""
    if not spec.outputs:
        return "None", []
    if len(spec.outputs) == 1:
        return OUTPUT_TYPES[spec.outputs[0].kind].__name__, []
    name = outputs_tuple_name(spec.name)
    fields = [f"    {port.name}: {OUTPUT_TYPES[port.kind].__name__}" for port in spec.outputs]
    return name, [f"class {name}(NamedTuple):", *fields, ""]


def _input_type(kind: PortKind) -> str:
    return f"{OUTPUT_TYPES[kind].__name__} | Stored"


def _ranking_params() -> tuple[Param, ...]:
    """Every ranking model's parameters (each model takes the shared ones and its own)."""
    seen: dict[str, Param] = {}
    for model in ranking_params.MODELS:
        for param in ranking_params.model_params(model):
            seen.setdefault(param.name, param)
    return tuple(seen.values())


def _launcher_class() -> list[str]:
    fields = [f"    {p.name}: {_type_text(p.annotation)}" for p in ranking_params.launcher_params()]
    return [f"class {LAUNCHER_TYPE}(TypedDict, total=False):", *fields, ""]


def _function(spec: ComponentSpec) -> list[str]:
    ranking = spec.name == RANKING_COMPONENT
    params = _ranking_params() if ranking else spec.params
    returns, before = _return_type(spec)
    args = []
    for port in spec.inputs:
        args.append(f"{port.name}: {_input_type(port.kind)}" + (" | None = None" if port.optional else ""))
    args += ["*", "id: str | None = None", "description: str | None = None"]
    if ranking:
        models = ", ".join(_literal(m) for m in ranking_params.MODELS)
        args += [f"model: Literal[{models}]", f"launcher: {LAUNCHER_TYPE} | None = None"]
    for param in params:
        default = "" if param.required else f" = {_default_text(param.default)}"
        arg = f"{param.name}: {_param_type(param)}{default}"
        if len(arg) > _LINE - 5 and param.options is not None:
            # too long for one line: name its option set once, above the function
            alias = "_" + "".join(part.capitalize() for part in f"{spec.name}_{param.name}".split("_"))
            before += _alias(alias, [_literal(v) for v in param.options.values])
            arg = f"{param.name}: {alias} | ParamRef{default}"
        args.append(arg)
    signature = [f"def {spec.name}(", *[f"    {arg}," for arg in args], f") -> {returns}:"]
    return [*before, *signature, *_docstring(spec, params), ""]


def _alias(name: str, values: list[str]) -> list[str]:
    line = f"{name} = Literal[{', '.join(values)}]"
    if len(line) <= _LINE:
        return [line, ""]
    inner = ", ".join(values)
    if len(inner) + 4 <= _LINE:
        return [f"{name} = Literal[", f"    {inner}", "]", ""]
    return [f"{name} = Literal[", *[f"    {value}," for value in values], "]", ""]


def render_stub(specs: dict[str, ComponentSpec] | None = None) -> str:
    """The text of ``components.pyi`` for ``specs`` (default: every component a node can name)."""
    if specs is None:
        from airflow_mlplat.sdk.components import component_specs

        specs = component_specs()
    lines = [_HEADER, ""]
    if RANKING_COMPONENT in specs:
        lines += _launcher_class()
    for name in sorted(specs):
        lines += _function(specs[name])
    return "\n".join(lines).rstrip() + "\n"
