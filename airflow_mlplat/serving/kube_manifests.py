"""Kubernetes objects of a prediction service: Deployment, Service, HorizontalPodAutoscaler (autoscaling/v2).

Built from the official ``kubernetes.client`` models and checked with :mod:`airflow_mlplat.kube.schema`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from airflow_mlplat.serving.admin import ADMIN_TOKEN_ENV, SECRET_KEY, secret_name

CONTAINER_PORT = 8080
#: The per-pod metric an HPA on requests per second reads (served by a Prometheus adapter from
#: ``rate(mlplat_predict_requests_total[1m])``).
RPS_METRIC = "mlplat_predict_requests_per_second"
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")


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

    def validate(self) -> None:
        where = f"model service {self.name!r}"
        if not isinstance(self.name, str) or not _DNS_LABEL.match(self.name):
            raise ValueError(f"{where}: name must be a DNS label (lower-case letters, digits, '-'), got {self.name!r}")
        if not self.models:
            raise ValueError(f"{where}: models must list at least one model reference")
        if not self.image:
            raise ValueError(f"{where}: image is required for the kubernetes backend")
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


def build_manifests(spec: ServiceSpec) -> list[Any]:
    """``[Deployment, Service, HorizontalPodAutoscaler]`` as kubernetes client models."""
    from kubernetes import client as k

    spec.validate()
    labels = {
        "app.kubernetes.io/name": spec.name,
        "app.kubernetes.io/component": "model-service",
        "app.kubernetes.io/managed-by": "airflow-mlplat",
    }
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
    probe = k.V1Probe(
        http_get=k.V1HTTPGetAction(path="/healthz", port=CONTAINER_PORT),
        period_seconds=5,
        timeout_seconds=2,
        failure_threshold=3,
    )
    container = k.V1Container(
        name="model-service",
        image=spec.image,
        command=["python"],
        args=args,
        env=env,
        ports=[k.V1ContainerPort(name="http", container_port=CONTAINER_PORT)],
        readiness_probe=probe,
        liveness_probe=k.V1Probe(
            http_get=k.V1HTTPGetAction(path="/healthz", port=CONTAINER_PORT),
            initial_delay_seconds=30,
            period_seconds=10,
            failure_threshold=6,
        ),
        resources=k.V1ResourceRequirements(
            requests=dict(spec.resources.get("requests", {})) or None,
            limits=dict(spec.resources.get("limits", {})) or None,
        ),
    )
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
                metadata=k.V1ObjectMeta(
                    labels=labels,
                    annotations={
                        "prometheus.io/scrape": "true",
                        "prometheus.io/port": str(CONTAINER_PORT),
                        "prometheus.io/path": "/metrics",
                    },
                ),
                spec=k.V1PodSpec(containers=[container]),
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
    return [deployment, service, hpa]


def _quantity(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{int(round(value * 1000))}m"
