"""Prediction services: replicas, requests per second and latency from their ``/metrics``, CPU and memory.

Local backend: every service directory under the local deploy's state root
(``hooks.model_service.default_state_root()``: ``$MLPLAT_SERVICES_DIR``, else
``$AIRFLOW_HOME/model-services``) that records a ``pid`` (``ServiceState``; stopping a service
removes it). One process is one replica; its ``/metrics`` is read on ``127.0.0.1:PORT``.

Kubernetes: the Deployments labelled ``app.kubernetes.io/component=model-service`` and managed by
airflow-mlplat (``serving/kube_manifests.py``); each running pod's ``/metrics`` (its
``prometheus.io/port`` and ``prometheus.io/path`` annotations) is read through the API server's
pod proxy, and the pods' readings are added up.

Requests per second and latency come from two readings of the counters (``metrics.service_rates``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from airflow_mlplat.ui.resources.sampling import HISTORY, History, Pair, pair_readings
from airflow_mlplat.ui.resources.sources import REQUEST_TIMEOUT

#: The labels of a prediction service's objects on Kubernetes.
SERVICE_SELECTOR = "app.kubernetes.io/component=model-service,app.kubernetes.io/managed-by=airflow-mlplat"
NAME_LABEL = "app.kubernetes.io/name"


def scrape(url: str) -> Any:
    """``ServiceCounters`` of the service whose metrics are at ``url``."""
    import httpx

    from airflow_mlplat.ui.resources.metrics import ServiceCounters

    response = httpx.get(url, timeout=REQUEST_TIMEOUT)
    response.raise_for_status()
    return ServiceCounters.from_text(response.text)


def _why(error: BaseException, url: str) -> str:
    from airflow_mlplat.ui.resources.metrics import MetricsFormatError
    from airflow_mlplat.ui.resources.sources import http_failure

    if isinstance(error, MetricsFormatError):
        return f"GET {url}: {error}"
    return str(http_failure(error, url))


def local_services(state_root: str | Path, history: History = HISTORY) -> list[dict[str, Any]]:
    """The services recorded under ``state_root``: running ones with usage and rates."""
    from airflow_mlplat.services.process import LOOPBACK, ServiceState, pid_alive
    from airflow_mlplat.ui.resources.processes import read_tree

    root = Path(state_root)
    if not root.is_dir():
        return []
    rows: list[dict[str, Any]] = []
    readers = {}
    for directory in sorted(root.iterdir()):
        if directory.name.startswith(".") or not directory.is_dir():
            continue
        state = ServiceState(directory)
        pid, port = state.pid, state.port
        if pid is None:
            continue  # stopped: stop_service removes the pid
        url = f"http://{LOOPBACK}:{port}" if port else None
        row: dict[str, Any] = {
            "name": directory.name,
            "backend": "local",
            "url": url,
            "replicas": 1,
            "ready": 0,
            "pid": pid,
            "state": "running" if pid_alive(pid) else "exited",
            "message": "" if pid_alive(pid) else f"process {pid} is not running (it was not stopped; log: {state.log})",
            "cpu_percent": None,
            "memory_bytes": None,
            "rps": None,
            "latency_mean_ms": None,
            "latency_p95_ms": None,
            "gpus": [],
        }
        if row["state"] == "running":
            key = str(directory), pid
            readers[("service-process", *key)] = lambda pid=pid: read_tree(pid)
            if url:
                readers[("service-metrics", *key, port)] = lambda url=url: scrape(f"{url}/metrics")
        rows.append(row)
    pairs = pair_readings(readers, history) if readers else {}
    for row in rows:
        key = str(root / row["name"]), row["pid"]
        _apply_process(row, pairs.get(("service-process", *key)))
        port = row["url"].rsplit(":", 1)[1] if row["url"] else None
        got = pairs.get(("service-metrics", *key, int(port) if port else None))
        if isinstance(got, Pair):
            from airflow_mlplat.ui.resources.metrics import service_rates

            row.update(service_rates([got]))
            row["ready"] = 1
        elif got is not None:
            row["message"] = _why(got, f"{row['url']}/metrics")
    return rows


def _apply_process(row: dict[str, Any], got: Pair | BaseException | None) -> None:
    from airflow_mlplat.ui.resources.processes import usage

    if isinstance(got, Pair):
        row.update(usage(got))
    elif got is not None:
        row["state"], row["message"] = "exited", str(got)


def kubernetes_services(
    reader: Any, namespaces: list[str], usage: dict[str, dict[str, dict[str, float]]], history: History = HISTORY
) -> list[dict[str, Any]]:
    """The mlplat prediction services in ``namespaces``; ``usage`` as for ``training.kubernetes_jobs``."""
    from airflow_mlplat.ui.resources.metrics import ServiceCounters, service_rates

    rows: list[dict[str, Any]] = []
    readers = {}
    pods_of: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for namespace in namespaces:
        deployments = reader.items(f"/apis/apps/v1/namespaces/{namespace}/deployments", SERVICE_SELECTOR)
        pods = reader.items(f"/api/v1/namespaces/{namespace}/pods", SERVICE_SELECTOR)
        for deployment in deployments:
            meta, status = deployment.get("metadata") or {}, deployment.get("status") or {}
            name = meta.get("name", "")
            mine = [p for p in pods if ((p.get("metadata") or {}).get("labels") or {}).get(NAME_LABEL) == name]
            pods_of[(namespace, name)] = mine
            figures = [usage.get(namespace, {}).get(p["metadata"]["name"]) for p in mine]
            figures = [f for f in figures if f]
            rows.append(
                {
                    "name": name,
                    "backend": "kubernetes",
                    "namespace": namespace,
                    "url": f"http://{name}.{namespace}.svc.cluster.local",
                    "replicas": int((deployment.get("spec") or {}).get("replicas") or 0),
                    "ready": int(status.get("readyReplicas") or 0),
                    "state": "running" if status.get("readyReplicas") else "not ready",
                    "message": "",
                    "cpu_percent": round(sum(f["cpu_percent"] for f in figures), 1) if figures else None,
                    "memory_bytes": sum(f["memory_bytes"] for f in figures) if figures else None,
                    "rps": None,
                    "latency_mean_ms": None,
                    "latency_p95_ms": None,
                    "gpus": [],
                }
            )
            for pod in mine:
                if (pod.get("status") or {}).get("phase") != "Running":
                    continue
                pmeta = pod["metadata"]
                notes = pmeta.get("annotations") or {}
                port = notes.get("prometheus.io/port", "8080")
                path = notes.get("prometheus.io/path", "/metrics").lstrip("/")
                proxy = f"/api/v1/namespaces/{namespace}/pods/{pmeta['name']}:{port}/proxy/{path}"
                key = ("k8s-service-metrics", namespace, name, pmeta["name"], pmeta.get("uid"))
                readers[key] = lambda proxy=proxy: ServiceCounters.from_text(reader.get(proxy, text=True))
    pairs = pair_readings(readers, history) if readers else {}
    for row in rows:
        got = {k: v for k, v in pairs.items() if k[1] == row["namespace"] and k[2] == row["name"]}
        done = [v for v in got.values() if isinstance(v, Pair)]
        failed = [v for v in got.values() if not isinstance(v, Pair)]
        if done:
            row.update(service_rates(done))
        if failed:
            row["message"] = f"/metrics of {len(failed)} of {len(got)} pod(s) unreadable: {failed[0]}"
    return rows
