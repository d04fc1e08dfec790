"""The serving runtimes a model can be deployed on, declared once.

A runtime says what serving a model needs (image, port, health endpoint, the model formats it
reads, whether it runs on the local backend); a deployment only names its runtime (the Kubeflow
Trainer split between runtimes and jobs). ``DeployModelOperator`` validates against these
declarations, ``kube_manifests`` builds the pods from them and the docs' table lists them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

#: The model repository every runtime that reads model files mounts (TF Serving's and Triton's layout).
MODEL_ROOT = "/models"
#: The environment of a ``custom`` server: the model references it is deployed with, one per line
#: (with ``MLFLOW_TRACKING_URI``), so the user's server can fetch them.
MODELS_ENV = "MLPLAT_MODELS"


def custom_env(tracking_uri: str | None, models: Sequence[str]) -> dict[str, str]:
    """What a ``custom`` server is told: ``MLFLOW_TRACKING_URI`` and its model references (``MODELS_ENV``)."""
    env = {"MLFLOW_TRACKING_URI": tracking_uri} if tracking_uri else {}
    if models:
        env[MODELS_ENV] = "\n".join(models)
    return env


@dataclass(frozen=True)
class ServingRuntime:
    """What one runtime needs.

    :param name: the value of ``DeployModelOperator(runtime=...)``.
    :param image: the image repository (the tag is a parameter); empty: the deployment gives the image.
    :param default_tag: the tag used when none is given.
    :param port: the container's HTTP port; None: the deployment gives it (``custom``).
    :param health_path: the readiness endpoint; ``{model}`` is the served model's name.
    :param formats: the model formats (``mlplat.format`` of a version) it serves; empty: any.
    :param local: whether the local backend can run it (as a process on this machine).
    :param resources: the container's default requests and limits.
    """

    name: str
    image: str = ""
    default_tag: str = ""
    port: int | None = None
    health_path: str | None = None
    formats: tuple[str, ...] = ()
    local: bool = True
    resources: Mapping[str, Mapping[str, str]] = field(
        default_factory=lambda: {
            "requests": {"cpu": "500m", "memory": "512Mi"},
            "limits": {"cpu": "1", "memory": "1Gi"},
        }
    )

    def image_ref(self, tag: str | None) -> str:
        return f"{self.image}:{tag or self.default_tag}"


_LARGE = {"requests": {"cpu": "1", "memory": "2Gi"}, "limits": {"cpu": "2", "memory": "4Gi"}}

RUNTIMES: Mapping[str, ServingRuntime] = {
    runtime.name: runtime
    for runtime in (
        # This project's prediction service (Spark models, PMML, the ModelZoo's deep models).
        ServingRuntime("mlplat", port=8080, health_path="/healthz"),
        ServingRuntime(
            "tensorflow-serving",
            image="tensorflow/serving",
            default_tag="2.19.0",
            port=8501,
            health_path="/v1/models/{model}",
            formats=("savedmodel",),
            local=False,
            resources=_LARGE,
        ),
        ServingRuntime(
            "triton",
            image="nvcr.io/nvidia/tritonserver",
            default_tag="25.01-py3",
            port=8000,
            health_path="/v2/health/ready",
            formats=("onnx", "torchscript"),
            local=False,
            resources=_LARGE,
        ),
        # The user's image (Kubernetes) or command (local): port, health path and arguments are theirs.
        ServingRuntime("custom"),
    )
}
