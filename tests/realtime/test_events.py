"""The event generator: determinism, layout helpers, JSON lines, and a drift a model can feel."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import numpy as np
import pytest

from airflow_mlplat.online.metrics import auc_roc
from airflow_mlplat.realtime.events import EVENT_SCHEMA, FEATURES, window_events, write_jsonl
from airflow_mlplat.realtime.generate import main as generate_main
from airflow_mlplat.realtime.windows import partition_path, window_start_of

T0 = datetime(2026, 11, 27, 12, 30)


def _arrays(events):
    return np.array([[e[f] for f in FEATURES] for e in events]), np.array([e["label"] for e in events])


def _fit_logistic(x, y):
    """Newton's method on standardised features: the same model family the pipeline trains."""
    mean, sd = x.mean(0), x.std(0)
    design = np.c_[np.ones(len(x)), (x - mean) / sd]
    w = np.zeros(design.shape[1])
    for _ in range(30):
        p = 1 / (1 + np.exp(-design @ w))
        hessian = design.T @ (design * (p * (1 - p))[:, None]) + 1e-6 * np.eye(len(w))
        w += np.linalg.solve(hessian, design.T @ (y - p))
    return lambda new: np.c_[np.ones(len(new)), (new - mean) / sd] @ w


def test_events_are_deterministic_and_inside_their_window():
    first = window_events(T0, 10, 500, seed=3, drift=0.4)
    assert first == window_events(T0, 10, 500, seed=3, drift=0.4)
    assert first != window_events(T0, 10, 500, seed=4, drift=0.4)
    assert [name for name, _ in EVENT_SCHEMA] == list(first[0])
    assert len({e["event_id"] for e in first}) == 500
    assert first[0]["event_id"] == "202611271230-3-000000"
    assert all(T0 <= e["event_time"] < datetime(2026, 11, 27, 12, 40) for e in first)
    assert all(e["event_time"].microsecond % 1000 == 0 for e in first)
    assert {e["label"] for e in first} == {0, 1}


def test_window_helpers():
    assert window_start_of(datetime(2026, 11, 27, 0, 7, 59), 5) == datetime(2026, 11, 27, 0, 5)
    assert window_start_of(datetime(2026, 11, 27, 9, 59, tzinfo=UTC), 10).minute == 50
    assert partition_path("hdfs://nn:8020/events/", datetime(2026, 11, 27, 0, 0)) == (
        "hdfs://nn:8020/events/dt=2026-11-27/hm=0000"
    )
    with pytest.raises(ValueError, match="divide 60"):
        window_start_of(T0, 7)


def test_jsonl_is_atomic_and_flink_readable(tmp_path):
    path = write_jsonl(window_events(T0, 10, 3, seed=1, drift=0.0), tmp_path, "w-1")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["w-1.jsonl"]
    line = json.loads(path.read_text().splitlines()[0])
    assert len(line["event_time"]) == len("2026-11-27T12:30:05.123") and line["event_time"].startswith(
        "2026-11-27T12:3"
    )


def test_generate_cli_writes_one_file_per_window(tmp_path, capsys):
    assert (
        generate_main(
            [
                "--out",
                str(tmp_path),
                "--start",
                "2026-11-27T12:03",
                "--windows",
                "3",
                "--window-minutes",
                "5",
                "--events",
                "10",
                "--corrupt-window",
                "1",
            ]
        )
        == 0
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "w-202611271200.jsonl",
        "w-202611271205.jsonl",
        "w-202611271210.jsonl",
    ]
    assert len(capsys.readouterr().out.splitlines()) == 3


def test_recent_training_beats_old_training_on_the_newest_window():
    newest_x, newest_y = _arrays(window_events(datetime(2026, 11, 27, 13, 0), 10, 2000, seed=1, drift=1.0))
    old = _fit_logistic(*_arrays(window_events(datetime(2026, 11, 27, 11, 0), 10, 2000, seed=2, drift=0.0)))
    recent = _fit_logistic(*_arrays(window_events(datetime(2026, 11, 27, 12, 50), 10, 2000, seed=2, drift=0.9)))
    bad = _fit_logistic(
        *_arrays(window_events(datetime(2026, 11, 27, 12, 50), 10, 2000, seed=2, drift=0.9, corrupt=True))
    )
    old_auc, recent_auc, bad_auc = (auc_roc(newest_y, model(newest_x)) for model in (old, recent, bad))
    assert recent_auc > 0.85
    assert recent_auc - old_auc > 0.05
    assert bad_auc < recent_auc - 0.3


def test_auc_counts_ties_half():
    assert auc_roc(np.array([0, 1]), np.array([0.5, 0.5])) == 0.5
    assert auc_roc(np.array([0, 0, 1, 1]), np.array([0.1, 0.4, 0.35, 0.8])) == 0.75
