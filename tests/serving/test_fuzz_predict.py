"""Hostile bodies to ``/predict`` get an answer, never a 5xx: random JSON, deep nesting, huge numbers, wrong types."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.fuzz_values import deep_json, huge_numbers, json_values, scalars
from tests.serving.inprocess import ROW, tiny_app

EXAMPLES = 500


@pytest.fixture(scope="module")
def client():
    with TestClient(tiny_app(), raise_server_exceptions=False) as test_client:
        yield test_client


def _post(client, body: bytes, headers: dict[str, bytes] | None = None):
    response = client.post("/predict", content=body, headers={"Content-Type": "application/json", **(headers or {})})
    assert response.status_code < 500, (body[:200], response.status_code, response.text[:500])
    return response


#: Rows that look like the model's: each column missing, mistyped, huge or odd.
rows = st.fixed_dictionaries(
    {},
    optional={"n": scalars | json_values, "x": scalars | json_values, "s": scalars | json_values, "extra": json_values},
)
bodies = st.one_of(
    json_values,
    rows,
    st.lists(rows, max_size=6),
    st.fixed_dictionaries({"rows": st.lists(rows, max_size=6) | json_values}),
    st.fixed_dictionaries({"dataframe_records": st.lists(rows, max_size=4)}),
    st.builds(lambda n: {**ROW, "n": n}, huge_numbers | st.integers()),
)


@settings(max_examples=EXAMPLES)
@given(bodies)
def test_any_json_body_gets_an_answer_never_a_5xx(client, body):
    response = _post(client, json.dumps(body, allow_nan=True).encode())
    if response.status_code == 422:
        assert response.json()["message"]


@settings(max_examples=EXAMPLES)
@given(st.one_of(deep_json, st.binary(max_size=200), st.text(max_size=200)))
def test_raw_bytes_and_deep_nesting_get_an_answer_never_a_5xx(client, raw):
    _post(client, raw if isinstance(raw, bytes) else raw.encode())


@settings(max_examples=EXAMPLES)
@given(st.text(max_size=30), st.text(max_size=30))
def test_any_routing_header_gets_an_answer_never_a_5xx(client, alias, version):
    if any(c in value for value in (alias, version) for c in "\r\n\0"):
        return  # not sendable as an HTTP header
    try:
        headers = {"X-Model-Alias": alias.encode("latin-1"), "X-Model-Version": version.encode("latin-1")}
    except UnicodeEncodeError:
        return
    _post(client, json.dumps(ROW).encode(), headers)
