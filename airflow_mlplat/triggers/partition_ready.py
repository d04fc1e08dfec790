"""Trigger that waits, in the triggerer, for a partition's completion marker on any fsspec filesystem."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent


class PartitionReadyTrigger(BaseTrigger):
    """Fire when ``PARTITION_URL/MARKER`` exists, or with status ``timeout`` at ``deadline``.

    :param partition_url: the partition folder (local path, file://, hdfs://, webhdfs://, s3a://).
    :param marker: the file that says the partition is complete.
    :param poke_interval: seconds between checks.
    :param deadline: Unix time after which the trigger gives up (None: never).

    A check that fails (service unreachable) counts as "not yet"; its error is kept for the
    timeout event so the sensor can say why it never saw the marker.
    """

    def __init__(
        self, partition_url: str, marker: str = "_SUCCESS", poke_interval: float = 10.0, deadline: float | None = None
    ) -> None:
        super().__init__()
        self.partition_url = partition_url
        self.marker = marker
        self.poke_interval = poke_interval
        self.deadline = deadline

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "partition_url": self.partition_url,
                "marker": self.marker,
                "poke_interval": self.poke_interval,
                "deadline": self.deadline,
            },
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        from airflow_mlplat.storage.urls import StorageError, exists, marker_url

        url = marker_url(self.partition_url, self.marker)
        last_error = None
        while True:
            try:
                if await asyncio.to_thread(exists, url):
                    yield TriggerEvent({"status": "success", "url": url})
                    return
                last_error = None
            except StorageError as exc:
                last_error = str(exc)
                self.log.warning("cannot check %s yet: %s", url, exc)
            remaining = None if self.deadline is None else self.deadline - time.time()
            if remaining is not None and remaining <= 0:
                yield TriggerEvent({"status": "timeout", "url": url, "error": last_error})
                return
            await asyncio.sleep(self.poke_interval if remaining is None else min(self.poke_interval, remaining))
