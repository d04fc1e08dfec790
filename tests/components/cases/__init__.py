"""One tiny-data case per registered component, for ``test_every_component.py``.

Each module ``tests/components/cases/<category>.py`` defines ``CASES: dict[str, Case]``
keyed by component name. A case builds the component's inputs on the shared SparkSession,
gives its parameters (validated against the declaration like a pipeline's), and checks a
concrete effect on the outputs: values, not just "no exception".

    CASES = {
        "cast_columns": Case(
            inputs=lambda spark: {"data": spark.createDataFrame([("1.5",), ("x",)], "a string")},
            params={"columns": ["a"], "to_type": "double"},
            check=lambda out, ctx: rows_equal(out["data"], [(1.5,), (None,)]),
        ),
    }
"""

from __future__ import annotations

import dataclasses
import importlib
import pkgutil
from collections.abc import Callable
from typing import Any


@dataclasses.dataclass(frozen=True)
class Case:
    """inputs(spark) -> {port: value}; params: the node's params; check(outputs, ctx) asserts."""

    inputs: Callable[[Any], dict[str, Any]]
    check: Callable[[dict[str, Any], Any], None]
    params: dict[str, Any] = dataclasses.field(default_factory=dict)


def rows_equal(df: Any, expected: list[tuple], *, order_by: list[str] | None = None, tol: float = 1e-9) -> None:
    """Assert a DataFrame's rows (in ``order_by`` order, else as collected) equal ``expected``."""
    if order_by:
        df = df.orderBy(*order_by)
    got = [tuple(row) for row in df.collect()]
    assert len(got) == len(expected), f"{len(got)} rows, expected {len(expected)}: {got}"
    for g, e in zip(got, expected, strict=True):
        assert len(g) == len(e), f"row {g} vs {e}"
        for a, b in zip(g, e, strict=True):
            if isinstance(b, float) and a is not None:
                assert abs(a - b) <= tol * max(1.0, abs(b)), f"row {g} vs expected {e}"
            else:
                assert a == b, f"row {g} vs expected {e}"


def all_cases() -> dict[str, Case]:
    """Every CASES dict of this package's modules, merged; a component with two cases is an error."""
    merged: dict[str, Case] = {}
    for info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{info.name}")
        for name, case in getattr(module, "CASES", {}).items():
            if name in merged:
                raise ValueError(f"component {name!r} has cases in two modules (the second: {info.name})")
            merged[name] = case
    return merged
