"""The component registry: the ``@component`` decorator and the catalogue of all components.

A component is a plain function. Its name, inputs, parameters, types, defaults and help are
derived from the signature and the Google-style docstring (as Kubeflow's ``@dsl.component``
does); bounds and option sets come from ``typing.Annotated`` metadata. Registration checks
the declaration eagerly, so a component that disagrees with its own signature fails when the
registry is imported (in tests), never in the middle of a run.

Signature contract::

    @component(category="classification", outputs={"model": Model})
    def gbdt_classifier(ctx, data: Table, *, max_iter: Annotated[int, Interval(1, None)] = 20):
        \"\"\"Gradient-boosted trees classifier.

        Args:
            data: training table with a features vector and a label.
            max_iter: number of boosting rounds.
        \"\"\"

- the first argument is the run context (``ComponentContext``), unannotated;
- the other positional arguments are input ports, annotated ``Table``/``Model``/``Metrics``
  (``| None`` makes the port optional);
- keyword-only arguments are parameters; a parameter without a default is required;
- the function returns the single output's value, or a dict keyed by output name.
"""

from __future__ import annotations

import importlib
import inspect
import re
import types
import typing
from collections.abc import Callable, Iterator
from importlib.metadata import entry_points
from typing import Annotated, Any

from airflow_mlplat.components.spec import (
    _REQUIRED,
    PORT_MARKERS,
    ComponentSpec,
    Interval,
    Options,
    Param,
    Port,
    PortKind,
    SchemaOnly,
    Sql,
)

#: Modules of the built-in library, one per category. Importing them only declares.
BUILTIN_MODULES = tuple(
    f"airflow_mlplat.components.{name}"
    for name in (
        "io",
        "hive",
        "datasets",
        "processing",
        "features",
        "ctr_features",
        "text",
        "statistics",
        "classification",
        "regression",
        "gbdt",
        "clustering",
        "recommendation",
        "outliers",
        "evaluation",
        "model",
        "tuning",
        "online",
        "export",
    )
)
#: Third-party packages add components through this entry-point group (each entry point
#: names a module whose import declares its components).
ENTRY_POINT_GROUP = "airflow_mlplat.components"


class ComponentDeclarationError(TypeError):
    """A component's declaration disagrees with its function (raised at registration)."""


_registry: dict[str, ComponentSpec] = {}
_loaded = False


_SCALAR_NAMES = {int: "integer", float: "number", str: "string", bool: "boolean"}
#: Parameter types that may hold SQL (``Sql`` metadata): a text, or texts in a list or mapping.
_SQL_TYPES = (str, str | None, list[str], dict[str, str], list[str] | None, dict[str, str] | None)


def _type_name(annotation: Any, where: str) -> str:
    """The user-facing type name of an annotation; errors on types a pipeline JSON cannot carry."""
    origin = typing.get_origin(annotation)
    if annotation in _SCALAR_NAMES:
        return _SCALAR_NAMES[annotation]
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1 and len(typing.get_args(annotation)) == 2:
            return _type_name(args[0], where) + " or null"
        return " or ".join(_type_name(a, where) for a in args)
    if origin is list:
        (item,) = typing.get_args(annotation)
        return f"list of {_type_name(item, where)}s"
    if origin is dict:
        key, value = typing.get_args(annotation)
        if key is not str:
            raise ComponentDeclarationError(f"{where}: dict parameters must have str keys")
        return f"mapping of string to {_type_name(value, where)}"
    if origin is typing.Literal:
        return "one of " + ", ".join(repr(v) for v in typing.get_args(annotation))
    if annotation is Any:
        return "any JSON value"
    raise ComponentDeclarationError(f"{where}: unsupported parameter type {annotation!r}")


_ARGS_HEADER = re.compile(r"^\s*(Args|Arguments|Parameters):\s*$")
_ARG_LINE = re.compile(r"^(\s*)(\w+)\s*(\([^)]*\))?:\s*(.*)$")
_SECTION = re.compile(r"^\s*(Returns|Raises|Outputs|Yields|Examples?|Notes?):\s*$")


def parse_docstring(doc: str | None) -> tuple[str, dict[str, str]]:
    """Split a Google-style docstring into its description and its ``Args:`` help texts."""
    lines = inspect.cleandoc(doc or "").splitlines()
    description: list[str] = []
    helps: dict[str, str] = {}
    in_args = False
    current: str | None = None
    arg_indent = None
    for line in lines:
        if _ARGS_HEADER.match(line):
            in_args, current = True, None
            continue
        if _SECTION.match(line):
            in_args, current = False, None
            continue
        if not in_args:
            description.append(line)
            continue
        match = _ARG_LINE.match(line)
        if match and (arg_indent is None or len(match.group(1)) <= arg_indent):
            arg_indent = len(match.group(1))
            current = match.group(2)
            helps[current] = match.group(4).strip()
        elif current and line.strip():
            helps[current] = (helps[current] + " " + line.strip()).strip()
    return "\n".join(description).strip(), helps


def _unwrap_annotated(annotation: Any) -> tuple[Any, list[Any]]:
    if typing.get_origin(annotation) is Annotated:
        base, *meta = typing.get_args(annotation)
        return base, meta
    return annotation, []


def _port_kind(annotation: Any) -> tuple[Any, bool]:
    """(port kind, optional) for an input annotation, or (None, False) if not a port."""
    if annotation in PORT_MARKERS:
        return PORT_MARKERS[annotation], False
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1 and args[0] in PORT_MARKERS:
            return PORT_MARKERS[args[0]], True
    return None, False


def build_spec(
    func: Callable[..., Any],
    *,
    category: str,
    outputs: dict[str, Any],
    name: str | None = None,
    description: str | None = None,
) -> ComponentSpec:
    """Derive a ComponentSpec from a function, checking that the declaration is coherent."""
    comp_name = name or func.__name__
    where = f"component {comp_name!r} ({func.__module__}.{func.__qualname__})"
    try:
        hints = typing.get_type_hints(func, include_extras=True)
    except Exception as exc:  # unresolvable forward reference
        raise ComponentDeclarationError(f"{where}: cannot resolve annotations: {exc}") from exc
    doc_description, helps = parse_docstring(func.__doc__)
    signature = inspect.signature(func)
    arguments = list(signature.parameters.values())
    if not arguments or arguments[0].kind not in (
        inspect.Parameter.POSITIONAL_ONLY,
        inspect.Parameter.POSITIONAL_OR_KEYWORD,
    ):
        raise ComponentDeclarationError(f"{where}: the first argument must be the run context 'ctx'")

    inputs: list[Port] = []
    params: list[Param] = []
    for arg in arguments[1:]:
        arg_where = f"{where}, argument {arg.name!r}"
        if arg.kind in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD):
            raise ComponentDeclarationError(f"{arg_where}: *args/**kwargs are not allowed")
        if arg.name not in hints:
            raise ComponentDeclarationError(f"{arg_where}: missing type annotation")
        if arg.name not in helps:
            raise ComponentDeclarationError(f"{arg_where}: not documented in the docstring's Args section")
        annotation = hints[arg.name]
        if arg.kind is inspect.Parameter.KEYWORD_ONLY:
            base, meta = _unwrap_annotated(annotation)
            interval = next((m for m in meta if isinstance(m, Interval)), None)
            options = next((m for m in meta if isinstance(m, Options)), None)
            sql = next((m for m in meta if isinstance(m, Sql)), None)
            if sql is not None and base not in _SQL_TYPES:
                raise ComponentDeclarationError(
                    f"{arg_where}: Sql(...) is for str, str | None, list[str] or dict[str, str], got {base!r}"
                )
            if options is not None:
                base_literal = typing.Literal[options.values]  # type: ignore[valid-type]
                type_name = _type_name(base_literal, arg_where)
            else:
                type_name = _type_name(base, arg_where)
            default = _REQUIRED if arg.default is inspect.Parameter.empty else arg.default
            param = Param(
                name=arg.name,
                annotation=base,
                type_name=type_name,
                default=default,
                interval=interval,
                options=options,
                help=helps[arg.name],
                sql=sql,
            )
            if not param.required:
                from airflow_mlplat.pipeline.params import check_value  # noqa: PLC0415 (cycle)

                problem = check_value(param, param.default)
                if problem:
                    raise ComponentDeclarationError(f"{arg_where}: default {param.default!r} {problem}")
            params.append(param)
        else:
            base, meta = _unwrap_annotated(annotation)
            kind, optional = _port_kind(base)
            schema_only = SchemaOnly in meta
            if schema_only and kind is not PortKind.TABLE:
                raise ComponentDeclarationError(f"{arg_where}: SchemaOnly marks Table inputs only")
            if kind is None:
                raise ComponentDeclarationError(
                    f"{arg_where}: positional arguments are input ports and must be annotated "
                    "Table, Model or Metrics (parameters are keyword-only: put them after '*')"
                )
            if optional and arg.default is inspect.Parameter.empty:
                raise ComponentDeclarationError(f"{arg_where}: an optional port needs the default None")
            inputs.append(Port(arg.name, kind, helps[arg.name], optional, schema_only))
    undocumented = set(helps) - {a.name for a in arguments[1:]} - set(outputs)
    if undocumented:
        raise ComponentDeclarationError(
            f"{where}: the docstring documents {sorted(undocumented)}, which the signature does not have"
        )
    if not outputs:
        raise ComponentDeclarationError(f"{where}: declare at least one output")
    out_ports = []
    for out_name, marker in outputs.items():
        if marker not in PORT_MARKERS:
            raise ComponentDeclarationError(f"{where}: output {out_name!r} must be Table, Model or Metrics")
        out_ports.append(Port(out_name, PORT_MARKERS[marker], helps.get(out_name, "")))
    text = description if description is not None else doc_description
    if not text:
        raise ComponentDeclarationError(f"{where}: a component needs a description (its docstring)")
    return ComponentSpec(
        name=comp_name,
        category=category,
        description=text,
        inputs=tuple(inputs),
        outputs=tuple(out_ports),
        params=tuple(params),
        func=func,
    )


def component(
    *,
    category: str,
    outputs: dict[str, Any],
    name: str | None = None,
    description: str | None = None,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a function as a component (see the module docstring for the contract)."""

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        spec = build_spec(func, category=category, outputs=outputs, name=name, description=description)
        register(spec)
        func.component_spec = spec  # type: ignore[attr-defined]
        return func

    return decorate


def register(spec: ComponentSpec) -> None:
    existing = _registry.get(spec.name)
    if existing is not None and existing.func is not spec.func:
        if (existing.func.__module__, existing.func.__qualname__) != (spec.func.__module__, spec.func.__qualname__):
            raise ComponentDeclarationError(
                f"component {spec.name!r} is declared twice: in {existing.func.__module__} and {spec.func.__module__}"
            )
    _registry[spec.name] = spec


def load_components() -> dict[str, ComponentSpec]:
    """Import the built-in modules and third-party entry points once; return the catalogue."""
    global _loaded
    if not _loaded:
        for module in BUILTIN_MODULES:
            importlib.import_module(module)
        for entry_point in entry_points(group=ENTRY_POINT_GROUP):
            entry_point.load()
        _loaded = True
    return _registry


def get_component(name: str) -> ComponentSpec:
    catalogue = load_components()
    try:
        return catalogue[name]
    except KeyError:
        raise KeyError(f"unknown component {name!r}") from None


def iter_components(category: str | None = None) -> Iterator[ComponentSpec]:
    for spec in sorted(load_components().values(), key=lambda s: (s.category, s.name)):
        if category is None or spec.category == category:
            yield spec
