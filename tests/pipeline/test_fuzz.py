"""Malformed pipelines only ever produce PipelineValidationError, never another exception."""

from __future__ import annotations

import copy
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from airflow_mlplat.pipeline import PipelineValidationError, validate_pipeline
from tests.conftest import REPO_ROOT

BASE = json.loads((REPO_ROOT / "dags" / "pipelines" / "purchase_intent_gbdt.json").read_text())

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=12),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=8,
)
names = st.sampled_from(
    [
        "id",
        "component",
        "params",
        "inputs",
        "outputs",
        "nodes",
        "name",
        "$param",
        "data",
        "max_iter",
        "ratio",
        "columns",
        "gbdt.model",
        "split.train",
        "x.y",
        "execution",
    ]
)


def _paths(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _paths(child, (*prefix, index))


@st.composite
def mutated_pipelines(draw):
    doc = copy.deepcopy(BASE)
    for _ in range(draw(st.integers(1, 4))):
        paths = list(_paths(doc))
        path = draw(st.sampled_from(paths))
        if not path:
            doc = draw(st.one_of(json_values, st.just(doc)))
            if not isinstance(doc, dict):
                return doc
            continue
        parent = doc
        for key in path[:-1]:
            parent = parent[key]
        action = draw(st.sampled_from(["replace", "delete", "add"]))
        if action == "replace":
            parent[path[-1]] = draw(json_values | names)
        elif action == "delete":
            del parent[path[-1]]
        elif isinstance(parent[path[-1]], dict):
            parent[path[-1]][draw(names)] = draw(json_values | names)
        elif isinstance(parent[path[-1]], list):
            parent[path[-1]].append(draw(json_values))
    return doc


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_pipelines())
def test_malformed_pipelines_raise_only_validation_errors(doc):
    try:
        validate_pipeline(doc if isinstance(doc, dict) else {"value": doc})
    except PipelineValidationError as error:
        assert error.problems
        for problem in error.problems:
            assert problem.message


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=200))
def test_arbitrary_text_raises_only_validation_errors(text):
    try:
        validate_pipeline("{" + text)
    except PipelineValidationError:
        pass
