"""Rates from two readings of a counter: CPU seconds of a process tree, requests of a service.

A rate needs two readings some time apart. The page polls every few seconds, so the API server
keeps each counter's recent readings (``HISTORY``) and pairs the newest reading with one at least
``MIN_WINDOW`` seconds older; on the first poll (or after a pause longer than ``KEEP``) there is
none, and ``pair_readings`` reads again after ``MIN_WINDOW`` seconds, once for every such counter.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

#: The shortest span a rate is computed over, in seconds.
MIN_WINDOW = 1.0
#: Readings older than this are dropped: a rate over a longer span says little about now.
KEEP = 60.0


@dataclass(frozen=True)
class Reading:
    at: float  # time.monotonic()
    value: Any


class History:
    """Recent readings per key (thread-safe: the API server answers requests in threads)."""

    def __init__(self, keep: float = KEEP) -> None:
        self.keep = keep
        self._readings: dict[Hashable, list[Reading]] = {}
        self._lock = threading.Lock()

    def record(self, key: Hashable, reading: Reading) -> None:
        with self._lock:
            kept = [r for r in self._readings.get(key, []) if reading.at - r.at <= self.keep]
            self._readings[key] = [*kept, reading][-32:]
            stale = [k for k, rs in self._readings.items() if reading.at - rs[-1].at > self.keep]
            for k in stale:
                del self._readings[k]

    def before(self, key: Hashable, at: float, min_age: float = MIN_WINDOW) -> Reading | None:
        """The newest reading of ``key`` taken at least ``min_age`` seconds before ``at`` (and within ``keep``)."""
        with self._lock:
            for reading in reversed(self._readings.get(key, [])):
                if min_age <= at - reading.at <= self.keep:
                    return reading
        return None


#: The API server's readings, shared by every request.
HISTORY = History()


@dataclass(frozen=True)
class Pair:
    """Two readings of one counter, ``earlier`` at least ``MIN_WINDOW`` seconds before ``later``."""

    earlier: Reading
    later: Reading

    @property
    def seconds(self) -> float:
        return self.later.at - self.earlier.at


def pair_readings(
    readers: Mapping[Hashable, Callable[[], Any]],
    history: History = HISTORY,
    *,
    window: float = MIN_WINDOW,
) -> dict[Hashable, Pair | BaseException]:
    """Read every counter (in parallel) and pair the reading with an earlier one.

    ``readers`` maps a key to a function returning the counter's current value (any structure the
    caller's rate function understands). Counters with no reading ``window`` seconds old are read
    again after ``window`` seconds (one wait for all). A reader's exception is the key's result.
    """
    pool = ThreadPoolExecutor(max_workers=max(1, min(8, len(readers))), thread_name_prefix="mlplat-read")
    try:
        first = _read_all(readers, pool)
        results: dict[Hashable, Pair | BaseException] = {}
        again: dict[Hashable, Callable[[], Any]] = {}
        for key, got in first.items():
            if isinstance(got, BaseException):
                results[key] = got
                continue
            earlier = history.before(key, got.at, window)
            history.record(key, got)
            if earlier is None:
                again[key] = readers[key]
            else:
                results[key] = Pair(earlier, got)
        if again:
            time.sleep(window)
            for key, got in _read_all(again, pool).items():
                if isinstance(got, BaseException):
                    results[key] = got
                    continue
                earlier = history.before(key, got.at, window)
                history.record(key, got)
                results[key] = Pair(earlier, got) if earlier is not None else RuntimeError("no earlier reading")
        return results
    finally:
        pool.shutdown(wait=False)


def _read_all(
    readers: Mapping[Hashable, Callable[[], Any]], pool: ThreadPoolExecutor
) -> dict[Hashable, Reading | BaseException]:
    def one(read: Callable[[], Any]) -> Reading | BaseException:
        try:
            return Reading(time.monotonic(), read())
        except Exception as error:  # noqa: BLE001 - the caller reports it for this key
            return error

    keys = list(readers)
    return dict(zip(keys, pool.map(one, [readers[k] for k in keys]), strict=True))
