"""Start, replace and stop prediction services: as a local process, or on Kubernetes.

``local``: ``python -m airflow_mlplat.serving`` (or, runtime ``custom``, the user's command) in its
own process group through :mod:`airflow_mlplat.services.process` (pid/port/log in a state
directory), ready once its health path answers 200. ``kubernetes``: Deployment + Service + HPA (and
Triton's ConfigMap), schema-checked, created or replaced through the cncf-kubernetes provider's
``KubernetesHook``; every API call is bounded by ``request_timeout`` so an unreachable API server
fails clearly.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from functools import cached_property
from pathlib import Path
from typing import Any

from airflow.providers.common.compat.sdk import AirflowException

#: An object body sent as a patch: the client's default for it (json-patch+json) is refused by API servers.
MERGE_PATCH = "application/strategic-merge-patch+json"
CUSTOM_METRICS_API = "apis/custom.metrics.k8s.io/v1beta1"


class ModelServiceError(AirflowException):
    """A prediction service could not be deployed or stopped; the message names the service and the place."""


class _Unhealthy(Exception):
    def __init__(self, last: str, tail: str) -> None:
        super().__init__(last)
        self.last, self.tail = last, tail


def serving_runtime(models: Sequence[str], tracking_uri: str | None) -> tuple[str, dict[str, str] | None]:
    """``(interpreter, env)`` the service needs: a framework runtime when its versions are SavedModel or
    Paddle models (read from their ``mlplat.format`` tags), else this interpreter (``env`` None).

    A version without the tag (a Spark model) or one that cannot be read now runs on this interpreter:
    the service reports what it cannot load. Versions needing different runtimes cannot share a service.
    """
    from airflow_mlplat.launcher.runtimes import RuntimeNotFound, replica_base_env, resolve
    from airflow_mlplat.modelzoo.formats import RUNTIME_IMAGES
    from airflow_mlplat.serving.errors import ModelLoadError
    from airflow_mlplat.serving.model_repository import ModelRepositoryError, describe_version
    from airflow_mlplat.serving.registry import split_share

    images: dict[str, str] = {}
    for model in models:
        ref = split_share(model)[0]
        if not ref.startswith("models:/"):
            continue
        try:
            fmt = describe_version(ref, tracking_uri).format
        except (ModelRepositoryError, ModelLoadError, ValueError):
            fmt = ""
        images[model] = RUNTIME_IMAGES.get(fmt, "")
    needed = set(images.values())
    if needed <= {""}:
        return sys.executable, None
    if len(needed) > 1:
        listed = "; ".join(f"{m}: {i or 'the platform runtime'}" for m, i in images.items())
        raise ModelServiceError(f"one service runs on one runtime, these versions need different ones ({listed})")
    (image,) = needed
    try:
        python = resolve(image)
    except RuntimeNotFound as error:
        raise ModelServiceError(f"serving {', '.join(images)}: {error}") from error
    return python, {**os.environ, **replica_base_env(python)}


def default_state_root() -> Path:
    return Path(os.environ.get("MLPLAT_SERVICES_DIR") or Path(os.environ.get("AIRFLOW_HOME", ".")) / "model-services")


class LocalModelServiceHook:
    """Prediction services as local processes, one state directory per service name."""

    def __init__(self, state_root: str | Path | None = None) -> None:
        self.state_root = Path(state_root) if state_root else default_state_root()

    def state(self, name: str):
        from airflow_mlplat.services.process import ServiceState

        return ServiceState(self.state_root / name)

    def deploy(
        self,
        name: str,
        models: Sequence[str],
        *,
        tracking_uri: str | None,
        port: int | None = None,
        poll_interval: float = 10.0,
        pmml: bool = False,
        timeout: float = 120.0,
    ) -> dict[str, Any]:
        """(Re)start service ``name``; returns ``{"url", "pid", "port", "state_dir", "versions"}`` once healthy."""
        from airflow_mlplat.services.process import LOOPBACK, ServiceError, free_port, start_service

        python, env = serving_runtime(models, tracking_uri)
        state = self.state(name)
        self.stop(name)
        port = port or free_port()
        command = [
            python,
            "-m",
            "airflow_mlplat.serving",
            "--port",
            str(port),
            "--poll-interval",
            str(poll_interval),
            "--cache-dir",
            str(self.state_root / ".model-cache"),
        ]
        if tracking_uri:
            command += ["--tracking-uri", tracking_uri]
        if pmml:
            command.append("--pmml")
        for model in models:
            command += ["--model", model]
        url = f"http://{LOOPBACK}:{port}"
        try:
            pid = start_service(state, command, port, env=env, timeout=timeout, name=f"model service {name!r}")
        except ServiceError as error:
            raise ModelServiceError(str(error)) from error
        try:
            health = self._await_health(name, state, f"{url}/healthz", timeout)
        except _Unhealthy as unhealthy:
            raise ModelServiceError(
                f"model service {name!r} at {url} never became healthy; log {state.log}:\n{unhealthy.tail}"
            ) from None
        return {
            "backend": "local",
            "name": name,
            "url": url,
            "pid": pid,
            "port": port,
            "state_dir": str(state.directory),
            "versions": health.get("versions", {}),
        }

    def deploy_command(
        self,
        name: str,
        command: Sequence[str],
        *,
        health_path: str,
        port: int | None = None,
        env: Mapping[str, str] | None = None,
        timeout: float = 120.0,
    ) -> dict[str, Any]:
        """(Re)start service ``name`` as ``command`` and wait until ``GET 127.0.0.1:PORT{health_path}`` answers 200.

        ``command`` is a list run without a shell; ``{port}`` in an argument becomes the port (a free
        one unless given). ``env`` is added to this process's environment. Returns ``{"url", "pid",
        "port", "state_dir", "health_url"}``.

        :raises ModelServiceError: the process exited, or the health URL did not answer 200 within
            ``timeout`` seconds; the message names the URL and ends with the log's tail. No process is left.
        """
        from airflow_mlplat.services.process import LOOPBACK, ServiceError, free_port, start_service

        state = self.state(name)
        self.stop(name)
        port = port or free_port()
        argv = [str(part).replace("{port}", str(port)) for part in command]
        url = f"http://{LOOPBACK}:{port}"
        health_url = f"{url}{health_path}"
        deadline = time.monotonic() + timeout
        try:
            pid = start_service(
                state, argv, port, env={**os.environ, **(env or {})}, timeout=timeout, name=f"model service {name!r}"
            )
        except ServiceError as error:
            raise ModelServiceError(f"model service {name!r}: {health_url} never answered 200: {error}") from error

        try:
            self._await_health(name, state, health_url, max(deadline - time.monotonic(), 1.0))
        except _Unhealthy as unhealthy:
            answer = f" (last answer: {unhealthy.last})" if unhealthy.last else ""
            raise ModelServiceError(
                f"model service {name!r}: GET {health_url} did not answer 200 within {timeout:g} s{answer}; "
                f"log {state.log}:\n{unhealthy.tail}"
            ) from None
        return {
            "backend": "local",
            "name": name,
            "url": url,
            "health_url": health_url,
            "pid": pid,
            "port": port,
            "state_dir": str(state.directory),
        }

    def _await_health(self, name: str, state: Any, health_url: str, timeout: float) -> dict[str, Any]:
        """The JSON ``health_url`` answers 200 with (``{}`` when not JSON). When it does not within
        ``timeout`` seconds, the service is stopped and ``_Unhealthy`` (last answer, log tail) raised."""
        from airflow_mlplat.services.process import wait_until

        body: dict[str, Any] = {}
        last: list[str] = []

        def healthy() -> bool:
            try:
                with urllib.request.urlopen(health_url, timeout=2) as response:
                    if response.status != 200:
                        return False
                    try:
                        body.update(json.load(response))
                    except ValueError:
                        pass
                    return True
            except urllib.error.HTTPError as error:
                last[:] = [f"HTTP {error.code}"]
            except OSError as error:
                last[:] = [str(error)]
            return False

        if not wait_until(healthy, timeout=timeout, interval=0.25):
            self.stop(name)
            tail = state.log.read_text(errors="replace")[-3000:] if state.log.exists() else ""
            raise _Unhealthy(last[0] if last else "", tail)
        return body

    def stop(self, name: str) -> bool:
        from airflow_mlplat.services.process import stop_service

        return stop_service(self.state(name))


class KubernetesModelServiceHook:
    """Prediction services on Kubernetes through the cncf-kubernetes provider's ``KubernetesHook``."""

    def __init__(
        self,
        conn_id: str | None = "kubernetes_default",
        *,
        request_timeout: float = 30.0,
        config_dict: Mapping[str, Any] | None = None,
    ) -> None:
        self.conn_id = conn_id
        self.request_timeout = float(request_timeout)
        self.config_dict = dict(config_dict) if config_dict else None

    @cached_property
    def _apis(self) -> dict[str, Any]:
        from airflow.providers.cncf.kubernetes.hooks.kubernetes import KubernetesHook
        from kubernetes import client

        try:
            api_client = KubernetesHook(conn_id=self.conn_id, config_dict=self.config_dict).api_client
        except Exception as error:
            raise ModelServiceError(
                f"cannot configure a Kubernetes client from connection {self.conn_id!r}: {error}"
            ) from error
        return {
            "ConfigMap": (client.CoreV1Api(api_client), "namespaced_config_map"),
            "Deployment": (client.AppsV1Api(api_client), "namespaced_deployment"),
            "Service": (client.CoreV1Api(api_client), "namespaced_service"),
            "HorizontalPodAutoscaler": (client.AutoscalingV2Api(api_client), "namespaced_horizontal_pod_autoscaler"),
        }

    def _call(self, what: str, api: Any, verb: str, suffix: str, *args: Any, **kwargs: Any) -> Any:
        from kubernetes.client.exceptions import ApiException

        host = api.api_client.configuration.host
        try:
            return getattr(api, f"{verb}_{suffix}")(
                *args, _request_timeout=(self.request_timeout, self.request_timeout), **kwargs
            )
        except ApiException:
            raise
        except Exception as error:
            raise ModelServiceError(f"Kubernetes API at {host} unreachable while {what}: {error}") from error

    def deploy(self, spec: Any) -> dict[str, Any]:
        """Create or replace the Deployment, Service and HPA of ``spec`` (a ``ServiceSpec``), and Triton's ConfigMap.

        TF Serving and Triton: a format or signature not given is read from the version's tags first.
        A Deployment is patched without ``replicas`` (the HPA's count stands) while it stays a plain
        mlplat pod; otherwise (another runtime, GPUs, volumes) it is replaced whole, keeping the
        replica count, so nothing of the previous pod template is left behind.
        """
        from kubernetes.client.exceptions import ApiException

        from airflow_mlplat.kube.schema import validate_manifests
        from airflow_mlplat.serving.kube_manifests import RPS_METRIC, build_manifests

        spec = self._described(spec)
        objects = build_manifests(spec)
        validate_manifests(objects)
        if spec.autoscale_on == "rps":
            self._require_custom_metric(RPS_METRIC, spec)
        for obj in objects:
            api, suffix = self._apis[obj.kind]
            name = obj.metadata.name
            what = f"applying {obj.kind}/{name} in namespace {spec.namespace}"
            try:
                current = self._call(what, api, "read", suffix, name, spec.namespace)
                exists = True
            except ApiException as error:
                if error.status != 404:
                    raise ModelServiceError(f"{what}: HTTP {error.status} {error.reason}") from error
                exists = False
            try:
                if not exists:
                    self._call(what, api, "create", suffix, spec.namespace, obj)
                elif obj.kind == "Deployment" and not (_plain_pod(current) and _plain_pod(obj)):
                    obj.spec.replicas = current.spec.replicas  # the HPA owns the count
                    obj.metadata.resource_version = current.metadata.resource_version
                    self._call(what, api, "replace", suffix, name, spec.namespace, obj)
                else:
                    if obj.kind == "Deployment":
                        obj.spec.replicas = None  # the HPA owns the count: a redeploy must not reset it
                    self._call(what, api, "patch", suffix, name, spec.namespace, obj, _content_type=MERGE_PATCH)
            except ApiException as error:
                raise ModelServiceError(f"{what}: HTTP {error.status} {error.reason}: {error.body}") from error
        return {
            "backend": "kubernetes",
            "name": spec.name,
            "namespace": spec.namespace,
            "runtime": spec.runtime,
            "url": f"http://{spec.name}.{spec.namespace}.svc.cluster.local",
            "objects": [f"{o.kind}/{o.metadata.name}" for o in objects],
        }

    @staticmethod
    def _described(spec: Any) -> Any:
        """``spec`` with the model's format (and, for Triton, signature) from the version's tags where not given."""
        if spec.runtime not in ("tensorflow-serving", "triton"):
            return spec
        if spec.model_format is not None and (spec.runtime != "triton" or spec.signature is not None):
            return spec
        spec.validate()  # the reference is sound before MLflow is asked
        from airflow_mlplat.serving.errors import ModelLoadError
        from airflow_mlplat.serving.model_repository import ModelRepositoryError, describe_version

        ref = spec.models[0]
        try:
            described = describe_version(ref, spec.tracking_uri or None)
        except (ModelLoadError, ModelRepositoryError) as error:
            raise ModelServiceError(
                f"model service {spec.name!r}: cannot read the format and signature of {ref} "
                f"(pass model_format= and signature= to skip this): {error}"
            ) from error
        return dataclasses.replace(
            spec,
            model_format=spec.model_format or described.format,
            signature=spec.signature if spec.signature is not None else described.signature,
        )

    def _require_custom_metric(self, metric: str, spec: Any) -> None:
        """Refuse an HPA on ``metric`` unless the cluster's custom metrics API serves it per pod.

        Without an adapter (e.g. prometheus-adapter with ``deploy/prometheus-adapter-rules.yaml``)
        such an HPA is created but never scales: it reports FailedGetPodsMetric forever.
        """
        import urllib3
        from kubernetes.client.exceptions import ApiException

        api = self._apis["Deployment"][0].api_client
        host = api.configuration.host
        needs = (
            f"model service {spec.name!r}: autoscale_on='rps' needs the custom metrics API to serve "
            f"pods/{metric} (install prometheus-adapter with the rule in deploy/prometheus-adapter-rules.yaml), "
            "or use autoscale_on='cpu'"
        )
        try:
            listed = api.call_api(
                f"/{CUSTOM_METRICS_API}",
                "GET",
                header_params={"Accept": "application/json"},
                response_types_map={200: "object"},
                auth_settings=["BearerToken"],
                _return_http_data_only=True,
                _request_timeout=(self.request_timeout, self.request_timeout),
            )
        except ApiException as error:
            if error.status == 404:
                raise ModelServiceError(f"{needs}; {host} has no {CUSTOM_METRICS_API}") from None
            raise ModelServiceError(f"{needs}; reading {CUSTOM_METRICS_API}: HTTP {error.status}") from error
        except (OSError, urllib3.exceptions.HTTPError) as error:
            raise ModelServiceError(
                f"Kubernetes API at {host} unreachable while reading {CUSTOM_METRICS_API}: {error}"
            ) from error
        names = {r.get("name") for r in (listed or {}).get("resources", []) if isinstance(r, dict)}
        if f"pods/{metric}" not in names:
            raise ModelServiceError(f"{needs}; {CUSTOM_METRICS_API} lists no pods/{metric}")

    def stop(self, name: str, namespace: str) -> bool:
        """Delete the service's HPA, Service, Deployment and Triton ConfigMap; True when any existed."""
        from kubernetes.client.exceptions import ApiException

        from airflow_mlplat.serving.kube_manifests import triton_config_map_name

        deleted = False
        for kind, object_name in (
            ("HorizontalPodAutoscaler", name),
            ("Service", name),
            ("Deployment", name),
            ("ConfigMap", triton_config_map_name(name)),
        ):
            api, suffix = self._apis[kind]
            what = f"deleting {kind}/{object_name} in namespace {namespace}"
            try:
                self._call(what, api, "delete", suffix, object_name, namespace)
                deleted = True
            except ApiException as error:
                if error.status != 404:
                    raise ModelServiceError(f"{what}: HTTP {error.status} {error.reason}") from error
        return deleted


def _plain_pod(deployment: Any) -> bool:
    """A Deployment whose pod is the mlplat service alone (no other runtime, GPU, volume or init container).

    Between two such pods a strategic merge patch leaves nothing stale; between others it would
    (containers merge by name, absent fields stay), so those Deployments are replaced whole.
    """
    pod = deployment.spec.template.spec
    return [c.name for c in pod.containers or []] == ["model-service"] and not (
        pod.init_containers or pod.volumes or pod.node_selector or pod.tolerations or pod.affinity
    )
