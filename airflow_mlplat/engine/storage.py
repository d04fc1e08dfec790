"""Where a run's outputs go: materializing ports at URLs, atomically.

DataFrames and models go through Spark's own Hadoop FileSystem (``file://``, ``hdfs://``,
``s3a://``...); JSON documents go through fsspec. Every write lands in a hidden temporary
sibling first and is renamed into place, so a failing step never leaves a half-written output.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

from airflow_mlplat.components.spec import PortKind
from airflow_mlplat.engine.connect import is_connect
from airflow_mlplat.storage.urls import filesystem


def _jvm_fs(spark: Any, url: str) -> tuple[Any, Any]:
    if is_connect(spark):
        # No JVM gateway on a Connect client: the server shares this machine's (or a mounted)
        # filesystem, reached through fsspec with the same calls.
        return _FsspecFs(url), url
    jvm = spark.sparkContext._jvm
    path = jvm.org.apache.hadoop.fs.Path(url)
    return path.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration()), path


def hadoop_write_bytes(spark: Any, url: str, data: bytes) -> None:
    """Write one file of a Spark ML writer (``self.sparkSession``), replacing it: through Hadoop's
    filesystem of ``url``, or on a Spark Connect client through fsspec."""
    if is_connect(spark):
        fs, path = filesystem(url)
        with fs.open(path, "wb") as handle:
            handle.write(data)
        return
    sc = spark.sparkContext
    target = sc._jvm.org.apache.hadoop.fs.Path(url)
    stream = target.getFileSystem(sc._jsc.hadoopConfiguration()).create(target, True)
    try:
        stream.write(bytearray(data))
    finally:
        stream.close()


def hadoop_read_bytes(spark: Any, url: str) -> bytes:
    """The bytes of one file of a Spark ML reader (``self.sparkSession``), read like ``hadoop_write_bytes``."""
    if is_connect(spark):
        fs, path = filesystem(url)
        with fs.open(path, "rb") as handle:
            return handle.read()
    sc = spark.sparkContext
    source = sc._jvm.org.apache.hadoop.fs.Path(url)
    stream = source.getFileSystem(sc._jsc.hadoopConfiguration()).open(source)
    try:
        return bytes(sc._jvm.org.apache.commons.io.IOUtils.toByteArray(stream))
    finally:
        stream.close()


class _FsspecFs:
    """The few Hadoop ``FileSystem`` calls ``atomic_spark_write`` makes, on fsspec (paths are URLs)."""

    def __init__(self, url: str) -> None:
        self.fs, _ = filesystem(url)

    def _path(self, url: str) -> str:
        return filesystem(url)[1]

    def delete(self, url: str, recursive: bool) -> None:
        if self.fs.exists(self._path(url)):
            self.fs.rm(self._path(url), recursive=recursive)

    def mkdirs(self, url: str) -> None:
        self.fs.makedirs(self._path(url), exist_ok=True)

    def exists(self, url: str) -> bool:
        return bool(self.fs.exists(self._path(url)))

    def rename(self, source: str, target: str) -> bool:
        self.fs.mv(self._path(source), self._path(target), recursive=True)
        return True


def _temp_sibling(url: str, tag: str) -> str:
    parent, _, name = url.rstrip("/").rpartition("/")
    return f"{parent}/.{name}.{tag}-{uuid.uuid4().hex[:8]}" if parent else f".{name}.{tag}-{uuid.uuid4().hex[:8]}"


def atomic_spark_write(spark: Any, url: str, write: Callable[[str], None]) -> None:
    """Call ``write(temp_url)``, then move the result to ``url`` (replacing what was there)."""
    tmp = _temp_sibling(url, "tmp")
    fs, tmp_path = _jvm_fs(spark, tmp)
    try:
        write(tmp)
    except BaseException:
        fs.delete(tmp_path, True)
        raise
    _, final_path = _jvm_fs(spark, url)
    parent = final_path.getParent() if not isinstance(final_path, str) else final_path.rstrip("/").rpartition("/")[0]
    if parent is not None:
        fs.mkdirs(parent)
    backup_path = None
    if fs.exists(final_path):
        _, backup_path = _jvm_fs(spark, _temp_sibling(url, "old"))
        if not fs.rename(final_path, backup_path):
            raise OSError(f"cannot move the previous {url} aside")
    if not fs.rename(tmp_path, final_path):
        if backup_path is not None:
            fs.rename(backup_path, final_path)
        raise OSError(f"cannot move {tmp} to {url}")
    if backup_path is not None:
        fs.delete(backup_path, True)


def write_bytes(url: str, data: bytes) -> None:
    """Write a file atomically (temp file, then rename) on any fsspec filesystem."""
    fs, path = filesystem(url)
    parent = path.rstrip("/").rpartition("/")[0]
    if parent:
        fs.makedirs(parent, exist_ok=True)
    tmp = _temp_sibling(path, "tmp")
    with fs.open(tmp, "wb") as handle:
        handle.write(data)
    fs.mv(tmp, path)


def write_json(url: str, document: Any) -> None:
    """Write a JSON document atomically on any fsspec filesystem."""
    write_bytes(url, json.dumps(document, indent=2, default=str).encode())


def read_json(url: str) -> Any:
    fs, path = filesystem(url)
    with fs.open(path, "r") as handle:
        return json.load(handle)


def save_port(spark: Any, kind: PortKind, value: Any, url: str) -> None:
    """Materialize one output at ``url``: tables as parquet, models with Spark ML, metrics as JSON."""
    if kind is PortKind.TABLE:
        atomic_spark_write(spark, url, lambda tmp: value.write.mode("overwrite").parquet(tmp))
    elif kind is PortKind.MODEL:
        atomic_spark_write(spark, url, lambda tmp: value.write().overwrite().save(tmp))
    else:
        write_json(url, value)


def load_port(spark: Any, kind: PortKind, url: str) -> Any:
    """Read back what ``save_port`` wrote."""
    if kind is PortKind.TABLE:
        return spark.read.parquet(url)
    if kind is PortKind.MODEL:
        return load_model(spark, url)
    return read_json(url)


def load_model(spark: Any, url: str) -> Any:
    """Load any saved Spark ML model; its class is read from the saved metadata."""
    from pyspark.ml.util import DefaultParamsReader

    return DefaultParamsReader.loadParamsInstance(url, spark if is_connect(spark) else spark.sparkContext)
