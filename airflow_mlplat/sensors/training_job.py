"""Wait for a distributed training job that another task (or a person) already submitted."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseSensorOperator, PokeReturnValue

if TYPE_CHECKING:
    from airflow.sdk import Context


class TrainingJobSensor(BaseSensorOperator):
    """Wait until training job ``job_name`` is over; return its result. It never removes the job.

    The job belongs to whoever submitted it: the sensor neither applies the cleanup rules nor
    kills the job when the sensor's own task is killed (its trigger has ``kill_on_cancel=False``).

    :param job_name: the job's name (its root ConfigMap, or its local state directory).
    :param backend: ``kubernetes`` or ``local``.
    :param namespace: Kubernetes namespace.
    :param kubernetes_conn_id: the cncf-kubernetes connection.
    :param cluster_profile: ``ClusterProfile`` fields, as for ``DistributedTrainingOperator``.
    :param state_root: the local backend's state directory.
    :param request_timeout: seconds per Kubernetes API call.
    :param deferrable: wait in the triggerer (default) rather than poking from a worker.

    Returns (XCom) the same dict as the operator; raises ``TrainingJobFailed`` if the job failed,
    ``JobStatusUnknown`` if its status could not be read for the trigger's ``status_unknown_timeout``.
    """

    template_fields: Sequence[str] = ("job_name", "namespace", "state_root")

    def __init__(
        self,
        *,
        job_name: str,
        backend: str = "kubernetes",
        namespace: str = "default",
        kubernetes_conn_id: str | None = "kubernetes_default",
        cluster_profile: Mapping[str, Any] | None = None,
        state_root: str | None = None,
        request_timeout: float = 30.0,
        deferrable: bool = True,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("poke_interval", 10.0)
        super().__init__(**kwargs)
        self.job_name = job_name
        self.backend = backend
        self.namespace = namespace
        self.kubernetes_conn_id = kubernetes_conn_id
        self.cluster_profile = dict(cluster_profile or {})
        self.state_root = state_root
        self.request_timeout = request_timeout
        self.deferrable = deferrable

    def _attach(self) -> dict[str, Any]:
        from airflow_mlplat.launcher.backends import get_backend
        from airflow_mlplat.launcher.backends.options import backend_options

        options = backend_options(
            self.backend,
            namespace=self.namespace,
            kubernetes_conn_id=self.kubernetes_conn_id,
            cluster_profile=self.cluster_profile,
            state_root=self.state_root,
            request_timeout=self.request_timeout,
        )
        return get_backend(self.backend, **options).attach(self.job_name)

    def execute(self, context: Context) -> Any:
        if not self.deferrable:
            return super().execute(context)
        from airflow_mlplat.triggers.training_job import TrainingJobTrigger

        self.defer(
            trigger=TrainingJobTrigger(
                handle=self._attach(), poll_interval=float(self.poke_interval), kill_on_cancel=False
            ),
            method_name="execute_complete",
        )

    def poke(self, context: Context) -> bool | PokeReturnValue:
        from airflow_mlplat.launcher.backends import backend_from_handle, conclude

        handle = self._attach()
        status = backend_from_handle(handle).status(handle)
        if not status.done:
            self.log.info("training job %s: %s %s", self.job_name, status.phase, status.message)
            return False
        return PokeReturnValue(is_done=True, xcom_value=conclude(handle, status, cleanup=False))

    def execute_complete(self, context: Context, event: dict[str, Any]) -> dict[str, Any]:
        from airflow_mlplat.launcher.backends import JobStatus, conclude

        return conclude(event["handle"], JobStatus.from_dict(event["status"]), cleanup=False)
