from __future__ import annotations

import datetime
import math

import pytest

from airflow_mlplat.components.processing import (
    cast_columns,
    drop_duplicates,
    fill_missing,
    filter_rows,
    random_split,
    select_columns,
    sql_transform,
)


@pytest.fixture
def people(spark):
    return spark.createDataFrame(
        [(1, "ann", 31.0), (2, "bob", None), (3, "cid", 25.0), (4, None, 40.0)],
        "id int, name string, age double",
    )


def test_sql_transform_joins_two_inputs_and_drops_its_views(ctx, spark, people):
    cities = spark.createDataFrame([(1, "Rome"), (3, "Oslo")], "id int, city string")
    out = sql_transform(
        ctx,
        people,
        cities,
        query="SELECT p.name, c.city FROM people p JOIN cities c ON p.id = c.id ORDER BY p.id",
        view="people",
        other_view="cities",
    )
    assert [tuple(r) for r in out.collect()] == [("ann", "Rome"), ("cid", "Oslo")]
    assert not spark.catalog.tableExists("people") and not spark.catalog.tableExists("cities")
    single = sql_transform(ctx, people, query="SELECT count(*) AS n FROM data")
    assert single.first().n == 4


def test_sql_transform_errors_name_the_parameter(ctx, people):
    with pytest.raises(ValueError, match=r"sql_transform: params\.query 'SELEC nothing' is not valid"):
        sql_transform(ctx, people, query="SELEC nothing")
    with pytest.raises(ValueError, match=r"params\.query .*is not valid"):
        sql_transform(ctx, people, query="SELECT missing_col FROM data")
    with pytest.raises(ValueError, match=r"params\.view must be an SQL identifier"):
        sql_transform(ctx, people, query="SELECT 1", view="bad name")


def test_cast_columns_converts_many_and_nulls_what_does_not_parse(ctx, spark):
    raw = spark.createDataFrame(
        [("1.5", "42", "true", "2024-01-05", "x"), ("abc", "", "no", "2024-02-30", "y"), (None, "7", None, None, "z")],
        "a string, b string, flag string, day string, keep string",
    )
    doubles = cast_columns(ctx, raw, columns=["a", "b"], to_type="double")
    assert doubles.columns == raw.columns  # order kept
    assert dict(doubles.dtypes) == {"a": "double", "b": "double", "flag": "string", "day": "string", "keep": "string"}
    assert [tuple(r) for r in doubles.select("a", "b").collect()] == [(1.5, 42.0), (None, None), (None, 7.0)]
    ints = cast_columns(ctx, raw, columns=["b"], to_type="int")
    assert [r.b for r in ints.collect()] == [42, None, 7]
    flags = cast_columns(ctx, raw, columns=["flag"], to_type="boolean")
    assert [r.flag for r in flags.collect()] == [True, False, None]
    days = cast_columns(ctx, raw, columns=["day"], to_type="date")
    assert [r.day for r in days.collect()] == [datetime.date(2024, 1, 5), None, None]


def test_cast_columns_errors(ctx, people):
    with pytest.raises(ValueError, match=r"cast_columns: params\.columns names column 'height'"):
        cast_columns(ctx, people, columns=["age", "height"], to_type="double")
    with pytest.raises(ValueError, match=r"params\.columns must name at least one column"):
        cast_columns(ctx, people, columns=[], to_type="double")


def test_random_split_without_strata_adds_up(ctx, spark):
    data = spark.range(1000).withColumnRenamed("id", "uid")
    parts = random_split(ctx, data, ratio=0.8, seed=3)
    train = {r.uid for r in parts["train"].collect()}
    test = {r.uid for r in parts["test"].collect()}
    assert not train & test and len(train) + len(test) == 1000
    assert 740 <= len(train) <= 860
    again = random_split(ctx, data, ratio=0.8, seed=3)
    assert {r.uid for r in again["train"].collect()} == train


def test_random_split_stratified_is_exact_per_stratum(ctx, spark):
    rows = [(i, 1 if i < 30 else 0) for i in range(100)]
    data = spark.createDataFrame(rows, "uid int, label int").repartition(3)
    parts = random_split(ctx, data, ratio=0.8, seed=5, stratify_by="label")
    train, test = parts["train"].collect(), parts["test"].collect()
    assert sorted(r.label for r in train).count(1) == 24 and len(train) == 80
    assert sorted(r.label for r in test).count(1) == 6 and len(test) == 20
    assert {r.uid for r in train} | {r.uid for r in test} == set(range(100))
    assert parts["train"].columns == ["uid", "label"]
    with pytest.raises(ValueError, match=r"random_split: params\.stratify_by names column 'y'"):
        random_split(ctx, data, stratify_by="y")


@pytest.fixture
def holes(spark):
    return spark.createDataFrame(
        [
            (1, 1.0, "a", datetime.date(2024, 1, 1)),
            (2, float("nan"), "b", None),
            (None, 3.0, "b", None),
            (4, None, None, None),
        ],
        "n int, x double, s string, d date",
    )


def test_fill_missing_mean_keeps_types_and_treats_nan_as_missing(ctx, holes):
    out = fill_missing(ctx, holes, strategy="mean")
    assert out.dtypes == holes.dtypes
    rows = out.collect()
    assert [r.n for r in rows] == [1, 2, 2, 4]  # mean 7/3 rounded half up
    assert [r.x for r in rows] == [1.0, 2.0, 3.0, 2.0]
    assert [r.s for r in rows] == ["a", "b", "b", None]  # not numeric: untouched


def test_fill_missing_median_mode_and_constant(ctx, spark, holes):
    median = fill_missing(ctx, spark.createDataFrame([(1.0,), (2.0,), (10.0,), (None,)], "v double"), strategy="median")
    assert [r.v for r in median.collect()] == [1.0, 2.0, 10.0, 2.0]
    mode = fill_missing(ctx, holes, strategy="mode", columns=["s", "n"])
    assert [r.s for r in mode.collect()] == ["a", "b", "b", "b"]
    assert [r.n for r in mode.collect()] == [1, 2, 1, 4]  # tie: the smallest value
    constant = fill_missing(ctx, holes, strategy="constant", value="0")
    rows = constant.collect()
    assert [r.n for r in rows] == [1, 2, 0, 4]
    assert [r.x for r in rows] == [1.0, 0.0, 3.0, 0.0]
    assert [r.s for r in rows] == ["a", "b", "b", "0"]
    assert [r.d for r in rows][1:] == [None, None, None]  # '0' is no date: skipped
    dated = fill_missing(ctx, holes, strategy="constant", columns=["d"], value="2020-02-02")
    assert {r.d for r in dated.collect()} == {datetime.date(2024, 1, 1), datetime.date(2020, 2, 2)}
    assert not any(math.isnan(r.x) for r in rows)


def test_fill_missing_errors(ctx, holes):
    with pytest.raises(ValueError, match=r"params\.columns names column 's' of type string, but strategy 'mean'"):
        fill_missing(ctx, holes, strategy="mean", columns=["x", "s"])
    with pytest.raises(ValueError, match=r"params\.value 'zero' cannot fill column 'd' of type date"):
        fill_missing(ctx, holes, strategy="constant", columns=["d"], value="zero")
    with pytest.raises(ValueError, match=r"params\.value is required"):
        fill_missing(ctx, holes, strategy="constant")
    with pytest.raises(ValueError, match=r"fill_missing: params\.columns names column 'zz'"):
        fill_missing(ctx, holes, columns=["zz"])


def test_drop_duplicates(ctx, spark):
    data = spark.createDataFrame([(1, "a"), (1, "a"), (1, "b"), (2, "b")], "id int, v string")
    assert drop_duplicates(ctx, data).count() == 3
    assert sorted(r.id for r in drop_duplicates(ctx, data, subset=["id"]).collect()) == [1, 2]
    with pytest.raises(ValueError, match=r"drop_duplicates: params\.subset names column 'w'"):
        drop_duplicates(ctx, data, subset=["w"])


def test_filter_rows(ctx, people):
    kept = filter_rows(ctx, people, condition="age > 26 AND name IS NOT NULL")
    assert [r.id for r in kept.collect()] == [1]
    with pytest.raises(ValueError, match=r"filter_rows: params\.condition 'age >' is not valid"):
        filter_rows(ctx, people, condition="age >")
    with pytest.raises(ValueError, match=r"params\.condition 'height > 1' is not valid"):
        filter_rows(ctx, people, condition="height > 1")


def test_select_columns_orders_and_renames(ctx, people):
    out = select_columns(ctx, people, columns=["age", "id"], rename={"id": "user_id"})
    assert out.columns == ["age", "user_id"]
    assert out.first().user_id == 1
    assert select_columns(ctx, people, rename={"name": "who"}).columns == ["id", "who", "age"]
    with pytest.raises(ValueError, match=r"select_columns: params\.columns names column 'height'"):
        select_columns(ctx, people, columns=["id", "height"])
    with pytest.raises(ValueError, match=r"params\.rename names column 'name', which the selected columns"):
        select_columns(ctx, people, columns=["id"], rename={"name": "who"})
    with pytest.raises(ValueError, match=r"duplicate column"):
        select_columns(ctx, people, rename={"name": "id"})
