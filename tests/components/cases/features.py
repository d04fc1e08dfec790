"""Cases for the feature-engineering components (airflow_mlplat/components/features.py)."""

from __future__ import annotations

import math
from typing import Any

import pytest

from airflow_mlplat.components.features import outlier_clipping
from tests.components.cases import Case, rows_equal


def _dense(spark: Any, rows: list[list[float]], column: str = "features") -> Any:
    from pyspark.ml.linalg import Vectors

    return spark.createDataFrame([(i, Vectors.dense(r)) for i, r in enumerate(rows)], ["id", column])


def _arrays(df: Any, column: str, order: str = "id") -> list[list[float]]:
    return [row[column].toArray().tolist() for row in df.orderBy(order).collect()]


def _values(df: Any, column: str, order: str = "id") -> list[Any]:
    return [row[column] for row in df.orderBy(order).collect()]


def _assembled(spark: Any, rows: list[tuple], names: list[str], label: bool = False) -> Any:
    """A table id, <names...>[, label], features (assembled from names, so the vector carries them)."""
    from pyspark.ml.feature import VectorAssembler

    columns = ["id", *names, *(["label"] if label else [])]
    df = spark.createDataFrame([(i, *map(float, r)) for i, r in enumerate(rows)], columns)
    return VectorAssembler(inputCols=names, outputCol="features").transform(df)


# --- the foundation's components -------------------------------------------------------------


def _check_standard_scaler(out: dict[str, Any], ctx: Any) -> None:
    assert _arrays(out["data"], "z") == [pytest.approx(v) for v in ([-1.0, -1.0], [0.0, 0.0], [1.0, 1.0])]
    model = out["model"]
    assert model.mean.toArray().tolist() == [2.0, 20.0]
    assert model.std.toArray().tolist() == pytest.approx([1.0, 10.0])


def _check_min_max_scaler(out: dict[str, Any], ctx: Any) -> None:
    assert _arrays(out["data"], "scaled_features") == [[-1.0, -1.0], [0.0, 0.0], [1.0, 1.0]]
    assert out["model"].originalMax.toArray().tolist() == [3.0, 30.0]


def _check_quantile_discretizer(out: dict[str, Any], ctx: Any) -> None:
    # exact quartiles of 1..8 are 2, 4 and 6; bucket i is [split i, split i+1)
    assert _values(out["data"], "x_bucket") == [0.0, 1.0, 1.0, 2.0, 2.0, 3.0, 3.0, 3.0]
    assert out["model"].getSplitsArray()[0] == [-math.inf, 2.0, 4.0, 6.0, math.inf]


def _check_string_indexer(out: dict[str, Any], ctx: Any) -> None:
    assert _values(out["data"], "city_index") == [0.0, 0.0, 0.0, 1.0, 1.0, 2.0]
    assert out["model"].labelsArray == [["b", "a", "c"]]


def _check_one_hot_encoder(out: dict[str, Any], ctx: Any) -> None:
    from pyspark.ml.linalg import SparseVector

    expected = [SparseVector(2, [0], [1.0]), SparseVector(2, [1], [1.0]), SparseVector(2, [], [])]
    assert _values(out["data"], "c_vec") == expected
    assert out["model"].categorySizes == [3]


def _check_vector_assembler(out: dict[str, Any], ctx: Any) -> None:
    assert _arrays(out["data"], "features") == [[2.0, 1.0], [0.5, 0.0]]
    attrs = out["data"].schema["features"].metadata["ml_attr"]["attrs"]
    assert {a["idx"]: a["name"] for group in attrs.values() for a in group} == {0: "x", 1: "flag"}


# --- scaling and projection --------------------------------------------------------------------


def _check_max_abs_scaler(out: dict[str, Any], ctx: Any) -> None:
    assert _arrays(out["data"], "scaled_features") == [[0.25, -1.0], [0.5, 0.5], [-1.0, 0.25]]
    assert out["model"].maxAbs.toArray().tolist() == [4.0, 4.0]


def _check_robust_scaler(out: dict[str, Any], ctx: Any) -> None:
    # median 3, quartiles 2 and 4: (x - 3) / 2
    assert _arrays(out["data"], "scaled_features") == [[-1.0], [-0.5], [0.0], [0.5], [1.0]]
    assert out["model"].median.toArray().tolist() == [3.0]
    assert out["model"].range.toArray().tolist() == [2.0]


def _check_normalizer(out: dict[str, Any], ctx: Any) -> None:
    assert _arrays(out["data"], "normalized_features") == [
        pytest.approx([3 / 7, 4 / 7]),
        pytest.approx([-0.5, 0.5]),
        [0.0, 0.0],
    ]


def _check_pca(out: dict[str, Any], ctx: Any) -> None:
    # the points lie on the line through (1, 2): one component explains everything, and the
    # projection (without centring) is the distance along (1, 2) / sqrt(5)
    projected = [abs(v[0]) for v in _arrays(out["data"], "pca_features")]
    assert projected == pytest.approx([math.sqrt(5), 2 * math.sqrt(5), 3 * math.sqrt(5)])
    component = [abs(v) for v in out["model"].pc.toArray()[:, 0]]
    assert component == pytest.approx([1 / math.sqrt(5), 2 / math.sqrt(5)])
    assert ctx.details["explained_variance"] == pytest.approx([1.0])


def _check_polynomial_expansion(out: dict[str, Any], ctx: Any) -> None:
    # (x, y) -> (x, x², y, xy, y²)
    assert _arrays(out["data"], "expanded_features") == [[2.0, 4.0, 3.0, 6.0, 9.0], [-1.0, 1.0, 0.5, -0.5, 0.25]]


def _interaction_inputs(spark: Any) -> dict[str, Any]:
    from pyspark.ml.linalg import Vectors

    rows = [
        (0, 2.0, Vectors.dense([3.0, 4.0]), Vectors.dense([1.0, 10.0])),
        (1, -1.0, Vectors.dense([1.0, 0.0]), Vectors.dense([1.0, 2.0])),
    ]
    return {"data": spark.createDataFrame(rows, ["id", "a", "b", "c"])}


def _check_interaction(out: dict[str, Any], ctx: Any) -> None:
    assert _arrays(out["data"], "interaction") == [[6.0, 60.0, 8.0, 80.0], [-1.0, -2.0, 0.0, 0.0]]


def _check_elementwise_product(out: dict[str, Any], ctx: Any) -> None:
    assert _arrays(out["data"], "weighted_features") == [[0.0, 2.0, 6.0], [0.0, -1.0, 1.0]]


def _check_dct(out: dict[str, Any], ctx: Any) -> None:
    constant, impulse = _arrays(out["data"], "dct_features")
    assert constant == pytest.approx([2.0, 0.0, 0.0, 0.0], abs=1e-12)
    # orthonormal DCT-II of (2, 0, 0, 0): 2/2, then sqrt(2/4) * 2 * cos(pi * k / 8)
    assert impulse == pytest.approx([1.0] + [math.sqrt(0.5) * 2 * math.cos(math.pi * k / 8) for k in (1, 2, 3)])


# --- bucketing, indexing, encoding ---------------------------------------------------------------


def _check_bucketizer(out: dict[str, Any], ctx: Any) -> None:
    # x: splits -inf, 0, 10, 20, inf; y: its own split at 100; NaN goes to the extra bucket, null stays null
    rows_equal(
        out["data"].select("id", "x_bucket", "y_bucket"),
        [(0, 0.0, 0.0), (1, 1.0, 0.0), (2, 1.0, 1.0), (3, 2.0, 1.0), (4, 3.0, 2.0), (5, None, 0.0)],
        order_by=["id"],
    )


def _index_to_string_inputs(spark: Any) -> dict[str, Any]:
    from pyspark.ml.feature import StringIndexer

    cities = spark.createDataFrame([(c,) for c in "bbbaac"], "city string")
    indexer = StringIndexer(inputCol="city", outputCol="city_index").fit(cities)  # b -> 0, a -> 1, c -> 2
    predictions = spark.createDataFrame([(0, 0.0), (1, 2.0), (2, 1.0)], "id int, prediction double")
    return {"data": predictions, "indexer": indexer}


def _check_index_to_string(out: dict[str, Any], ctx: Any) -> None:
    assert _values(out["data"], "predicted_city") == ["b", "c", "a"]


def _check_vector_slicer(out: dict[str, Any], ctx: Any) -> None:
    # indices first (c), then names (a)
    assert _arrays(out["data"], "sliced_features") == [[3.0, 1.0], [6.0, 4.0]]
    attrs = out["data"].schema["sliced_features"].metadata["ml_attr"]["attrs"]
    assert {a["idx"]: a["name"] for group in attrs.values() for a in group} == {0: "c", 1: "a"}


def _check_feature_hasher(out: dict[str, Any], ctx: Any) -> None:
    vectors = _values(out["data"], "hashed")
    assert {v.size for v in vectors} == {1024}
    assert [v.numNonzeros() for v in vectors] == [3, 3, 3]
    # x hashes to one slot holding its value; each category to a slot holding 1.0
    by_row = [dict(zip(v.indices.tolist(), v.values.tolist(), strict=True)) for v in vectors]
    x_slot = next(i for i, value in by_row[0].items() if value == 2.5)
    assert [row[x_slot] for row in by_row] == [2.5, 4.0, 1.0]
    city = [{i for i, value in row.items() if i != x_slot and value == 1.0} for row in by_row]
    assert city[0] == city[1] and city[0] != city[2]  # rows 0 and 1 are both in city "a" and n=1
    assert len(city[0]) == 2


def _check_imputer(out: dict[str, Any], ctx: Any) -> None:
    # x: the mean of 1 and 5; k (an integer column): the mean of 1, 4, 4
    rows_equal(out["data"], [(0, 1.0, 1), (1, 3.0, 3), (2, 3.0, 4), (3, 5.0, 4)], order_by=["id"])
    surrogates = out["model"].surrogateDF.first()
    assert (surrogates["x"], surrogates["k"]) == (3.0, 3.0)


def _check_outlier_clipping(out: dict[str, Any], ctx: Any) -> None:
    # x: quartiles 2 and 4 -> fences -1 and 7; n: quartiles 10 and 12 -> fences 7 and 15
    rows_equal(
        out["data"],
        [
            (0, 1.0, 10, "a"),
            (1, 2.0, 11, "b"),
            (2, 3.0, 12, "c"),
            (3, 4.0, 13, "d"),
            (4, 7.0, 7, "e"),
            (5, None, 11, "f"),
        ],
        order_by=["id"],
    )
    rows_equal(out["bounds"], [("n", 7.0, 15.0), ("x", -1.0, 7.0)], order_by=["column"])
    # the bounds clip another table the same way (only the columns they name: not id)
    other = ctx.spark.createDataFrame([(50, -10.0, 100), (60, float("nan"), 8)], "id int, x double, n int")
    again = outlier_clipping(ctx, other, out["bounds"])
    got = [tuple(r) for r in again["data"].orderBy("id").collect()]
    assert got[0] == (50, -1.0, 15) and got[1][0] == 60 and math.isnan(got[1][1]) and got[1][2] == 8
    rows_equal(again["bounds"], [("n", 7.0, 15.0), ("x", -1.0, 7.0)], order_by=["column"])


def _check_binarizer(out: dict[str, Any], ctx: Any) -> None:
    assert _values(out["data"], "x_binary") == [0.0, 0.0, 1.0]
    assert _arrays(out["data"], "v_binary") == [[0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]


def _check_sql_feature(out: dict[str, Any], ctx: Any) -> None:
    from pyspark.ml.feature import SQLTransformer

    rows_equal(out["data"], [(0, 2.0, 3.0, 6.0), (1, -1.0, 4.0, -4.0)], order_by=["id"])
    assert isinstance(out["model"], SQLTransformer)
    other = ctx.spark.createDataFrame([(5, 0.5, 0.5)], "id int, a double, b double")
    assert out["model"].transform(other).first().ab == 0.25


def _check_r_formula(out: dict[str, Any], ctx: Any) -> None:
    # city is indexed by frequency (b, a) and one-hot encoded without the last category (a)
    rows = out["data"].orderBy("id").collect()
    assert [r.features.toArray().tolist() for r in rows] == [[0.5, 1.0], [1.5, 1.0], [2.5, 0.0]]
    assert [r.label for r in rows] == [1.0, 0.0, 1.0]


def _check_target_encoder(out: dict[str, Any], ctx: Any) -> None:
    # category 0: labels 1, 1, 0; category 1: label 0
    assert _values(out["data"], "c_encoded") == pytest.approx([2 / 3, 2 / 3, 2 / 3, 0.0])


def _check_vector_indexer(out: dict[str, Any], ctx: Any) -> None:
    # element 0 has two values (categorical: 0 -> 0, 5 -> 1); element 1 has four (continuous)
    assert _arrays(out["data"], "indexed_features") == [[0.0, 0.1], [1.0, 0.2], [0.0, 0.3], [1.0, 0.4]]
    assert out["model"].categoryMaps == {0: {0.0: 0, 5.0: 1}}
    assert ctx.details["categorical_features"] == [0]


# --- selection ---------------------------------------------------------------------------------------


def _check_univariate_feature_selector(out: dict[str, Any], ctx: Any) -> None:
    # only "signal" separates the classes (ANOVA p ~ 0); the others are distributed alike (p = 1)
    assert out["model"].selectedFeatures == [0]
    assert ctx.details["selected_features"] == ["signal"]
    assert _arrays(out["data"], "selected_features") == [[0.0], [0.1], [0.2], [10.0], [10.1], [10.2]]


def _check_variance_threshold_selector(out: dict[str, Any], ctx: Any) -> None:
    # variances 0, 1 and 100: only the one above the threshold 1 stays
    assert out["model"].selectedFeatures == [2]
    assert ctx.details["selected_features"] == ["wide"]
    assert _arrays(out["data"], "selected_features") == [[0.0], [10.0], [20.0]]


_LABELLED = [(0.0, 1, 3, 0), (0.1, 2, 1, 0), (0.2, 3, 2, 0), (10.0, 1, 2, 1), (10.1, 2, 3, 1), (10.2, 3, 1, 1)]

CASES: dict[str, Case] = {
    "standard_scaler": Case(
        inputs=lambda spark: {"data": _dense(spark, [[1.0, 10.0], [2.0, 20.0], [3.0, 30.0]])},
        params={"output_col": "z", "with_mean": True},
        check=_check_standard_scaler,
    ),
    "min_max_scaler": Case(
        inputs=lambda spark: {"data": _dense(spark, [[1.0, 10.0], [2.0, 20.0], [3.0, 30.0]])},
        params={"min_value": -1.0, "max_value": 1.0},
        check=_check_min_max_scaler,
    ),
    "quantile_discretizer": Case(
        inputs=lambda spark: {"data": spark.createDataFrame([(i, float(i + 1)) for i in range(8)], "id int, x double")},
        params={"input_cols": ["x"], "num_buckets": 4, "relative_error": 0.0},
        check=_check_quantile_discretizer,
    ),
    "string_indexer": Case(
        inputs=lambda spark: {"data": spark.createDataFrame(list(enumerate("bbbaac")), "id int, city string")},
        params={"input_cols": ["city"]},
        check=_check_string_indexer,
    ),
    "one_hot_encoder": Case(
        inputs=lambda spark: {"data": spark.createDataFrame([(0, 0.0), (1, 1.0), (2, 2.0)], "id int, c double")},
        params={"input_cols": ["c"], "handle_invalid": "error"},
        check=_check_one_hot_encoder,
    ),
    "vector_assembler": Case(
        inputs=lambda spark: {
            "data": spark.createDataFrame([(0, 2.0, True), (1, 0.5, False)], "id int, x double, flag boolean")
        },
        params={"input_cols": ["x", "flag"]},
        check=_check_vector_assembler,
    ),
    "max_abs_scaler": Case(
        inputs=lambda spark: {"data": _dense(spark, [[1.0, -4.0], [2.0, 2.0], [-4.0, 1.0]])},
        check=_check_max_abs_scaler,
    ),
    "robust_scaler": Case(
        inputs=lambda spark: {"data": _dense(spark, [[1.0], [2.0], [3.0], [4.0], [5.0]])},
        params={"with_centering": True, "relative_error": 0.0},
        check=_check_robust_scaler,
    ),
    "normalizer": Case(
        inputs=lambda spark: {"data": _dense(spark, [[3.0, 4.0], [-1.0, 1.0], [0.0, 0.0]])},
        params={"p": 1.0},
        check=_check_normalizer,
    ),
    "bucketizer": Case(
        inputs=lambda spark: {
            "data": spark.createDataFrame(
                [
                    (0, -5.0, 1.0),
                    (1, 0.0, 99.0),
                    (2, 5.0, 100.0),
                    (3, 10.0, 150.0),
                    (4, 25.0, float("nan")),
                    (5, None, 1.0),
                ],
                "id int, x double, y double",
            )
        },
        params={"input_cols": ["x", "y"], "splits": [0.0, 10.0, 20.0], "column_splits": {"y": "100"}},
        check=_check_bucketizer,
    ),
    "index_to_string": Case(
        inputs=_index_to_string_inputs,
        params={"output_col": "predicted_city"},
        check=_check_index_to_string,
    ),
    "vector_slicer": Case(
        inputs=lambda spark: {"data": _assembled(spark, [(1, 2, 3), (4, 5, 6)], ["a", "b", "c"])},
        params={"indices": [2], "names": ["a"]},
        check=_check_vector_slicer,
    ),
    "pca": Case(
        inputs=lambda spark: {"data": _dense(spark, [[1.0, 2.0], [2.0, 4.0], [3.0, 6.0]])},
        params={"k": 1},
        check=_check_pca,
    ),
    "polynomial_expansion": Case(
        inputs=lambda spark: {"data": _dense(spark, [[2.0, 3.0], [-1.0, 0.5]])},
        params={"degree": 2},
        check=_check_polynomial_expansion,
    ),
    "interaction": Case(
        inputs=_interaction_inputs,
        params={"input_cols": ["a", "b", "c"]},
        check=_check_interaction,
    ),
    "univariate_feature_selector": Case(
        inputs=lambda spark: {"data": _assembled(spark, _LABELLED, ["signal", "noise", "shuffled"], label=True)},
        params={"selection_mode": "fpr", "selection_threshold": 0.05},
        check=_check_univariate_feature_selector,
    ),
    "variance_threshold_selector": Case(
        inputs=lambda spark: {
            "data": _assembled(spark, [(1, 0, 0), (1, 1, 10), (1, 2, 20)], ["constant", "narrow", "wide"])
        },
        params={"variance_threshold": 1.0},
        check=_check_variance_threshold_selector,
    ),
    "feature_hasher": Case(
        inputs=lambda spark: {
            "data": spark.createDataFrame(
                [(0, 2.5, "a", 1), (1, 4.0, "a", 1), (2, 1.0, "b", 2)], "id int, x double, city string, n int"
            )
        },
        params={
            "input_cols": ["x", "city", "n"],
            "categorical_cols": ["n"],
            "output_col": "hashed",
            "num_features": 1024,
        },
        check=_check_feature_hasher,
    ),
    "imputer": Case(
        inputs=lambda spark: {
            "data": spark.createDataFrame(
                [(0, 1.0, 1), (1, None, None), (2, float("nan"), 4), (3, 5.0, 4)], "id int, x double, k int"
            )
        },
        params={"input_cols": ["x", "k"], "strategy": "mean"},
        check=_check_imputer,
    ),
    "outlier_clipping": Case(
        inputs=lambda spark: {
            "data": spark.createDataFrame(
                [
                    (0, 1.0, 10, "a"),
                    (1, 2.0, 11, "b"),
                    (2, 3.0, 12, "c"),
                    (3, 4.0, 13, "d"),
                    (4, 100.0, -50, "e"),
                    (5, None, 11, "f"),
                ],
                "id int, x double, n int, name string",
            )
        },
        params={"input_cols": ["x", "n"], "method": "iqr", "relative_error": 0.0},
        check=_check_outlier_clipping,
    ),
    "binarizer": Case(
        inputs=lambda spark: {
            "data": spark.createDataFrame([(0, 0.5), (1, 1.0), (2, 1.5)], "id int, x double").join(
                _dense(spark, [[0.0, 3.0], [2.0, 1.0], [5.0, 5.0]], "v"), "id"
            )
        },
        params={"input_cols": ["x", "v"], "threshold": 1.0},
        check=_check_binarizer,
    ),
    "elementwise_product": Case(
        inputs=lambda spark: {"data": _dense(spark, [[1.0, 2.0, 3.0], [5.0, -1.0, 0.5]])},
        params={"scaling_vec": [0.0, 1.0, 2.0]},
        check=_check_elementwise_product,
    ),
    "dct": Case(
        inputs=lambda spark: {"data": _dense(spark, [[1.0, 1.0, 1.0, 1.0], [2.0, 0.0, 0.0, 0.0]])},
        check=_check_dct,
    ),
    "sql_feature": Case(
        inputs=lambda spark: {
            "data": spark.createDataFrame([(0, 2.0, 3.0), (1, -1.0, 4.0)], "id int, a double, b double")
        },
        params={"statement": "SELECT *, a * b AS ab FROM __THIS__"},
        check=_check_sql_feature,
    ),
    "r_formula": Case(
        inputs=lambda spark: {
            "data": spark.createDataFrame(
                [(0, 1.0, 0.5, "b"), (1, 0.0, 1.5, "b"), (2, 1.0, 2.5, "a")], "id int, y double, a double, city string"
            )
        },
        params={"formula": "y ~ a + city"},
        check=_check_r_formula,
    ),
    "target_encoder": Case(
        inputs=lambda spark: {
            "data": spark.createDataFrame(
                [(0, 0.0, 1.0), (1, 0.0, 1.0), (2, 0.0, 0.0), (3, 1.0, 0.0)], "id int, c double, label double"
            )
        },
        params={"input_cols": ["c"]},
        check=_check_target_encoder,
    ),
    "vector_indexer": Case(
        inputs=lambda spark: {"data": _dense(spark, [[0.0, 0.1], [5.0, 0.2], [0.0, 0.3], [5.0, 0.4]])},
        params={"max_categories": 2},
        check=_check_vector_indexer,
    ),
}
