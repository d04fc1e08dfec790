"""Cases of the statistics components: hand-computed statistics of tiny tables."""

from __future__ import annotations

import math
from pathlib import Path

from tests.components.cases import Case, rows_equal

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
NAN = float("nan")


def assert_png(ctx, name: str) -> None:
    """``NAME.png`` was saved through ``ctx.save_figure``: listed in ctx.artifacts and a real PNG."""
    saved = [url for url in ctx.artifacts if url.endswith(f"/{name}.png")]
    assert len(saved) == 1, f"{name}.png not in ctx.artifacts: {ctx.artifacts}"
    content = Path(saved[0]).read_bytes()
    assert content.startswith(PNG_MAGIC) and len(content) > 1000, f"{saved[0]} is not a PNG"


def _summary(out, ctx):
    # x: 1, 2, 3, 4 (NaN missing); y: 10, 30, 30, 50 (null missing); the string column is skipped.
    rows_equal(
        out["summary"],
        [
            ("x", 4, 1, 2.5, math.sqrt(5 / 3), 1.0, 1.0, 2.0, 3.0, 4.0),
            ("y", 4, 1, 30.0, math.sqrt(800 / 3), 10.0, 10.0, 30.0, 30.0, 50.0),
        ],
        order_by=["column"],
    )


def _histogram(out, ctx):
    # x spans [0, 10]: two bins of width 5; y is constant: one bin holding its six values.
    rows_equal(
        out["histogram"],
        [("x", 0, 0.0, 5.0, 5), ("x", 1, 5.0, 10.0, 1), ("y", 0, 1.0, 1.0, 6)],
        order_by=["column", "bin"],
    )
    assert_png(ctx, "histogram")


def _ks(out, ctx):
    # ECDFs of a = 1, 2, 3, 4 and b = 3.5, 5, 6 differ most at 3: 3/4 - 0; the exact tail of
    # D_2 (effective size 4*3/7 rounded) at 0.75 is 2 * (1 - 0.75)^2.
    rows_equal(out["result"], [("v", 0.75, 0.125, 4, 3, "a", "b")])


def _crosstab(out, ctx):
    # row shares: a is 1 of "1" and 1 of "2"; b is 2 of "1" and 1 of "2".
    assert out["crosstab"].columns == ["s", "1", "2"]
    rows_equal(out["crosstab"], [("a", 0.5, 0.5), ("b", 2 / 3, 1 / 3)])


def _profile(out, ctx):
    rows_equal(
        out["profile"],
        [
            ("id", "int", 4, 0, 0.0, 4, "1", "4", 2.5, "1", 1),
            ("s", "string", 4, 1, 0.25, 2, "x", "y", None, "x", 2),
            ("w", "double", 4, 1, 0.25, 2, "0.5", "2.0", 1.0, "0.5", 2),
        ],
    )
    assert_png(ctx, "data_profile")


CASES = {
    "summary_statistics": Case(
        inputs=lambda spark: {
            "data": spark.createDataFrame(
                [(1.0, 10, "a"), (2.0, None, "b"), (3.0, 30, "c"), (4.0, 30, "d"), (NAN, 50, "e")],
                "x double, y int, s string",
            )
        },
        check=_summary,
    ),
    "correlation": Case(
        # y = x^2 is monotonic in x (Spearman 1, Pearson 0.984), z falls as x rises; the row
        # with a missing y is left out of every entry.
        inputs=lambda spark: {
            "data": spark.createDataFrame(
                [(1, 1.0, 4), (2, 4.0, 3), (3, 9.0, 2), (4, 16.0, 1), (5, None, 9)], "x int, y double, z int"
            )
        },
        params={"columns": ["x", "y", "z"], "method": "spearman"},
        check=lambda out, ctx: rows_equal(
            out["correlation"],
            [("x", 1.0, 1.0, -1.0), ("y", 1.0, 1.0, -1.0), ("z", -1.0, -1.0, 1.0)],
            tol=1e-12,
        ),
    ),
    "covariance": Case(
        # deviations: x -1.5 -0.5 0.5 1.5, y -3.25 -1.25 0.75 3.75 (mean 5.25); divide by n - 1 = 3.
        inputs=lambda spark: {
            "data": spark.createDataFrame([(1, 2.0), (2, 4.0), (3, 6.0), (4, 9.0)], "x int, y double")
        },
        check=lambda out, ctx: rows_equal(
            out["covariance"],
            [("x", 5.0 / 3, 11.5 / 3), ("y", 11.5 / 3, 26.75 / 3)],
        ),
    ),
    "histogram": Case(
        inputs=lambda spark: {
            "data": spark.createDataFrame(
                [(0.0, 1), (1.0, 1), (2.0, 1), (3.0, 1), (4.0, 1), (10.0, 1), (NAN, None)], "x double, y int"
            )
        },
        params={"bins": 2},
        check=_histogram,
    ),
    "value_counts": Case(
        inputs=lambda spark: {
            "data": spark.createDataFrame([("a",), ("b",), ("a",), ("c",), ("a",), ("b",), (None,)], "s string")
        },
        params={"column": "s", "top_k": 2},
        check=lambda out, ctx: rows_equal(out["counts"], [("a", 3, 3 / 7, 1), ("b", 2, 2 / 7, 2)]),
    ),
    "chi_square_test": Case(
        # x vs label: counts 3 1 / 1 3, expected 2 each: chi2 = 4 * 1/2 = 2, p = erfc(1);
        # c equals the label: chi2 = n = 8, p = erfc(2).
        inputs=lambda spark: {
            "data": spark.createDataFrame(
                [(0, 0, 0)] * 3 + [(0, 1, 1)] + [(1, 0, 0)] + [(1, 1, 1)] * 3, "x int, label int, c int"
            )
        },
        params={"columns": ["x", "c"]},
        check=lambda out, ctx: rows_equal(
            out["result"],
            [("x", 0, 2.0, 1, math.erfc(1.0)), ("c", 1, 8.0, 1, math.erfc(2.0))],
            tol=1e-12,
        ),
    ),
    "ks_test": Case(
        inputs=lambda spark: {
            "data": spark.createDataFrame(
                [(1.0, "a"), (2.0, "a"), (3.0, "a"), (4.0, "a"), (3.5, "b"), (5.0, "b"), (6.0, "b"), (None, "b")]
                + [(7.0, None)],
                "v double, g string",
            )
        },
        params={"columns": ["v"], "group_col": "g"},
        check=_ks,
    ),
    "percentiles": Case(
        # exact: linear interpolation between ranks, e.g. the 25th percentile of 1..4 is 1.75.
        inputs=lambda spark: {"data": spark.createDataFrame([(4,), (1,), (3,), (2,)], "x int")},
        params={"probabilities": [0.25, 0.5, 1.0], "method": "exact"},
        check=lambda out, ctx: rows_equal(out["percentiles"], [(0.25, 1.75), (0.5, 2.5), (1.0, 4.0)]),
    ),
    "crosstab": Case(
        inputs=lambda spark: {
            "data": spark.createDataFrame([("a", 1), ("a", 2), ("b", 1), ("b", 1), ("b", 2)], "s string, t int")
        },
        params={"row_col": "s", "column_col": "t", "normalize": "row"},
        check=_crosstab,
    ),
    "data_profile": Case(
        inputs=lambda spark: {
            "data": spark.createDataFrame(
                [(1, "x", 0.5), (2, "y", NAN), (3, "x", 0.5), (4, None, 2.0)], "id int, s string, w double"
            )
        },
        check=_profile,
    ),
}
