from __future__ import annotations

import math

import pytest
from pyspark.ml.feature import Bucketizer, MinMaxScalerModel, StringIndexerModel
from pyspark.ml.linalg import SparseVector, Vectors

from airflow_mlplat.components.features import (
    min_max_scaler,
    one_hot_encoder,
    quantile_discretizer,
    standard_scaler,
    string_indexer,
    vector_assembler,
)
from airflow_mlplat.components.model import predict


@pytest.fixture
def vectors(spark):
    rows = [(i, Vectors.dense([float(i), 10.0 * i])) for i in (1, 2, 3)]
    return spark.createDataFrame(rows, ["id", "features"])


def _column(df, name, order="id"):
    return [r[name] for r in df.orderBy(order).collect()]


def test_min_max_scaler_exact_values_and_reusable_model(ctx, spark, vectors):
    out = min_max_scaler(ctx, vectors, input_col="features", output_col="scaled")
    assert [v.toArray().tolist() for v in _column(out["data"], "scaled")] == [[0.0, 0.0], [0.5, 0.5], [1.0, 1.0]]
    assert isinstance(out["model"], MinMaxScalerModel)
    ranged = min_max_scaler(ctx, vectors, output_col="scaled", min_value=-1.0, max_value=1.0)
    assert [v.toArray().tolist() for v in _column(ranged["data"], "scaled")] == [[-1.0, -1.0], [0.0, 0.0], [1.0, 1.0]]
    unseen = spark.createDataFrame([(9, Vectors.dense([4.0, 40.0]))], ["id", "features"])
    applied = predict(ctx, out["model"], unseen)
    assert applied.first().scaled.toArray().tolist() == [1.5, 1.5]
    with pytest.raises(ValueError, match=r"params\.min_value \(1\.0\) must be less than params\.max_value"):
        min_max_scaler(ctx, vectors, min_value=1.0, max_value=1.0)


def test_standard_scaler_centres_and_scales(ctx, vectors):
    out = standard_scaler(ctx, vectors, output_col="z", with_mean=True, with_std=True)
    values = [v.toArray().tolist() for v in _column(out["data"], "z")]
    assert values == [pytest.approx([-1.0, -1.0]), pytest.approx([0.0, 0.0]), pytest.approx([1.0, 1.0])]
    std_only = standard_scaler(ctx, vectors, output_col="z")
    assert _column(std_only["data"], "z")[0].toArray().tolist() == pytest.approx(
        [1.0, 1.0]
    )  # std of (1,2,3) is 1, of (10,20,30) is 10


def test_scalers_need_a_vector_column(ctx, spark, vectors):
    plain = spark.createDataFrame([(1.0,)], "x double")
    with pytest.raises(ValueError, match=r"standard_scaler: params\.input_col column 'x' must be a vector column"):
        standard_scaler(ctx, plain, input_col="x")
    with pytest.raises(ValueError, match=r"min_max_scaler: params\.input_col names column 'nope'"):
        min_max_scaler(ctx, vectors, input_col="nope")
    with pytest.raises(ValueError, match=r"params\.output_col would create column 'id'"):
        min_max_scaler(ctx, vectors, output_col="id")


def test_quantile_discretizer_buckets_several_columns(ctx, spark):
    data = spark.createDataFrame([(i, float(i), float(100 - i)) for i in range(1, 101)], "id int, x double, y double")
    out = quantile_discretizer(ctx, data, input_cols=["x", "y"], num_buckets=4, relative_error=0.0)
    assert out["data"].columns[-2:] == ["x_bucket", "y_bucket"]
    buckets = _column(out["data"], "x_bucket")
    # splits at the exact quartiles 25, 50, 75; a bucket is [lower split, upper split)
    assert [buckets.count(float(b)) for b in range(4)] == [24, 25, 25, 26]
    assert buckets == sorted(buckets)
    y_buckets = _column(out["data"], "y_bucket")
    assert y_buckets == sorted(y_buckets, reverse=True) and set(y_buckets) == {0.0, 1.0, 2.0, 3.0}
    assert isinstance(out["model"], Bucketizer)
    unseen = spark.createDataFrame([(0, -5.0, 500.0)], "id int, x double, y double")
    assert tuple(predict(ctx, out["model"], unseen).select("x_bucket", "y_bucket").first()) == (0.0, 3.0)
    named = quantile_discretizer(ctx, data, input_cols=["x"], output_cols=["xb"], num_buckets=2)
    assert "xb" in named["data"].columns
    with pytest.raises(ValueError, match=r"params\.output_cols must name one column per input column \(2\)"):
        quantile_discretizer(ctx, data, input_cols=["x", "y"], output_cols=["only_one"])


def test_quantile_discretizer_rejects_text(ctx, spark):
    data = spark.createDataFrame([("1",)], "x string")
    with pytest.raises(ValueError, match=r"params\.input_cols column 'x' must be numeric, but it is string"):
        quantile_discretizer(ctx, data, input_cols=["x"])


def test_string_indexer_orders_by_frequency_and_keeps_unseen(ctx, spark):
    data = spark.createDataFrame(
        [(i, c, t) for i, (c, t) in enumerate(zip("aaabbc", "xyxyxy", strict=True))], "id int, city string, t string"
    )
    out = string_indexer(ctx, data, input_cols=["city", "t"])
    assert _column(out["data"], "city_index") == [0.0, 0.0, 0.0, 1.0, 1.0, 2.0]
    assert isinstance(out["model"], StringIndexerModel)
    unseen = spark.createDataFrame([(9, "zzz", "x")], "id int, city string, t string")
    assert predict(ctx, out["model"], unseen).first().city_index == 3.0
    alphabetical = string_indexer(ctx, data, input_cols=["city"], output_cols=["ci"], string_order_type="alphabetDesc")
    assert _column(alphabetical["data"], "ci") == [2.0, 2.0, 2.0, 1.0, 1.0, 0.0]
    with pytest.raises(ValueError, match=r"string_indexer: params\.input_cols names column 'town'"):
        string_indexer(ctx, data, input_cols=["town"])


def test_one_hot_encoder(ctx, spark):
    data = spark.createDataFrame([(0, 0.0), (1, 1.0), (2, 2.0)], "id int, c double")
    strict = one_hot_encoder(ctx, data, input_cols=["c"], handle_invalid="error")
    vectors = _column(strict["data"], "c_vec")
    assert vectors == [SparseVector(2, [0], [1.0]), SparseVector(2, [1], [1.0]), SparseVector(2, [], [])]
    # with "keep" an extra slot stands for unseen indices, and drop_last drops that slot
    kept = one_hot_encoder(ctx, data, input_cols=["c"])
    assert _column(kept["data"], "c_vec") == [SparseVector(3, [i], [1.0]) for i in range(3)]
    unseen = spark.createDataFrame([(7, 5.0)], "id int, c double")
    assert predict(ctx, kept["model"], unseen).first().c_vec == SparseVector(3, [], [])
    full = one_hot_encoder(ctx, data, input_cols=["c"], output_cols=["onehot"], drop_last=False)
    assert _column(full["data"], "onehot")[2] == SparseVector(4, [2], [1.0])
    text = spark.createDataFrame([("a",)], "c string")
    with pytest.raises(ValueError, match=r"index it with string_indexer first"):
        one_hot_encoder(ctx, text, input_cols=["c"])


def test_vector_assembler_records_names_and_handles_invalid(ctx, spark):
    data = spark.createDataFrame([(1, 2.0, True), (2, None, False)], "id int, x double, flag boolean")
    out = vector_assembler(ctx, data, input_cols=["x", "id", "flag"])
    first, second = _column(out, "features")
    assert first.toArray().tolist() == [2.0, 1.0, 1.0]
    assert math.isnan(second[0])
    attrs = out.schema["features"].metadata["ml_attr"]["attrs"]
    names = {a["idx"]: a["name"] for group in attrs.values() for a in group}
    assert names == {0: "x", 1: "id", 2: "flag"}
    assert vector_assembler(ctx, data, input_cols=["x"], output_col="v", handle_invalid="skip").count() == 1
    text = spark.createDataFrame([("1",)], "s string")
    with pytest.raises(
        ValueError, match=r"vector_assembler: params\.input_cols column 's' must be numeric.*cast_columns"
    ):
        vector_assembler(ctx, text, input_cols=["s"])
    with pytest.raises(ValueError, match=r"params\.input_cols names column 'nope'"):
        vector_assembler(ctx, data, input_cols=["x", "nope"])
