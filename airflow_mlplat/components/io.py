"""Import/export components: read a table from files or the catalogue, write one back."""

from __future__ import annotations

import posixpath
import uuid
from typing import Annotated, Any
from urllib.parse import urlparse

from airflow_mlplat.components._common import require_columns
from airflow_mlplat.components.registry import component
from airflow_mlplat.components.spec import Options, Table

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
