"""Spark applications, running and recent, with their executors, cores and memory.

Where they are read, from the Spark connection's master (``[mlplat] resources_spark_conn_id``,
``spark_default`` by default; undefined, it means ``local[*]`` as for the pipeline hook):

- a standalone master ``spark://HOST:PORT``: the master's web UI JSON, ``http://HOST:8080/json/``
  (running and completed applications with their granted cores and memory per executor, and the
  cluster's workers, cores and memory);
- a driver's (or history server's) UI: ``/api/v1/applications`` and each application's
  ``/executors`` (executors, cores, storage memory used and available);
- ``local[*]``: each pipeline runs its own driver inside its task's spark-submit, whose UI listens
  on ``127.0.0.1:4040`` and the next ports while it runs; those that answer are read, and when none
  does the page says there is no driver UI to read.

``[mlplat] resources_spark_ui_urls`` (comma-separated) names the UIs to read instead of the
master's default one: a master UI on another port, drivers' UIs, a history server.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from airflow_mlplat.ui.resources.sources import (
    ERROR,
    OFF,
    OK,
    REQUEST_TIMEOUT,
    UNREACHABLE,
    Report,
    SourceStatus,
    SourceUnavailable,
    http_failure,
)

#: A standalone master's web UI port (``spark.master.ui.port``).
MASTER_UI_PORT = 8080
#: Where local drivers' UIs listen: ``spark.ui.port`` 4040 and the next ports it retries.
LOCAL_UI_PORTS = range(4040, 4050)
#: Completed applications listed per master or UI.
RECENT = 10


def _get_json(url: str) -> Any:
    import httpx

    try:
        response = httpx.get(url, timeout=REQUEST_TIMEOUT, follow_redirects=True)
        response.raise_for_status()
        return response.json()
    except (httpx.HTTPError, ValueError) as error:
        raise http_failure(error, url) from None


def spark_master(conn_id: str) -> str:
    """Spark connection ``conn_id``'s master, as the pipeline hook resolves it: an undefined
    ``spark_default`` means ``local[*]``; otherwise as the apache-spark provider's ``SparkSubmitHook``
    builds it. (That hook is not imported here: it loads the Kubernetes clients, seconds of the API
    server's time; a test holds the two to the same answers.)"""
    from airflow_mlplat.hooks.connections import connection_or_fallback

    conn = connection_or_fallback(conn_id, "spark_default", what="Spark", example="spark://HOST:PORT")
    if conn is None:
        return "local[*]"
    if conn.conn_type == "spark" and conn.host and ("://" in conn.host or not conn.port):
        master = conn.host
    else:
        master = f"{conn.conn_type}://{conn.host or ''}"
    return f"{master}:{conn.port}" if conn.port else master


def master_ui_urls(master: str) -> list[str]:
    """The web UIs of a standalone master URL (``spark://h1:7077,h2:7077`` has one per host)."""
    hosts = master.removeprefix("spark://").split(",")
    return [f"http://{hostport.rsplit(':', 1)[0]}:{MASTER_UI_PORT}" for hostport in hosts if hostport]


def read_master(ui_url: str) -> tuple[list[dict[str, Any]], str]:
    """The applications a standalone master's JSON lists (running ones, then the ``RECENT`` newest
    completed ones) and a line about the cluster."""
    url = f"{ui_url.rstrip('/')}/json/"
    state = _get_json(url)
    if not isinstance(state, dict) or "activeapps" not in state:
        raise SourceUnavailable(ERROR, f"GET {url}: not a standalone master's JSON")
    completed = sorted(state.get("completedapps") or [], key=lambda a: a.get("starttime", 0), reverse=True)
    apps = []
    for app, running in [(a, True) for a in state.get("activeapps") or []] + [(a, False) for a in completed[:RECENT]]:
        per_executor = app.get("memoryperexecutor", app.get("memoryperslave"))
        apps.append(
            {
                "id": app.get("id"),
                "name": app.get("name"),
                "state": str(app.get("state", "")).lower(),
                "running": running,
                "user": app.get("user"),
                "started": (app.get("starttime") or 0) / 1000 or None,
                "duration_s": round((app.get("duration") or 0) / 1000, 1),
                "executors": None,  # the master's JSON does not list them
                "cores": app.get("cores"),
                "memory_per_executor_bytes": int(per_executor) * 2**20 if per_executor is not None else None,
                "memory_used_bytes": None,
                "memory_max_bytes": None,
                "source": ui_url,
            }
        )
    gib = 1024.0
    line = (
        f"master {state.get('status', '?')}: {state.get('aliveworkers', 0)} worker(s), "
        f"{state.get('coresused', 0)}/{state.get('cores', 0)} cores used, "
        f"{state.get('memoryused', 0) / gib:.1f}/{state.get('memory', 0) / gib:.1f} GiB memory used"
    )
    return apps, line


def read_driver_ui(ui_url: str) -> list[dict[str, Any]]:
    """The applications a driver's (or history server's) REST API lists, with their active executors.

    ``executors`` counts the executors that run tasks (in ``local`` mode: the driver itself);
    ``cores`` adds up their cores; memory is their storage memory, used and available.
    """
    base = f"{ui_url.rstrip('/')}/api/v1/applications"
    listed = _get_json(f"{base}?limit={RECENT}")
    if not isinstance(listed, list):
        raise SourceUnavailable(ERROR, f"GET {base}: not a Spark UI's application list")
    apps = []
    for app in listed[:RECENT]:
        attempt = (app.get("attempts") or [{}])[-1]
        executors = _get_json(f"{base}/{app['id']}/executors")
        working = [e for e in executors if e.get("id") != "driver" or e.get("totalCores")]
        running = not attempt.get("completed", False)
        apps.append(
            {
                "id": app.get("id"),
                "name": app.get("name"),
                "state": "running" if running else "finished",
                "running": running,
                "user": attempt.get("sparkUser"),
                "started": (attempt.get("startTimeEpoch") or 0) / 1000 or None,
                "duration_s": round((attempt.get("duration") or 0) / 1000, 1),
                "executors": len(working),
                "cores": sum(int(e.get("totalCores") or 0) for e in executors),
                "memory_per_executor_bytes": None,
                "memory_used_bytes": sum(int(e.get("memoryUsed") or 0) for e in executors),
                "memory_max_bytes": sum(int(e.get("maxMemory") or 0) for e in executors),
                "source": ui_url,
            }
        )
    return apps


def read_ui(ui_url: str) -> tuple[list[dict[str, Any]], str]:
    """A UI of either kind: a master's JSON first, else a driver's REST API."""
    try:
        return read_master(ui_url)
    except SourceUnavailable as unavailable:
        if unavailable.state == UNREACHABLE:
            raise
    apps = read_driver_ui(ui_url)
    return apps, f"driver UI: {len(apps)} application(s)"


def local_driver_uis(ports: Sequence[int] = LOCAL_UI_PORTS, host: str = "127.0.0.1") -> list[str]:
    """The servers listening on ``ports`` of ``host`` (a closed port answers at once)."""
    from airflow_mlplat.services.process import port_open

    with ThreadPoolExecutor(max_workers=max(1, len(ports))) as pool:
        open_ports = pool.map(lambda port: port if port_open(port, host, timeout=0.3) else None, ports)
    return [f"http://{host}:{port}" for port in open_ports if port]


def _no_driver_ui(master: str, ports: Sequence[int]) -> SourceStatus:
    where = f"{min(ports)}-{max(ports)}" if len(ports) > 1 else ", ".join(map(str, ports))
    return SourceStatus(
        "spark",
        f"Spark master {master}",
        OK,
        f"Spark runs {master} inside each pipeline task's spark-submit: no driver UI is known "
        f"(none answers on 127.0.0.1:{where}; list UIs in [mlplat] resources_spark_ui_urls)",
    )


def spark_report(master: str, ui_urls: list[str], local_ports: Sequence[int] = LOCAL_UI_PORTS) -> Report:
    """Applications of ``master`` (or of ``ui_urls``, when given), one status per UI read.

    For ``local`` masters without ``ui_urls`` the local driver UIs' ports are tried; a port whose
    server is not a Spark UI is left out (it is no source the page was told about).
    """
    import time

    report = Report(rows={"spark": []})
    probing = master.startswith("local") and not ui_urls
    if ui_urls:
        targets = list(ui_urls)
    elif master.startswith("spark://"):
        targets = master_ui_urls(master)
    elif probing:
        targets = local_driver_uis(local_ports)
    else:
        message = (
            f"the page reads standalone masters and driver UIs; list the driver UIs of {master} "
            "in [mlplat] resources_spark_ui_urls"
        )
        report.statuses.append(SourceStatus("spark", f"Spark master {master}", OFF, message))
        return report

    def one(url: str) -> tuple[list[dict[str, Any]], SourceStatus]:
        status = SourceStatus(f"spark:{url}", f"Spark UI {url} (master {master})")
        started = time.monotonic()
        apps: list[dict[str, Any]] = []
        try:
            if probing:
                apps = read_driver_ui(url)
                status.message = f"local driver UI: {len(apps)} application(s)"
            else:
                apps, status.message = read_ui(url)
        except SourceUnavailable as unavailable:
            status.state, status.message = unavailable.state, str(unavailable)
        status.took_ms = round((time.monotonic() - started) * 1000)
        return apps, status

    with ThreadPoolExecutor(max_workers=max(1, len(targets))) as pool:
        results = list(pool.map(one, targets))
    for apps, status in results:
        if probing and status.state == ERROR:
            continue  # answered, but not as a Spark UI: another server on that port
        report.rows["spark"].extend(apps)
        report.statuses.append(status)
    if not report.statuses:
        report.statuses.append(_no_driver_ui(master, local_ports))
    report.rows["spark"].sort(key=lambda a: (not a["running"], -(a["started"] or 0)))
    return report
