"""One-click deploy of registered models as a prediction service: a local process or Kubernetes.

The service runs on one of the serving runtimes (:mod:`airflow_mlplat.serving.runtimes`): this
project's service, TensorFlow Serving, Triton, or the user's own server.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator

from airflow_mlplat.serving.runtimes import RUNTIMES, custom_env

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
    :param image: kubernetes: the container image (templated): runtime ``mlplat``, the service's (with this
        package); ``tensorflow-serving``/``triton``, the init container's that fetches the model (with this
        package); ``custom``, the user's server.
    :param namespace: kubernetes namespace (templated).
    :param min_replicas, max_replicas: the HPA's bounds (the Deployment starts at ``min_replicas``).
    :param autoscale_on: ``cpu`` (utilisation, ``target_cpu_percent``) or ``rps`` (requests per second per pod,
        ``target_rps``, through a Prometheus adapter).
    :param resources: the container's ``{"requests": {...}, "limits": {...}}``.
    :param kubernetes_conn_id: the cncf-kubernetes connection.
    :param request_timeout: kubernetes: seconds per API call.
    :param runtime: what serves the models (templated): ``mlplat`` (this project's service),
        ``tensorflow-serving`` (a SavedModel), ``triton`` (ONNX or TorchScript) or ``custom`` (the user's
        server). ``tensorflow-serving`` and ``triton`` serve one ``models:/`` reference and need the
        kubernetes backend; there ``image`` is the image (with this package) of the init container that
        fetches the model.
    :param runtime_tag: ``tensorflow-serving``/``triton``: the runtime image's tag (templated; default
        ``2.19.0``/``25.01-py3``).
    :param gpu: kubernetes: GPUs per pod, a whole number or a share below 1 (fractional GPU sharing).
    :param gpu_type: kubernetes: a key of the cluster profile's ``gpu_types`` (the node selector).
    :param cluster_profile: ``ClusterProfile`` fields (GPU node labels, GPU resource names), as for training.
    :param model_format: ``tensorflow-serving``/``triton``: the version's format; default: its
        ``mlplat.format`` tag, read at deploy.
    :param signature: ``triton``: ``{"inputs": [{"name", "type", "shape"}], "outputs": [...]}``; default:
        the version's ``mlplat.signature`` tag (a TorchScript model records no types or shapes: give it).
    :param max_batch_size: ``triton``: the batch size Triton may form (0: no batching; the first dimension
        of every tensor is the batch dimension otherwise).
    :param max_queue_delay_microseconds: ``triton``: enable dynamic batching, waiting this long to fill a batch.
    :param health_path: ``custom``: the path that answers 200 once the server is ready (templated).
    :param args: ``custom``: the container's arguments (templated); ``{port}`` is the port.
    :param command: ``custom``: the command (templated); on the local backend a list of strings run without
        a shell, ``{port}`` replaced by the port, required; on kubernetes it overrides the image's entrypoint.
    :param env: extra environment variables of the server (templated): on kubernetes of every runtime's
        container, locally of a ``custom`` server. A ``custom`` server also gets ``MLFLOW_TRACKING_URI`` and
        ``MLPLAT_MODELS`` (the model references, one per line).
    :param startup_timeout: local backend: seconds the service has to answer its health check.

    ``port``: local backend, the port on 127.0.0.1; runtime ``custom`` on kubernetes, the container's port.

    Returns (XCom) ``{"backend", "name", "url", ...}``: local adds ``pid``, ``port``, ``versions``
    (``health_url`` for ``custom``).

    :raises ValueError: an unknown backend/action/runtime, a runtime the backend cannot run, a missing
        setting of the runtime, no models, or an invalid Kubernetes setting (names the field).
    :raises ModelServiceError: the service did not become healthy, or the API server failed or was unreachable.
    """

    template_fields: Sequence[str] = (
        "service_name",
        "models",
        "tracking_uri",
        "image",
        "namespace",
        "runtime",
        "runtime_tag",
        "health_path",
        "args",
        "command",
        "env",
    )
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
        runtime: str = "mlplat",
        runtime_tag: str | None = None,
        gpu: float = 0,
        gpu_type: str | None = None,
        cluster_profile: Mapping[str, Any] | None = None,
        model_format: str | None = None,
        signature: Mapping[str, Any] | None = None,
        max_batch_size: int = 0,
        max_queue_delay_microseconds: int | None = None,
        health_path: str | None = None,
        args: Sequence[str] = (),
        command: Sequence[str] | None = None,
        env: Mapping[str, str] | None = None,
        startup_timeout: float = 120.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if backend not in BACKENDS:
            raise ValueError(f"DeployModelOperator {self.task_id}: backend must be one of {BACKENDS}, got {backend!r}")
        if action not in ACTIONS:
            raise ValueError(f"DeployModelOperator {self.task_id}: action must be one of {ACTIONS}, got {action!r}")
        for key, value in (("command", command), ("args", args)):
            if isinstance(value, str):
                raise ValueError(
                    f"DeployModelOperator {self.task_id}: {key} must be a list of strings "
                    f"(it is never run through a shell), got {value!r}"
                )
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
        # Not ``self.resources``: BaseOperator converts that attribute into its own Resources.
        self.service_resources = resources
        self.kubernetes_conn_id = kubernetes_conn_id
        self.request_timeout = request_timeout
        self.runtime = runtime
        self.runtime_tag = runtime_tag
        self.gpu = gpu
        self.gpu_type = gpu_type
        self.cluster_profile = dict(cluster_profile or {})
        self.model_format = model_format
        self.signature = signature
        self.max_batch_size = max_batch_size
        self.max_queue_delay_microseconds = max_queue_delay_microseconds
        self.health_path = health_path
        self.args = list(args)
        self.command = list(command) if command is not None else None
        self.env = dict(env or {})
        self.startup_timeout = startup_timeout
        if "{{" not in str(runtime):  # a templated runtime is checked once rendered, in execute
            self._check_runtime()

    def _check_runtime(self) -> None:
        """Refuse a runtime that does not exist, that the backend cannot run, or that misses a setting of its own."""
        where = f"DeployModelOperator {self.task_id}"
        if self.runtime not in RUNTIMES:
            raise ValueError(f"{where}: runtime must be one of {', '.join(RUNTIMES)}, got {self.runtime!r}")
        if self.backend == "local" and not RUNTIMES[self.runtime].local:
            raise ValueError(
                f"{where}: runtime {self.runtime!r} needs backend='kubernetes' (the local backend has no "
                f"{self.runtime} server); on this machine use runtime 'mlplat', or 'custom' with your own command"
            )
        if self.runtime != "custom" or self.action != "deploy":
            return
        if self.backend == "local" and not self.command:
            raise ValueError(
                f"{where}: runtime 'custom' on the local backend needs command, the server's command as a list "
                "of strings ('{port}' is replaced by the port), e.g. ['python', '-m', 'http.server', '{port}']"
            )
        if self.backend == "kubernetes" and not self.image:
            raise ValueError(f"{where}: runtime 'custom' on the kubernetes backend needs image, the server's image")
        if self.backend == "kubernetes" and not self.port:
            raise ValueError(f"{where}: runtime 'custom' on the kubernetes backend needs port, the container's port")
        if not self.health_path:
            raise ValueError(
                f"{where}: runtime 'custom' needs health_path, the path that answers 200 when the server is ready"
            )

    def service_spec(self) -> Any:
        """The Kubernetes ``ServiceSpec`` of this task (validated)."""
        import os

        from airflow_mlplat.launcher.spec import ClusterProfile
        from airflow_mlplat.serving.kube_manifests import ServiceSpec

        if self.service_resources is not None:
            extra: dict[str, Any] = {"resources": self.service_resources}
        elif self.runtime != "mlplat" and self.runtime in RUNTIMES:
            extra = {"resources": RUNTIMES[self.runtime].resources}
        else:
            extra = {}
        if self.runtime != "mlplat":
            extra.update(
                runtime=self.runtime,
                runtime_tag=self.runtime_tag,
                model_format=self.model_format,
                signature=self.signature,
                max_batch_size=self.max_batch_size,
                max_queue_delay_microseconds=self.max_queue_delay_microseconds,
                port=self.port,
                health_path=self.health_path,
                args=self.args,
                command=self.command,
            )
        if self.env:
            extra["env"] = self.env
        if self.gpu or self.gpu_type is not None or self.cluster_profile:
            extra.update(gpu=self.gpu, gpu_type=self.gpu_type)
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
            cluster_profile=ClusterProfile.from_dict(self.cluster_profile),
            **extra,
        )
        spec.validate()
        return spec

    def execute(self, context: Context) -> dict[str, Any]:
        import os

        self._check_runtime()  # again: runtime may have been a template
        if self.action == "deploy" and not self.models and self.runtime != "custom":
            raise ValueError(f"DeployModelOperator {self.task_id}: models must list at least one model reference")
        tracking_uri = self.tracking_uri or os.environ.get("MLFLOW_TRACKING_URI")
        if self.backend == "local":
            from airflow_mlplat.hooks.model_service import LocalModelServiceHook

            local = LocalModelServiceHook(self.state_root)
            if self.action == "stop":
                return {"backend": "local", "name": self.service_name, "stopped": local.stop(self.service_name)}
            if self.runtime == "custom":
                return local.deploy_command(
                    self.service_name,
                    self.command or [],
                    health_path=str(self.health_path),
                    port=self.port,
                    env={**custom_env(tracking_uri, self.models), **self.env},
                    timeout=self.startup_timeout,
                )
            return local.deploy(
                self.service_name,
                self.models,
                tracking_uri=tracking_uri,
                port=self.port,
                poll_interval=self.poll_interval,
                pmml=self.pmml,
                timeout=self.startup_timeout,
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
