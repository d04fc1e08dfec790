"""Wait, deferrably, for a streaming FTRL snapshot that is not registered yet."""

from __future__ import annotations

import datetime
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseSensorOperator
from airflow.sdk.exceptions import AirflowException, AirflowSensorTimeout

from airflow_mlplat.sensors.run_params import apply_timing_params
from airflow_mlplat.triggers.snapshot import NewSnapshotTrigger

if TYPE_CHECKING:
    from airflow.sdk import Context


class NewSnapshotSensor(BaseSensorOperator):
    """Succeed with the newest snapshot under ``snapshot_dir`` newer than every one registered for ``model_name``.

    :param snapshot_dir: the streaming job's snapshot folder (templated; a path or file:// URL).
    :param model_name: the registered model whose versions say which snapshots are registered (templated).
    :param tracking_uri: the MLflow server (templated); default from ``mlflow_conn_id``.
    :param deferrable: wait in the triggerer (default), freeing the worker slot.

    ``timeout`` (seconds) bounds the wait; the run's ``params.sensor_timeout_s`` and
    ``params.sensor_poke_interval_s`` override it and ``poke_interval`` when present. Returns the
    snapshot folder's path (XCom).
    """

    template_fields: Sequence[str] = ("snapshot_dir", "model_name", "tracking_uri")
    ui_color = "#c6e2ff"

    def __init__(
        self,
        *,
        snapshot_dir: str,
        model_name: str,
        tracking_uri: str | None = None,
        mlflow_conn_id: str = "mlflow_default",
        deferrable: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.snapshot_dir = snapshot_dir
        self.model_name = model_name
        self.tracking_uri = tracking_uri
        self.mlflow_conn_id = mlflow_conn_id
        self.deferrable = deferrable
        self._after = ""

    def _uri(self) -> str:
        from airflow_mlplat.hooks.mlflow_tracking import MlflowTrackingHook

        uri = self.tracking_uri or MlflowTrackingHook(self.mlflow_conn_id).tracking_uri()
        if not uri:
            raise AirflowException(
                f"NewSnapshotSensor {self.task_id}: no MLflow server: set tracking_uri, the connection "
                f"{self.mlflow_conn_id!r} or MLFLOW_TRACKING_URI"
            )
        return uri

    def _check(self) -> str | None:
        from airflow_mlplat.realtime.snapshot_registry import newest_unregistered
        from airflow_mlplat.realtime.snapshots import SnapshotError

        try:
            found, self._after = newest_unregistered(self._uri(), self.model_name, self.snapshot_dir)
        except SnapshotError as error:
            raise ValueError(f"NewSnapshotSensor {self.task_id}: {error}") from error
        return None if found is None else str(found)

    def poke(self, context: Context) -> bool:
        return self._check() is not None

    def execute(self, context: Context) -> Any:
        apply_timing_params(self, context)
        found = self._check()
        if found is not None:
            self.log.info("unregistered snapshot: %s", found)
            return found
        if not self.deferrable:
            super().execute(context)
            return self._check()
        deadline = time.time() + self.timeout
        self.log.info("waiting for a snapshot under %s newer than %r", self.snapshot_dir, self._after or "none")
        self.defer(
            trigger=NewSnapshotTrigger(self.snapshot_dir, self._after, self.poke_interval, deadline),
            method_name="execute_complete",
            timeout=datetime.timedelta(seconds=self.timeout + max(60.0, 2 * self.poke_interval)),
        )

    def execute_complete(self, context: Context, event: dict[str, Any]) -> str:
        apply_timing_params(self, context)
        if event.get("status") == "success":
            self.log.info("new snapshot: %s", event["snapshot"])
            return event["snapshot"]
        if event.get("status") == "timeout":
            raise AirflowSensorTimeout(
                f"{self.task_id}: no snapshot newer than {event.get('after') or 'none'} appeared under "
                f"{event.get('snapshot_dir')} within {self.timeout:.0f} s (is the streaming job running?)"
            )
        raise AirflowException(f"{self.task_id}: unexpected trigger event {event!r}")
