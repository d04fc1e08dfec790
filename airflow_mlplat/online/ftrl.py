"""FTRL-Proximal logistic regression (McMahan et al., "Ad Click Prediction: a View from the Trenches", 2013).

One state, three users: the ``ftrl_train`` component updates it on a window at a time, the
ten-minute loop warm-starts it from the champion, and the streaming job updates it per event. The
state is two arrays per coordinate (``z``, ``n``) and four hyper-parameters, kept as plain numbers
(``to_arrays`` / ``from_arrays``), never pickled, so a registered model is data, not code.

Coordinate ``dim`` is the intercept: every example has it with value 1 (not regularised by L1/L2,
as in the paper's implementation notes, so a sparse model keeps its base rate).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

HYPER_PARAMETERS = ("alpha", "beta", "l1", "l2")


@dataclasses.dataclass
class Ftrl:
    """FTRL-Proximal state over ``dim`` features plus the intercept."""

    dim: int
    alpha: float = 0.05
    beta: float = 1.0
    l1: float = 0.0
    l2: float = 0.0
    z: np.ndarray = dataclasses.field(default=None)  # type: ignore[assignment]
    n: np.ndarray = dataclasses.field(default=None)  # type: ignore[assignment]
    examples: int = 0

    def __post_init__(self) -> None:
        if self.dim < 1:
            raise ValueError(f"FTRL needs at least one feature, got dim={self.dim}")
        for name in HYPER_PARAMETERS:
            value = getattr(self, name)
            if not math.isfinite(value) or value < 0 or (name == "alpha" and value == 0):
                raise ValueError(
                    f"FTRL {name} must be a finite number {'> 0' if name == 'alpha' else '>= 0'}, got {value}"
                )
        size = self.dim + 1
        self.z = np.zeros(size) if self.z is None else np.asarray(self.z, dtype=np.float64)
        self.n = np.zeros(size) if self.n is None else np.asarray(self.n, dtype=np.float64)
        if self.z.shape != (size,) or self.n.shape != (size,):
            raise ValueError(
                f"FTRL state arrays must have {size} entries (dim + intercept), got {self.z.shape}, {self.n.shape}"
            )
        if (self.n < 0).any() or not (np.isfinite(self.z).all() and np.isfinite(self.n).all()):
            raise ValueError("FTRL state arrays hold non-finite or negative accumulator values")

    @property
    def hyper_parameters(self) -> dict[str, float]:
        return {name: float(getattr(self, name)) for name in HYPER_PARAMETERS}

    def _weights(self, index: np.ndarray) -> np.ndarray:
        z, n = self.z[index], self.n[index]
        regularised = index != self.dim
        l1 = np.where(regularised, self.l1, 0.0)
        l2 = np.where(regularised, self.l2, 0.0)
        shrunk = np.sign(z) * np.maximum(np.abs(z) - l1, 0.0)
        return -shrunk / ((self.beta + np.sqrt(n)) / self.alpha + l2)

    def weights(self) -> tuple[np.ndarray, float]:
        """``(coefficients, intercept)`` of the current model."""
        all_weights = self._weights(np.arange(self.dim + 1))
        return all_weights[:-1], float(all_weights[-1])

    def _example(self, indices: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return np.append(indices, self.dim), np.append(values, 1.0)

    def predict_one(self, indices: np.ndarray, values: np.ndarray) -> float:
        """P(label = 1) of one example given by its non-zero feature indices and values."""
        index, x = self._example(indices, values)
        return _sigmoid(float(self._weights(index) @ x))

    def learn_one(self, indices: np.ndarray, values: np.ndarray, label: float) -> float:
        """Predict the example, then learn from it; returns the prediction made before learning."""
        index, x = self._example(indices, values)
        w = self._weights(index)
        p = _sigmoid(float(w @ x))
        g = (p - label) * x
        n = self.n[index]
        sigma = (np.sqrt(n + g * g) - np.sqrt(n)) / self.alpha
        self.z[index] += g - sigma * w
        self.n[index] = n + g * g
        self.examples += 1
        return p

    def learn(self, rows: Iterable[tuple[np.ndarray, np.ndarray, float]]) -> np.ndarray:
        """``learn_one`` over ``rows`` in order; the predictions made before each update."""
        return np.fromiter((self.learn_one(i, v, y) for i, v, y in rows), dtype=np.float64)

    def predict_dense(self, features: np.ndarray) -> np.ndarray:
        """P(label = 1) of each row of a dense ``(rows, dim)`` matrix."""
        coefficients, intercept = self.weights()
        return _sigmoid_array(np.asarray(features, dtype=np.float64) @ coefficients + intercept)

    def to_arrays(self) -> dict[str, np.ndarray]:
        """The whole state as named arrays (``np.savez`` writes them; no object arrays)."""
        meta = [self.dim, self.examples, *(getattr(self, name) for name in HYPER_PARAMETERS)]
        return {"z": self.z, "n": self.n, "meta": np.asarray(meta, dtype=np.float64)}

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, Any]) -> Ftrl:
        meta = np.asarray(arrays["meta"], dtype=np.float64)
        if meta.shape != (2 + len(HYPER_PARAMETERS),):
            raise ValueError(f"FTRL state 'meta' must hold {2 + len(HYPER_PARAMETERS)} numbers, got {meta.shape}")
        dim, examples, *hyper = meta.tolist()
        return cls(int(dim), *hyper, z=arrays["z"], n=arrays["n"], examples=int(examples))

    def with_hyper_parameters(self, **changes: float) -> Ftrl:
        """A copy of the state under other hyper-parameters (a warm start that retunes them)."""
        values = {**self.hyper_parameters, **changes}
        return Ftrl(self.dim, **values, z=self.z.copy(), n=self.n.copy(), examples=self.examples)


def _sigmoid(margin: float) -> float:
    if margin >= 0:
        return 1.0 / (1.0 + math.exp(-margin))
    e = math.exp(margin)
    return e / (1.0 + e)


def _sigmoid_array(margin: np.ndarray) -> np.ndarray:
    return np.where(
        margin >= 0, 1.0 / (1.0 + np.exp(-np.abs(margin))), np.exp(-np.abs(margin)) / (1.0 + np.exp(-np.abs(margin)))
    )
