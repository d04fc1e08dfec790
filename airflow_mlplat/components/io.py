"""Import/export components: files, catalogue (Hive) tables, JDBC databases, inline rows, limits and samples."""

from __future__ import annotations

import os
import posixpath
import re
import uuid
from typing import Annotated, Any
from urllib.parse import urlparse

from airflow_mlplat.components._common import quote, require_columns
from airflow_mlplat.components.registry import component
from airflow_mlplat.components.spec import Interval, Options, Sql, Table

_READ_FORMATS = ("csv", "parquet", "json", "orc")


def _one_of_path_or_table(component_name: str, path: str | None, table: str | None) -> None:
    if bool(path) == bool(table):
        state = "both are set" if path and table else "neither is set"
        raise ValueError(f"{component_name}: set exactly one of params.path and params.table ({state})")


def _localise_http(spark: Any, url: str) -> str:
    """Download an http(s) URL through SparkContext.addFile; return the driver-local file URL."""
    from pyspark import SparkFiles

    name = posixpath.basename(urlparse(url).path)
    if not name:
        raise ValueError(f"read_table: params.path {url!r} must name a file (the URL path ends with '/')")
    spark.sparkContext.addFile(url)
    return "file://" + SparkFiles.get(name)


def _condition(exc: Exception) -> str:
    getter = getattr(exc, "getCondition", None) or getattr(exc, "getErrorClass", None)
    try:
        return str(getter() or "") if getter else ""
    except Exception:  # pragma: no cover - defensive: an error without a condition
        return ""


@component(category="import/export", outputs={"data": Table})
def read_table(
    ctx,
    *,
    path: str | None = None,
    table: str | None = None,
    format: Annotated[str, Options(*_READ_FORMATS)] = "csv",
    header: bool = True,
    delimiter: str = ",",
    infer_schema: bool = False,
    options: dict[str, str] | None = None,
):
    """Read a table from files (local, file://, hdfs://, http(s)://) or from the Spark catalogue.

    Exactly one of ``path`` and ``table`` must be set. CSV columns are strings unless
    ``infer_schema`` is on (cast them explicitly with ``cast_columns``). An http(s) URL is
    downloaded once through ``SparkContext.addFile`` (meant for small reference files in local
    or client mode; put large data on HDFS).

    Args:
        path: where the files are: a local path, a file://, hdfs:// or http(s):// URL, or a folder of part files.
        table: a table or view name (``db.table``) to read through Spark SQL instead of files.
        format: the file format (ignored with ``table``).
        header: CSV only: the first line holds the column names.
        delimiter: CSV only: the field separator (e.g. ``\\t`` for tab-separated files).
        infer_schema: CSV only: guess column types (one extra pass over the data); off keeps strings.
        options: further reader options passed to Spark as they are (e.g. ``{"nullValue": "NA"}``).
        data: the table read.
    """
    spark = ctx.spark
    _one_of_path_or_table("read_table", path, table)
    from pyspark.errors import AnalysisException

    if table:
        try:
            return spark.table(table)
        except AnalysisException as exc:
            if "NOT_FOUND" in _condition(exc):
                raise ValueError(f"read_table: params.table {table!r} does not exist") from exc
            raise
    assert path is not None
    location = path
    if urlparse(path).scheme in ("http", "https"):
        location = _localise_http(spark, path)
    reader = spark.read.format(format)
    if format == "csv":
        reader = (
            reader.option("header", str(header).lower())
            .option("sep", delimiter)
            .option("inferSchema", str(infer_schema).lower())
        )
    for key, value in (options or {}).items():
        reader = reader.option(key, value)
    ctx.log.info("%s: reading %s from %s", ctx.node_id, format, path)
    try:
        return reader.load(location)
    except AnalysisException as exc:
        if _condition(exc) == "PATH_NOT_FOUND":
            raise ValueError(f"read_table: params.path {path!r} does not exist") from exc
        raise


def _hadoop_fs(spark: Any, location: str) -> tuple[Any, Any]:
    jvm_path = spark._jvm.org.apache.hadoop.fs.Path(location)
    return jvm_path.getFileSystem(spark._jsc.hadoopConfiguration()), jvm_path


def _temporary_sibling(location: str) -> str:
    trimmed = location.rstrip("/")
    head, _, tail = trimmed.rpartition("/")
    name = f".{tail}._writing_{uuid.uuid4().hex[:12]}"
    return f"{head}/{name}" if head or trimmed.startswith("/") else name


@component(category="import/export", outputs={"data": Table})
def write_table(
    ctx,
    data: Table,
    *,
    path: str | None = None,
    table: str | None = None,
    format: Annotated[str, Options(*_READ_FORMATS)] = "parquet",
    mode: Annotated[str, Options("overwrite", "append", "error")] = "overwrite",
    partition_by: list[str] | None = None,
    header: bool = True,
):
    """Write a table to files or to the Spark catalogue, and pass it on unchanged.

    Exactly one of ``path`` and ``table`` must be set. Overwriting a path writes to a hidden
    temporary sibling first and swaps it in with a Hadoop FileSystem rename, so a failed write
    leaves the old files in place rather than half a table.

    Args:
        data: the table to write.
        path: the target folder: a local path or a file:// or hdfs:// URL.
        table: a catalogue table name (``db.table``) to save the data as, instead of a path.
        format: the file format.
        mode: what to do when the target exists: replace it, add to it, or fail.
        partition_by: columns to partition the files by (one sub-folder per value).
        header: CSV only: write a header line.

    Returns the input table unchanged, so later nodes can go on from it.
    """
    spark = ctx.spark
    _one_of_path_or_table("write_table", path, table)
    partitions = require_columns(data, partition_by or [], component="write_table", param="partition_by")
    spark_mode = "errorifexists" if mode == "error" else mode

    def writer(target_mode: str) -> Any:
        out = data.write.format(format).mode(target_mode)
        if partitions:
            out = out.partitionBy(*partitions)
        if format == "csv":
            out = out.option("header", str(header).lower())
        return out

    if table:
        ctx.log.info("%s: saving table %s (%s, mode %s)", ctx.node_id, table, format, mode)
        writer(spark_mode).saveAsTable(table)
        return data

    assert path is not None
    if urlparse(path).scheme in ("http", "https"):
        raise ValueError(f"write_table: params.path {path!r} cannot be an http(s) URL; write to a path or hdfs://")
    if mode != "overwrite":
        ctx.log.info("%s: writing %s to %s (mode %s)", ctx.node_id, format, path, mode)
        from pyspark.errors import AnalysisException

        try:
            writer(spark_mode).save(path)
        except AnalysisException as exc:
            if "ALREADY_EXISTS" in _condition(exc):
                raise ValueError(
                    f"write_table: params.path {path!r} already exists and params.mode is 'error'"
                ) from exc
            raise
        return data

    temporary = _temporary_sibling(path)
    fs, target = _hadoop_fs(spark, path)
    _, staging = _hadoop_fs(spark, temporary)
    ctx.log.info("%s: writing %s to %s (through %s)", ctx.node_id, format, path, temporary)
    try:
        writer("errorifexists").save(temporary)
        if fs.exists(target) and not fs.delete(target, True):
            raise OSError(f"write_table: could not remove the old contents of {path!r}")
        parent = target.getParent()
        if parent is not None and not fs.exists(parent):
            fs.mkdirs(parent)
        if not fs.rename(staging, target):
            raise OSError(f"write_table: could not move {temporary!r} to {path!r}")
    finally:
        if fs.exists(staging):
            fs.delete(staging, True)
    return data


@component(category="import/export", outputs={"data": Table})
def read_hive_table(
    ctx,
    *,
    table: str,
    columns: list[str] | None = None,
    partition_filter: Annotated[str | None, Sql("expression")] = None,
    require_partition: bool = True,
):
    """Read a partitioned catalogue (Hive) table, only the partitions and columns asked for.

    The read is a Spark SQL scan of ``table`` with the partition filter pushed down (only the
    matching partition folders are listed and read) and the columns pruned (columnar formats
    read only those columns). The filter may use the partition columns only, so that it always
    prunes; filter other columns afterwards with ``filter_rows``.

    Args:
        table: the catalogue table (``db.table``).
        columns: the columns to keep, in order; empty keeps every column.
        partition_filter: a Spark SQL condition over the partition columns, e.g.
            ``dt >= '2024-01-01' AND dt < '2024-02-01'``; empty reads every partition.
        require_partition: fail when the filter matches no partition (checked in the catalogue,
            before any data is read), rather than returning an empty table.
        data: the rows of the chosen partitions, with the chosen columns.
    """
    from pyspark.errors import AnalysisException, ParseException
    from pyspark.sql import functions as F
    from pyspark.sql.types import StructType

    name = "read_hive_table"
    spark = ctx.spark
    try:
        frame = spark.table(table)
    except (AnalysisException, ParseException) as exc:
        if isinstance(exc, ParseException):
            raise ValueError(f"{name}: params.table {table!r} is not a table name: {_first_line(exc)}") from exc
        if "NOT_FOUND" in _condition(exc):
            raise ValueError(f"{name}: params.table {table!r} does not exist") from exc
        raise
    kept = require_columns(frame, columns, component=name, param="columns") if columns else list(frame.columns)
    if partition_filter and partition_filter.strip():
        partitions = [c.name for c in spark.catalog.listColumns(table) if c.isPartition]
        if not partitions:
            raise ValueError(f"{name}: params.partition_filter is set, but table {table!r} is not partitioned")
        # Analysing the filter against the partition columns alone rejects any other column,
        # which Spark would otherwise evaluate row by row after reading every partition.
        partition_schema = StructType([frame.schema[c] for c in partitions])
        try:
            spark.createDataFrame([], partition_schema).where(partition_filter)
        except (AnalysisException, ParseException) as exc:
            raise ValueError(
                f"{name}: params.partition_filter {partition_filter!r} must be a condition over the partition "
                f"column(s) {', '.join(partitions)} only: {_first_line(exc)}"
            ) from exc
        if require_partition and not _partition_matches(spark, table, partition_schema, partition_filter):
            raise ValueError(f"{name}: table {table!r} has no partition matching {partition_filter!r}")
        frame = frame.where(partition_filter)
    ctx.log.info(
        "%s: reading %s (columns: %s; partitions: %s)",
        ctx.node_id,
        table,
        ", ".join(kept),
        partition_filter or "all",
    )
    return frame.select(*[F.col(quote(c)) for c in kept])


def _partition_matches(spark: Any, table: str, schema: Any, partition_filter: str) -> bool:
    """Whether any partition the catalogue lists satisfies the filter (no data files are read)."""
    from urllib.parse import unquote

    from pyspark.sql import functions as F

    qualified = ".".join(quote(part) for part in table.split("."))
    specs = [row[0] for row in spark.sql(f"SHOW PARTITIONS {qualified}").collect()]
    if not specs:
        return False
    rows = [[unquote(kv.split("=", 1)[1]) for kv in spec.split("/")] for spec in specs]
    names = [field.name for field in schema.fields]
    listed = spark.createDataFrame(rows, [f"_{i}" for i in range(len(names))])
    typed = listed.select(*[F.col(f"_{i}").cast(field.dataType).alias(field.name) for i, field in enumerate(schema)])
    return bool(typed.where(partition_filter).limit(1).count())


_SECRET_IN_URL = re.compile(r"(?i)(password|passwd|pwd)=([^;&]*)")


def _masked(url: str) -> str:
    """``url`` with any password it carries replaced by ``***`` (for logs and errors)."""
    return _SECRET_IN_URL.sub(r"\1=***", url)


def _jdbc_credentials(component_name: str, user: str | None, password_env: str | None) -> dict[str, str]:
    """The user and password options; the password comes from the environment variable named."""
    options = {}
    if user:
        options["user"] = user
    if password_env:
        password = os.environ.get(password_env)
        if password is None:
            raise ValueError(
                f"{component_name}: params.password_env names environment variable {password_env!r}, "
                "which is not set on the driver"
            )
        options["password"] = password
    return options


def _jdbc_extra_options(component_name: str, options: dict[str, str] | None) -> dict[str, str]:
    extra = dict(options or {})
    for key in extra:
        if key.lower() in {"password", "user", "url", "dbtable", "query"}:
            hint = " (put the password in an environment variable and name it in params.password_env)"
            raise ValueError(
                f"{component_name}: params.options must not set {key!r}; it has its own parameter"
                + (hint if key.lower() == "password" else "")
            )
    return extra


def _first_line(exc: BaseException) -> str:
    """The first line of an error's message; for a raw Java error, the Java exception's own message."""
    java = getattr(exc, "java_exception", None)
    text = str(java.toString() if java is not None else exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


@component(category="import/export", outputs={"data": Table})
def read_jdbc(
    ctx,
    *,
    url: str,
    table: str | None = None,
    query: str | None = None,
    user: str | None = None,
    password_env: str | None = None,
    driver: str | None = None,
    partition_column: str | None = None,
    lower_bound: str | None = None,
    upper_bound: str | None = None,
    num_partitions: Annotated[int | None, Interval(1, None)] = None,
    fetch_size: Annotated[int, Interval(1, None)] = 1000,
    options: dict[str, str] | None = None,
):
    """Read a table or a query result from a database over JDBC.

    Exactly one of ``table`` and ``query`` must be set. The password is never a parameter: it
    is read from the environment variable that ``password_env`` names (on the Spark driver), so
    it stays out of pipeline files, logs and the run report. The JDBC driver's jar must be on
    Spark's classpath (``spark.jars``).

    With ``partition_column`` the read is split into ``num_partitions`` parallel queries over
    equal ranges of that column between ``lower_bound`` and ``upper_bound`` (the bounds only
    shape the ranges: rows outside them are still read, by the first and last query).

    Args:
        url: the JDBC URL, e.g. ``jdbc:postgresql://db:5432/sales``.
        table: the table (or view) to read, e.g. ``public.orders``.
        query: a SELECT statement to read the result of, instead of a table.
        user: the database user.
        password_env: the name of an environment variable that holds the password (not the password).
        driver: the JDBC driver class; empty lets ``java.sql.DriverManager`` pick it from the URL.
        partition_column: a numeric, date or timestamp column to split the read by.
        lower_bound: with ``partition_column``: the low end of its range, as text (``0``, ``2024-01-01``).
        upper_bound: with ``partition_column``: the high end of its range, as text.
        num_partitions: with ``partition_column``: how many parallel queries to run.
        fetch_size: rows fetched per round trip.
        options: further Spark JDBC options (e.g. ``{"sessionInitStatement": "..."}``); not the password.
        data: the rows read.
    """
    name = "read_jdbc"
    if bool(table) == bool(query):
        state = "both are set" if table and query else "neither is set"
        raise ValueError(f"{name}: set exactly one of params.table and params.query ({state})")
    partitioning = {
        "partition_column": partition_column,
        "lower_bound": lower_bound,
        "upper_bound": upper_bound,
        "num_partitions": num_partitions,
    }
    given = [k for k, v in partitioning.items() if v not in (None, "")]
    if given and len(given) != len(partitioning):
        missing = [k for k in partitioning if k not in given]
        raise ValueError(
            f"{name}: params.{given[0]} needs params.{', params.'.join(missing)} as well "
            "(a partitioned read needs the column, both bounds and the number of partitions)"
        )
    reader = ctx.spark.read.format("jdbc").option("url", url).option("fetchsize", str(fetch_size))
    if driver:
        reader = reader.option("driver", driver)
    for key, value in {**_jdbc_extra_options(name, options), **_jdbc_credentials(name, user, password_env)}.items():
        reader = reader.option(key, value)
    if query and given:
        # Spark refuses "query" together with partitionColumn; a derived table is equivalent.
        reader = reader.option("dbtable", f"({query.strip().rstrip(';')}) mlplat_query")
    elif query:
        reader = reader.option("query", query.strip().rstrip(";"))
    else:
        reader = reader.option("dbtable", table)
    if given:
        reader = (
            reader.option("partitionColumn", partition_column)
            .option("lowerBound", lower_bound)
            .option("upperBound", upper_bound)
            .option("numPartitions", str(num_partitions))
        )
    source = f"table {table}" if table else "a query"
    ctx.log.info("%s: reading %s from %s", ctx.node_id, source, _masked(url))
    try:
        # load() asks the database for the result's schema, so a wrong table, query or
        # partition column fails here.
        return reader.load()
    except Exception as exc:
        param = "table" if table else "query"
        raise ValueError(
            f"{name}: could not read params.{param} {table or query!r} from {_masked(url)}: {_first_line(exc)}"
        ) from exc


@component(category="import/export", outputs={"data": Table})
def write_jdbc(
    ctx,
    data: Table,
    *,
    url: str,
    table: str,
    user: str | None = None,
    password_env: str | None = None,
    driver: str | None = None,
    mode: Annotated[str, Options("append", "overwrite")] = "append",
    truncate: bool = True,
    batch_size: Annotated[int, Interval(1, None)] = 1000,
    num_partitions: Annotated[int | None, Interval(1, None)] = None,
    options: dict[str, str] | None = None,
):
    """Write a table to a database over JDBC, and pass it on unchanged.

    A missing target table is created from the data's schema. ``overwrite`` replaces the
    rows; with ``truncate`` (the default) it empties the existing table and keeps its
    definition (column types, indexes, grants), otherwise it drops and re-creates it. The
    password is read from the environment variable ``password_env`` names, as in ``read_jdbc``.

    Args:
        data: the table to write.
        url: the JDBC URL, e.g. ``jdbc:postgresql://db:5432/sales``.
        table: the target table, e.g. ``public.scores``.
        user: the database user.
        password_env: the name of an environment variable that holds the password (not the password).
        driver: the JDBC driver class; empty lets ``java.sql.DriverManager`` pick it from the URL.
        mode: add the rows to the table, or replace its rows.
        truncate: with ``overwrite``: empty the table instead of dropping and re-creating it.
        batch_size: rows sent per INSERT batch.
        num_partitions: at most this many parallel connections (the data is coalesced to it); empty keeps
            the data's partitions.
        options: further Spark JDBC options (e.g. ``{"createTableColumnTypes": "name VARCHAR(64)"}``); not the
            password.

    Returns the input table unchanged, so later nodes can go on from it.
    """
    name = "write_jdbc"
    writer = (
        data.write.format("jdbc")
        .mode(mode)
        .option("url", url)
        .option("dbtable", table)
        .option("batchsize", str(batch_size))
        .option("truncate", str(truncate).lower())
    )
    if driver:
        writer = writer.option("driver", driver)
    if num_partitions:
        writer = writer.option("numPartitions", str(num_partitions))
    for key, value in {**_jdbc_extra_options(name, options), **_jdbc_credentials(name, user, password_env)}.items():
        writer = writer.option(key, value)
    ctx.log.info("%s: writing table %s to %s (mode %s)", ctx.node_id, table, _masked(url), mode)
    try:
        writer.save()
    except Exception as exc:
        raise ValueError(
            f"{name}: could not write params.table {table!r} to {_masked(url)}: {_first_line(exc)}"
        ) from exc
    return data


@component(category="import/export", outputs={"data": Table})
def limit_rows(
    ctx,
    data: Table,
    *,
    rows: Annotated[int, Interval(0, None)] = 1000,
    order_by: list[str] | None = None,
    descending: bool = False,
):
    """Keep at most a number of rows: the first ones in an order, or any ones (e.g. a preview).

    Without ``order_by`` which rows are kept is up to Spark (usually the first partitions'
    rows); with it, the result is the top ``rows`` rows in that order.

    Args:
        data: the input table.
        rows: the most rows to keep.
        order_by: the columns that decide which rows come first; empty keeps any rows.
        descending: sort ``order_by`` from the largest value down (nulls last) instead of up (nulls first).
    """
    from pyspark.sql import functions as F

    if order_by:
        keys = require_columns(data, order_by, component="limit_rows", param="order_by")
        data = data.orderBy(*[F.col(quote(c)).desc() if descending else F.col(quote(c)).asc() for c in keys])
    return data.limit(rows)


@component(category="import/export", outputs={"data": Table})
def sample_rows(
    ctx,
    data: Table,
    *,
    fraction: Annotated[float, Interval(0.0, None, closed="neither")] = 0.1,
    with_replacement: bool = False,
    seed: int = 42,
):
    """Take a random sample of the rows, each row independently (``DataFrame.sample``).

    The sample's size is about ``fraction`` times the input's, not exactly. The same seed on the
    same table (with the same partitions) gives the same sample.

    Args:
        data: the input table.
        fraction: without replacement: the probability that a row is kept (at most 1); with
            replacement: the expected number of times each row is drawn (may exceed 1).
        with_replacement: draw rows with replacement (a row may appear several times).
        seed: random seed.
    """
    if not with_replacement and fraction > 1.0:
        raise ValueError(
            f"sample_rows: params.fraction must be at most 1 without replacement, got {fraction!r} "
            "(set params.with_replacement to draw rows several times)"
        )
    return data.sample(withReplacement=with_replacement, fraction=fraction, seed=seed)


@component(category="import/export", outputs={"data": Table})
def inline_table(ctx, *, rows: list[Any], schema: str):
    """Make a small table from rows written in the pipeline itself (lookup tables, test data).

    Each row is a list of values in the schema's column order, or an object keyed by column
    name (missing keys are null). Values are JSON: dates and timestamps as text
    (``"2024-01-31"``, ``"2024-01-31 08:00:00"``), arrays as lists, maps and structs as objects.
    A value that does not fit its column's type is an error naming the row and the column.

    Args:
        rows: the rows, e.g. ``[[1, "tier1"], [2, "tier2"]]``.
        schema: the columns as a Spark DDL string, e.g. ``id int, city_tier string, since date``.
        data: the table.
    """
    import json

    from pyspark.sql import functions as F
    from pyspark.sql.types import StructType

    name = "inline_table"
    spark = ctx.spark
    try:
        struct = StructType.fromDDL(schema)
    except Exception as exc:
        raise ValueError(f"{name}: params.schema {schema!r} is not a valid DDL schema: {_first_line(exc)}") from exc
    if not isinstance(struct, StructType) or not struct.fields:
        raise ValueError(f"{name}: params.schema {schema!r} must name at least one column, e.g. 'id int, name string'")
    names = struct.fieldNames()
    objects = []
    for index, row in enumerate(rows):
        if isinstance(row, dict):
            unknown = [k for k in row if k not in names]
            if unknown:
                raise ValueError(
                    f"{name}: params.rows[{index}] names column {unknown[0]!r}, which params.schema does not have"
                )
            objects.append(row)
        elif isinstance(row, list):
            if len(row) != len(names):
                raise ValueError(
                    f"{name}: params.rows[{index}] has {len(row)} value(s), but params.schema has "
                    f"{len(names)} column(s): {', '.join(names)}"
                )
            objects.append(dict(zip(names, row, strict=True)))
        else:
            raise ValueError(f"{name}: params.rows[{index}] must be a list of values or an object, got {row!r}")
    texts = spark.createDataFrame([(json.dumps(o),) for o in objects], "value string")
    parsed = texts.select(F.from_json("value", struct).alias("row")).select(
        *[F.col("row").getField(c).alias(c) for c in names]
    )
    # A value that does not fit its type parses as null; tiny tables are checked eagerly.
    for index, (given, got) in enumerate(zip(objects, parsed.collect(), strict=True)):
        for column in names:
            if given.get(column) is not None and got[column] is None:
                raise ValueError(
                    f"{name}: params.rows[{index}] value {given[column]!r} does not fit column {column!r} "
                    f"of type {struct[column].dataType.simpleString()}"
                )
    return parsed
