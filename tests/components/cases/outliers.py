"""Cases of the outlier-detection components: one obvious outlier each, with hand-computed scores."""

from __future__ import annotations

import math

from tests.components.cases import Case, rows_equal

SQRT10 = math.sqrt(10.0)


def _zscore_data(spark):
    # x: nine 1s and an 11: mean 2, sample variance (9 * 1 + 81) / 9 = 10; y is constant (z = 0).
    rows = [(i, 1.0, 5) for i in range(9)] + [(9, 11.0, 5)]
    return {"data": spark.createDataFrame(rows, "id int, x double, y int")}


def _zscore(out, ctx):
    expected = [(i, 1.0, 5, 1 / SQRT10, False) for i in range(9)] + [(9, 11.0, 5, 9 / SQRT10, True)]
    rows_equal(out["data"], expected, order_by=["id"])
    assert out["data"].columns == ["id", "x", "y", "outlier_score", "is_outlier"]


def _iqr(out, ctx):
    # 1..8 and 100: Q1 = 3, Q3 = 7 (actual values), IQR 4; 100 scores (100 - 7) / 4 = 23.25 > 1.5
    # and is dropped; 1 scores (3 - 1) / 4, 2 and 8 score 1/4, the rest are inside the box.
    expected = [(1, 0.5, False), (2, 0.25, False)] + [(v, 0.0, False) for v in range(3, 8)] + [(8, 0.25, False)]
    rows_equal(out["data"].select("x", "score", "flag"), expected, order_by=["x"])


def _grouped_data(spark):
    # a: nine 1s and an 11; b: nine 11s and a 1 (both: std sqrt(10)); a lone row in the null group.
    rows = [("a", 1.0)] * 9 + [("a", 11.0)] + [("b", 11.0)] * 9 + [("b", 1.0)] + [(None, 5.0)]
    return {"data": spark.createDataFrame([(i, g, v) for i, (g, v) in enumerate(rows)], "id int, g string, v double")}


def _grouped(out, ctx):
    got = {(r["g"], r["v"]): (r["outlier_score"], r["is_outlier"]) for r in out["data"].collect()}
    assert out["data"].count() == 21
    assert abs(got[("a", 1.0)][0] - 1 / SQRT10) < 1e-12 and got[("a", 1.0)][1] is False
    assert abs(got[("a", 11.0)][0] - 9 / SQRT10) < 1e-12 and got[("a", 11.0)][1] is True
    assert abs(got[("b", 11.0)][0] - 1 / SQRT10) < 1e-12 and got[("b", 11.0)][1] is False
    assert abs(got[("b", 1.0)][0] - 9 / SQRT10) < 1e-12 and got[("b", 1.0)][1] is True
    assert got[(None, 5.0)] == (0.0, False)
    flagged = sorted((r["g"], r["v"]) for r in out["data"].where("is_outlier").collect())
    assert flagged == [("a", 11.0), ("b", 1.0)]


_CORNER = [(0.0, 0.0), (0.0, 1.0), (1.0, 0.0), (1.0, 1.0)]
_FAR = [(100.0, 100.0), (100.0, 101.0), (101.0, 100.0), (101.0, 101.0)]


def _distance_data(spark):
    from pyspark.ml.linalg import Vectors

    points = _CORNER + [(0.0, 20.0)] + _FAR
    return {"data": spark.createDataFrame([(i, Vectors.dense(p)) for i, p in enumerate(points)], ["id", "features"])}


def _distance(out, ctx):
    # k-means with k = 2: the corner square plus (0, 20), centroid (0.4, 4.4); the far square,
    # centroid (100.5, 100.5). The 0.8 quantile of the nine distances is the 8th smallest
    # (sqrt(19.72)); only (0, 20) lies beyond it.
    corner = [math.hypot(x - 0.4, y - 4.4) for x, y in _CORNER]
    expected = [(i, d, False) for i, d in enumerate(corner)] + [(4, math.hypot(0.4, 15.6), True)]
    expected += [(i, math.sqrt(0.5), False) for i in range(5, 9)]
    rows_equal(out["data"].select("id", "outlier_score", "is_outlier"), expected, order_by=["id"])


CASES = {
    "zscore_outliers": Case(
        inputs=_zscore_data,
        params={"columns": ["x", "y"], "threshold": 2.5},
        check=_zscore,
    ),
    "iqr_outliers": Case(
        inputs=lambda spark: {"data": spark.createDataFrame([(float(v),) for v in (*range(1, 9), 100)], "x double")},
        params={"score_col": "score", "flag_col": "flag", "drop_outliers": True},
        check=_iqr,
    ),
    "grouped_outliers": Case(
        inputs=_grouped_data,
        params={"group_cols": ["g"], "columns": ["v"], "threshold": 2.5},
        check=_grouped,
    ),
    "distance_outliers": Case(
        inputs=_distance_data,
        params={"clusters": 2, "fraction": 0.2},
        check=_distance,
    ),
}
