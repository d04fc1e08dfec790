"""The micro-batcher: concurrent requests scored together, each answered with its own rows."""

from __future__ import annotations

import threading

import pytest

from airflow_mlplat.serving.batching import BatchSettings, MicroBatcher
from airflow_mlplat.serving.errors import InvalidInputError


class RecordingScorer:
    """Doubles ``x``; a row with ``x`` < 0 is invalid. Records every batch it was called with."""

    def __init__(self, delay: threading.Event | None = None) -> None:
        self.calls: list[int] = []
        self.delay = delay

    def predict(self, rows):
        if self.delay is not None:
            self.delay.wait(5)
        self.calls.append(len(rows))
        for index, row in enumerate(rows):
            if row["x"] < 0:
                raise InvalidInputError(f"row {index}: x < 0", field="x", row=index)
        return [{"y": 2 * row["x"]} for row in rows]


def concurrently(batcher: MicroBatcher, requests: list[list[dict]]) -> list[object]:
    results: list[object] = [None] * len(requests)

    def call(i: int) -> None:
        try:
            results[i] = batcher.predict(requests[i])
        except InvalidInputError as error:
            results[i] = error

    threads = [threading.Thread(target=call, args=(i,)) for i in range(len(requests))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    return results


def test_concurrent_requests_are_scored_together_and_answered_with_their_own_rows():
    gate = threading.Event()
    scorer = RecordingScorer(delay=gate)
    batcher = MicroBatcher(scorer, BatchSettings(max_rows=8, max_wait_ms=200))
    requests = [[{"x": float(10 * i + j)} for j in range(i % 3 + 1)] for i in range(6)]
    timer = threading.Timer(0.3, gate.set)  # the first batch is held while the others queue
    timer.start()
    results = concurrently(batcher, requests)
    assert results == [[{"y": 2 * row["x"]} for row in rows] for rows in requests]
    assert sum(scorer.calls) == sum(len(r) for r in requests) and len(scorer.calls) < len(requests)
    assert max(scorer.calls) <= 8
    assert batcher.stats()["batches"] == len(scorer.calls) and batcher.stats()["rows"] == sum(scorer.calls)


def test_a_bad_request_in_a_combined_batch_fails_alone_naming_its_own_row():
    gate = threading.Event()
    batcher = MicroBatcher(RecordingScorer(delay=gate), BatchSettings(max_rows=16, max_wait_ms=200))
    requests = [[{"x": 1.0}, {"x": 2.0}], [{"x": 3.0}, {"x": -1.0}], [{"x": 4.0}]]
    threading.Timer(0.3, gate.set).start()
    good_a, bad, good_b = concurrently(batcher, requests)
    assert good_a == [{"y": 2.0}, {"y": 4.0}] and good_b == [{"y": 8.0}]
    assert isinstance(bad, InvalidInputError) and bad.row == 1  # its own row 1, not the batch's row 3


def test_a_request_as_large_as_a_batch_is_scored_alone_and_a_closed_batcher_scores_directly():
    scorer = RecordingScorer()
    batcher = MicroBatcher(scorer, BatchSettings(max_rows=4, max_wait_ms=50))
    assert batcher.predict([{"x": float(i)} for i in range(5)]) == [{"y": 2.0 * i} for i in range(5)]
    batcher.close()
    assert batcher.predict([{"x": 1.0}]) == [{"y": 2.0}]
    assert scorer.calls == [5, 1]
    batcher._thread.join(5)
    assert not batcher._thread.is_alive()


@pytest.mark.parametrize(("rows", "wait"), [(0, 1.0), (8, -1.0), (8, 5000.0)])
def test_bad_settings_are_refused(rows, wait):
    with pytest.raises(ValueError, match="micro-batching"):
        BatchSettings(max_rows=rows, max_wait_ms=wait)
