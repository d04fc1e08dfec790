"""Contract tests read the components' declarations (house rule 8)."""

from __future__ import annotations

import inspect
import types
import typing
from typing import Annotated

import pytest

from airflow_mlplat.components import Interval, Model, Options, SchemaOnly, Table, iter_components, load_components
from airflow_mlplat.components.registry import ComponentDeclarationError, build_spec, component, register
from airflow_mlplat.pipeline import PipelineValidationError, validate_pipeline
from airflow_mlplat.pipeline.params import check_value

ALL = list(iter_components())
PARAMS = [(spec, param) for spec in ALL for param in spec.params]


@pytest.mark.parametrize("spec", ALL, ids=lambda s: s.name)
def test_declaration_is_complete(spec):
    assert spec.description and spec.category and spec.outputs
    for port in (*spec.inputs, *spec.params):
        assert port.help, f"{spec.name}.{port.name} has no help"
    signature = inspect.signature(spec.func)
    keyword_only = [p.name for p in signature.parameters.values() if p.kind is inspect.Parameter.KEYWORD_ONLY]
    assert keyword_only == [p.name for p in spec.params]
    assert spec.to_dict()["name"] == spec.name


def _invalid_values(param):
    """Values the declaration says are invalid: wrong type, out of bounds, not an option."""
    yield object()
    base = param.annotation
    nullable = typing.get_origin(base) in (typing.Union, types.UnionType)
    if base in (int, float) or (nullable and {int, float} & set(typing.get_args(base))):
        yield "not a number"
    if base is str:
        yield 12345
    if typing.get_origin(base) is list:
        yield "not-a-list"
    if param.options is not None:
        yield "surely-not-an-option"
    if param.interval is not None:
        schema = param.interval.json_schema()
        for key in ("minimum", "exclusiveMinimum"):
            if key in schema:
                yield schema[key] - 1
        for key in ("maximum", "exclusiveMaximum"):
            if key in schema:
                yield schema[key] + 1
        if "exclusiveMinimum" in schema:
            yield schema["exclusiveMinimum"]
        if "exclusiveMaximum" in schema:
            yield schema["exclusiveMaximum"]


@pytest.mark.parametrize(("spec", "param"), PARAMS, ids=[f"{s.name}.{p.name}" for s, p in PARAMS])
def test_generated_invalid_values_are_rejected_and_named(spec, param):
    """Each declared type, bound and option set yields invalid values; validation names them."""
    if not param.required:
        assert check_value(param, param.default) is None
    required = {p.name: _valid_value(p) for p in spec.params if p.required and p.name != param.name}
    inputs = {port.name: {"path": "unused"} for port in spec.inputs}
    for value in _invalid_values(param):
        if type(value) is object:
            assert check_value(param, value) is not None  # not JSON: checked directly
            continue
        node = {"id": "n", "component": spec.name, "params": {**required, param.name: value}, "inputs": inputs}
        with pytest.raises(PipelineValidationError) as info:
            validate_pipeline({"name": "p", "nodes": [node]})
        message = str(info.value)
        assert f"nodes[0] (n): params.{param.name} of {spec.name} must be " in message, message
        assert f"got {value!r}" in message


def _valid_value(param):
    if param.options is not None:
        return param.options.values[0]
    if param.interval is not None and param.interval.low is not None:
        return param.annotation(param.interval.low + (1 if param.interval.closed in {"neither", "right"} else 0))
    samples = {int: 1, float: 0.5, str: "x", bool: True}
    base = param.annotation
    if typing.get_origin(base) is list:
        return [samples.get(typing.get_args(base)[0], "x")]
    if typing.get_origin(base) is dict:
        return {}
    if typing.get_origin(base) in (typing.Union, types.UnionType):
        base = next(a for a in typing.get_args(base) if a is not type(None))
    return samples.get(base, "x")


def _declare(func, **kwargs):
    return build_spec(func, category="test", outputs=kwargs.pop("outputs", {"data": Table}), **kwargs)


def test_missing_annotation_fails_at_registration():
    def bad(ctx, data: Table, *, k=3):
        """Doc.

        Args:
            data: d.
            k: k.
        """

    with pytest.raises(ComponentDeclarationError, match="argument 'k': missing type annotation"):
        _declare(bad)


def test_undocumented_parameter_fails_at_registration():
    def bad(ctx, data: Table, *, k: int = 3):
        """Doc.

        Args:
            data: d.
        """

    with pytest.raises(ComponentDeclarationError, match="argument 'k': not documented"):
        _declare(bad)


def test_positional_non_port_fails_at_registration():
    def bad(ctx, k: int):
        """Doc.

        Args:
            k: k.
        """

    with pytest.raises(ComponentDeclarationError, match="input ports and must be annotated Table, Model or Metrics"):
        _declare(bad)


def test_schema_only_marks_table_inputs_only():
    def schema_reader(ctx, data: Annotated[Table | None, SchemaOnly] = None):
        """Doc.

        Args:
            data: d.
        """

    spec = build_spec(schema_reader, category="test", outputs={"data": Table})
    assert spec.input("data").schema_only and spec.input("data").optional

    def bad(ctx, model: Annotated[Model, SchemaOnly]):
        """Doc.

        Args:
            model: m.
        """

    with pytest.raises(ComponentDeclarationError, match="argument 'model': SchemaOnly marks Table inputs only"):
        _declare(bad)


def test_default_outside_its_bounds_fails_at_registration():
    def bad(ctx, data: Table, *, k: Annotated[int, Interval(1, 10)] = 0):
        """Doc.

        Args:
            data: d.
            k: k.
        """

    with pytest.raises(ComponentDeclarationError, match=r"default 0 must be an integer >= 1 and <= 10, got 0"):
        _declare(bad)


def test_docstring_documenting_a_missing_argument_fails():
    def bad(ctx, data: Table, *, how: Annotated[str, Options("a", "b")] = "a"):
        """Doc.

        Args:
            data: d.
            how: h.
            gone: not in the signature.
        """

    with pytest.raises(ComponentDeclarationError, match="documents \\['gone'\\]"):
        _declare(bad)


def test_duplicate_name_fails_at_registration():
    existing = next(iter(load_components().values()))

    def impostor(ctx, data: Table):
        """Doc.

        Args:
            data: d.
        """

    with pytest.raises(ComponentDeclarationError, match=f"component {existing.name!r} is declared twice"):
        component(category="x", outputs={"data": Table}, name=existing.name)(impostor)
    register(existing)  # the registry is unchanged
    assert load_components()[existing.name] is existing


#: The column each role is written to and read from by default, across the library: what a model's
#: transform writes (Spark's names), what the clustering components write, what every consumer reads.
ROLE_COLUMNS = {
    "features": "features",
    "label": "label",
    "prediction": "prediction",
    "probability": "probability",
    "rawPrediction": "rawPrediction",
    "cluster ids": "cluster",
}
#: Parameters naming a role's column, by their name.
ROLE_PARAMS = {
    "features_col": "features",
    "label_col": "label",
    "prediction_col": "prediction",
    "probability_col": "probability",
    "raw_prediction_col": "rawPrediction",
    "cluster_col": "cluster ids",
}
#: Parameters whose name does not say their role.
ROLE_EXCEPTIONS = {("clustering_evaluation", "prediction_col"): "cluster ids"}  # reads what kmeans & co. write
#: Parameters naming any one column: where they default to a role's column, that is their role (the
#: vector transformers read ``features``, vector_assembler writes it, index_to_string reads ``prediction``).
ANY_COLUMN = {"input_col", "output_col"}


def test_producers_and_consumers_default_to_the_same_columns():
    """kmeans -> clustering_evaluation, vector_assembler -> a classifier -> predict -> an evaluation:
    the defaults alone connect them. Every parameter naming a role (by its name, or in ROLE_EXCEPTIONS)
    defaults to that role's column (or to none, when optional); no other parameter defaults to one."""
    wrong = []
    for spec in ALL:
        for param in spec.params:
            role = ROLE_EXCEPTIONS.get((spec.name, param.name), ROLE_PARAMS.get(param.name))
            if role is None and param.default in ROLE_COLUMNS.values() and param.name not in ANY_COLUMN:
                wrong.append(f"{spec.name}.{param.name} defaults to {param.default!r} but names no role")
            elif role is not None and param.default not in (ROLE_COLUMNS[role], None):
                expected = ROLE_COLUMNS[role]
                wrong.append(f"{spec.name}.{param.name} ({role}) defaults to {param.default!r}, not {expected!r}")
    assert wrong == []
    assert ROLE_EXCEPTIONS.keys() <= {(s.name, p.name) for s in ALL for p in s.params}  # no stale entries
