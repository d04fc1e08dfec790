"""Wait for a partition's ``_SUCCESS`` marker on any filesystem, deferrably."""

from __future__ import annotations

import datetime
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseSensorOperator
from airflow.sdk.exceptions import AirflowException, AirflowSensorTimeout

from airflow_mlplat.storage.urls import url_problem
from airflow_mlplat.triggers.partition_ready import PartitionReadyTrigger

if TYPE_CHECKING:
    from airflow.sdk import Context


class PartitionReadySensor(BaseSensorOperator):
    """Succeed when ``partition_url/marker`` exists (Flink's and Spark's success-file commit policy).

    :param partition_url: the partition folder, templated, e.g.
        ``hdfs://nn:8020/warehouse/events/dt={{ ds }}/hm={{ data_interval_end.strftime('%H%M') }}``;
        a local path, file://, hdfs://, webhdfs:// or s3a:// URL.
    :param marker: the completion marker's file name.
    :param deferrable: wait in the triggerer (default), freeing the worker slot. Prefer it to
        ``mode="reschedule"``: reschedule sensors with poke intervals under 30 s hit an open
        Airflow scheduling race.

    ``timeout`` (seconds, from BaseSensorOperator) bounds the wait in both modes; when it passes
    the task fails with AirflowSensorTimeout (or is skipped with ``soft_fail``). Returns the
    marker's URL.
    """

    template_fields: Sequence[str] = ("partition_url", "marker")
    ui_color = "#c6e2ff"

    def __init__(self, *, partition_url: str, marker: str = "_SUCCESS", deferrable: bool = True, **kwargs: Any):
        super().__init__(**kwargs)
        self.partition_url = partition_url
        self.marker = marker
        self.deferrable = deferrable

    @property
    def marker_url(self) -> str:
        from airflow_mlplat.storage.urls import marker_url

        return marker_url(self.partition_url, self.marker)

    def _check_url(self) -> None:
        problem = url_problem(self.partition_url)
        if problem:
            raise ValueError(f"{self.task_id}: partition_url {problem}")

    def poke(self, context: Context) -> bool:
        from airflow_mlplat.storage.urls import StorageError, exists

        self._check_url()
        try:
            found = exists(self.marker_url)
        except StorageError as exc:
            self.log.warning("cannot check %s yet: %s", self.marker_url, exc)
            return False
        self.log.info("%s %s", self.marker_url, "exists" if found else "does not exist yet")
        return found

    def execute(self, context: Context) -> Any:
        self._check_url()
        if not self.deferrable:
            super().execute(context)
            return self.marker_url
        if self.poke(context):
            return self.marker_url
        deadline = time.time() + self.timeout
        self.defer(
            trigger=PartitionReadyTrigger(self.partition_url, self.marker, self.poke_interval, deadline),
            method_name="execute_complete",
            # The trigger gives up by itself at the deadline; this is Airflow's backstop.
            timeout=datetime.timedelta(seconds=self.timeout + max(60.0, 2 * self.poke_interval)),
        )

    def execute_complete(self, context: Context, event: dict[str, Any]) -> str:
        if event.get("status") == "success":
            self.log.info("%s exists", event["url"])
            return event["url"]
        if event.get("status") == "timeout":
            why = f"; last error: {event['error']}" if event.get("error") else ""
            raise AirflowSensorTimeout(
                f"{self.task_id}: {event['url']} did not appear within {self.timeout:.0f} s{why}"
            )
        raise AirflowException(f"{self.task_id}: unexpected trigger event {event!r}")
