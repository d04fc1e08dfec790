"""Cases for the data-processing components."""

from __future__ import annotations

from tests.components.cases import Case, rows_equal


def _columns_are(df, expected):
    assert df.columns == expected, f"columns {df.columns}, expected {expected}"


def _people(spark):
    return spark.createDataFrame(
        [(1, "ann", 31.0), (2, "bob", None), (3, "cid", 25.0), (4, None, 40.0)],
        "id int, name string, age double",
    )


def _check_random_split(out, ctx):
    train, test = out["train"], out["test"]
    rows = sorted([tuple(r) for r in train.collect()] + [tuple(r) for r in test.collect()])
    assert rows == [(i, i % 2) for i in range(8)]  # every row in exactly one part
    for label in (0, 1):  # stratified exactly: 2 of each label's 4 rows train
        assert train.where(f"label = {label}").count() == 2


def _events(spark):
    rows = [
        (1, "2024-01-01 08:00:00", 10.0),
        (2, "2024-01-02 08:00:00", 20.0),
        (3, "2024-01-02 08:00:00", 30.0),
        (4, "2024-01-03 08:00:00", 40.0),
        (5, "2024-01-04 08:00:00", 50.0),
        (6, None, 60.0),
    ]
    # Spark parses the times in the session time zone, the one the split time is reported in.
    data = spark.createDataFrame(rows, "id int, ts string, amount double")
    return {"data": data.selectExpr("id", "CAST(ts AS timestamp) AS ts", "amount")}


def _check_split_by_time(out, ctx):
    # the 0.5 quantile of the five times is 2024-01-02 08:00; both rows at that time train
    rows_equal(out["train"].select("id"), [(1,), (2,), (3,)], order_by=["id"])
    rows_equal(out["test"].select("id"), [(4,), (5,)], order_by=["id"])
    assert ctx.details["split_time"] == "2024-01-02 08:00:00"


def _sales(spark):
    rows = [
        ("u1", 1, 10.0),
        ("u1", 2, 20.0),
        ("u1", 3, None),
        ("u1", 4, 40.0),
        ("u2", 1, 5.0),
        ("u2", 2, 7.0),
    ]
    return {"data": spark.createDataFrame(rows, "user string, day int, amount double")}


def _check_stratified_sample(out, ctx):
    rows = out["data"].collect()
    by_label = {0: 0, 1: 0}
    for r in rows:
        by_label[r.label] += 1
    assert by_label == {1: 4, 0: 2}, by_label  # every buyer, round(0.25 * 8) others
    assert len({r.id for r in rows}) == 6


CASES = {
    "sql_transform": Case(
        inputs=lambda spark: {
            "data": _people(spark),
            "other": spark.createDataFrame([(1, "Rome"), (3, "Oslo")], "id int, city string"),
        },
        params={"query": "SELECT d.name, o.city FROM d JOIN o ON d.id = o.id", "view": "d", "other_view": "o"},
        check=lambda out, ctx: rows_equal(out["data"], [("ann", "Rome"), ("cid", "Oslo")], order_by=["name"]),
    ),
    "cast_columns": Case(
        inputs=lambda spark: {"data": spark.createDataFrame([("1.5", "x"), ("abc", "y")], "a string, b string")},
        params={"columns": ["a"], "to_type": "double"},
        check=lambda out, ctx: rows_equal(out["data"], [(1.5, "x"), (None, "y")], order_by=["b"]),
    ),
    "random_split": Case(
        inputs=lambda spark: {
            "data": spark.createDataFrame([(i, i % 2) for i in range(8)], "id int, label int"),
        },
        params={"ratio": 0.5, "seed": 1, "stratify_by": "label"},
        check=_check_random_split,
    ),
    "fill_missing": Case(
        inputs=lambda spark: {"data": _people(spark)},
        params={"strategy": "mean", "columns": ["age"]},
        check=lambda out, ctx: rows_equal(
            out["data"], [(1, "ann", 31.0), (2, "bob", 32.0), (3, "cid", 25.0), (4, None, 40.0)], order_by=["id"]
        ),
    ),
    "drop_duplicates": Case(
        inputs=lambda spark: {
            "data": spark.createDataFrame([(1, "a"), (1, "a"), (2, "a"), (2, "b")], "k int, v string"),
        },
        params={"subset": ["v"]},
        check=lambda out, ctx: (
            rows_equal(out["data"].select("v"), [("a",), ("b",)], order_by=["v"]),
            rows_equal(out["data"].where("v = 'b'"), [(2, "b")]),
        ),
    ),
    "filter_rows": Case(
        inputs=lambda spark: {"data": _people(spark)},
        params={"condition": "age >= 30 AND name IS NOT NULL"},
        check=lambda out, ctx: rows_equal(out["data"], [(1, "ann", 31.0)]),
    ),
    "select_columns": Case(
        inputs=lambda spark: {"data": _people(spark)},
        params={"columns": ["name", "id"], "rename": {"name": "who"}},
        check=lambda out, ctx: (
            _columns_are(out["data"], ["who", "id"]),
            rows_equal(out["data"], [("ann", 1), ("bob", 2), ("cid", 3), (None, 4)], order_by=["id"]),
        ),
    ),
    "split_by_time": Case(
        inputs=_events,
        params={"time_col": "ts", "ratio": 0.5},
        check=_check_split_by_time,
    ),
    "drop_missing": Case(
        inputs=lambda spark: {
            "data": spark.createDataFrame(
                [(1, "a", 1.0), (2, None, float("nan")), (3, None, 3.0), (None, None, None)],
                "id int, name string, x double",
            )
        },
        params={"threshold": 2},
        check=lambda out, ctx: rows_equal(out["data"], [(1, "a", 1.0), (3, None, 3.0)], order_by=["id"]),
    ),
    "rename_columns": Case(
        inputs=lambda spark: {"data": _people(spark)},
        params={"mapping": {"name": "who", "AGE": "years"}},
        check=lambda out, ctx: (
            _columns_are(out["data"], ["id", "who", "years"]),
            rows_equal(out["data"].where("id = 1"), [(1, "ann", 31.0)]),
        ),
    ),
    "drop_columns": Case(
        inputs=lambda spark: {"data": _people(spark)},
        params={"columns": ["age", "not_there"], "ignore_missing": True},
        check=lambda out, ctx: rows_equal(
            out["data"], [(1, "ann"), (2, "bob"), (3, "cid"), (4, None)], order_by=["id"]
        ),
    ),
    "join_tables": Case(
        inputs=lambda spark: {
            "left": spark.createDataFrame(
                [(1, "ann", 10), (2, "bob", 20), (3, "cid", 30)], "id int, name string, v int"
            ),
            "right": spark.createDataFrame([(1, 100), (3, 300), (4, 400)], "user_id int, v int"),
        },
        params={"on": ["id"], "right_on": ["user_id"], "how": "full", "suffix": "_r"},
        check=lambda out, ctx: (
            _columns_are(out["data"], ["id", "name", "v", "v_r"]),
            rows_equal(
                out["data"],
                [(1, "ann", 10, 100), (2, "bob", 20, None), (3, "cid", 30, 300), (4, None, None, 400)],
                order_by=["id"],
            ),
        ),
    ),
    "union_tables": Case(
        inputs=lambda spark: {
            "data": spark.createDataFrame([(1, "a"), (2, "b")], "id int, v string"),
            "other": spark.createDataFrame([(0.5, 3), (0.5, 2)], "score double, id long"),
        },
        params={"allow_missing_columns": True},
        check=lambda out, ctx: (
            _columns_are(out["data"], ["id", "v", "score"]),
            rows_equal(
                out["data"], [(1, "a", None), (2, None, 0.5), (2, "b", None), (3, None, 0.5)], order_by=["id", "v"]
            ),
        ),
    ),
    "append_id": Case(
        inputs=lambda spark: {
            "data": spark.createDataFrame([("c", 3.0), ("a", 9.0), ("b", 5.0)], "k string, x double")
        },
        params={"id_col": "rank", "method": "row_number", "order_by": ["x"], "descending": True},
        check=lambda out, ctx: rows_equal(
            out["data"], [(1, "a", 9.0), (2, "b", 5.0), (3, "c", 3.0)], order_by=["rank"]
        ),
    ),
    "sort_rows": Case(
        inputs=lambda spark: {
            "data": spark.createDataFrame([("x", 1), ("y", None), ("x", 3), ("y", 2), (None, 5)], "g string, n int")
        },
        params={"columns": ["g", "n"], "descending": ["n"], "nulls": "last"},
        check=lambda out, ctx: rows_equal(out["data"], [("x", 3), ("x", 1), ("y", 2), ("y", None), (None, 5)]),
    ),
    "stratified_sample": Case(
        inputs=lambda spark: {
            "data": spark.createDataFrame([(i, 1 if i < 4 else 0) for i in range(12)], "id int, label int")
        },
        params={"column": "label", "fractions": {"1": 1.0}, "fraction": 0.25, "method": "exact", "seed": 3},
        check=_check_stratified_sample,
    ),
    "window_features": Case(
        inputs=_sales,
        params={
            "partition_by": ["user"],
            "order_by": "day",
            "features": {
                "prev": "lag(amount)",
                "next2": "lead(amount, 2)",
                "mean2": "rolling_mean(amount, 2)",
                "total": "cumulative_sum(amount)",
            },
        },
        check=lambda out, ctx: rows_equal(
            out["data"],
            [
                ("u1", 1, 10.0, None, None, 10.0, 10.0),
                ("u1", 2, 20.0, 10.0, 40.0, 15.0, 30.0),
                ("u1", 3, None, 20.0, None, 20.0, 30.0),
                ("u1", 4, 40.0, None, None, 40.0, 70.0),
                ("u2", 1, 5.0, None, None, 5.0, 5.0),
                ("u2", 2, 7.0, 5.0, None, 6.0, 12.0),
            ],
            order_by=["user", "day"],
        ),
    ),
    "pivot_table": Case(
        inputs=lambda spark: {
            "data": spark.createDataFrame(
                [("u1", 1, 10.0), ("u1", 1, 5.0), ("u1", 2, 1.0), ("u2", 2, 7.0), ("u2", 3, 9.0)],
                "user string, month int, amount double",
            )
        },
        params={
            "index": ["user"],
            "pivot_col": "month",
            "values_col": "amount",
            "pivot_values": ["1", "2"],
            "prefix": "m",
            "fill_value": 0.0,
        },
        check=lambda out, ctx: (
            _columns_are(out["data"], ["user", "m1", "m2"]),
            rows_equal(out["data"], [("u1", 15.0, 1.0), ("u2", 0.0, 7.0)], order_by=["user"]),
        ),
    ),
    "explode_column": Case(
        inputs=lambda spark: {
            "data": spark.createDataFrame(
                [(1, "a|b", 0.5), (2, None, 1.5), (3, "c", 2.5)], "id int, tags string, w double"
            )
        },
        params={"column": "tags", "delimiter": "|", "position_col": "pos", "keep_empty": True},
        check=lambda out, ctx: (
            _columns_are(out["data"], ["id", "pos", "tags", "w"]),
            rows_equal(
                out["data"],
                [(1, 0, "a", 0.5), (1, 1, "b", 0.5), (2, None, None, 1.5), (3, 0, "c", 2.5)],
                order_by=["id", "pos"],
            ),
        ),
    ),
    "add_column": Case(
        inputs=lambda spark: {"data": _people(spark)},
        params={"column": "group", "expression": "CASE WHEN age >= 30 THEN 'senior' ELSE 'junior' END"},
        check=lambda out, ctx: rows_equal(
            out["data"].select("id", "group"),
            [(1, "senior"), (2, "junior"), (3, "junior"), (4, "senior")],
            order_by=["id"],
        ),
    ),
    "group_aggregate": Case(
        inputs=_sales,
        params={
            "group_by": ["user"],
            "aggregations": {"days": "count(*)", "total": "sum(amount)", "last_day": "max(day)"},
        },
        check=lambda out, ctx: rows_equal(out["data"], [("u1", 4, 70.0, 4), ("u2", 2, 12.0, 2)], order_by=["user"]),
    ),
    "replace_values": Case(
        inputs=lambda spark: {
            "data": spark.createDataFrame(
                [(1, "-999", -999.0), (2, "NA", 3.5), (-999, "ok", 1.0)], "id int, code string, x double"
            )
        },
        params={"mapping": {"-999": None, "NA": "missing"}},
        check=lambda out, ctx: rows_equal(
            out["data"], [(None, "ok", 1.0), (1, None, None), (2, "missing", 3.5)], order_by=["id"]
        ),
    ),
}
