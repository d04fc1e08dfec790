"""Cases for the Hive components, on the test session's real metastore."""

from __future__ import annotations

import uuid

from tests.components.cases import Case, rows_equal

_DB = f"mlplat_hive_cases_{uuid.uuid4().hex[:6]}"


def _scores(spark):
    spark.sql(f"CREATE DATABASE IF NOT EXISTS {_DB}")
    return {"data": spark.createDataFrame([(1, 0.5), (2, 1.5)], "user int, score double")}


def _check_write_hive_table(out, ctx):
    spark = ctx.spark
    assert out["data"].columns == ["user", "score"]  # passed on unchanged
    assert [r[0] for r in spark.sql(f"SHOW PARTITIONS {_DB}.scores").collect()] == ["dt=2024-03-01"]
    rows_equal(spark.table(f"{_DB}.scores"), [(1, 0.5, "2024-03-01"), (2, 1.5, "2024-03-01")], order_by=["user"])


def _numbers(spark):
    return {"data": spark.createDataFrame([(1,), (2,), (3,)], "x int")}


CASES = {
    "write_hive_table": Case(
        inputs=_scores,
        params={"table": f"{_DB}.scores", "partition": {"dt": "2024-03-01"}},
        check=_check_write_hive_table,
    ),
    "run_hiveql": Case(
        inputs=_numbers,
        params={"statements": ["SELECT x * 10 AS y FROM numbers WHERE x > 1"], "view": "numbers"},
        check=lambda out, ctx: rows_equal(out["data"], [(20,), (30,)], order_by=["y"]),
    ),
}
