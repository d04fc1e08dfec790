"""Validation of a pipeline document against the component registry.

Runs at DAG parse time and before any Spark job: it imports the registry's declarations
only, never pyspark. Every problem names its place (``nodes[3] (gbdt): params.max_iter``)
and all problems are reported at once.
"""

from __future__ import annotations

import difflib
import json
from pathlib import Path
from typing import Any

import pydantic

from airflow_mlplat.components.registry import load_components
from airflow_mlplat.components.spec import ComponentSpec, Param, PortKind
from airflow_mlplat.pipeline import page_policy
from airflow_mlplat.pipeline.errors import PipelineValidationError, Problem
from airflow_mlplat.pipeline.graph import CycleError, topological_order
from airflow_mlplat.pipeline.model import PARAM_REF_KEY, Node, PathInput, Pipeline, PipelineOutput, split_reference
from airflow_mlplat.pipeline.params import check_value
from airflow_mlplat.pipeline.sql_policy import check_sql
from airflow_mlplat.ranking.node import RANKING_COMPONENT, ranking_spec
from airflow_mlplat.ranking.node import node_problems as ranking_node_problems
from airflow_mlplat.storage.urls import url_problem

#: A component parameter with this name is a storage location (see ``airflow_mlplat.storage``).
LOCATION_PARAM = "path"


def load_pipeline(source: dict[str, Any] | str | Path) -> dict[str, Any]:
    """The raw pipeline document from a dict, a JSON string or a path to a ``.json`` file.

    Raises PipelineValidationError (naming the file) when the JSON does not parse.
    """
    if isinstance(source, dict):
        return source
    text = str(source)
    if isinstance(source, Path) or not text.lstrip().startswith("{"):
        path = Path(text)
        try:
            text = path.read_text()
        except OSError as exc:
            raise PipelineValidationError([Problem("", f"cannot read pipeline file: {exc}")], str(path)) from None
        name = str(path)
    else:
        name = "pipeline"
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PipelineValidationError([Problem(f"line {exc.lineno} column {exc.colno}", exc.msg)], name) from None
    except RecursionError:
        raise PipelineValidationError([Problem("", "is nested too deeply to read")], name) from None
    if not isinstance(doc, dict):
        raise PipelineValidationError([Problem("", f"must be a JSON object, got {type(doc).__name__}")], name)
    return doc


def file_name_problem(path: Path, doc: Any) -> Problem | None:
    """A pipeline file is named after its pipeline (``NAME.json`` holds ``"name": "NAME"``, the DAG id)."""
    name = doc.get("name") if isinstance(doc, dict) else None
    if name == path.stem:
        return None
    return Problem("name", f"must be {path.stem!r}, its file's name (file, pipeline and DAG id are one), got {name!r}")


def _suggest(name: str, candidates: list[str]) -> str:
    close = difflib.get_close_matches(name, candidates, n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def _node_where(index: int, node: Node | dict[str, Any]) -> str:
    node_id = node.id if isinstance(node, Node) else node.get("id") if isinstance(node, dict) else None
    return f"nodes[{index}] ({node_id})" if node_id is not None else f"nodes[{index}]"


def _pydantic_problems(doc: Any, error: pydantic.ValidationError) -> list[Problem]:
    problems: dict[str, Problem] = {}
    for item in error.errors():
        # Union members add their type name to the location; drop them for the reader.
        loc = [p for p in item["loc"] if not (isinstance(p, str) and p[:1].isupper() or p in {"str"})]
        where_parts: list[str] = []
        if len(loc) >= 2 and loc[0] == "nodes" and isinstance(loc[1], int):
            nodes = doc.get("nodes") if isinstance(doc, dict) else None
            node = nodes[loc[1]] if isinstance(nodes, list) and loc[1] < len(nodes) else {}
            where_parts.append(_node_where(loc[1], node if isinstance(node, dict) else {}))
            loc = loc[2:]
        field = ".".join(str(p) for p in loc)
        where = ": ".join([*where_parts, field] if field else where_parts)
        value = item.get("input")
        message = item["msg"][0].lower() + item["msg"][1:]
        if item["type"] not in {"missing", "extra_forbidden"}:
            message += f", got {value!r}"
        if item["type"] == "extra_forbidden":
            message = "is not a known field"
        problems.setdefault(where, Problem(where, message))
    return list(problems.values())


def _sql_items(param: Param, value: Any) -> list[tuple[str, str]]:
    """``[(label, text)]`` of the SQL texts in a valid value of an ``Sql`` parameter (blank ones skipped)."""
    if isinstance(value, str):
        items = [(f"params.{param.name}", value)]
    elif isinstance(value, list):
        items = [(f"params.{param.name}[{i}]", text) for i, text in enumerate(value)]
    elif isinstance(value, dict):
        items = [(f"params.{param.name}.{key}", text) for key, text in value.items()]
    else:
        items = []
    return [(label, text) for label, text in items if isinstance(text, str) and text.strip()]


def _page_problems(label: str, spec: ComponentSpec, param: Param, value: Any, via: str) -> list[str]:
    """What a pipeline saved from the page may not do with this (valid) parameter value."""
    found = []
    if param.name == LOCATION_PARAM and value is not None:
        problem = page_policy.location_problem(value)
        if problem:
            found.append(f"{label} of {spec.name} {problem}{via}")
    if param.name == page_policy.TABLE_PARAM and value is not None:
        problem = page_policy.table_problem(value)
        if problem:
            found.append(f"{label} of {spec.name} {problem}{via}")
    return found


def _check_params(
    pipeline: Pipeline,
    where: str,
    node: Node,
    spec: ComponentSpec,
    values: dict[str, Any],
    problems: list[Problem],
) -> None:
    declared = [p.name for p in spec.params]
    for name in node.params:
        if spec.param(name) is None:
            problems.append(
                Problem(where, f"params.{name} is not a parameter of {spec.name}{_suggest(name, declared)}")
            )
    for param in spec.params:
        if param.name not in node.params:
            if param.required:
                problems.append(Problem(where, f"params.{param.name} is required by {spec.name} and missing"))
            continue
        raw = node.params[param.name]
        value = raw
        via = ""
        if isinstance(raw, dict) and PARAM_REF_KEY in raw:
            ref = raw[PARAM_REF_KEY]
            if set(raw) != {PARAM_REF_KEY} or not isinstance(ref, str):
                problems.append(Problem(where, f'params.{param.name}: a reference is {{"$param": NAME}}, got {raw!r}'))
                continue
            if ref not in pipeline.params:
                problems.append(
                    Problem(
                        where,
                        f"params.{param.name} refers to pipeline param {ref!r}, which is not declared"
                        f"{_suggest(ref, list(pipeline.params))}",
                    )
                )
                continue
            value = values[ref]
            via = f" (from pipeline param {ref!r})"
        problem = check_value(param, value)
        if problem is None and param.name == LOCATION_PARAM and value is not None:
            problem = url_problem(value)
        if problem:
            problems.append(Problem(where, f"params.{param.name} of {spec.name} {problem}{via}"))
            continue
        page = pipeline.origin == page_policy.PAGE_ORIGIN
        if page:
            found = _page_problems(f"params.{param.name}", spec, param, value, via)
            problems.extend(Problem(where, text) for text in found)
        if param.sql is None:
            continue
        for label, text in _sql_items(param, value):
            check = check_sql(text, param.sql.kind)  # type: ignore[arg-type]
            problems.extend(Problem(where, f"{label} of {spec.name} {found}{via}") for found in check.problems)
            for location in check.locations if page else ():
                outside = page_policy.location_problem(location)
                if outside:
                    problems.append(Problem(where, f"{label} of {spec.name} reads or writes {outside}{via}"))


def _check_inputs(
    origin: str,
    where: str,
    node: Node,
    spec: ComponentSpec,
    nodes_by_id: dict[str, Node],
    specs: dict[str, ComponentSpec],
    problems: list[Problem],
) -> None:
    declared = [p.name for p in spec.inputs]
    for port_name, ref in node.inputs.items():
        port = spec.input(port_name)
        if port is None:
            problems.append(
                Problem(where, f"inputs.{port_name} is not an input of {spec.name}{_suggest(port_name, declared)}")
            )
            continue
        if isinstance(ref, PathInput):
            problem = url_problem(ref.path)
            if problem is None and origin == page_policy.PAGE_ORIGIN:
                problem = page_policy.location_problem(ref.path)
            if problem:
                problems.append(Problem(where, f"inputs.{port_name}.path {problem}"))
            continue
        problem = _reference_problem(ref, nodes_by_id, specs, expected=port.kind)
        if problem:
            problems.append(Problem(where, f"inputs.{port_name} {problem}"))
    for port in spec.inputs:
        if port.name not in node.inputs and not port.optional:
            problems.append(Problem(where, f"inputs.{port.name} ({port.kind.value}) is required by {spec.name}"))


def _reference_problem(
    ref: str,
    nodes_by_id: dict[str, Node],
    specs: dict[str, ComponentSpec],
    expected: PortKind | None = None,
) -> str | None:
    node_id, port_name = split_reference(ref)
    if not port_name:
        return f"must be 'NODE.PORT', got {ref!r}"
    if node_id not in nodes_by_id:
        return f"refers to node {node_id!r}, which does not exist{_suggest(node_id, list(nodes_by_id))}"
    spec = specs.get(nodes_by_id[node_id].component)
    if spec is None:
        return None  # the unknown component is reported on its own node
    port = spec.output(port_name)
    if port is None:
        names = [p.name for p in spec.outputs]
        return (
            f"refers to output {port_name!r} of node {node_id!r} ({spec.name}), which has outputs "
            f"{names}{_suggest(port_name, names)}"
        )
    if expected is not None and port.kind is not expected:
        return f"expects a {expected.value} but {ref!r} is a {port.kind.value}"
    return None


def resolve_param_values(pipeline: Pipeline, overrides: dict[str, Any] | None) -> tuple[dict[str, Any], list[Problem]]:
    """Pipeline param values: defaults, then ``overrides`` (which must name declared params)."""
    values = {name: p.default for name, p in pipeline.params.items()}
    problems = []
    for name, value in (overrides or {}).items():
        if name not in pipeline.params:
            problems.append(
                Problem(
                    f"params.{name}",
                    f"is not a parameter of pipeline {pipeline.name!r}{_suggest(name, list(pipeline.params))}",
                )
            )
        else:
            values[name] = value
    return values, problems


def validate_pipeline(
    doc: dict[str, Any] | str | Path,
    *,
    source: str | None = None,
    params: dict[str, Any] | None = None,
) -> Pipeline:
    """Validate a pipeline document; return the parsed Pipeline.

    Args:
        doc: the document (dict, JSON string or path; see ``load_pipeline``).
        source: the name used in messages (default: the file path, or "pipeline").
        params: overrides of the pipeline's params (e.g. from a DAG trigger), validated too.

    Raises:
        PipelineValidationError: listing every problem, each naming node and field.
    """
    if source is None:
        source = (
            str(doc)
            if isinstance(doc, Path) or (isinstance(doc, str) and not doc.lstrip().startswith("{"))
            else "pipeline"
        )
    raw = load_pipeline(doc)
    try:
        pipeline = Pipeline.model_validate(raw)
    except pydantic.ValidationError as exc:
        raise PipelineValidationError(_pydantic_problems(raw, exc), source) from None

    catalogue = load_components()
    problems: list[Problem] = []
    values, param_problems = resolve_param_values(pipeline, params)
    problems.extend(param_problems)

    nodes_by_id: dict[str, Node] = {}
    first_index: dict[str, int] = {}
    for index, node in enumerate(pipeline.nodes):
        if node.id in nodes_by_id:
            problems.append(
                Problem(_node_where(index, node), f"id {node.id!r} is already used by nodes[{first_index[node.id]}]")
            )
        else:
            nodes_by_id[node.id] = node
            first_index[node.id] = index

    specs: dict[str, ComponentSpec] = {}
    for node in pipeline.nodes:
        if node.component in catalogue:
            specs[node.component] = catalogue[node.component]
        elif node.component == RANKING_COMPONENT:
            specs[node.component] = ranking_spec()
    known = [*catalogue, RANKING_COMPONENT]

    for index, node in enumerate(pipeline.nodes):
        where = _node_where(index, node)
        spec = specs.get(node.component)
        if spec is None:
            problems.append(Problem(where, f"component {node.component!r} is unknown{_suggest(node.component, known)}"))
            continue
        if node.component == RANKING_COMPONENT:
            problems.extend(Problem(where, text) for text in ranking_node_problems(node))
        else:
            for field in ("model", "launcher"):
                if getattr(node, field) is not None:
                    problems.append(Problem(where, f"{field} is a field of {RANKING_COMPONENT} nodes only"))
            _check_params(pipeline, where, node, spec, values, problems)
        _check_inputs(pipeline.origin, where, node, spec, nodes_by_id, specs, problems)

    for name, output in pipeline.outputs.items():
        ref = output.from_ if isinstance(output, PipelineOutput) else output
        problem = _reference_problem(ref, nodes_by_id, specs)
        if problem:
            problems.append(Problem(f"outputs.{name}", problem))
        if isinstance(output, PipelineOutput) and output.path is not None:
            problem = url_problem(output.path, write=True)
            if problem is None and pipeline.origin == page_policy.PAGE_ORIGIN:
                problem = page_policy.location_problem(output.path)
            if problem:
                problems.append(Problem(f"outputs.{name}.path", problem))

    if pipeline.registration is not None:
        registration = pipeline.registration
        problem = _reference_problem(registration.model, nodes_by_id, specs, expected=PortKind.MODEL)
        if problem:
            problems.append(Problem("register.model", problem))
        deep = getattr(nodes_by_id.get(split_reference(registration.model)[0]), "component", None) == RANKING_COMPONENT
        if registration.sample is None and not deep:
            problems.append(Problem("register.sample", "is required to register a Spark model (its signature)"))
        elif registration.sample is not None:
            problem = _reference_problem(registration.sample, nodes_by_id, specs, expected=PortKind.TABLE)
            if problem:
                problems.append(Problem("register.sample", problem))

    if pipeline.origin == page_policy.PAGE_ORIGIN:
        for key in pipeline.spark_conf:
            problem = page_policy.spark_conf_problem(key)
            if problem:
                problems.append(Problem(f"spark_conf.{key}", problem))

    try:
        topological_order(pipeline.nodes)
    except CycleError as cycle:
        index = first_index.get(cycle.cycle[0], 0)
        problems.append(Problem(_node_where(index, pipeline.nodes[index]), f"inputs form a cycle: {cycle}"))

    if problems:
        raise PipelineValidationError(problems, source)
    return pipeline
