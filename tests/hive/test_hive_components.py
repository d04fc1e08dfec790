"""Hive components against the real local metastore: partitioned tables created, written, read; HiveQL."""

from __future__ import annotations

import uuid

import pytest

from airflow_mlplat.components.registry import get_component


def call(name, ctx, *args, **kwargs):
    return get_component(name).func(ctx, *args, **kwargs)


@pytest.fixture(scope="module")
def database(spark):
    name = f"t_{uuid.uuid4().hex[:8]}"
    spark.sql(f"CREATE DATABASE {name}")
    yield name
    spark.sql(f"DROP DATABASE {name} CASCADE")


def rows(frame, *columns):
    return sorted(tuple(r) for r in frame.select(*columns).collect())


def test_partitions_are_created_overwritten_and_appended(spark, ctx, database):
    table = f"{database}.events"
    day1 = spark.createDataFrame([(1, 0.5), (2, 1.5)], "user int, score double")
    day2 = spark.createDataFrame([(3, 2.5)], "user int, score double")
    call("write_hive_table", ctx, day1, table=table, partition={"dt": "2024-01-01"})
    call("write_hive_table", ctx, day2, table=table, partition={"dt": "2024-01-02"})
    partitions = [r[0] for r in spark.sql(f"SHOW PARTITIONS {table}").collect()]
    assert partitions == ["dt=2024-01-01", "dt=2024-01-02"]

    replacement = spark.createDataFrame([(9, 9.5)], "user int, score double")
    call("write_hive_table", ctx, replacement, table=table, partition={"dt": "2024-01-01"})
    assert rows(spark.table(table), "dt", "user") == [("2024-01-01", 9), ("2024-01-02", 3)]

    call("write_hive_table", ctx, day2, table=table, partition={"dt": "2024-01-02"}, mode="append")
    assert rows(spark.table(table), "dt", "user") == [("2024-01-01", 9), ("2024-01-02", 3), ("2024-01-02", 3)]


def test_dynamic_partitions_from_the_data(spark, ctx, database):
    table = f"{database}.by_hour"
    data = spark.createDataFrame(
        [("2024-01-01", "0010", 1), ("2024-01-01", "0020", 2), ("2024-01-02", "0010", 3)], "dt string, hm string, n int"
    )
    call("write_hive_table", ctx, data, table=table, partition_by=["dt", "hm"])
    listed = [r[0] for r in spark.sql(f"SHOW PARTITIONS {table}").collect()]
    assert listed == ["dt=2024-01-01/hm=0010", "dt=2024-01-01/hm=0020", "dt=2024-01-02/hm=0010"]
    # Overwriting one partition leaves the others in place.
    fix = spark.createDataFrame([("2024-01-01", "0020", 20)], "dt string, hm string, n int")
    call("write_hive_table", ctx, fix, table=table, partition_by=["dt", "hm"])
    assert rows(spark.table(table), "dt", "hm", "n") == [
        ("2024-01-01", "0010", 1),
        ("2024-01-01", "0020", 20),
        ("2024-01-02", "0010", 3),
    ]


def test_read_prunes_partitions_and_columns(spark, ctx, database):
    table = f"{database}.reads"
    data = spark.createDataFrame([(1, "a", "2024-02-01"), (2, "b", "2024-02-02")], "id int, v string, dt string")
    call("write_hive_table", ctx, data, table=table, partition_by=["dt"])
    frame = call("read_hive_table", ctx, table=table, columns=["id"], partition_filter="dt = '2024-02-02'")
    assert frame.columns == ["id"]
    assert [r.id for r in frame.collect()] == [2]
    plan = frame._jdf.queryExecution().executedPlan().toString()
    assert "PartitionFilters: [isnotnull(dt" in plan and "2024-02-02" in plan


def test_read_names_a_missing_table_or_partition(ctx, database):
    with pytest.raises(ValueError, match=rf"params.table '{database}.nope' does not exist"):
        call("read_hive_table", ctx, table=f"{database}.nope")
    table = f"{database}.reads"
    with pytest.raises(ValueError, match=rf"table '{table}' has no partition matching \"dt = '1999-01-01'\""):
        call("read_hive_table", ctx, table=table, partition_filter="dt = '1999-01-01'")
    empty = call("read_hive_table", ctx, table=table, partition_filter="dt = '1999-01-01'", require_partition=False)
    assert empty.count() == 0


def test_write_refuses_data_that_does_not_fit_the_table(spark, ctx, database):
    table = f"{database}.events"
    wrong = spark.createDataFrame([(1,)], "user int")
    with pytest.raises(ValueError, match=rf"params.table '{table}' has columns the data lacks: score"):
        call("write_hive_table", ctx, wrong, table=table, partition={"dt": "2024-01-03"})
    with pytest.raises(ValueError, match=r"database 'no_such_db' does not exist"):
        call("write_hive_table", ctx, wrong, table="no_such_db.t", partition={"dt": "x"})
    with pytest.raises(ValueError, match=r"is partitioned by \['dt'\], not \['user'\]"):
        call("write_hive_table", ctx, spark.table(table).drop("dt"), table=table, partition_by=["user"])


def test_run_hiveql_runs_statements_in_order(spark, ctx, database):
    data = spark.createDataFrame([(1,), (2,), (3,)], "x int")
    result = call(
        "run_hiveql",
        ctx,
        data,
        statements=[
            f"CREATE TABLE {database}.squares (x INT, y INT) STORED AS PARQUET",
            f"INSERT INTO {database}.squares SELECT x, x * x FROM data",
            f"SELECT sum(y) AS total FROM {database}.squares",
        ],
    )
    assert result.collect()[0].total == 14
    with pytest.raises(ValueError, match=r"params.statements\[1\] 'SELEC 1' failed"):
        call("run_hiveql", ctx, statements=["SELECT 1", "SELEC 1"])
