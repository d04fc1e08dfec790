"""Write behaviour events as JSON-lines files, one per event-time window, for the Flink job to pick up.

``python -m airflow_mlplat.realtime.generate --out DIR --start 2026-11-27T12:00 --windows 6
--window-minutes 10 --events 2000 [--interval 5] [--corrupt-window 3]``

Window ``i`` starts at ``start + i * window_minutes`` and has drift ``i / (windows - 1)`` scaled
into ``[--drift-start, --drift-end]``. Each file appears atomically as ``w-YYYYmmddHHMM.jsonl``;
``--interval`` sleeps that many wall-clock seconds between files (a paced live log).
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import datetime, timedelta

from airflow_mlplat.realtime.events import window_events, write_jsonl
from airflow_mlplat.realtime.windows import window_start_of


def drift_of(index: int, windows: int, start: float = 0.0, end: float = 1.0) -> float:
    """The drift of window ``index`` of ``windows``: linear from ``start`` to ``end``."""
    if windows <= 1:
        return end
    return start + (end - start) * index / (windows - 1)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m airflow_mlplat.realtime.generate", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--out", required=True, help="folder the JSON-lines files go to")
    parser.add_argument("--start", required=True, help="first window start, ISO-8601 UTC (aligned down)")
    parser.add_argument("--windows", type=int, required=True, help="how many windows")
    parser.add_argument("--window-minutes", type=int, default=10, help="window length in minutes (divides 60)")
    parser.add_argument("--events", type=int, default=2000, help="events per window")
    parser.add_argument("--interval", type=float, default=0.0, help="wall-clock seconds between files")
    parser.add_argument("--corrupt-window", type=int, action="append", default=[], help="window index with bad labels")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--drift-start", type=float, default=0.0)
    parser.add_argument("--drift-end", type=float, default=1.0)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        start = window_start_of(datetime.fromisoformat(args.start), args.window_minutes)
    except ValueError as error:
        print(f"generate: --start/--window-minutes: {error}", file=sys.stderr)
        return 2
    for i in range(args.windows):
        if i and args.interval > 0:
            time.sleep(args.interval)
        window = start + timedelta(minutes=i * args.window_minutes)
        events = window_events(
            window,
            args.window_minutes,
            args.events,
            seed=args.seed,
            drift=drift_of(i, args.windows, args.drift_start, args.drift_end),
            corrupt=i in args.corrupt_window,
        )
        path = write_jsonl(events, args.out, f"w-{window:%Y%m%d%H%M}")
        print(f"{path}\t{len(events)}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
