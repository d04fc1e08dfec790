"""One-click deploy of registered models as a prediction service: a local process or Kubernetes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator

if TYPE_CHECKING:
    from airflow.sdk import Context

BACKENDS = ("local", "kubernetes")
ACTIONS = ("deploy", "stop")


class DeployModelOperator(BaseOperator):
    """Deploy (or stop) a prediction service for one or more model references.

    :param service_name: the service's name: state directory (local) or Deployment/Service/HPA name (DNS label).
    :param models: ``models:/NAME@ALIAS`` or ``models:/NAME/VERSION`` references (templated); a reference may end
        in ``=SHARE`` for a traffic share, e.g. ``["models:/m@champion=0.9", "models:/m@challenger=0.1"]``.
    :param backend: ``local`` (a process on this machine) or ``kubernetes``.
    :param action: ``deploy`` (start or replace) or ``stop``.
    :param tracking_uri: the MLflow server the service reads the registry from (templated; default
        ``MLFLOW_TRACKING_URI``).
    :param poll_interval: seconds between the service's alias checks.
    :param port: local backend: the port on 127.0.0.1 (default: a free one).
    :param state_root: local backend: where service state directories live.
    :param pmml: local backend: score the versions' ``model.pmml`` instead of the Spark files.
    :param image: kubernetes: the container image (it must have this package installed).
    :param namespace: kubernetes namespace (templated).
    :param min_replicas, max_replicas: the HPA's bounds (the Deployment starts at ``min_replicas``).
    :param autoscale_on: ``cpu`` (utilisation, ``target_cpu_percent``) or ``rps`` (requests per second per pod,
        ``target_rps``, through a Prometheus adapter).
    :param resources: the container's ``{"requests": {...}, "limits": {...}}``.
    :param kubernetes_conn_id: the cncf-kubernetes connection.
    :param request_timeout: kubernetes: seconds per API call.

    Returns (XCom) ``{"backend", "name", "url", ...}``: local adds ``pid``, ``port``, ``versions``.

    :raises ValueError: an unknown backend/action, no models, or an invalid Kubernetes setting (names the field).
    :raises ModelServiceError: the service did not become healthy, or the API server failed or was unreachable.
    """

    template_fields: Sequence[str] = ("service_name", "models", "tracking_uri", "image", "namespace")
    ui_color = "#d9f2e6"

    def __init__(
        self,
        *,
        service_name: str,
        models: Sequence[str] | str = (),
        backend: str = "local",
        action: str = "deploy",
        tracking_uri: str | None = None,
        poll_interval: float = 10.0,
        port: int | None = None,
        state_root: str | None = None,
        pmml: bool = False,
        image: str = "",
        namespace: str = "default",
        min_replicas: int = 1,
        max_replicas: int = 4,
        autoscale_on: str = "cpu",
        target_cpu_percent: int = 70,
        target_rps: float = 100.0,
        resources: Mapping[str, Mapping[str, str]] | None = None,
        kubernetes_conn_id: str | None = "kubernetes_default",
        request_timeout: float = 30.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if backend not in BACKENDS:
            raise ValueError(f"DeployModelOperator {self.task_id}: backend must be one of {BACKENDS}, got {backend!r}")
        if action not in ACTIONS:
            raise ValueError(f"DeployModelOperator {self.task_id}: action must be one of {ACTIONS}, got {action!r}")
        self.service_name = service_name
        self.models = [models] if isinstance(models, str) else list(models)
        self.backend = backend
        self.action = action
        self.tracking_uri = tracking_uri
        self.poll_interval = poll_interval
        self.port = port
        self.state_root = state_root
        self.pmml = pmml
        self.image = image
        self.namespace = namespace
        self.min_replicas = min_replicas
        self.max_replicas = max_replicas
        self.autoscale_on = autoscale_on
        self.target_cpu_percent = target_cpu_percent
        self.target_rps = target_rps
        self.resources = resources
        self.kubernetes_conn_id = kubernetes_conn_id
        self.request_timeout = request_timeout

    def service_spec(self) -> Any:
        """The Kubernetes ``ServiceSpec`` of this task (validated)."""
        import os

        from airflow_mlplat.serving.kube_manifests import ServiceSpec

        extra = {"resources": self.resources} if self.resources is not None else {}
        spec = ServiceSpec(
            name=self.service_name,
            models=self.models,
            image=self.image,
            tracking_uri=self.tracking_uri or os.environ.get("MLFLOW_TRACKING_URI", ""),
            namespace=self.namespace,
            min_replicas=self.min_replicas,
            max_replicas=self.max_replicas,
            autoscale_on=self.autoscale_on,
            target_cpu_percent=self.target_cpu_percent,
            target_rps=self.target_rps,
            poll_interval=self.poll_interval,
            **extra,
        )
        spec.validate()
        return spec

    def execute(self, context: Context) -> dict[str, Any]:
        import os

        if self.action == "deploy" and not self.models:
            raise ValueError(f"DeployModelOperator {self.task_id}: models must list at least one model reference")
        if self.backend == "local":
            from airflow_mlplat.hooks.model_service import LocalModelServiceHook

            local = LocalModelServiceHook(self.state_root)
            if self.action == "stop":
                return {"backend": "local", "name": self.service_name, "stopped": local.stop(self.service_name)}
            return local.deploy(
                self.service_name,
                self.models,
                tracking_uri=self.tracking_uri or os.environ.get("MLFLOW_TRACKING_URI"),
                port=self.port,
                poll_interval=self.poll_interval,
                pmml=self.pmml,
            )
        from airflow_mlplat.hooks.model_service import KubernetesModelServiceHook

        kube = KubernetesModelServiceHook(self.kubernetes_conn_id, request_timeout=self.request_timeout)
        if self.action == "stop":
            return {
                "backend": "kubernetes",
                "name": self.service_name,
                "stopped": kube.stop(self.service_name, self.namespace),
            }
        return kube.deploy(self.service_spec())
