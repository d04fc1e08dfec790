"""Event-time windows and their partitions: ``BASE/dt=YYYY-MM-DD/hm=HHMM``, ``hm`` the window start, UTC.

Standard library only: DAG files, operators and the Flink job's client all import it.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime


def window_problem(window_minutes: int) -> str | None:
    """Why ``window_minutes`` is not a window length (windows tile the hour), or None."""
    if window_minutes < 1 or 60 % window_minutes:
        return f"must divide 60 (1, 2, 3, 5, 10, 15, 20, 30 or 60), got {window_minutes}"
    return None


def naive_utc(value: datetime | str) -> datetime:
    """A datetime (or ISO-8601 text, ``Z`` allowed) as naive UTC."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value


def window_start_of(ts: datetime, window_minutes: int) -> datetime:
    """The start of the ``window_minutes`` window holding ``ts`` (UTC; aware input stays aware)."""
    problem = window_problem(window_minutes)
    if problem:
        raise ValueError(f"window_minutes {problem}")
    return ts.replace(minute=ts.minute - ts.minute % window_minutes, second=0, microsecond=0)


def partition_name(window_start: datetime) -> str:
    """``dt=YYYY-MM-DD/hm=HHMM`` of the window starting at ``window_start`` (UTC)."""
    ts = naive_utc(window_start)
    return f"dt={ts:%Y-%m-%d}/hm={ts:%H%M}"


def partition_path(base: str | os.PathLike[str], window_start: datetime) -> str:
    """``BASE/dt=YYYY-MM-DD/hm=HHMM``; ``base`` may be a path or a URL."""
    return f"{os.fspath(base).rstrip('/')}/{partition_name(window_start)}"
