"""Storage URLs: one set of schemes for every path a pipeline, sensor or operator takes.

DataFrames and models go through Spark's own Hadoop FileSystem, which knows every scheme here;
Python-side files (reports, JSON documents, markers) go through fsspec, mapped below. A plain
path is a local path. This module imports neither pyspark nor any remote filesystem library,
so validators call it at DAG-parse time.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

#: Scheme -> what it is. ``""`` is a plain local path.
SCHEMES = {
    "": "a local path",
    "file": "the local filesystem",
    "hdfs": "HDFS over its RPC protocol (Spark: Hadoop client; Python: pyarrow's libhdfs)",
    "webhdfs": "HDFS over its REST API (Spark: Hadoop client; Python: fsspec's webhdfs)",
    "s3a": "S3 through Hadoop's S3A connector (Spark needs hadoop-aws; Python: s3fs)",
}
#: Schemes that can be read but not written.
READ_ONLY_SCHEMES = {"http": "an HTTP URL", "https": "an HTTPS URL"}
#: Default ports when a URL names none: the NameNode's RPC and HTTP ports.
_DEFAULT_PORTS = {"hdfs": 8020, "webhdfs": 9870}
#: fsspec's names for the Hadoop schemes.
_FSSPEC_PROTOCOL = {"s3a": "s3"}
_MISSING_LIBRARY_HINT = {
    "hdfs": "hdfs:// from Python needs pyarrow with libhdfs (set HADOOP_HOME or ARROW_LIBHDFS_DIR); "
    "webhdfs:// needs nothing more",
    "s3a": "s3a:// from Python needs s3fs (pip install s3fs)",
}


class StorageError(OSError):
    """A storage URL cannot be used: unknown scheme, missing library, unreachable service."""


def scheme_of(url: str) -> str:
    scheme = urlparse(url).scheme.lower()
    # A Windows drive letter is a local path, not a scheme.
    return "" if len(scheme) == 1 else scheme


def url_problem(url: Any, *, write: bool = False) -> str | None:
    """Why ``url`` cannot be used as a storage location (None when it can)."""
    if not isinstance(url, str) or not url.strip():
        return f"must be a path or URL, got {url!r}"
    scheme = scheme_of(url)
    if scheme in READ_ONLY_SCHEMES:
        return f"{url!r} is {READ_ONLY_SCHEMES[scheme]}, which can be read but not written" if write else None
    if scheme not in SCHEMES:
        known = ", ".join(f"{s}://" for s in SCHEMES if s) + " or a local path"
        readable = " (or http(s):// to read)" if not write else ""
        return f"{url!r} has the unsupported scheme {scheme!r}; use {known}{readable}"
    if scheme in _DEFAULT_PORTS or scheme == "s3a":
        if not urlparse(url).netloc:
            return f"{url!r} names no host: write {scheme}://HOST[:PORT]/PATH"
    return None


def endpoint(url: str) -> tuple[str, int] | None:
    """The (host, port) a remote URL's client connects to first, or None for local and object stores."""
    scheme = scheme_of(url)
    if scheme not in _DEFAULT_PORTS:
        return None
    parsed = urlparse(url)
    return parsed.hostname or "", parsed.port or _DEFAULT_PORTS[scheme]


def probe(url: str, timeout: float = 5.0) -> str | None:
    """Why the service behind ``url`` cannot be reached (None when it answers or is local)."""
    address = endpoint(url)
    if address is None:
        return None
    host, port = address
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return None
    except OSError as exc:
        return f"{url!r}: cannot reach {host}:{port} ({exc.strerror or exc})"


def filesystem(url: str) -> tuple[Any, str]:
    """An fsspec filesystem and the path on it for ``url``, with errors that name the URL."""
    import fsspec

    problem = url_problem(url)
    if problem:
        raise StorageError(problem)
    scheme = scheme_of(url)
    target = url
    if scheme in _FSSPEC_PROTOCOL:
        target = _FSSPEC_PROTOCOL[scheme] + url[len(scheme) :]
    try:
        return fsspec.core.url_to_fs(target)
    except ImportError as exc:
        hint = _MISSING_LIBRARY_HINT.get(scheme, str(exc))
        raise StorageError(f"{url!r}: {hint}") from exc
    except (OSError, RuntimeError) as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        hint = _MISSING_LIBRARY_HINT.get(scheme)
        message = f"{url!r}: cannot open the filesystem ({first_line})"
        raise StorageError(f"{message}; {hint}" if hint else message) from exc


def marker_url(partition_url: str, marker: str) -> str:
    return f"{partition_url.rstrip('/')}/{marker}"


def exists(url: str) -> bool:
    """Whether a file or folder exists at ``url`` (StorageError when the URL or service fails)."""
    problem = probe(url)
    if problem:
        raise StorageError(problem)
    fs, path = filesystem(url)
    try:
        return fs.exists(path)
    except (OSError, RuntimeError) as exc:
        raise StorageError(f"{url!r}: {exc}") from exc


def download_folder(url: str, target: str | os.PathLike[str]) -> Path:
    """Copy the folder at ``url`` (any platform storage URL) to the local folder ``target``; returns it."""
    fs, path = filesystem(url)
    fs.get(path.rstrip("/") + "/", str(target), recursive=True)
    return Path(target)
