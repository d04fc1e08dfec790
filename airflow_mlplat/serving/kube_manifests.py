"""Kubernetes objects of a prediction service: Deployment, Service, HorizontalPodAutoscaler (autoscaling/v2).

Built from the official ``kubernetes.client`` models and checked with :mod:`airflow_mlplat.kube.schema`.
The pod runs the spec's runtime (:mod:`airflow_mlplat.serving.runtimes`):

- ``mlplat``: this project's service, which reads the registry itself;
- ``tensorflow-serving`` and ``triton``: the runtime's image, its model repository (``/models``, an
  emptyDir) filled by an init container (``python -m airflow_mlplat.serving.model_repository`` in
  ``image``); Triton's ``config.pbtxt`` is a ConfigMap ``NAME-triton`` mounted at
  ``/models/MODEL/config.pbtxt``, built first;
- ``custom``: the user's image, command, arguments, port and health path.

GPUs (count, type, fractional share) are asked for as the launcher asks for them, from the cluster profile.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from airflow_mlplat.launcher.spec import ClusterProfile, gpu_problems, gpu_type_problems
from airflow_mlplat.serving.admin import ADMIN_TOKEN_ENV, SECRET_KEY, secret_name
from airflow_mlplat.serving.runtimes import MODEL_ROOT, RUNTIMES, custom_env
from airflow_mlplat.serving.triton_config import TritonConfigError, triton_config

CONTAINER_PORT = 8080
#: The per-pod metric an HPA on requests per second reads (served by a Prometheus adapter from
#: ``rate(mlplat_predict_requests_total[1m])``).
RPS_METRIC = "mlplat_predict_requests_per_second"
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
#: A served model's name is a folder under /models and a URL path segment.
_SERVED_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
MODELS_VOLUME = "models"
TRITON_CONFIG_VOLUME = "triton-config"
TRITON_CONFIG_KEY = "config.pbtxt"
#: Pod annotation holding the hash of Triton's config: a changed config rolls the pods (a subPath mount never updates).
CONFIG_HASH_ANNOTATION = "airflow-mlplat/config-sha256"
_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
#: What ``image`` is for, per runtime (the error of a missing one says it).
_IMAGE_ROLE = {
    "mlplat": "the prediction service's image, with airflow-mlplat installed",
    "tensorflow-serving": "an image with airflow-mlplat installed: its init container fetches the model",
    "triton": "an image with airflow-mlplat installed: its init container fetches the model",
    "custom": "the user's serving image",
}


@dataclass
class ServiceSpec:
    """What to deploy; ``validate()`` names the bad field."""

    name: str
    models: Sequence[str]
    image: str
    tracking_uri: str
    namespace: str = "default"
    min_replicas: int = 1
    max_replicas: int = 4
    autoscale_on: str = "cpu"  # or "rps"
    target_cpu_percent: int = 70
    target_rps: float = 100.0
    resources: Mapping[str, Mapping[str, str]] = field(
        default_factory=lambda: {
            "requests": {"cpu": "500m", "memory": "512Mi"},
            "limits": {"cpu": "1", "memory": "1Gi"},
        }
    )
    poll_interval: float = 10.0
    env: Mapping[str, str] = field(default_factory=dict)
    #: A key of ``runtimes.RUNTIMES``.
    runtime: str = "mlplat"
    #: ``tensorflow-serving`` and ``triton``: the runtime image's tag (default: the runtime's).
    runtime_tag: str | None = None
    #: GPUs per pod: a whole number, or a share below 1 (the profile's shared-GPU resource).
    gpu: float = 0
    #: A key of the cluster profile's ``gpu_types``: pods go to nodes with that label.
    gpu_type: str | None = None
    cluster_profile: ClusterProfile = field(default_factory=ClusterProfile)
    #: ``triton`` (and a check for ``tensorflow-serving``): the version's format and signature; the deploy
    #: reads them from the version's tags when they are not given.
    model_format: str | None = None
    signature: Mapping[str, Any] | None = None
    max_batch_size: int = 0
    max_queue_delay_microseconds: int | None = None
    #: ``custom``: the container's port, readiness path, arguments (``{port}`` is the port) and command.
    port: int | None = None
    health_path: str | None = None
    args: Sequence[str] = ()
    command: Sequence[str] | None = None

    @property
    def served_name(self) -> str:
        """The model's name inside TF Serving or Triton: the registered model's name."""
        text = str(self.models[0]).split("=", 1)[0] if self.models else ""
        rest = text.removeprefix("models:/").strip("/")
        return rest.split("@", 1)[0] if "@" in rest else rest.rsplit("/", 1)[0]

    def validate(self) -> None:
        where = f"model service {self.name!r}"
        if not isinstance(self.name, str) or not _DNS_LABEL.match(self.name):
            raise ValueError(f"{where}: name must be a DNS label (lower-case letters, digits, '-'), got {self.name!r}")
        if self.runtime not in RUNTIMES:
            raise ValueError(f"{where}: runtime must be one of {', '.join(RUNTIMES)}, got {self.runtime!r}")
        if self.runtime != "custom" and not self.models:
            raise ValueError(f"{where}: models must list at least one model reference")
        if not self.image:
            raise ValueError(f"{where}: image is required for the kubernetes backend ({_IMAGE_ROLE[self.runtime]})")
        if not 1 <= self.min_replicas <= self.max_replicas:
            raise ValueError(
                f"{where}: need 1 <= min_replicas <= max_replicas, got {self.min_replicas}, {self.max_replicas}"
            )
        if self.autoscale_on not in ("cpu", "rps"):
            raise ValueError(f"{where}: autoscale_on must be 'cpu' or 'rps', got {self.autoscale_on!r}")
        if self.autoscale_on == "cpu" and not 1 <= self.target_cpu_percent <= 100:
            raise ValueError(f"{where}: target_cpu_percent must be in [1, 100], got {self.target_cpu_percent}")
        if self.autoscale_on == "rps" and not self.target_rps > 0:
            raise ValueError(f"{where}: target_rps must be > 0, got {self.target_rps}")
        if self.autoscale_on == "rps" and self.runtime != "mlplat":
            raise ValueError(
                f"{where}: autoscale_on='rps' reads the mlplat service's request counter; "
                f"runtime {self.runtime!r} scales on 'cpu'"
            )
        gpu_count_problems = gpu_problems("gpu", self.gpu)
        problems = gpu_count_problems + gpu_type_problems(
            self.gpu_type, self.cluster_profile, asks_for_gpu=not gpu_count_problems and self.gpu > 0
        )
        if problems:
            raise ValueError(f"{where}: " + "; ".join(problems))
        if self.runtime_tag is not None and (not isinstance(self.runtime_tag, str) or not _TAG.match(self.runtime_tag)):
            raise ValueError(f"{where}: runtime_tag must be an image tag such as '2.19.0', got {self.runtime_tag!r}")
        if self.runtime in ("tensorflow-serving", "triton"):
            self._validate_model_runtime(where)
        elif self.runtime == "custom":
            self._validate_custom(where)

    def _validate_model_runtime(self, where: str) -> None:
        runtime = RUNTIMES[self.runtime]
        ref = str(self.models[0])
        if len(self.models) != 1 or "=" in ref or not ref.startswith("models:/"):
            raise ValueError(
                f"{where}: runtime {self.runtime!r} serves one models:/NAME@ALIAS or models:/NAME/VERSION "
                f"reference without a traffic share, got {list(self.models)!r}"
            )
        if not _SERVED_NAME.match(self.served_name):
            raise ValueError(
                f"{where}: the registered model name {self.served_name!r} cannot name the model in {self.runtime} "
                "(letters, digits, '_', '.', '-')"
            )
        if self.model_format is not None and self.model_format not in runtime.formats:
            raise ValueError(
                f"{where}: runtime {self.runtime!r} serves {', '.join(runtime.formats)} models, "
                f"and {ref} is {self.model_format}"
            )
        if self.runtime == "triton" and self.model_format is not None and self.signature is not None:
            try:
                self.triton_config()
            except TritonConfigError as error:
                raise TritonConfigError(f"{where}: {error}") from None

    def _validate_custom(self, where: str) -> None:
        if isinstance(self.port, bool) or not isinstance(self.port, int) or not 1 <= self.port <= 65535:
            raise ValueError(f"{where}: runtime 'custom' needs port, the container's port (1-65535), got {self.port!r}")
        if not isinstance(self.health_path, str) or not self.health_path.startswith("/"):
            raise ValueError(
                f"{where}: runtime 'custom' needs health_path, a path starting with '/' that answers 200 when ready, "
                f"got {self.health_path!r}"
            )
        for key, value in (("args", self.args), ("command", self.command)):
            if value is None and key == "command":
                continue
            if isinstance(value, str) or not isinstance(value, Sequence) or not all(isinstance(a, str) for a in value):
                raise ValueError(f"{where}: {key} must be a list of strings, got {value!r}")
        for key in self.env:
            if not isinstance(key, str) or not _ENV_NAME.match(key):
                raise ValueError(f"{where}: env: {key!r} is not a valid environment variable name")

    def triton_config(self) -> str:
        """Triton's ``config.pbtxt`` for this service's model (needs ``model_format`` and ``signature``)."""
        if self.model_format is None or self.signature is None:
            raise ValueError(
                f"model service {self.name!r}: runtime 'triton' needs the model's format and signature "
                "(the deploy reads them from the version's mlplat.format and mlplat.signature tags; "
                "or pass model_format= and signature=)"
            )
        return triton_config(
            self.served_name,
            self.model_format,
            self.signature,
            max_batch_size=self.max_batch_size,
            max_queue_delay_microseconds=self.max_queue_delay_microseconds,
        )


def build_manifests(spec: ServiceSpec) -> list[Any]:
    """``[Deployment, Service, HorizontalPodAutoscaler]`` as kubernetes client models.

    Runtime ``triton`` puts its ``config.pbtxt`` ConfigMap first (the pods mount it).
    """
    from kubernetes import client as k

    from airflow_mlplat.launcher.manifests import gpu_node_affinity, gpu_scheduling
    from airflow_mlplat.launcher.spec import Resources

    spec.validate()
    labels = {
        "app.kubernetes.io/name": spec.name,
        "app.kubernetes.io/component": "model-service",
        "app.kubernetes.io/managed-by": "airflow-mlplat",
    }
    pod = _RUNTIME_PODS[spec.runtime](spec, labels)
    gpu = Resources(gpu=spec.gpu)
    scheduling = gpu_scheduling(gpu, spec.gpu_type, spec.cluster_profile)
    affinity = gpu_node_affinity(gpu, spec.cluster_profile)
    if affinity is not None:
        scheduling["affinity"] = k.V1Affinity(node_affinity=affinity)
    deployment = k.V1Deployment(
        api_version="apps/v1",
        kind="Deployment",
        metadata=k.V1ObjectMeta(name=spec.name, namespace=spec.namespace, labels=labels),
        spec=k.V1DeploymentSpec(
            replicas=spec.min_replicas,
            selector=k.V1LabelSelector(match_labels={"app.kubernetes.io/name": spec.name}),
            strategy=k.V1DeploymentStrategy(
                type="RollingUpdate",
                rolling_update=k.V1RollingUpdateDeployment(max_surge="25%", max_unavailable=0),
            ),
            template=k.V1PodTemplateSpec(
                metadata=k.V1ObjectMeta(labels=labels, annotations=pod.annotations),
                spec=k.V1PodSpec(
                    containers=[pod.container],
                    init_containers=pod.init_containers,
                    volumes=pod.volumes,
                    **scheduling,
                ),
            ),
        ),
    )
    service = k.V1Service(
        api_version="v1",
        kind="Service",
        metadata=k.V1ObjectMeta(name=spec.name, namespace=spec.namespace, labels=labels),
        spec=k.V1ServiceSpec(
            type="ClusterIP",
            selector={"app.kubernetes.io/name": spec.name},
            ports=[k.V1ServicePort(name="http", port=80, target_port="http", protocol="TCP")],
        ),
    )
    if spec.autoscale_on == "cpu":
        metric = k.V2MetricSpec(
            type="Resource",
            resource=k.V2ResourceMetricSource(
                name="cpu", target=k.V2MetricTarget(type="Utilization", average_utilization=spec.target_cpu_percent)
            ),
        )
    else:
        metric = k.V2MetricSpec(
            type="Pods",
            pods=k.V2PodsMetricSource(
                metric=k.V2MetricIdentifier(name=RPS_METRIC),
                target=k.V2MetricTarget(type="AverageValue", average_value=_quantity(spec.target_rps)),
            ),
        )
    hpa = k.V2HorizontalPodAutoscaler(
        api_version="autoscaling/v2",
        kind="HorizontalPodAutoscaler",
        metadata=k.V1ObjectMeta(name=spec.name, namespace=spec.namespace, labels=labels),
        spec=k.V2HorizontalPodAutoscalerSpec(
            scale_target_ref=k.V2CrossVersionObjectReference(api_version="apps/v1", kind="Deployment", name=spec.name),
            min_replicas=spec.min_replicas,
            max_replicas=spec.max_replicas,
            metrics=[metric],
        ),
    )
    return [*pod.objects, deployment, service, hpa]


@dataclass
class _Pod:
    """What a runtime puts into the pod template, and the objects the pod needs created before it."""

    container: Any
    annotations: dict[str, str] | None = None
    init_containers: list[Any] | None = None
    volumes: list[Any] | None = None
    objects: list[Any] = field(default_factory=list)


def _resources(spec: ServiceSpec) -> Any:
    from kubernetes import client as k

    from airflow_mlplat.launcher.manifests import gpu_limits
    from airflow_mlplat.launcher.spec import Resources

    # Extended resources cannot be overcommitted: the GPUs go into requests and limits alike.
    extra = gpu_limits(Resources(gpu=spec.gpu), spec.cluster_profile)
    return k.V1ResourceRequirements(
        requests={**spec.resources.get("requests", {}), **extra} or None,
        limits={**spec.resources.get("limits", {}), **extra} or None,
    )


def _http_probe(path: str, port: int, **timing: int) -> Any:
    from kubernetes import client as k

    return k.V1Probe(http_get=k.V1HTTPGetAction(path=path, port=port), **timing)


def _readiness(path: str, port: int) -> Any:
    return _http_probe(path, port, period_seconds=5, timeout_seconds=2, failure_threshold=3)


def _liveness(path: str, port: int) -> Any:
    return _http_probe(path, port, initial_delay_seconds=30, period_seconds=10, failure_threshold=6)


def _mlplat_pod(spec: ServiceSpec, labels: Mapping[str, str]) -> _Pod:
    from kubernetes import client as k

    args = [
        "-m",
        "airflow_mlplat.serving",
        "--host",
        "0.0.0.0",
        "--port",
        str(CONTAINER_PORT),
        "--poll-interval",
        str(spec.poll_interval),
    ]
    for model in spec.models:
        args += ["--model", model]
    env = [k.V1EnvVar(name="MLFLOW_TRACKING_URI", value=spec.tracking_uri)]
    # /admin/reload is on only where the Secret <name>-admin exists: its token, never a literal here.
    env.append(
        k.V1EnvVar(
            name=ADMIN_TOKEN_ENV,
            value_from=k.V1EnvVarSource(
                secret_key_ref=k.V1SecretKeySelector(name=secret_name(spec.name), key=SECRET_KEY, optional=True)
            ),
        )
    )
    env += [k.V1EnvVar(name=key, value=str(value)) for key, value in spec.env.items()]
    container = k.V1Container(
        name="model-service",
        image=spec.image,
        command=["python"],
        args=args,
        env=env,
        ports=[k.V1ContainerPort(name="http", container_port=CONTAINER_PORT)],
        readiness_probe=_readiness("/healthz", CONTAINER_PORT),
        liveness_probe=_liveness("/healthz", CONTAINER_PORT),
        resources=_resources(spec),
    )
    annotations = {
        "prometheus.io/scrape": "true",
        "prometheus.io/port": str(CONTAINER_PORT),
        "prometheus.io/path": "/metrics",
    }
    return _Pod(container, annotations=annotations)


def _fetch_model(spec: ServiceSpec) -> Any:
    """The init container that lays the model out in the runtime's repository (``/models``)."""
    from kubernetes import client as k

    return k.V1Container(
        name="fetch-model",
        image=spec.image,
        command=["python", "-m", "airflow_mlplat.serving.model_repository"],
        args=[
            "--model",
            str(spec.models[0]),
            "--name",
            spec.served_name,
            "--runtime",
            spec.runtime,
            "--root",
            MODEL_ROOT,
        ],  # fmt: skip
        env=[k.V1EnvVar(name="MLFLOW_TRACKING_URI", value=spec.tracking_uri)],
        volume_mounts=[k.V1VolumeMount(name=MODELS_VOLUME, mount_path=MODEL_ROOT)],
        resources=k.V1ResourceRequirements(
            requests={"cpu": "100m", "memory": "256Mi"}, limits={"cpu": "1", "memory": "1Gi"}
        ),
    )


def _models_volume() -> Any:
    from kubernetes import client as k

    return k.V1Volume(name=MODELS_VOLUME, empty_dir=k.V1EmptyDirVolumeSource())


def _tensorflow_serving_pod(spec: ServiceSpec, labels: Mapping[str, str]) -> _Pod:
    from kubernetes import client as k

    runtime = RUNTIMES["tensorflow-serving"]
    name, port = spec.served_name, runtime.port
    health = runtime.health_path.format(model=name)
    container = k.V1Container(
        name=runtime.name,
        image=runtime.image_ref(spec.runtime_tag),
        # The image's entrypoint adds its own --model_name and --model_base_path: call the server itself.
        command=["tensorflow_model_server"],
        args=[f"--rest_api_port={port}", f"--model_name={name}", f"--model_base_path={MODEL_ROOT}/{name}"],
        env=[k.V1EnvVar(name=key, value=str(value)) for key, value in spec.env.items()] or None,
        ports=[
            k.V1ContainerPort(name="http", container_port=port),
            k.V1ContainerPort(name="grpc", container_port=8500),
        ],
        readiness_probe=_readiness(health, port),
        liveness_probe=_liveness(health, port),
        resources=_resources(spec),
        volume_mounts=[k.V1VolumeMount(name=MODELS_VOLUME, mount_path=MODEL_ROOT, read_only=True)],
    )
    return _Pod(container, init_containers=[_fetch_model(spec)], volumes=[_models_volume()])


def _triton_pod(spec: ServiceSpec, labels: Mapping[str, str]) -> _Pod:
    from kubernetes import client as k

    runtime = RUNTIMES["triton"]
    name, port = spec.served_name, runtime.port
    config = spec.triton_config()
    config_map = k.V1ConfigMap(
        api_version="v1",
        kind="ConfigMap",
        metadata=k.V1ObjectMeta(name=triton_config_map_name(spec.name), namespace=spec.namespace, labels=dict(labels)),
        data={TRITON_CONFIG_KEY: config},
    )
    container = k.V1Container(
        name=runtime.name,
        image=runtime.image_ref(spec.runtime_tag),
        command=["tritonserver"],
        args=[f"--model-repository={MODEL_ROOT}", f"--http-port={port}"],
        env=[k.V1EnvVar(name=key, value=str(value)) for key, value in spec.env.items()] or None,
        ports=[
            k.V1ContainerPort(name="http", container_port=port),
            k.V1ContainerPort(name="grpc", container_port=8001),
            k.V1ContainerPort(name="metrics", container_port=8002),
        ],
        readiness_probe=_readiness(runtime.health_path, port),
        liveness_probe=_liveness("/v2/health/live", port),
        resources=_resources(spec),
        volume_mounts=[
            k.V1VolumeMount(name=MODELS_VOLUME, mount_path=MODEL_ROOT),
            k.V1VolumeMount(
                name=TRITON_CONFIG_VOLUME,
                mount_path=f"{MODEL_ROOT}/{name}/{TRITON_CONFIG_KEY}",
                sub_path=TRITON_CONFIG_KEY,
                read_only=True,
            ),
        ],
    )
    volumes = [
        _models_volume(),
        k.V1Volume(name=TRITON_CONFIG_VOLUME, config_map=k.V1ConfigMapVolumeSource(name=config_map.metadata.name)),
    ]
    annotations = {
        # A subPath mount never sees a changed ConfigMap: a new config must roll the pods.
        CONFIG_HASH_ANNOTATION: hashlib.sha256(config.encode()).hexdigest(),
        "prometheus.io/scrape": "true",
        "prometheus.io/port": "8002",
        "prometheus.io/path": "/metrics",
    }
    return _Pod(
        container, annotations=annotations, init_containers=[_fetch_model(spec)], volumes=volumes, objects=[config_map]
    )


def _custom_pod(spec: ServiceSpec, labels: Mapping[str, str]) -> _Pod:
    from kubernetes import client as k

    assert spec.port is not None and spec.health_path is not None  # validated
    env = {**custom_env(spec.tracking_uri, spec.models), **{key: str(value) for key, value in spec.env.items()}}
    container = k.V1Container(
        name=spec.runtime,
        image=spec.image,
        command=list(spec.command) if spec.command else None,
        args=[arg.replace("{port}", str(spec.port)) for arg in spec.args] or None,
        env=[k.V1EnvVar(name=key, value=value) for key, value in env.items()] or None,
        ports=[k.V1ContainerPort(name="http", container_port=spec.port)],
        readiness_probe=_readiness(spec.health_path, spec.port),
        resources=_resources(spec),
    )
    return _Pod(container)


def triton_config_map_name(service: str) -> str:
    return f"{service}-triton"


_RUNTIME_PODS = {
    "mlplat": _mlplat_pod,
    "tensorflow-serving": _tensorflow_serving_pod,
    "triton": _triton_pod,
    "custom": _custom_pod,
}


def _quantity(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{int(round(value * 1000))}m"
