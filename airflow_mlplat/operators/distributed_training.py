"""Run a distributed deep-learning job (TensorFlow, PyTorch, PaddlePaddle) on Kubernetes or locally.

Importing this module imports neither kubernetes nor torch.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator

from airflow_mlplat.launcher.backends.base import STATUS_UNKNOWN_TIMEOUT
from airflow_mlplat.launcher.backends.options import backend_options

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_mlplat.launcher.backends import TrainingBackend
    from airflow_mlplat.launcher.spec import TrainingJob


class DistributedTrainingOperator(BaseOperator):
    """Submit a ``TrainingJob``, wait for it (deferred by default), clean up, return its result.

    :param job: the job: a ``TrainingJob`` or its dict form (templated). Validated before anything
        is created (``TrainingJobSpecError`` names every bad field).
    :param backend: ``kubernetes`` (through the cncf-kubernetes provider) or ``local`` (processes).
    :param namespace: Kubernetes namespace.
    :param kubernetes_conn_id: the cncf-kubernetes connection.
    :param cluster_profile: ``ClusterProfile`` fields (GPU node labels, shared-GPU resource,
        storage classes, TensorBoard image, ingress domain).
    :param state_root: the local backend's state directory (default ``$MLPLAT_LAUNCHER_ROOT``, else
        under ``$MLPLAT_RUN_ROOT`` or ``$AIRFLOW_HOME``).
    :param deferrable: wait in the triggerer (``TrainingJobTrigger``) instead of a worker slot.
    :param poll_interval: seconds between status polls.
    :param request_timeout: seconds per Kubernetes API call.
    :param status_unknown_timeout: seconds the job's status may stay unreadable (API errors are
        retried with backoff) before the task fails; the job is then left running, not removed.
    :param register_as: register the model the job exported (at ``output_path``) in MLflow under
        this name, as ``airflow-mlplat models upload`` does (a ``feature_map.json`` beside it goes
        with it), tagged with the job, its framework and image, and the DAG run.
    :param register_format: the exported model's format; found in the folder when not given
        (``*.onnx``, a SavedModel, a Paddle inference model, ``*.torchscript.pt``).
    :param mlflow_conn_id: the MLflow connection registration uses (else ``MLFLOW_TRACKING_URI``);
        without a tracking URI nothing is registered (logged).

    Returns (XCom) ``{"job", "phase", "output_path", "metrics", "message"}``, plus ``registered``
    when the model was registered (also pushed as the ``tracking`` XCom): ``metrics`` are the
    exporting replica's final metrics. Once the job is over (succeeded, failed, timed out) or
    killed (``on_kill``, or killing the deferred task) everything is removed but the output and,
    with ``data_volume.keep``, the data volume; so the name can be submitted again. Raises
    ``TrainingJobFailed`` when the job failed, ``JobStatusUnknown`` when its status stayed unreadable.
    """

    template_fields: Sequence[str] = ("job", "namespace", "state_root", "register_as")
    template_fields_renderers = {"job": "json"}
    ui_color = "#c9e4ff"

    def __init__(
        self,
        *,
        job: TrainingJob | Mapping[str, Any],
        backend: str = "kubernetes",
        namespace: str = "default",
        kubernetes_conn_id: str | None = "kubernetes_default",
        cluster_profile: Mapping[str, Any] | None = None,
        state_root: str | None = None,
        deferrable: bool = True,
        poll_interval: float = 10.0,
        request_timeout: float = 30.0,
        status_unknown_timeout: float = STATUS_UNKNOWN_TIMEOUT,
        register_as: str | None = None,
        register_format: str | None = None,
        mlflow_conn_id: str | None = "mlflow_default",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        from airflow_mlplat.modelzoo.formats import FORMATS

        if register_format is not None and register_format not in FORMATS:
            raise ValueError(
                f"{type(self).__name__}({self.task_id}).register_format={register_format!r}: "
                f"must be one of {', '.join(FORMATS)}"
            )
        self.job = job.to_dict() if hasattr(job, "to_dict") else dict(job)
        self.backend = backend
        self.namespace = namespace
        self.kubernetes_conn_id = kubernetes_conn_id
        self.cluster_profile = dict(cluster_profile or {})
        self.state_root = state_root
        self.deferrable = deferrable
        self.poll_interval = poll_interval
        self.request_timeout = request_timeout
        self.status_unknown_timeout = status_unknown_timeout
        self.register_as = register_as
        self.register_format = register_format
        self.mlflow_conn_id = mlflow_conn_id
        self._handle: dict[str, Any] | None = None

    def make_backend(self) -> TrainingBackend:
        from airflow_mlplat.launcher.backends import get_backend

        options = backend_options(
            self.backend,
            namespace=self.namespace,
            kubernetes_conn_id=self.kubernetes_conn_id,
            cluster_profile=self.cluster_profile,
            state_root=self.state_root,
            request_timeout=self.request_timeout,
        )
        return get_backend(self.backend, **options)

    def execute(self, context: Context) -> dict[str, Any]:
        from airflow_mlplat.launcher.backends import conclude
        from airflow_mlplat.launcher.spec import ClusterProfile, TrainingJob

        job = TrainingJob.from_dict(self.job).validate(ClusterProfile.from_dict(self.cluster_profile))
        backend = self.make_backend()
        # Known before anything exists, so on_kill can remove a half-submitted job.
        self._handle = backend.handle(job)
        backend.submit(job, self._handle)
        self.log.info("submitted training job %s (%s backend)", job.name, self.backend)
        if self._handle.get("tensorboard_url"):
            self.log.info("TensorBoard of %s: %s", job.name, self._handle["tensorboard_url"])
        if self.deferrable:
            from airflow_mlplat.triggers.training_job import TrainingJobTrigger

            self.defer(
                trigger=TrainingJobTrigger(
                    handle=self._handle,
                    poll_interval=self.poll_interval,
                    status_unknown_timeout=self.status_unknown_timeout,
                    kill_on_cancel=True,
                ),
                method_name="execute_complete",
            )
        status = backend.wait(
            self._handle,
            poll_interval=self.poll_interval,
            on_log=self.log.info,
            status_unknown_timeout=self.status_unknown_timeout,
        )
        return self._registered(context, conclude(self._handle, status))

    def execute_complete(self, context: Context, event: dict[str, Any]) -> dict[str, Any]:
        from airflow_mlplat.launcher.backends import JobStatus, conclude

        self._handle = event["handle"]
        status = JobStatus.from_dict(event["status"])
        self.log.info("training job %s: %s %s", self._handle["job"], status.phase, status.message)
        return self._registered(context, conclude(self._handle, status))

    def _registered(self, context: Context, result: dict[str, Any]) -> dict[str, Any]:
        if not self.register_as:
            return result
        from airflow_mlplat.hooks.mlflow_tracking import MlflowTrackingHook
        from airflow_mlplat.operators.spark_pipeline import TRACKING_XCOM_KEY
        from airflow_mlplat.tracking.uri import resolve_tracking_uri

        tracking_uri = MlflowTrackingHook(self.mlflow_conn_id).tracking_uri() if self.mlflow_conn_id else None
        tracking_uri = resolve_tracking_uri(tracking_uri)
        if tracking_uri is None:
            self.log.info("no MLflow tracking URI: %s is not registered", self.register_as)
            return result
        registered = self.register_model(context, result, tracking_uri)
        self.log.info("registered %s version %s", registered["name"], registered["version"])
        context["ti"].xcom_push(key=TRACKING_XCOM_KEY, value={"registered_model": registered})
        return {**result, "registered": registered}

    def register_model(self, context: Context, result: dict[str, Any], tracking_uri: str) -> dict[str, Any]:
        """Register the exported model (``register_as``); returns at least ``{"name", "version"}``."""
        from airflow_mlplat.modelzoo.upload import register_exported_model

        assert self.register_as is not None
        lineage = {
            "mlplat.job": str(self.job.get("name")),
            "mlplat.framework": str(self.job.get("framework")),
            "mlplat.image": str(self.job.get("image")),
            "airflow.dag_id": self.dag_id,
            "airflow.run_id": str(context["run_id"]),
        }
        return register_exported_model(
            result["output_path"],
            name=self.register_as,
            fmt=self.register_format,
            tracking_uri=tracking_uri,
            tags=lineage,
        )

    def on_kill(self) -> None:
        if self._handle is not None:
            from airflow_mlplat.launcher.backends import backend_from_handle

            backend_from_handle(self._handle).kill(self._handle)
