"""Hive components: write a partitioned catalogue table, run HiveQL.

(``read_hive_table`` lives with the other readers in ``io``.) The session's catalogue is the
Hive metastore the run was given (the ``metastore_default`` connection, or
``$MLPLAT_HIVE_METASTORE_URIS``); without one these components say so before touching data.
"""

from __future__ import annotations

from typing import Annotated, Any

from airflow_mlplat.components._common import quote, require_columns
from airflow_mlplat.components.registry import component
from airflow_mlplat.components.spec import Options, Sql, Table

_OVERWRITE_MODE_KEY = "spark.sql.sources.partitionOverwriteMode"


def require_hive_catalogue(spark: Any, component_name: str) -> None:
    if spark.conf.get("spark.sql.catalogImplementation", "in-memory") != "hive":
        raise ValueError(
            f"{component_name}: the Spark session has no Hive metastore; define the metastore_default "
            "connection (or set MLPLAT_HIVE_METASTORE_URIS), e.g. with `make hive-up` locally"
        )


@component(category="import/export", outputs={"data": Table})
def write_hive_table(
    ctx,
    data: Table,
    *,
    table: str,
    partition_by: list[str] | None = None,
    partition: dict[str, str] | None = None,
    mode: Annotated[str, Options("overwrite_partitions", "append")] = "overwrite_partitions",
    format: Annotated[str, Options("parquet", "orc")] = "parquet",
):
    """Write a partitioned Hive table: replace the partitions the data holds, or append to them.

    The table is created (partitioned as asked) when it does not exist. ``overwrite_partitions``
    replaces exactly the partitions present in the data and leaves every other partition alone:
    Spark writes them to a staging folder and swaps each partition folder in when the job
    commits, so a failed write leaves the old partition in place. Columns are matched by name.

    Args:
        data: the rows to write; must hold every column of an existing table.
        table: the Hive table (``db.table``); the database must exist.
        partition_by: the partition columns, outermost first (e.g. ``["dt", "hm"]``).
        partition: fixed partition values for all rows, e.g. ``{"dt": "2024-05-01"}``; their
            columns are added to the data (as strings) and to ``partition_by``.
        mode: replace the data's partitions, or add rows to them.
        format: the file format of a new table.

    Returns the input table unchanged.
    """
    from pyspark.sql import functions as F

    name = "write_hive_table"
    spark = ctx.spark
    require_hive_catalogue(spark, name)
    frame = data
    columns = list(partition_by or [])
    for column, value in (partition or {}).items():
        frame = frame.withColumn(column, F.lit(str(value)))
        if column not in columns:
            columns.append(column)
    require_columns(frame, columns, component=name, param="partition_by")
    if not columns:
        raise ValueError(f"{name}: params.partition_by (or params.partition) must name at least one column")
    database = table.rpartition(".")[0]
    if database and not spark.catalog.databaseExists(database):
        raise ValueError(f"{name}: params.table {table!r}: database {database!r} does not exist")
    if not spark.catalog.tableExists(table):
        ctx.log.info("%s: creating table %s partitioned by %s", ctx.node_id, table, ", ".join(columns))
        frame.limit(0).write.format(format).partitionBy(*columns).saveAsTable(table)
    existing = spark.catalog.listColumns(table)
    table_partitions = [c.name for c in existing if c.isPartition]
    if table_partitions != columns:
        raise ValueError(f"{name}: params.table {table!r} is partitioned by {table_partitions}, not {columns}")
    table_columns = [c.name for c in existing]
    missing = [c for c in table_columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{name}: params.table {table!r} has columns the data lacks: {', '.join(missing)}")
    extra = [c for c in frame.columns if c not in table_columns]
    if extra:
        raise ValueError(f"{name}: the data has columns table {table!r} lacks: {', '.join(extra)}")
    ordered = frame.select(*[F.col(quote(c)) for c in table_columns])  # insertInto is positional
    overwrite = mode == "overwrite_partitions"
    ctx.log.info("%s: %s %s", ctx.node_id, "overwriting partitions of" if overwrite else "appending to", table)
    previous = spark.conf.get(_OVERWRITE_MODE_KEY)
    spark.conf.set(_OVERWRITE_MODE_KEY, "dynamic")
    try:
        ordered.write.insertInto(table, overwrite=overwrite)
    finally:
        spark.conf.set(_OVERWRITE_MODE_KEY, previous)
    if partition:
        ctx.details["partition"] = "/".join(f"{k}={v}" for k, v in partition.items())
    return data


@component(category="import/export", outputs={"data": Table})
def run_hiveql(
    ctx, data: Table | None = None, *, statements: Annotated[list[str], Sql("statement")], view: str = "data"
):
    """Run HiveQL statements (DDL, INSERT, queries) on the session's Hive catalogue.

    The statements run in order; the output is the result of the last one (empty for DDL).

    Args:
        data: an optional input table, visible to the statements as the temporary view ``view``.
        statements: the statements, one per item, e.g. ``CREATE DATABASE IF NOT EXISTS sales``.
        view: the name under which the statements see ``data``.
    """
    from pyspark.errors import AnalysisException, ParseException

    name = "run_hiveql"
    spark = ctx.spark
    require_hive_catalogue(spark, name)
    if not statements:
        raise ValueError(f"{name}: params.statements must hold at least one statement")
    if data is not None:
        data.createOrReplaceTempView(view)
    result = None
    try:
        for index, statement in enumerate(statements):
            ctx.log.info("%s: statements[%d]: %s", ctx.node_id, index, statement)
            try:
                result = spark.sql(statement)
            except (ParseException, AnalysisException) as exc:
                first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                raise ValueError(f"{name}: params.statements[{index}] {statement!r} failed: {first}") from exc
    finally:
        if data is not None:
            spark.catalog.dropTempView(view)
    return result
