"""Synthetic behaviour events with a drifting signal, one batch per event-time window.

The label is a logistic function of the six behaviour features whose weights move with ``drift``
(0..1): at 0 browsing depth (page views, duration, compare clicks) predicts a purchase, at 1
dealer contact (dealer calls, price views, image views) does, and the old signals turn slightly
negative. A model trained on old windows therefore scores clearly worse on a new window than one
trained on recent windows. ``corrupt=True`` makes a bad batch (labels inverted).

Imports only the standard library and numpy: the Flink job's virtualenv and the main one both use it.
Event dicts carry ``event_time`` as a naive UTC ``datetime`` (millisecond precision); JSON lines
write it as ``2026-11-27T12:30:05.123``.
"""

from __future__ import annotations

import json
import os
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from airflow_mlplat.realtime.windows import naive_utc

#: Column names and Flink SQL types of one event, in order (the Parquet columns of a partition).
EVENT_SCHEMA: tuple[tuple[str, str], ...] = (
    ("event_id", "STRING"),
    ("user_id", "STRING"),
    ("event_time", "TIMESTAMP(3)"),
    ("page_views", "DOUBLE"),
    ("duration", "DOUBLE"),
    ("compare_clicks", "DOUBLE"),
    ("dealer_calls", "DOUBLE"),
    ("price_views", "DOUBLE"),
    ("image_views", "DOUBLE"),
    ("label", "INT"),
)
FEATURES: tuple[str, ...] = ("page_views", "duration", "compare_clicks", "dealer_calls", "price_views", "image_views")

# Gamma (shape, scale) of each feature; the logit uses the features standardised by these moments,
# so it is linear in the raw values and a logistic regression can recover it.
_GAMMA = np.array([(4.0, 2.0), (2.0, 60.0), (1.5, 1.0), (0.8, 0.6), (2.0, 1.5), (3.0, 2.0)])
_MEAN = _GAMMA[:, 0] * _GAMMA[:, 1]
_SD = np.sqrt(_GAMMA[:, 0]) * _GAMMA[:, 1]
# Weights at drift 0 (browsing depth) and at drift 1 (dealer contact).
_W_OLD = np.array([1.2, 1.0, 0.8, -0.6, 0.0, -0.4])
_W_NEW = np.array([-0.6, 0.0, -0.4, 1.2, 1.0, 0.8])
_SCALE = 1.5
_BIAS = -1.0
_USERS = 5000


def label_weights(drift: float) -> np.ndarray:
    """The logit's weights on the standardised features at ``drift`` (clipped to [0, 1])."""
    d = min(1.0, max(0.0, float(drift)))
    return (1.0 - d) * _W_OLD + d * _W_NEW


def window_events(
    window_start: datetime,
    window_minutes: int,
    n: int,
    *,
    seed: int,
    drift: float,
    corrupt: bool = False,
) -> list[dict[str, Any]]:
    """``n`` events with event times uniform in ``[window_start, window_start + window_minutes)``.

    Deterministic in (window_start, seed, drift, corrupt). Event ids ``YYYYmmddHHMM-SEED-IIIIII`` are
    unique per window and seed.
    """
    start = naive_utc(window_start)
    rng = np.random.default_rng([seed, int(start.timestamp() // 60)])
    offsets_ms = np.sort(rng.integers(0, window_minutes * 60_000, size=n))
    x = np.column_stack([rng.gamma(k, theta, size=n) for k, theta in _GAMMA])
    x[:, [0, 2, 3, 4, 5]] = np.round(x[:, [0, 2, 3, 4, 5]])  # counts
    x[:, 1] = np.round(x[:, 1], 1)  # seconds
    logit = _SCALE * ((x - _MEAN) / _SD) @ label_weights(drift) + _BIAS
    label = (rng.random(n) < 1.0 / (1.0 + np.exp(-logit))).astype(int)
    if corrupt:
        label = 1 - label
    users = rng.integers(0, _USERS, size=n)
    prefix = f"{start:%Y%m%d%H%M}-{seed}"
    events = []
    for i in range(n):
        event: dict[str, Any] = {
            "event_id": f"{prefix}-{i:06d}",
            "user_id": f"u{users[i]:05d}",
            "event_time": start + timedelta(milliseconds=int(offsets_ms[i])),
        }
        event.update({name: float(x[i, j]) for j, name in enumerate(FEATURES)})
        event["label"] = int(label[i])
        events.append(event)
    return events


def format_event_time(ts: datetime) -> str:
    """``2026-11-27T12:30:05.123``: ISO-8601, UTC without zone, milliseconds."""
    ts = naive_utc(ts)
    return f"{ts:%Y-%m-%dT%H:%M:%S}.{ts.microsecond // 1000:03d}"


def to_json_line(event: dict[str, Any]) -> str:
    row = dict(event)
    if isinstance(row.get("event_time"), datetime):
        row["event_time"] = format_event_time(row["event_time"])
    return json.dumps(row, separators=(",", ":"))


def write_jsonl(events: list[dict[str, Any]], directory: str | os.PathLike[str], name: str) -> Path:
    """Write ``DIRECTORY/NAME.jsonl`` atomically (hidden ``.NAME.tmp`` then rename); returns its path."""
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    stem = name[: -len(".jsonl")] if name.endswith(".jsonl") else name
    target = folder / f"{stem}.jsonl"
    scratch = folder / f".{stem}.tmp"
    with open(scratch, "w", encoding="utf-8") as out:
        for event in events:
            out.write(to_json_line(event))
            out.write("\n")
        out.flush()
        os.fsync(out.fileno())
    os.replace(scratch, target)
    return target


def write_window_partition(base: str | os.PathLike[str], window_start: datetime, events: list[dict[str, Any]]) -> Path:
    """Write ``events`` as the window's Parquet partition and commit it with ``_SUCCESS``; returns the folder.

    The Flink sink's layout and commit order (``BASE/dt=YYYY-MM-DD/hm=HHMM/part-0.parquet``, hidden file
    then rename, then ``_SUCCESS``), for tests and benchmarks that need partitions without Flink. Needs
    pyarrow (imported here, so the Flink job's environment need not have it).
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    from airflow_mlplat.realtime.windows import partition_path

    types = {"STRING": pa.string(), "TIMESTAMP(3)": pa.timestamp("ms"), "DOUBLE": pa.float64(), "INT": pa.int32()}
    schema = pa.schema([(name, types[kind]) for name, kind in EVENT_SCHEMA])
    table = pa.Table.from_pylist(events, schema=schema)
    folder = Path(partition_path(base, window_start))
    folder.mkdir(parents=True, exist_ok=True)
    scratch = folder / ".part-0.parquet.inprogress"
    pq.write_table(table, scratch)
    os.replace(scratch, folder / "part-0.parquet")
    (folder / "_SUCCESS").write_bytes(b"")
    return folder
