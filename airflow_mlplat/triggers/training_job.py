"""A trigger that waits for a distributed training job without holding a worker slot."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_mlplat.launcher.backends.base import STATUS_UNKNOWN_TIMEOUT


class TrainingJobTrigger(BaseTrigger):
    """Poll a training job (``launcher`` backend handle) until it is over; yield one event.

    The event is ``{"status": JobStatus dict, "handle": handle}``. The status is polled in a
    thread (the backends' clients are blocking), so the triggerer's event loop never blocks.
    A failed read is retried with backoff; once the status has been unreadable for
    ``status_unknown_timeout`` seconds the event's status has phase ``unknown``, which
    ``conclude`` reports without removing the job (it may be healthy, only the API unreachable).

    :param handle: what ``TrainingBackend.handle`` returned (primitives only).
    :param poll_interval: seconds between polls.
    :param status_unknown_timeout: seconds the status may stay unreadable before the wait ends.
    :param kill_on_cancel: ``on_kill`` (the user killed the deferred task) removes the job. True
        for the operator that submitted it; False for a sensor, which only watches.
    :param max_errors: deprecated and ignored (``status_unknown_timeout`` decides); accepted so
        triggers serialized by earlier versions still load.
    """

    def __init__(
        self,
        handle: dict[str, Any],
        poll_interval: float = 10.0,
        status_unknown_timeout: float = STATUS_UNKNOWN_TIMEOUT,
        kill_on_cancel: bool = True,
        max_errors: int | None = None,
    ) -> None:
        super().__init__()
        self.handle = handle
        self.poll_interval = poll_interval
        self.status_unknown_timeout = status_unknown_timeout
        self.kill_on_cancel = kill_on_cancel

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "handle": self.handle,
                "poll_interval": self.poll_interval,
                "status_unknown_timeout": self.status_unknown_timeout,
                "kill_on_cancel": self.kill_on_cancel,
            },
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        from airflow_mlplat.launcher.backends.base import UnreadableStatus, backend_from_handle

        backend = backend_from_handle(self.handle)
        unreadable = UnreadableStatus(self.poll_interval, self.status_unknown_timeout)
        while True:
            try:
                status = await asyncio.to_thread(backend.status, self.handle)
            except Exception as err:
                unknown = unreadable.failed(err)
                if unknown is not None:
                    yield TriggerEvent({"status": unknown.to_dict(), "handle": self.handle})
                    return
                self.log.warning(
                    "reading the status of %s failed (%d in a row), retrying: %s",
                    self.handle["job"],
                    unreadable.failures,
                    err,
                )
                await asyncio.sleep(unreadable.delay())
                continue
            unreadable.ok()
            if status.done:
                yield TriggerEvent({"status": status.to_dict(), "handle": self.handle})
                return
            self.log.info("training job %s: %s %s", self.handle["job"], status.phase, status.message)
            await asyncio.sleep(self.poll_interval)

    async def on_kill(self) -> None:
        """Remove the job when the deferred task is killed, if this trigger's task owns it (``kill_on_cancel``)."""
        if not self.kill_on_cancel:
            self.log.info("training job %s is left running: this task only watched it", self.handle["job"])
            return
        from airflow_mlplat.launcher.backends import backend_from_handle

        await asyncio.to_thread(backend_from_handle(self.handle).kill, self.handle)
