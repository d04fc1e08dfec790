"""A pipeline document as SDK code, so work started on the canvas can go on in Python.

``pipeline_to_python(doc)`` writes ``with Pipeline(...) as p:`` and one component call per
node; running that code builds the same document again, with the same ids, fields and key
order (the order ``Pipeline.to_json`` writes: a document saved in another order comes back
equal, its keys reordered; fields set to their defaults, e.g. ``"inputs": {}``, are left out).
``round_trip_difference`` says whether it does.
"""

from __future__ import annotations

import builtins
import json
import keyword
import math
from typing import Any

from airflow_mlplat.components.spec import ComponentSpec
from airflow_mlplat.pipeline.graph import topological_order
from airflow_mlplat.pipeline.model import PARAM_REF_KEY, split_reference
from airflow_mlplat.pipeline.validate import validate_pipeline
from airflow_mlplat.sdk.node import derive_id

_LINE = 120
_INDENT = "    "
#: Names the generated code itself uses.
_TAKEN = {"p", "c", "Pipeline", "Stored"}
_HEAD_FIELDS = ("description", "execution", "schedule", "params", "spark_conf", "preview", "origin")
_REGISTER_FIELDS = ("sample", "pmml", "sample_rows", "alias", "description")


class _Code(str):
    """Source text placed as is (a variable or a call), not as a literal."""


def _literal(value: Any, indent: str) -> str:
    """``value`` (JSON data) as Python source; split one item per line where the line would be too long."""
    if isinstance(value, _Code):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, dict) and set(value) == {PARAM_REF_KEY} and isinstance(value[PARAM_REF_KEY], str):
        return f"p.param({json.dumps(value[PARAM_REF_KEY])})"
    if isinstance(value, dict | list):
        opening, closing = ("{", "}") if isinstance(value, dict) else ("[", "]")
        inner = indent + _INDENT
        if isinstance(value, dict):
            items = [f"{json.dumps(k)}: {_literal(v, inner)}" for k, v in value.items()]
        else:
            items = [_literal(v, inner) for v in value]
        flat = opening + ", ".join(items) + closing
        if len(indent) + len(flat) <= _LINE - 8 or not items:
            return flat
        return opening + "\n" + "".join(f"{inner}{item},\n" for item in items) + indent + closing
    if isinstance(value, float) and not math.isfinite(value):
        return f'float("{value!r}")'  # NaN and Infinity, which json.loads reads
    return repr(value)


def _call(head: str, function: str, args: list[str], indent: str) -> str:
    """``head function(args)`` on one line, or one argument per line when too long."""
    flat = f"{indent}{head}{function}({', '.join(args)})"
    if len(flat) <= _LINE and "\n" not in flat:
        return flat
    inner = indent + _INDENT
    lines = [f"{inner}{arg}," for arg in args]
    return "\n".join([f"{indent}{head}{function}(", *lines, f"{indent})"])


def _keyword(name: str, value: Any, indent: str) -> str:
    text = _literal(value, indent + _INDENT)
    if name.isidentifier() and not keyword.iskeyword(name):
        return f"{name}={text}"
    return f"**{{{json.dumps(name)}: {text}}}"


def _node_order(doc: dict[str, Any], pipeline: Any) -> list[dict[str, Any]]:
    """The nodes in document order when every input comes from an earlier node, else in topological order."""
    nodes = doc["nodes"]
    seen: set[str] = set()
    for node in nodes:
        upstream = {split_reference(ref)[0] for ref in node.get("inputs", {}).values() if isinstance(ref, str)}
        if not upstream <= seen:
            by_id = {node["id"]: node for node in nodes}
            return [by_id[node_id] for node_id in topological_order(pipeline.nodes)]
        seen.add(node["id"])
    return nodes


def _references(doc: dict[str, Any]) -> set[str]:
    refs = [ref for node in doc["nodes"] for ref in node.get("inputs", {}).values() if isinstance(ref, str)]
    refs += [out if isinstance(out, str) else out["from"] for out in doc.get("outputs", {}).values()]
    registration = doc.get("register") or {}
    refs += [registration[key] for key in ("model", "sample") if isinstance(registration.get(key), str)]
    return {split_reference(ref)[0] for ref in refs}


_BUILTINS = frozenset(dir(builtins))


class _Writer:
    def __init__(self, doc: dict[str, Any], specs: dict[str, ComponentSpec]) -> None:
        self.doc = doc
        self.specs = specs
        self.variables: dict[str, str] = {}  # node id -> variable holding its output(s)
        self.by_id = {node["id"]: node for node in doc["nodes"]}
        self.uses_stored = False

    def variable(self, node_id: str) -> str:
        name = node_id
        taken = _TAKEN | _BUILTINS | set(self.variables.values())
        while keyword.iskeyword(name) or name in taken:
            name += "_"
        self.variables[node_id] = name
        return name

    def reference(self, ref: str) -> _Code:
        node_id, port = split_reference(ref)
        node = self.by_id[node_id]
        variable = self.variables[node_id]
        return _Code(variable if len(self.specs[node["component"]].outputs) == 1 else f"{variable}.{port}")

    def input_value(self, value: Any) -> _Code:
        if isinstance(value, str):
            return self.reference(value)
        self.uses_stored = True
        return _Code(f"Stored({json.dumps(value['path'])})")

    def node(self, node: dict[str, Any], used_ids: list[str], referenced: set[str]) -> str:
        spec = self.specs[node["component"]]
        indent = _INDENT
        inputs = node.get("inputs", {})
        declared = [port.name for port in spec.inputs]
        by_position = list(inputs) == declared[: len(inputs)]
        args = [str(self.input_value(value)) for value in inputs.values()] if by_position else []
        if derive_id(spec.name, used_ids) != node["id"]:
            args.append(_keyword("id", node["id"], indent))
        for field in ("description", "model"):  # null is the default: the SDK leaves it out
            if node.get(field) is not None:
                args.append(_keyword(field, node[field], indent))
        if not by_position:
            args += [_keyword(name, self.input_value(value), indent) for name, value in inputs.items()]
        args += [_keyword(name, value, indent) for name, value in node.get("params", {}).items()]
        if node.get("launcher") is not None:
            args.append(_keyword("launcher", node["launcher"], indent))
        head = f"{self.variable(node['id'])} = " if node["id"] in referenced and spec.outputs else ""
        return _call(head, f"c.{spec.name}", args, indent)

    def output(self, name: str, value: Any) -> str:
        if isinstance(value, str):
            return _call("", "p.output", [json.dumps(name), self.reference(value)], _INDENT)
        args = [json.dumps(name), self.reference(value["from"]), _keyword("path", value.get("path"), _INDENT)]
        return _call("", "p.output", args, _INDENT)

    def registration(self, registration: dict[str, Any]) -> str:
        args = [json.dumps(registration["name"]), self.reference(registration["model"])]
        for field in _REGISTER_FIELDS:
            if field in registration:
                value = registration[field]
                value = self.reference(value) if field == "sample" and value is not None else value
                args.append(_keyword(field, value, _INDENT))
        return _call("", "p.register", args, _INDENT)


def pipeline_to_python(doc: dict[str, Any]) -> str:
    """SDK code that builds ``doc`` again. Raises PipelineValidationError when ``doc`` is invalid."""
    from airflow_mlplat.sdk.components import component_specs

    pipeline = validate_pipeline(doc)
    writer = _Writer(doc, component_specs())
    referenced = _references(doc)
    body: list[str] = []
    used_ids: list[str] = []
    for node in _node_order(doc, pipeline):
        body.append(writer.node(node, used_ids, referenced))
        used_ids.append(node["id"])
    body += [writer.output(name, value) for name, value in doc.get("outputs", {}).items()]
    if doc.get("register") is not None:
        body.append(writer.registration(doc["register"]))

    head = [json.dumps(doc["name"])] + [_keyword(key, doc[key], "") for key in _HEAD_FIELDS if key in doc]
    names = ["Pipeline", "Stored"] if writer.uses_stored else ["Pipeline"]
    lines = [
        f'"""The pipeline {doc["name"]!r} (written by `airflow-mlplat pipeline to-python`)."""',
        "",
        f"from airflow_mlplat.sdk import {', '.join(names)}, components as c",
        "",
        _call("with ", "Pipeline", head, "") + " as p:",
        *body,
    ]
    return "\n".join(lines) + "\n"


def build_from_code(code: str) -> dict[str, Any]:
    """The document the SDK code ``code`` builds (its pipeline is the variable ``p``)."""
    namespace: dict[str, Any] = {"__name__": "mlplat_sdk_pipeline"}
    exec(compile(code, "<to-python>", "exec"), namespace)
    return namespace["p"].to_json()


def round_trip_difference(doc: dict[str, Any], code: str) -> str | None:
    """None when ``code`` builds ``doc`` exactly (values and key order), else what differs."""
    rebuilt = build_from_code(code)
    if json.dumps(rebuilt, indent=2) == json.dumps(doc, indent=2):
        return None
    if rebuilt == doc:
        return "the code builds an equal document with its keys in the SDK's order"
    if _normalized(rebuilt) == _normalized(doc):
        return (
            "the code builds the same pipeline; the document differs only in the order of its nodes "
            "(the SDK adds them in the order they run) or keys, or in fields it sets to their defaults"
        )
    return "the code builds a different document (please report this as a bug)"


def _normalized(doc: dict[str, Any]) -> dict[str, Any]:
    """The validated document with every default written out and its nodes by id."""
    normal = validate_pipeline(doc).to_dict()
    normal["nodes"] = {node["id"]: node for node in normal["nodes"]}
    return normal
