"""Checks a run makes before its first Spark job: can it reach the storage and the metastore it needs?

A Hadoop or Hive client facing an address that does not answer retries for minutes; a TCP
probe with a short timeout fails in seconds and names the URL.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

from airflow_mlplat.engine.connect import is_connect
from airflow_mlplat.pipeline.model import PathInput, Pipeline, PipelineOutput
from airflow_mlplat.pipeline.resolve import resolved_node_params
from airflow_mlplat.pipeline.validate import LOCATION_PARAM
from airflow_mlplat.services.process import port_open
from airflow_mlplat.storage.urls import probe

PROBE_TIMEOUT_S = 5.0


def storage_urls(pipeline: Pipeline, values: dict[str, Any], out_dir: str) -> list[str]:
    """Every storage URL the run reads or writes: run directory, path inputs and outputs, path params."""
    urls = [out_dir]
    for node in pipeline.nodes:
        urls += [ref.path for ref in node.inputs.values() if isinstance(ref, PathInput)]
        location = resolved_node_params(pipeline, node, values).get(LOCATION_PARAM)
        if isinstance(location, str):
            urls.append(location)
    urls += [o.path for o in pipeline.outputs.values() if isinstance(o, PipelineOutput) and o.path]
    return urls


def metastore_uris(spark: Any) -> list[str]:
    """The Hive metastore URIs of a session that uses the Hive catalogue (empty otherwise)."""
    if spark.conf.get("spark.sql.catalogImplementation", "in-memory") != "hive":
        return []
    uris = spark.conf.get("spark.hadoop.hive.metastore.uris", None) or ""
    if not uris and not is_connect(spark):
        uris = spark.sparkContext._jsc.hadoopConfiguration().get("hive.metastore.uris") or ""
    return [u.strip() for u in uris.split(",") if u.strip()]


def metastore_problem(uris: list[str], timeout: float = PROBE_TIMEOUT_S) -> str | None:
    """None when one of the metastore URIs answers (the Hive client fails over between them)."""
    if not uris:
        return None
    for uri in uris:
        parsed = urlparse(uri)
        if parsed.hostname and port_open(parsed.port or 9083, parsed.hostname, timeout=timeout):
            return None
    return (
        f"the Hive metastore {', '.join(uris)} is unreachable: start it (make hive-up) or fix the "
        "metastore connection (metastore_default) / hive.metastore.uris"
    )


def preflight_problems(pipeline: Pipeline, values: dict[str, Any], out_dir: str, spark: Any) -> list[str]:
    problems = []
    seen: set[tuple[str, int]] = set()
    for url in storage_urls(pipeline, values, out_dir):
        parsed = urlparse(url)
        key = (parsed.hostname or "", parsed.port or 0)
        if key in seen:
            continue
        seen.add(key)
        problem = probe(url, timeout=PROBE_TIMEOUT_S)
        if problem:
            problems.append(problem)
    problem = metastore_problem(metastore_uris(spark))
    if problem:
        problems.append(problem)
    return problems
