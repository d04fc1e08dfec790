"""Running mean and variance per feature, merged a batch at a time (Chan, Golub and LeVeque's update).

Merging the moments of window after window gives the same mean and variance as one pass over all
of them, so an online scaler fitted window by window equals a scaler fitted on their union.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import numpy as np


@dataclasses.dataclass(frozen=True)
class Moments:
    """Count, mean and sum of squared deviations (``m2``) of each feature."""

    count: float
    mean: np.ndarray
    m2: np.ndarray

    @classmethod
    def empty(cls, dim: int) -> Moments:
        return cls(0.0, np.zeros(dim), np.zeros(dim))

    @classmethod
    def of_batch(cls, count: float, mean: Any, variance: Any) -> Moments:
        """A batch's moments from its count, mean and sample variance (``n - 1`` denominator, as Spark's)."""
        mean, variance = np.asarray(mean, dtype=np.float64), np.asarray(variance, dtype=np.float64)
        return cls(float(count), mean, np.nan_to_num(variance) * max(count - 1.0, 0.0))

    @property
    def dim(self) -> int:
        return int(self.mean.shape[0])

    def merge(self, other: Moments) -> Moments:
        if other.dim != self.dim:
            raise ValueError(f"cannot merge moments of {other.dim} features into moments of {self.dim}")
        total = self.count + other.count
        if total == 0:
            return self
        delta = other.mean - self.mean
        mean = self.mean + delta * (other.count / total)
        m2 = self.m2 + other.m2 + delta * delta * (self.count * other.count / total)
        return Moments(total, mean, m2)

    def std(self) -> np.ndarray:
        """Sample standard deviation (``n - 1``), Spark StandardScaler's; 0 where fewer than two rows."""
        if self.count < 2:
            return np.zeros(self.dim)
        return np.sqrt(self.m2 / (self.count - 1.0))

    def to_arrays(self) -> dict[str, np.ndarray]:
        return {"count": np.asarray([self.count]), "mean": self.mean, "m2": self.m2}

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, Any]) -> Moments:
        count = np.asarray(arrays["count"], dtype=np.float64)
        mean, m2 = np.asarray(arrays["mean"], dtype=np.float64), np.asarray(arrays["m2"], dtype=np.float64)
        if count.shape != (1,) or mean.ndim != 1 or mean.shape != m2.shape:
            raise ValueError(f"moments arrays do not fit: count {count.shape}, mean {mean.shape}, m2 {m2.shape}")
        if count[0] < 0 or (m2 < 0).any() or not (np.isfinite(mean).all() and np.isfinite(m2).all()):
            raise ValueError("moments arrays hold a negative count, negative or non-finite values")
        return cls(float(count[0]), mean, m2)
