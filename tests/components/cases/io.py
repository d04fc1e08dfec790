"""Cases for the import/export components (files, catalogue tables, JDBC on Derby, inline rows)."""

from __future__ import annotations

import atexit
import datetime
import os
import shutil
import tempfile
import uuid
from pathlib import Path

from tests.components.cases import Case, rows_equal

# Params are fixed when the module is imported, so the files the cases read and write live
# in one folder made now and removed when the test process ends.
_FILES = Path(tempfile.mkdtemp(prefix="mlplat-io-cases-"))
atexit.register(shutil.rmtree, _FILES, True)
_RUN = uuid.uuid4().hex[:8]

#: Derby runs inside Spark's JVM (its jar ships with pyspark); an in-memory database per case.
_DERBY_READ = f"jdbc:derby:memory:mlplat_read_{_RUN};create=true"
_DERBY_WRITE = f"jdbc:derby:memory:mlplat_write_{_RUN};create=true"
_PASSWORD_ENV = "MLPLAT_CASES_DERBY_PASSWORD"


def _derby(spark, url: str, *statements: str) -> None:
    """Run SQL statements on a Derby database through the JVM's JDBC (not through Spark)."""
    connection = spark._jvm.java.sql.DriverManager.getConnection(url, "app", "unused")
    try:
        statement = connection.createStatement()
        for sql in statements:
            statement.execute(sql)
    finally:
        connection.close()


def _csv_file(spark):
    (_FILES / "people.csv").write_text("name;age\nann;31\nbob;\n")
    return {}


def _check_read_table(out, ctx):
    assert out["data"].dtypes == [("name", "string"), ("age", "int")]
    rows_equal(out["data"], [("ann", 31), ("bob", None)], order_by=["name"])


def _check_write_table(out, ctx):
    spark = out["data"].sparkSession
    assert out["data"].columns == ["id", "v"]  # passed on unchanged
    back = spark.read.json(str(_FILES / "written"))
    rows_equal(back.select("id", "v"), [(1, "a"), (2, "b")], order_by=["id"])
    assert not [p for p in _FILES.iterdir() if "_writing_" in p.name]  # no temporary sibling left


def _hive_table(spark):
    spark.sql(f"CREATE DATABASE IF NOT EXISTS mlplat_cases LOCATION '{_FILES / 'mlplat_cases.db'}'")
    spark.sql("DROP TABLE IF EXISTS mlplat_cases.visits")
    (_FILES / "visits").mkdir(exist_ok=True)
    spark.sql(
        "CREATE TABLE mlplat_cases.visits (user_id int, pages int, dt string) USING parquet PARTITIONED BY (dt) "
        f"LOCATION '{_FILES / 'visits'}'"
    )
    spark.sql(
        "INSERT INTO mlplat_cases.visits VALUES "
        "(1, 3, '2024-01-01'), (2, 5, '2024-01-01'), (1, 7, '2024-01-02'), (3, 1, '2024-01-03')"
    )
    return {}


def _check_read_hive_table(out, ctx):
    data = out["data"]
    assert data.columns == ["pages", "user_id"]
    rows_equal(data, [(7, 1), (1, 3)], order_by=["user_id"])
    plan = data._jdf.queryExecution().executedPlan().toString()
    # the filter reached the file scan as a partition filter: only two partition folders are read
    assert "PartitionFilters: [isnotnull(dt" in plan, plan
    assert "ReadSchema: struct<user_id:int,pages:int>" in plan, plan


def _derby_people(spark):
    os.environ[_PASSWORD_ENV] = "not-checked-by-derby"
    _derby(
        spark,
        _DERBY_READ,
        "CREATE TABLE people (id INT NOT NULL, name VARCHAR(20), score DOUBLE)",
        "INSERT INTO people VALUES (1, 'ann', 0.5), (2, 'bob', 1.5), (3, 'cid', 2.5), (4, 'dan', 3.5)",
    )
    return {}


def _check_read_jdbc(out, ctx):
    data = out["data"]
    assert data.columns == ["ID", "NAME", "SCORE"]
    assert data.rdd.getNumPartitions() == 2
    rows_equal(data, [(1, "ann", 0.5), (2, "bob", 1.5), (3, "cid", 2.5), (4, "dan", 3.5)], order_by=["ID"])


def _derby_stale_scores(spark):
    os.environ[_PASSWORD_ENV] = "not-checked-by-derby"
    _derby(
        spark,
        _DERBY_WRITE,
        'CREATE TABLE scores ("user" VARCHAR(10), "score" DECIMAL(5, 2))',
        "INSERT INTO scores VALUES ('stale', 9.99)",
    )
    data = spark.createDataFrame([("ann", 0.25), ("bob", 0.75)], "user string, score double")
    return {"data": data}


def _check_write_jdbc(out, ctx):
    spark = out["data"].sparkSession
    back = spark.read.jdbc(_DERBY_WRITE, "scores", properties={"user": "app", "password": "unused"})
    # truncated, not dropped: the table keeps its DECIMAL(5, 2) column and loses the stale row
    assert dict(back.dtypes)["score"] == "decimal(5,2)"
    rows_equal(back.selectExpr("user", "CAST(score AS double)"), [("ann", 0.25), ("bob", 0.75)], order_by=["user"])


def _check_sample_rows(out, ctx):
    sample = out["data"]
    ids = [r.id for r in sample.collect()]
    assert len(ids) == len(set(ids))  # without replacement: no row twice
    assert set(ids) <= set(range(1000))
    assert 240 <= len(ids) <= 360, len(ids)  # about 30% of 1000
    assert sorted(r.id for r in sample.collect()) == sorted(ids)  # the seed makes it repeatable


CASES = {
    "read_table": Case(
        inputs=_csv_file,
        params={"path": str(_FILES / "people.csv"), "delimiter": ";", "infer_schema": True},
        check=_check_read_table,
    ),
    "write_table": Case(
        inputs=lambda spark: {"data": spark.createDataFrame([(1, "a"), (2, "b")], "id int, v string")},
        params={"path": str(_FILES / "written"), "format": "json"},
        check=_check_write_table,
    ),
    "read_hive_table": Case(
        inputs=_hive_table,
        params={
            "table": "mlplat_cases.visits",
            "columns": ["pages", "user_id"],
            "partition_filter": "dt >= '2024-01-02'",
        },
        check=_check_read_hive_table,
    ),
    "read_jdbc": Case(
        inputs=_derby_people,
        params={
            "url": _DERBY_READ,
            "table": "people",
            "user": "app",
            "password_env": _PASSWORD_ENV,
            "driver": "org.apache.derby.iapi.jdbc.AutoloadedDriver",
            "partition_column": "id",
            "lower_bound": "1",
            "upper_bound": "5",
            "num_partitions": 2,
            "fetch_size": 2,
        },
        check=_check_read_jdbc,
    ),
    "write_jdbc": Case(
        inputs=_derby_stale_scores,
        params={
            "url": _DERBY_WRITE,
            "table": "scores",
            "user": "app",
            "password_env": _PASSWORD_ENV,
            "mode": "overwrite",
            "batch_size": 1,
        },
        check=_check_write_jdbc,
    ),
    "limit_rows": Case(
        inputs=lambda spark: {
            "data": spark.createDataFrame([(3, "c"), (1, "a"), (4, "d"), (2, "b")], "id int, v string")
        },
        params={"rows": 2, "order_by": ["id"], "descending": True},
        check=lambda out, ctx: rows_equal(out["data"], [(4, "d"), (3, "c")]),
    ),
    "sample_rows": Case(
        inputs=lambda spark: {"data": spark.range(1000).repartition(2)},
        params={"fraction": 0.3, "seed": 7},
        check=_check_sample_rows,
    ),
    "inline_table": Case(
        inputs=lambda spark: {},
        params={
            "rows": [
                [1, "tier1", "2024-01-31", ["a", "b"]],
                {"id": 2, "city": "tier2"},
                [3, None, "2024-02-29", []],
            ],
            "schema": "id int, city string, since date, tags array<string>",
        },
        check=lambda out, ctx: rows_equal(
            out["data"],
            [
                (1, "tier1", datetime.date(2024, 1, 31), ["a", "b"]),
                (2, "tier2", None, None),
                (3, None, datetime.date(2024, 2, 29), []),
            ],
            order_by=["id"],
        ),
    ),
}
