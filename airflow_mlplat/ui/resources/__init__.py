"""What the platform runs and what each thing uses: the resource page's data (``GET /api/resources``).

One module per source, each returning rows and a status (``sources.Report``):

- ``training``: training jobs by state (the local backend's jobs, queued ones included; pods of
  jobs on Kubernetes), each replica's CPU and memory;
- ``spark``: Spark applications, running and recent, from the master's or the drivers' REST APIs;
- ``services``: prediction services, replicas, requests per second and latency from ``/metrics``;
- ``gpus``: GPUs by type from ``nvidia-smi`` and from the Kubernetes device plugin;
- ``kube``: the read-only Kubernetes client the cluster parts share.

``collect`` reads every source at once in threads and waits at most ``DEADLINE`` seconds; a source
that is not done by then, or cannot be reached, is reported with its error and the others are
shown. Nothing is estimated: a figure a source did not give is ``null``.

Settings (``[mlplat]``, or ``AIRFLOW__MLPLAT__NAME``):

- ``resources_spark_conn_id``: the Spark connection whose master is read (default ``spark_default``);
- ``resources_spark_ui_urls``: comma-separated Spark UIs to read instead of the master's default;
- ``resources_kubernetes_conn_id``: the cncf-kubernetes connection of the cluster (none: no cluster is read);
- ``resources_namespaces``: comma-separated namespaces read on it (default ``default``).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait
from pathlib import Path
from typing import Any

from airflow_mlplat import config
from airflow_mlplat.ui.resources.sources import ERROR, OFF, UNREACHABLE, Report, SourceStatus, SourceUnavailable, timed

SPARK_CONN_ID = "resources_spark_conn_id"
SPARK_UI_URLS = "resources_spark_ui_urls"
KUBERNETES_CONN_ID = "resources_kubernetes_conn_id"
NAMESPACES = "resources_namespaces"

#: Seconds between the page's polls.
REFRESH_SECONDS = 3
#: Seconds ``collect`` waits for all sources (a first poll reads rates over a one-second window).
DEADLINE = 5.0
SECTIONS = ("training", "spark", "services", "gpus")


def local_training_report(state_root: str | Path) -> Report:
    from airflow_mlplat.ui.resources.training import local_jobs

    status = SourceStatus("training.local", f"Local training jobs ({state_root})")
    return timed(status, lambda: {"training": local_jobs(state_root)})


def local_services_report(state_root: str | Path) -> Report:
    from airflow_mlplat.ui.resources.services import local_services

    status = SourceStatus("services.local", f"Local prediction services ({state_root})")
    return timed(status, lambda: {"services": local_services(state_root)})


def local_gpus_report() -> Report:
    from airflow_mlplat.ui.resources.gpus import local_gpus

    return timed(SourceStatus("gpus.local", "GPUs of this machine (nvidia-smi)"), lambda: {"gpus": local_gpus()})


def spark_source(conn_id: str, ui_urls: list[str]) -> Report:
    from airflow_mlplat.ui.resources.spark import spark_master, spark_report

    try:
        master = spark_master(conn_id)
    except Exception as error:  # noqa: BLE001 - an undefined or broken connection, shown on the page
        return Report({}, [SourceStatus("spark", f"Spark connection {conn_id!r}", ERROR, f"{error}")])
    return spark_report(master, ui_urls)


def kubernetes_report(reader: Any, namespaces: list[str]) -> Report:
    """Training jobs, prediction services and GPUs of one cluster (``reader``: a ``kube.KubeReader``, or None)."""
    from airflow_mlplat.ui.resources.gpus import kubernetes_gpus
    from airflow_mlplat.ui.resources.kube import MetricsApiAbsent
    from airflow_mlplat.ui.resources.services import kubernetes_services
    from airflow_mlplat.ui.resources.training import kubernetes_jobs

    if reader is None:
        status = SourceStatus(
            "kubernetes",
            "Kubernetes",
            OFF,
            f"no cluster is read: set [mlplat] {KUBERNETES_CONN_ID} (and {NAMESPACES}) to list its jobs, "
            "services and GPUs",
        )
        return Report({}, [status])
    status = SourceStatus("kubernetes", f"Kubernetes {', '.join(namespaces)} (connection {reader.conn_id!r})")

    def read() -> dict[str, list[dict[str, Any]]]:
        notes = []
        usage: dict[str, dict[str, dict[str, float]]] = {}
        for namespace in namespaces:
            try:
                usage[namespace] = reader.pod_usage(namespace)
            except MetricsApiAbsent as absent:
                notes.append(f"{absent}: pods' CPU and memory are not known")
                break
        status.label = f"Kubernetes {reader.host}, namespaces {', '.join(namespaces)}"
        rows = {
            "training": kubernetes_jobs(reader, namespaces, usage),
            "services": kubernetes_services(reader, namespaces, usage),
        }
        try:
            rows["gpus"] = kubernetes_gpus(reader)
        except SourceUnavailable as unavailable:
            notes.append(f"GPUs: {unavailable}")
        status.message = "; ".join(notes)
        return rows

    return timed(status, read)


def default_sources() -> list[tuple[SourceStatus, Callable[[], Report]]]:
    """Every source this deployment's settings name, each with the status shown if it does not finish in time."""
    from airflow_mlplat.hooks.model_service import default_state_root as services_root
    from airflow_mlplat.launcher.backends.local import default_state_root as launcher_root
    from airflow_mlplat.ui.resources.kube import KubeReader

    jobs_root, services = launcher_root(), services_root()
    spark_conn = config.setting(SPARK_CONN_ID, "spark_default") or "spark_default"
    ui_urls = config.listing(SPARK_UI_URLS)
    kube_conn = config.setting(KUBERNETES_CONN_ID).strip()
    namespaces = config.listing(NAMESPACES) or ["default"]
    reader = KubeReader(kube_conn) if kube_conn else None
    return [
        (
            SourceStatus("training.local", f"Local training jobs ({jobs_root})"),
            lambda: local_training_report(jobs_root),
        ),
        (
            SourceStatus("services.local", f"Local prediction services ({services})"),
            lambda: local_services_report(services),
        ),
        (SourceStatus("spark", f"Spark connection {spark_conn!r}"), lambda: spark_source(spark_conn, ui_urls)),
        (SourceStatus("gpus.local", "GPUs of this machine (nvidia-smi)"), local_gpus_report),
        (SourceStatus("kubernetes", "Kubernetes"), lambda: kubernetes_report(reader, namespaces)),
    ]


def collect(
    sources: list[tuple[SourceStatus, Callable[[], Report]]] | None = None, deadline: float = DEADLINE
) -> dict[str, Any]:
    """Read every source at once; the page's JSON: ``sources`` (statuses) and the rows of each section."""
    from airflow_mlplat.ui.resources.gpus import attach_to_processes

    started = time.monotonic()
    sources = default_sources() if sources is None else sources
    pool = ThreadPoolExecutor(max_workers=len(sources), thread_name_prefix="mlplat-resources")
    try:
        futures = [pool.submit(read) for _, read in sources]
        wait(futures, timeout=deadline)
    finally:
        pool.shutdown(wait=False)  # a late source finishes in the background; its answer is dropped
    out: dict[str, Any] = {section: [] for section in SECTIONS}
    statuses: list[dict[str, Any]] = []
    for (fallback, _), future in zip(sources, futures, strict=True):
        if not future.done():
            fallback.state, fallback.message = UNREACHABLE, f"no answer within {deadline:g} s"
            fallback.took_ms = round(deadline * 1000)
            statuses.append(fallback.to_dict())
            continue
        if future.exception() is not None:
            error = future.exception()
            fallback.state, fallback.message = ERROR, f"{type(error).__name__}: {error}"
            statuses.append(fallback.to_dict())
            continue
        report: Report = future.result()
        statuses.extend(s.to_dict() for s in report.statuses)
        for section, rows in report.rows.items():
            out[section].extend(rows)
    local_gpus = [g for g in out["gpus"] if g.get("source") == "nvidia-smi"]
    replicas = [r for job in out["training"] if job.get("backend") == "local" for r in job["replicas"]]
    attach_to_processes(local_gpus, replicas + [s for s in out["services"] if s.get("backend") == "local"])
    return {
        "generated_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "refresh_seconds": REFRESH_SECONDS,
        "took_ms": round((time.monotonic() - started) * 1000),
        "sources": statuses,
        **out,
    }
