"""The scorer's columnar batch built from rows and from a pyarrow table holds the same columns and nulls."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from airflow_mlplat.serving.errors import InvalidInputError
from airflow_mlplat.serving.frame import Frame

TYPES = {"x": "double", "n": "long", "city": "string"}
ROWS = [{"x": 1.5, "n": 3, "city": "a"}, {"x": None, "n": 4, "city": None}, {"x": float("nan"), "n": None, "city": "b"}]


def test_from_arrow_matches_from_rows():
    by_rows = Frame.from_rows(ROWS, TYPES)
    by_table = Frame.from_arrow(pa.Table.from_pylist(ROWS), TYPES, where="test")
    assert by_table.size == by_rows.size == 3
    for name in TYPES:
        np.testing.assert_array_equal(by_table.columns[name], by_rows.columns[name])
    assert by_table.nulls.keys() == by_rows.nulls.keys() == {"x", "n"}
    for name in by_rows.nulls:
        np.testing.assert_array_equal(by_table.nulls[name], by_rows.nulls[name])


def test_a_missing_column_is_named():
    with pytest.raises(InvalidInputError, match="evaluating v2: has no column 'city'"):
        Frame.from_arrow(pa.table({"x": [1.0], "n": [1]}), TYPES, where="evaluating v2")
