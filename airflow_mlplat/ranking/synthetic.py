"""Synthetic click data whose true click probability is known (``synthetic_ctr``'s generator).

Every random draw is a counter-based hash of ``(seed, row id, draw)`` (splitmix64), so a row
is the same however the rows are split into Spark partitions or batches, and the generator is
plain numpy: Spark runs it per Arrow batch (``mapInPandas``), the benchmark calls it directly.

Columns of a generated row:

- ``id``: the row id (the hash counter: ``generate([id])`` makes the same row again);
- ``item``: the target item (``item_<n>``), and ``c01`` .. ``c<F-1>``: categorical fields. Field
  ``f`` has ``max(2, round(max_cardinality / (f + 1) ** cardinality_exponent))`` values (a power
  law across fields) and, inside a field, value ``v`` is drawn with probability about
  ``1 / (v + 1)`` (a power law of popularity);
- ``n1``, ``n2``: numeric fields (``n1`` around 50, ``n2`` log-normal);
- ``hist_items``: the user's recent items, oldest first, 1 to ``max_history`` of them. Items fall
  into ``interest_clusters`` clusters (``item_<n>`` is in cluster ``n mod clusters``); a user has
  1 to 4 interest clusters and clicked items from them; the target item comes from one of them
  half of the time;
- ``label`` (click) and ``label2`` (a rarer, correlated second label, e.g. conversion), both 0/1;
- ``true_ctr`` and ``true_cvr``: the true probabilities of the two labels.

The true logit of ``label`` is the sum of

- first-order terms: a weight per field value;
- pairwise factorised interactions: ``sum over field pairs f < g of <u_f[v_f], u_g[v_g]>`` among
  the first six fields (the item and ``c01``..``c05``);
- a nonlinear term: ``0.8 * cos(1.5 * z1) * (+1 or -1 by the target item's cluster parity)``,
  with ``z1`` the standardised ``n1``, plus ``0.4 * z2``;
- target attention over the behaviour sequence: ``1.6 * sum_j a_j <e_t, e_j>`` with
  ``a = softmax_j(4 <e_t, e_j>)`` over the user's items ``j``, ``e`` unit item vectors near their
  cluster's centre (what DIN is built to find: the items of the interest the target belongs to,
  not the average of all interests);

and a bias. ``label2``'s logit shares the first-order and pairwise parts (times 0.8) and half
the sequence part, adds a term of its own on ``c01``, and has a lower bias.

Everything depends only on the observed columns, so a model can in principle reach the true
probabilities: their AUC on held-out rows (the oracle AUC) is the ceiling a model is measured
against.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from typing import Any

import numpy as np

_MASK = np.uint64(0xFFFFFFFFFFFFFFFF)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)

ITEM = "item"
HISTORY = "hist_items"
NUMERIC = ("n1", "n2")
LABELS = ("label", "label2")
TRUTH = ("true_ctr", "true_cvr")
#: The fields whose values interact pairwise (a few strong interactions, as in real click logs,
#: rather than every pair weakly).
INTERACTING_FIELDS = 6
#: Embedding width of the true pairwise interactions and of the true item vectors.
FACTOR_DIM = 4
ITEM_DIM = 8
#: How sharp the true attention is, and how much the sequence term weighs.
ATTENTION_SHARPNESS = 4.0
SEQUENCE_WEIGHT = 1.6


def _splitmix(x: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        z = (x + _GOLDEN) & _MASK
        z = ((z ^ (z >> np.uint64(30))) * _MIX1) & _MASK
        z = ((z ^ (z >> np.uint64(27))) * _MIX2) & _MASK
        return z ^ (z >> np.uint64(31))


def uniform(seed: int, ids: np.ndarray, stream: int) -> np.ndarray:
    """U[0, 1) draws, one per id, the same for the same ``(seed, id, stream)`` anywhere."""
    with np.errstate(over="ignore"):
        key = _splitmix(np.uint64(seed & 0xFFFFFFFF) * np.uint64(0x100000001B3) + np.uint64(stream))
        bits = _splitmix(ids.astype(np.uint64) ^ key)
    return (bits >> np.uint64(11)).astype(np.float64) * (1.0 / (1 << 53))


def normal(seed: int, ids: np.ndarray, stream: int) -> np.ndarray:
    u1 = np.maximum(uniform(seed, ids, 2 * stream + 10_000), 1e-300)
    u2 = uniform(seed, ids, 2 * stream + 10_001)
    return np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * math.pi * u2)


@dataclasses.dataclass(frozen=True)
class SyntheticCtr:
    """The generator's settings (``synthetic_ctr``'s parameters) and its true model."""

    fields: int = 20
    max_cardinality: int = 10_000
    cardinality_exponent: float = 1.0
    max_history: int = 20
    interest_clusters: int = 8
    seed: int = 7

    def __post_init__(self) -> None:
        if self.fields < 2:
            raise ValueError(f"fields must be >= 2 (the item and at least one more), got {self.fields}")
        if self.max_cardinality < self.interest_clusters * 2:
            raise ValueError("max_cardinality must be at least twice interest_clusters")

    # -- layout --------------------------------------------------------------------------

    @property
    def categorical(self) -> list[str]:
        """The categorical fields: the item first, then ``c01`` ..."""
        return [ITEM, *[f"c{f:02d}" for f in range(1, self.fields)]]

    def cardinality(self, field: int) -> int:
        return max(2, round(self.max_cardinality / (field + 1) ** self.cardinality_exponent))

    @property
    def interacting(self) -> int:
        """The fields with pairwise interactions: the first ``INTERACTING_FIELDS`` (the item first)."""
        return min(self.fields, INTERACTING_FIELDS)

    @property
    def cardinalities(self) -> list[int]:
        return [self.cardinality(f) for f in range(self.fields)]

    @property
    def columns(self) -> list[str]:
        return ["id", *self.categorical, *NUMERIC, HISTORY, *LABELS, *TRUTH]

    # -- the true model's parameters (from the seed alone) -----------------------------------

    @functools.cached_property
    def _tables(self) -> dict[str, Any]:
        rng = np.random.default_rng([self.seed, 20_240_914])
        pairs = self.interacting * (self.interacting - 1) / 2
        first_std = 0.8 / math.sqrt(self.fields)
        factor_std = (0.64 / (pairs * FACTOR_DIM)) ** 0.25
        first = [rng.normal(0.0, first_std, k) for k in self.cardinalities]
        factors = [rng.normal(0.0, factor_std, (k, FACTOR_DIM)) for k in self.cardinalities[: self.interacting]]
        centres = rng.normal(0.0, 1.0, (self.interest_clusters, ITEM_DIM))
        centres /= np.linalg.norm(centres, axis=1, keepdims=True)
        items = self.cardinality(0)
        vectors = centres[np.arange(items) % self.interest_clusters] + 0.35 * rng.normal(
            0.0, 1.0 / math.sqrt(ITEM_DIM), (items, ITEM_DIM)
        )
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        cvr_own = rng.normal(0.0, 0.6, self.cardinality(1))
        return {"first": first, "factors": factors, "items": vectors, "cvr_own": cvr_own}

    # -- generation -------------------------------------------------------------------------

    def _zipf(self, ids: np.ndarray, stream: int, size: int) -> np.ndarray:
        """Values 0..size-1 with P(v) ~ log((v + 2) / (v + 1)): a power law of popularity."""
        u = uniform(self.seed, ids, stream)
        return np.minimum(np.floor(np.exp(u * math.log(size + 1))) - 1, size - 1).astype(np.int64)

    def indices(self, ids: np.ndarray) -> dict[str, np.ndarray]:
        """The raw draws of rows ``ids`` as indices (what ``generate`` spells as text)."""
        ids = np.asarray(ids, dtype=np.int64)
        n = len(ids)
        clusters = self.interest_clusters
        items = self.cardinality(0)
        per_cluster = items // clusters
        interests_count = 1 + np.floor(4 * uniform(self.seed, ids, 1)).astype(np.int64)
        interests = np.floor(clusters * np.stack([uniform(self.seed, ids, 2 + i) for i in range(4)], 1)).astype(
            np.int64
        )
        lengths = 1 + np.floor(self.max_history * uniform(self.seed, ids, 6)).astype(np.int64)
        history = np.zeros((n, self.max_history), dtype=np.int64)
        for j in range(self.max_history):
            which = np.floor(interests_count * uniform(self.seed, ids, 100 + 2 * j)).astype(np.int64)
            cluster = interests[np.arange(n), which]
            rank = self._zipf(ids, 101 + 2 * j, per_cluster)
            history[:, j] = cluster + clusters * rank
        from_interest = uniform(self.seed, ids, 7) < 0.5
        which = np.floor(interests_count * uniform(self.seed, ids, 8)).astype(np.int64)
        interest_item = interests[np.arange(n), which] + clusters * self._zipf(ids, 9, per_cluster)
        random_item = self._zipf(ids, 10, items)
        out = {ITEM: np.where(from_interest, interest_item, random_item)}
        for f in range(1, self.fields):
            out[self.categorical[f]] = self._zipf(ids, 20 + f, self.cardinality(f))
        # The observed (rounded) numbers drive the truth, so a raw table gives back the same logits.
        out["n1"] = np.round(50.0 + 12.0 * normal(self.seed, ids, 1), 3)
        out["n2"] = np.round(np.exp(1.0 + 0.5 * normal(self.seed, ids, 2)), 4)
        out["history"] = history
        out["lengths"] = lengths
        return out

    def logits(self, draws: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """The true logits' parts for index draws (``indices``, or ``parse`` of a raw table)."""
        tables = self._tables
        codes = [draws[name] for name in self.categorical]
        first = sum(tables["first"][f][codes[f]] for f in range(self.fields))
        factors = np.stack([tables["factors"][f][codes[f]] for f in range(self.interacting)], 1)  # [n, F', k]
        pairwise = 0.5 * (np.square(factors.sum(1)).sum(1) - np.square(factors).sum((1, 2)))
        item = draws[ITEM]
        parity = np.where(item % self.interest_clusters % 2 == 0, 1.0, -1.0)
        z1 = (draws["n1"] - 50.0) / 12.0
        z2 = (np.log(draws["n2"]) - 1.0) / 0.5
        nonlinear = 0.8 * np.cos(1.5 * z1) * parity + 0.4 * z2
        target = tables["items"][item]  # [n, d]
        history = tables["items"][draws["history"]]  # [n, L, d]
        similarity = np.einsum("nd,nld->nl", target, history)
        valid = np.arange(draws["history"].shape[1])[None, :] < draws["lengths"][:, None]
        scores = np.where(valid, ATTENTION_SHARPNESS * similarity, -np.inf)
        weights = np.exp(scores - scores.max(1, keepdims=True))
        weights /= weights.sum(1, keepdims=True)
        sequence = SEQUENCE_WEIGHT * (weights * np.where(valid, similarity, 0.0)).sum(1)
        ctr = -1.8 + first + pairwise + nonlinear + sequence
        cvr = -3.2 + 0.8 * (first + pairwise) + 0.5 * sequence + tables["cvr_own"][codes[1]]
        return {
            "first": first,
            "pairwise": pairwise,
            "nonlinear": nonlinear,
            "sequence": sequence,
            "ctr": ctr,
            "cvr": cvr,
        }

    @functools.cache  # noqa: B019 (a frozen dataclass: one table of spellings per field and generator)
    def _names(self, field: int) -> np.ndarray:
        name = self.categorical[field]
        return np.asarray([f"{name}_{v}" for v in range(self.cardinality(field))], dtype=object)

    def generate(self, ids: np.ndarray) -> Any:
        """Rows ``ids`` as a pandas DataFrame with ``columns``."""
        import pandas as pd

        ids = np.asarray(ids, dtype=np.int64)
        draws = self.indices(ids)
        logits = self.logits(draws)
        p_ctr = 1.0 / (1.0 + np.exp(-logits["ctr"]))
        p_cvr = 1.0 / (1.0 + np.exp(-logits["cvr"]))
        frame: dict[str, Any] = {"id": ids}
        for f, name in enumerate(self.categorical):
            frame[name] = self._names(f)[draws[name]]
        frame["n1"] = draws["n1"]
        frame["n2"] = draws["n2"]
        items = self._names(0)[draws["history"]]
        frame[HISTORY] = [row[:length].tolist() for row, length in zip(items, draws["lengths"], strict=True)]
        frame["label"] = (uniform(self.seed, ids, 50) < p_ctr).astype(np.int32)
        frame["label2"] = (uniform(self.seed, ids, 51) < p_cvr).astype(np.int32)
        frame["true_ctr"] = p_ctr
        frame["true_cvr"] = p_cvr
        return pd.DataFrame(frame, columns=self.columns)

    def parse(self, frame: Any) -> dict[str, np.ndarray]:
        """Index draws back from a raw table's columns (to score changed rows with the true model)."""
        draws: dict[str, np.ndarray] = {}
        for name in self.categorical:
            draws[name] = np.asarray([int(v.rsplit("_", 1)[1]) for v in frame[name]], dtype=np.int64)
        draws["n1"] = np.asarray(frame["n1"], dtype=np.float64)
        draws["n2"] = np.asarray(frame["n2"], dtype=np.float64)
        lengths = np.asarray([len(h) for h in frame[HISTORY]], dtype=np.int64)
        history = np.zeros((len(lengths), self.max_history), dtype=np.int64)
        for i, items in enumerate(frame[HISTORY]):
            history[i, : len(items)] = [int(v.rsplit("_", 1)[1]) for v in items]
        draws["history"] = history
        draws["lengths"] = lengths
        return draws
