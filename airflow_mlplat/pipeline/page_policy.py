"""What a pipeline saved from the page may touch: data under the configured roots, and no code.

The page's store marks what it saves ``"origin": "page"`` (whatever the request said), so the
DAG factory, the operators and the engine's driver apply these rules to that pipeline at every
validation, trigger-time params included. Such a pipeline's storage locations (path parameters,
path inputs, output paths and the files its SQL names) must lie under ``[mlplat] page_data_roots``
(default: the run root and ``$AIRFLOW_HOME/mlplat-data``), its table names must be plain
``db.table`` names (``parquet.`/path``` would read files), and its ``spark_conf`` may only tune
resources (``spark.jars``, ``extraJavaOptions`` and the like load code).
"""

from __future__ import annotations

import os
import posixpath
import re
from urllib.parse import unquote, urlparse

from airflow_mlplat import config
from airflow_mlplat.storage.runs import default_run_root
from airflow_mlplat.storage.urls import scheme_of

#: The ``origin`` of a pipeline the page saved.
PAGE_ORIGIN = "page"
#: Spark settings a pipeline saved from the page may set (exact keys, or prefixes ending in ".").
PAGE_SPARK_CONF = (
    "spark.sql.shuffle.partitions",
    "spark.sql.adaptive.",
    "spark.sql.autoBroadcastJoinThreshold",
    "spark.default.parallelism",
    "spark.executor.memory",
    "spark.executor.memoryOverhead",
    "spark.executor.cores",
    "spark.executor.instances",
    "spark.driver.memory",
    "spark.driver.cores",
    "spark.driver.maxResultSize",
    "spark.dynamicAllocation.",
)
#: A catalogue table name: ``table``, ``db.table`` or ``catalog.db.table``, no quoting.
TABLE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*){0,2}$")
#: Component parameters that name a catalogue table.
TABLE_PARAM = "table"


def data_roots() -> list[str]:
    """The roots from ``[mlplat] page_data_roots``, else the run root and ``$AIRFLOW_HOME/mlplat-data``."""
    roots = config.listing(config.PAGE_DATA_ROOTS)
    if roots:
        return roots
    airflow_home = os.environ.get("AIRFLOW_HOME") or os.path.join(os.path.expanduser("~"), "airflow")
    return [default_run_root(), os.path.join(airflow_home, "mlplat-data")]


def _split(url: str) -> tuple[str, str, str]:
    """``(scheme, host, normalised absolute path)``; a plain path and ``file:`` are both local ("")."""
    scheme = scheme_of(url)
    if scheme in ("", "file"):
        path = unquote(urlparse(url).path) if scheme == "file" else url
        return "", "", os.path.normpath(path) if os.path.isabs(path) else ""
    parsed = urlparse(url)
    path = posixpath.normpath(unquote(parsed.path) or "/")
    return scheme, parsed.netloc.lower(), path if path.startswith("/") else ""


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip("/") + "/")


def location_problem(url: object, roots: list[str] | None = None) -> str | None:
    """Why a page-saved pipeline may not use ``url`` (None when it lies under one of the roots)."""
    roots = data_roots() if roots is None else roots
    allowed = ", ".join(roots)
    if not isinstance(url, str) or not url or "\0" in url:
        return f"must be a path or URL under the page's data roots ({allowed}), got {url!r}"
    scheme, host, path = _split(url)
    if not path:
        return f"{url!r} must be an absolute path or URL under the page's data roots ({allowed})"
    for root in roots:
        root_scheme, root_host, root_path = _split(root)
        if root_path and (scheme, host) == (root_scheme, root_host) and _inside(path, root_path):
            return None
    return (
        f"{url!r} is outside the data roots of pipelines saved from the page ({allowed}); "
        "a deployment sets them with [mlplat] page_data_roots"
    )


def table_problem(name: object) -> str | None:
    if isinstance(name, str) and TABLE_NAME.match(name):
        return None
    return f"must be a plain table name (table, db.table or catalog.db.table) in a page-saved pipeline, got {name!r}"


def spark_conf_problem(key: str) -> str | None:
    if any(key == allowed or (allowed.endswith(".") and key.startswith(allowed)) for allowed in PAGE_SPARK_CONF):
        return None
    return (
        f"{key!r} may not be set by a pipeline saved from the page (allowed: {', '.join(PAGE_SPARK_CONF)}); "
        "settings such as spark.jars or extraJavaOptions load code"
    )
