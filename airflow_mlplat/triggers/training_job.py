"""A trigger that waits for a distributed training job without holding a worker slot."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent


class TrainingJobTrigger(BaseTrigger):
    """Poll a training job (``launcher`` backend handle) until it is over; yield one event.

    The event is ``{"status": JobStatus dict, "handle": handle}``. The status is polled in a
    thread (the backends' clients are blocking), so the triggerer's event loop never blocks.
    ``max_errors`` consecutive failures to read the status end the wait with a failed status.
    ``on_kill`` (the user killed the deferred task) removes the job.

    :param handle: what ``TrainingBackend.handle`` returned (primitives only).
    :param poll_interval: seconds between polls.
    """

    def __init__(self, handle: dict[str, Any], poll_interval: float = 10.0, max_errors: int = 5) -> None:
        super().__init__()
        self.handle = handle
        self.poll_interval = poll_interval
        self.max_errors = max_errors

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {"handle": self.handle, "poll_interval": self.poll_interval, "max_errors": self.max_errors},
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        from airflow_mlplat.launcher.backends import JobStatus, backend_from_handle

        backend = backend_from_handle(self.handle)
        errors = 0
        while True:
            try:
                status = await asyncio.to_thread(backend.status, self.handle)
                errors = 0
            except Exception as err:
                errors += 1
                self.log.warning(
                    "reading the status of %s failed (%d/%d): %s", self.handle["job"], errors, self.max_errors, err
                )
                if errors >= self.max_errors:
                    status = JobStatus("failed", f"could not read the job's status {errors} times: {err}")
                    yield TriggerEvent({"status": status.to_dict(), "handle": self.handle})
                    return
                await asyncio.sleep(self.poll_interval)
                continue
            if status.done:
                yield TriggerEvent({"status": status.to_dict(), "handle": self.handle})
                return
            self.log.info("training job %s: %s %s", self.handle["job"], status.phase, status.message)
            await asyncio.sleep(self.poll_interval)

    async def on_kill(self) -> None:
        from airflow_mlplat.launcher.backends import backend_from_handle

        await asyncio.to_thread(backend_from_handle(self.handle).kill, self.handle)
