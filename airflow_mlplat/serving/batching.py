"""Dynamic micro-batching: concurrent requests to one model are scored in one call.

A request's rows join a queue; one thread takes what has queued, waits up to ``max_wait_ms``
for more while the batch holds fewer than ``max_rows`` rows, scores the lot and hands each
request its own rows back. A request larger than ``max_rows`` is scored alone. When a combined
batch fails, each request in it is scored on its own, so an error names a row of its own request.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class BatchSettings:
    max_rows: int = 64
    max_wait_ms: float = 2.0

    def __post_init__(self) -> None:
        if not isinstance(self.max_rows, int) or self.max_rows < 1:
            raise ValueError(f"micro-batching max_rows must be an integer >= 1, got {self.max_rows!r}")
        if not 0 <= self.max_wait_ms <= 1000:
            raise ValueError(f"micro-batching max_wait_ms must be between 0 and 1000, got {self.max_wait_ms!r}")


class _Pending:
    __slots__ = ("rows", "done", "result", "error")

    def __init__(self, rows: Sequence[Mapping[str, Any]]) -> None:
        self.rows = rows
        self.done = threading.Event()
        self.result: list[Any] | None = None
        self.error: BaseException | None = None


class MicroBatcher:
    """Wraps a scorer's ``predict(rows)``; ``predict`` blocks the calling thread until its rows are scored."""

    def __init__(self, scorer: Any, settings: BatchSettings) -> None:
        self.scorer, self.settings = scorer, settings
        self.batches = 0
        self.rows = 0
        self._queue: deque[_Pending] = deque()
        self._ready = threading.Condition()
        self._closed = False
        self._thread = threading.Thread(target=self._serve, name="micro-batcher", daemon=True)
        self._thread.start()

    def predict(self, rows: Sequence[Mapping[str, Any]]) -> list[Any]:
        pending = _Pending(rows)
        with self._ready:
            alone = len(rows) >= self.settings.max_rows or self._closed
            if not alone:
                self._queue.append(pending)
                self._ready.notify()
        if alone:
            self._count(len(rows))
            return self.scorer.predict(rows)
        pending.done.wait()
        if pending.error is not None:
            raise pending.error
        assert pending.result is not None
        return pending.result

    def close(self) -> None:
        """Stop the thread once the queued requests are scored (the version was replaced)."""
        with self._ready:
            self._closed = True
            self._ready.notify()

    def stats(self) -> dict[str, Any]:
        return {
            "max_rows": self.settings.max_rows,
            "max_wait_ms": self.settings.max_wait_ms,
            "batches": self.batches,
            "rows": self.rows,
        }

    def _count(self, rows: int) -> None:
        with self._ready:
            self.batches += 1
            self.rows += rows

    def _take(self) -> list[_Pending]:
        with self._ready:
            while not self._queue:
                if self._closed:
                    return []
                self._ready.wait()
            batch = [self._queue.popleft()]
            size = len(batch[0].rows)
            deadline = time.monotonic() + self.settings.max_wait_ms / 1000.0
            while size < self.settings.max_rows:
                if self._queue:
                    if size + len(self._queue[0].rows) > self.settings.max_rows:
                        break
                    item = self._queue.popleft()
                    batch.append(item)
                    size += len(item.rows)
                    continue
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._ready.wait(left)
            return batch

    def _serve(self) -> None:
        while True:
            batch = self._take()
            if not batch:
                return
            rows = [row for item in batch for row in item.rows]
            self._count(len(rows))
            try:
                results = self.scorer.predict(rows)
            except Exception as error:
                if len(batch) == 1:
                    batch[0].error = error
                    batch[0].done.set()
                else:
                    for item in batch:  # each on its own: an error then belongs to one request
                        self._score_alone(item)
                continue
            start = 0
            for item in batch:
                item.result = results[start : start + len(item.rows)]
                start += len(item.rows)
                item.done.set()

    def _score_alone(self, item: _Pending) -> None:
        try:
            item.result = self.scorer.predict(item.rows)
        except Exception as error:
            item.error = error
        item.done.set()
