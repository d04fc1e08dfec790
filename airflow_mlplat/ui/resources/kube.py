"""Read-only Kubernetes calls of the resource page, each bounded by ``REQUEST_TIMEOUT``.

The client comes from the cncf-kubernetes provider's ``KubernetesHook`` (an Airflow connection,
or a kubeconfig dict), as the launcher's and the prediction services' backends get theirs. Calls
return the API's JSON as dicts. The metrics API (``metrics.k8s.io``, metrics-server) is optional:
without it pods have no CPU and memory figures, and the page says so.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property
from typing import Any

from airflow_mlplat.ui.resources.sources import ERROR, REQUEST_TIMEOUT, UNREACHABLE, SourceUnavailable

METRICS_API = "/apis/metrics.k8s.io/v1beta1"


class MetricsApiAbsent(LookupError):
    """The cluster serves no ``metrics.k8s.io`` (no metrics-server)."""


def cpu_cores(quantity: str) -> float:
    """A CPU quantity in cores; the metrics API writes nano- and micro-cores (``12345678n``)."""
    from airflow_mlplat.launcher.spec import parse_quantity

    text = str(quantity)
    if text.endswith("n"):
        return float(text[:-1]) / 1e9
    if text.endswith("u"):
        return float(text[:-1]) / 1e6
    return parse_quantity(text)


def quantity(value: Any) -> float:
    from airflow_mlplat.launcher.spec import parse_quantity

    return parse_quantity(value)


class KubeReader:
    """GETs against one cluster.

    :param conn_id: the cncf-kubernetes connection (``[mlplat] resources_kubernetes_conn_id``).
    :param config_dict: a kubeconfig as a dict, instead of a connection (tools, tests).
    """

    def __init__(self, conn_id: str | None = None, *, config_dict: Mapping[str, Any] | None = None) -> None:
        self.conn_id = conn_id
        self.config_dict = dict(config_dict) if config_dict else None

    @cached_property
    def api_client(self) -> Any:
        from airflow.providers.cncf.kubernetes.hooks.kubernetes import KubernetesHook

        try:
            return KubernetesHook(conn_id=self.conn_id, config_dict=self.config_dict).api_client
        except Exception as error:
            raise SourceUnavailable(
                ERROR, f"cannot configure a Kubernetes client from connection {self.conn_id!r}: {error}"
            ) from None

    @property
    def host(self) -> str:
        return self.api_client.configuration.host

    def get(self, path: str, *, selector: str | None = None, text: bool = False) -> Any:
        """``GET path`` (JSON as a dict, or the body as text); failures as ``SourceUnavailable`` naming the path."""
        import urllib3
        from kubernetes.client.exceptions import ApiException

        query = [("labelSelector", selector)] if selector else []
        try:
            if text:
                response = self.api_client.call_api(
                    path,
                    "GET",
                    query_params=query,
                    auth_settings=["BearerToken"],
                    _preload_content=False,
                    _return_http_data_only=True,
                    _request_timeout=(REQUEST_TIMEOUT, REQUEST_TIMEOUT),
                )
                return response.data.decode("utf-8", errors="replace")
            return self.api_client.call_api(
                path,
                "GET",
                query_params=query,
                header_params={"Accept": "application/json"},
                response_types_map={200: "object"},
                auth_settings=["BearerToken"],
                _return_http_data_only=True,
                _request_timeout=(REQUEST_TIMEOUT, REQUEST_TIMEOUT),
            )
        except ApiException as error:
            if error.status == 404 and path.startswith(METRICS_API):
                raise MetricsApiAbsent(f"{self.host} serves no {METRICS_API} (no metrics-server)") from None
            raise SourceUnavailable(ERROR, f"GET {path} on {self.host}: HTTP {error.status} {error.reason}") from None
        except (OSError, urllib3.exceptions.HTTPError) as error:
            raise SourceUnavailable(UNREACHABLE, f"Kubernetes API at {self.host} unreachable: {error}") from None

    def items(self, path: str, selector: str | None = None) -> list[dict[str, Any]]:
        return list((self.get(path, selector=selector) or {}).get("items") or [])

    def pod_usage(self, namespace: str) -> dict[str, dict[str, float]]:
        """``{pod: {"cpu_percent", "memory_bytes"}}`` from the metrics API (``MetricsApiAbsent`` without one)."""
        usage = {}
        for item in self.items(f"{METRICS_API}/namespaces/{namespace}/pods"):
            cpu = memory = 0.0
            for container in item.get("containers") or []:
                cpu += cpu_cores(container.get("usage", {}).get("cpu", "0"))
                memory += quantity(container.get("usage", {}).get("memory", "0"))
            usage[item["metadata"]["name"]] = {"cpu_percent": round(100 * cpu, 1), "memory_bytes": int(memory)}
        return usage


def pod_requests(pod: Mapping[str, Any], gpu_resource: str = "nvidia.com/gpu") -> dict[str, float]:
    """What a pod's containers request: cores, bytes of memory and GPUs (their limit: GPUs are not overcommitted)."""
    cpu = memory = gpus = 0.0
    for container in (pod.get("spec") or {}).get("containers") or []:
        resources = container.get("resources") or {}
        requests, limits = resources.get("requests") or {}, resources.get("limits") or {}
        cpu += quantity(requests.get("cpu", limits.get("cpu", 0)))
        memory += quantity(requests.get("memory", limits.get("memory", 0)))
        gpus += quantity(limits.get(gpu_resource, requests.get(gpu_resource, 0)))
    return {"cpu": cpu, "memory_bytes": int(memory), "gpus": gpus}
