"""Per-event learning with progressive validation: impute, standardise, predict, then learn.

The streaming FTRL job keeps one :class:`StreamingLearner` per model. For every event it

1. fills missing features with the running mean of the values seen so far (Spark's mean ``Imputer``);
2. standardises them by the running moments *before* this event (the ``online_standard_scaler``);
3. predicts with the current FTRL weights (progressive validation: the event is scored before the
   model has seen it), then learns it (``Ftrl.learn_one``, which returns that very prediction);
4. merges the event into the imputer's and the scaler's running figures;
5. keeps ``(seq, event time, score, label, raw features)`` in a ring of the last ``window`` events,
   from which :meth:`StreamingLearner.metrics` computes the sliding-window AUC and log loss.

So the state after ``k`` events, served as Imputer -> VectorAssembler -> OnlineStandardScalerModel ->
FtrlModel (:mod:`airflow_mlplat.realtime.snapshot_model`), predicts event ``k + 1`` exactly as the job did.

State is plain arrays (``model_vector`` / ``from_model_vector`` for Flink's value state, ``to_arrays`` /
``from_arrays`` for a snapshot), never pickled. Imports only numpy and ``online``, so it runs inside the
Flink job's virtualenv.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from airflow_mlplat.online.ftrl import HYPER_PARAMETERS, Ftrl
from airflow_mlplat.online.metrics import auc_roc, log_loss
from airflow_mlplat.online.moments import Moments

#: Width of one window row: seq, event time (epoch ms), score, label, then the raw features (NaN: missing).
WINDOW_FIELDS = ("seq", "time_ms", "score", "label")
#: Counters kept with the model (``model_vector``'s tail): events learnt, min/max event time, late events.
COUNTERS = ("events", "first_time_ms", "last_time_ms", "late_events")


def window_metrics(labels: np.ndarray, scores: np.ndarray) -> dict[str, float | None]:
    """``auc_roc`` (None with one class only), ``log_loss`` (None without rows) and ``rows`` of the pairs."""
    labels = np.asarray(labels, dtype=np.float64)
    scores = np.asarray(scores, dtype=np.float64)
    if labels.size == 0:
        return {"auc_roc": None, "log_loss": None, "rows": 0}
    try:
        auc: float | None = auc_roc(labels, scores)
    except ValueError:
        auc = None
    return {"auc_roc": auc, "log_loss": log_loss(labels, scores), "rows": int(labels.size)}


class StreamingLearner:
    """Imputer + running standardisation + FTRL over ``dim`` features, with a progressive-validation window.

    :param dim: number of features.
    :param window: how many recent (score, label) pairs the sliding metrics cover.
    :param alpha, beta, l1, l2: FTRL-Proximal hyper-parameters (see :class:`Ftrl`).
    """

    def __init__(self, dim: int, *, window: int = 2000, alpha: float = 0.1, beta: float = 1.0, l1=0.0, l2=0.0):
        if not isinstance(window, int) or window < 1:
            raise ValueError(f"the metric window must be an integer >= 1, got {window!r}")
        self.ftrl = Ftrl(dim, alpha=alpha, beta=beta, l1=l1, l2=l2)
        self.moments = Moments.empty(dim)
        self.observed = np.zeros(dim)  # per feature: how many values were present
        self.observed_sum = np.zeros(dim)
        self.window = window
        self.rows = np.full((window, len(WINDOW_FIELDS) + dim), np.nan)
        self.filled = 0  # rows of the ring in use
        self.events = 0
        self.first_time_ms = math.nan
        self.last_time_ms = math.nan
        self.late_events = 0

    @property
    def dim(self) -> int:
        return self.ftrl.dim

    # -- the transform the served model applies ---------------------------------------------
    def surrogates(self) -> np.ndarray:
        """The imputer's replacement per feature: the mean of the values seen (0 before any)."""
        return np.divide(self.observed_sum, self.observed, out=np.zeros(self.dim), where=self.observed > 0)

    def _scale(self) -> np.ndarray:
        std = self.moments.std()
        return np.where(std > 0, 1.0 / np.where(std > 0, std, 1.0), 0.0)

    def transform(self, raw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(imputed, standardised)`` of one raw feature vector (NaN: missing) under the current state."""
        imputed = np.where(np.isnan(raw), self.surrogates(), raw)
        return imputed, (imputed - self.moments.mean) * self._scale()

    def predict(self, raw: Sequence[float]) -> float:
        """P(label = 1) of one event under the current state, without learning it."""
        _, scaled = self.transform(np.asarray(raw, dtype=np.float64))
        return self.ftrl.predict_one(np.arange(self.dim), scaled)

    # -- one event ---------------------------------------------------------------------------
    def learn_one(self, raw: Sequence[float], label: float, time_ms: float, *, late: bool = False) -> float:
        """Score the event with the current state, then learn it; returns the score (progressive validation).

        :raises ValueError: ``raw`` has the wrong length, or ``label`` is not 0 or 1.
        """
        x = np.asarray(raw, dtype=np.float64)
        if x.shape != (self.dim,):
            raise ValueError(f"an event must have {self.dim} features, got {x.shape[0] if x.ndim else 'a scalar'}")
        if label not in (0, 1, 0.0, 1.0):
            raise ValueError(f"an event's label must be 0 or 1, got {label!r}")
        imputed, scaled = self.transform(x)
        score = self.ftrl.learn_one(np.arange(self.dim), scaled, float(label))
        present = ~np.isnan(x)
        self.observed += present
        self.observed_sum += np.where(present, x, 0.0)
        self.moments = self.moments.merge(Moments(1.0, imputed, np.zeros(self.dim)))
        self.events += 1
        self.late_events += int(late)
        self.first_time_ms = time_ms if math.isnan(self.first_time_ms) else min(self.first_time_ms, time_ms)
        self.last_time_ms = time_ms if math.isnan(self.last_time_ms) else max(self.last_time_ms, time_ms)
        slot = self.slot(self.events)
        self.rows[slot] = [self.events, time_ms, score, float(label), *x]
        self.filled = min(self.filled + 1, self.window)
        return score

    def slot(self, seq: int) -> int:
        """The ring position of event number ``seq`` (1-based)."""
        return (seq - 1) % self.window

    def window_rows(self) -> np.ndarray:
        """The window's rows, oldest first: ``(rows, 4 + dim)`` (see ``WINDOW_FIELDS``)."""
        used = self.rows[: self.filled] if self.filled < self.window else self.rows
        return used[np.argsort(used[:, 0], kind="stable")]

    def metrics(self) -> dict[str, Any]:
        """The sliding-window AUC and log loss over the last ``window`` events, and the counters."""
        rows = self.window_rows()
        result: dict[str, Any] = window_metrics(rows[:, 3], rows[:, 2])
        result.update(
            {
                "events": self.events,
                "window": self.window,
                "late_events": self.late_events,
                "first_event_time_ms": None if math.isnan(self.first_time_ms) else int(self.first_time_ms),
                "last_event_time_ms": None if math.isnan(self.last_time_ms) else int(self.last_time_ms),
                "window_first_seq": int(rows[0, 0]) if len(rows) else None,
                "window_last_seq": int(rows[-1, 0]) if len(rows) else None,
            }
        )
        return result

    # -- state as arrays ---------------------------------------------------------------------
    def model_vector(self) -> list[float]:
        """Everything but the window as one flat list of numbers (Flink value state)."""
        ftrl = self.ftrl.to_arrays()
        return [
            float(self.window),
            *ftrl["meta"].tolist(),
            *ftrl["z"].tolist(),
            *ftrl["n"].tolist(),
            self.moments.count,
            *self.moments.mean.tolist(),
            *self.moments.m2.tolist(),
            *self.observed.tolist(),
            *self.observed_sum.tolist(),
            float(self.filled),
            float(self.events),
            self.first_time_ms,
            self.last_time_ms,
            float(self.late_events),
        ]

    @classmethod
    def from_model_vector(cls, vector: Sequence[float], rows: Mapping[int, Sequence[float]] = ()) -> StreamingLearner:
        """The learner of ``model_vector()``, its window rows given as ``{slot: row}``."""
        values = np.asarray(vector, dtype=np.float64)
        window, meta = int(values[0]), values[1 : 3 + len(HYPER_PARAMETERS)]
        dim = int(meta[0])
        expected = 1 + meta.size + 2 * (dim + 1) + 1 + 4 * dim + 1 + len(COUNTERS)
        if values.size != expected:
            raise ValueError(
                f"a streaming FTRL state vector of {dim} features has {expected} numbers, got {values.size}"
            )
        at = 1 + meta.size
        z, n = values[at : at + dim + 1], values[at + dim + 1 : at + 2 * dim + 2]
        at += 2 * dim + 2
        count, mean, m2 = values[at], values[at + 1 : at + 1 + dim], values[at + 1 + dim : at + 1 + 2 * dim]
        at += 1 + 2 * dim
        observed, observed_sum = values[at : at + dim], values[at + dim : at + 2 * dim]
        at += 2 * dim
        learner = cls.__new__(cls)
        learner.ftrl = Ftrl.from_arrays({"z": z, "n": n, "meta": meta})
        learner.moments = Moments.from_arrays({"count": [count], "mean": mean, "m2": m2})
        learner.observed, learner.observed_sum = observed.copy(), observed_sum.copy()
        learner.window = window
        learner.rows = np.full((window, len(WINDOW_FIELDS) + dim), np.nan)
        learner.filled = int(values[at])
        learner.events = int(values[at + 1])
        learner.first_time_ms, learner.last_time_ms = float(values[at + 2]), float(values[at + 3])
        learner.late_events = int(values[at + 4])
        for slot, row in dict(rows).items():
            learner.rows[int(slot)] = row
        return learner

    def to_arrays(self) -> dict[str, np.ndarray]:
        """The whole state as named numeric arrays (a snapshot's ``state.npz``)."""
        ftrl = self.ftrl.to_arrays()
        return {
            "ftrl_z": ftrl["z"],
            "ftrl_n": ftrl["n"],
            "ftrl_meta": ftrl["meta"],
            **{f"scaler_{k}": v for k, v in self.moments.to_arrays().items()},
            "imputer_observed": self.observed,
            "imputer_sum": self.observed_sum,
            "window_rows": self.window_rows(),
            "counters": np.asarray(
                [self.window, self.events, self.first_time_ms, self.last_time_ms, self.late_events], dtype=np.float64
            ),
        }

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, Any]) -> StreamingLearner:
        """The learner a snapshot's ``state.npz`` holds (``ValueError`` when the arrays do not fit)."""
        ftrl = Ftrl.from_arrays({"z": arrays["ftrl_z"], "n": arrays["ftrl_n"], "meta": arrays["ftrl_meta"]})
        counters = np.asarray(arrays["counters"], dtype=np.float64)
        window = int(counters[0])
        learner = cls(ftrl.dim, window=window, **ftrl.hyper_parameters)
        learner.ftrl = ftrl
        learner.moments = Moments.from_arrays(
            {"count": arrays["scaler_count"], "mean": arrays["scaler_mean"], "m2": arrays["scaler_m2"]}
        )
        learner.observed = np.asarray(arrays["imputer_observed"], dtype=np.float64)
        learner.observed_sum = np.asarray(arrays["imputer_sum"], dtype=np.float64)
        rows = np.asarray(arrays["window_rows"], dtype=np.float64)
        if rows.ndim != 2 or rows.shape[1] != len(WINDOW_FIELDS) + ftrl.dim or rows.shape[0] > window:
            raise ValueError(f"window rows of shape {rows.shape} do not fit {ftrl.dim} features and window {window}")
        for row in rows:
            learner.rows[learner.slot(int(row[0]))] = row
        learner.filled = rows.shape[0]
        learner.events = int(counters[1])
        learner.first_time_ms, learner.last_time_ms = float(counters[2]), float(counters[3])
        learner.late_events = int(counters[4])
        return learner
