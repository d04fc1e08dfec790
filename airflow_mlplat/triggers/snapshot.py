"""Trigger that waits, in the triggerer, for a streaming FTRL snapshot newer than a given one."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent


class NewSnapshotTrigger(BaseTrigger):
    """Fire with the newest snapshot under ``snapshot_dir`` whose name sorts after ``after``, or ``timeout``.

    :param snapshot_dir: the job's snapshot folder (a path or file:// URL).
    :param after: a snapshot name (``""``: any snapshot will do).
    :param poke_interval: seconds between listings.
    :param deadline: Unix time after which the trigger gives up (None: never).
    """

    def __init__(self, snapshot_dir: str, after: str = "", poke_interval: float = 10.0, deadline: float | None = None):
        super().__init__()
        self.snapshot_dir = snapshot_dir
        self.after = after
        self.poke_interval = poke_interval
        self.deadline = deadline

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "snapshot_dir": self.snapshot_dir,
                "after": self.after,
                "poke_interval": self.poke_interval,
                "deadline": self.deadline,
            },
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        from airflow_mlplat.realtime.snapshots import latest_snapshot

        while True:
            found = await asyncio.to_thread(latest_snapshot, self.snapshot_dir, after=self.after)
            if found is not None:
                yield TriggerEvent({"status": "success", "snapshot": str(found)})
                return
            remaining = None if self.deadline is None else self.deadline - time.time()
            if remaining is not None and remaining <= 0:
                yield TriggerEvent({"status": "timeout", "snapshot_dir": self.snapshot_dir, "after": self.after})
                return
            await asyncio.sleep(self.poke_interval if remaining is None else min(self.poke_interval, remaining))
