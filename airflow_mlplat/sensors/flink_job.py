"""Check that a Flink job is RUNNING (all of its tasks), failing as soon as it has ended."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseSensorOperator

from airflow_mlplat.hooks.flink import FlinkHook, FlinkJob

if TYPE_CHECKING:
    from airflow.sdk import Context


class FlinkJobSensor(BaseSensorOperator):
    """Succeed while ``job_id`` is RUNNING on ``rest_url``; fail if it is FAILED, CANCELED or FINISHED.

    :param job_id: templated, e.g. ``{{ ti.xcom_pull(task_ids='ingest', key='job_id') }}``.
    :param rest_url: the REST API that knows the job (templated; ``FlinkJobOperator`` pushes ``rest_url``).
    """

    template_fields: Sequence[str] = ("job_id", "rest_url")

    def __init__(self, *, job_id: str, rest_url: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.job_id = job_id
        self.rest_url = rest_url

    def poke(self, context: Context) -> bool:
        return FlinkHook().is_running(FlinkJob(self.job_id, self.rest_url))
