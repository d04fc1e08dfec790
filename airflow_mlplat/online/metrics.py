"""Binary metrics on numpy arrays for the loop's evaluation and the streaming job's progressive validation.

numpy only, so the Flink job's workers (``online.progressive``) can import it.
"""

from __future__ import annotations

import numpy as np

_CLIP = 1e-12


def log_loss(labels: np.ndarray, scores: np.ndarray) -> float:
    """Mean binary cross-entropy, scores clipped to [1e-12, 1 - 1e-12]."""
    labels = np.asarray(labels, dtype=np.float64)
    clipped = np.clip(np.asarray(scores, dtype=np.float64), _CLIP, 1 - _CLIP)
    return float(-np.mean(labels * np.log(clipped) + (1 - labels) * np.log(1 - clipped)))


def auc_roc(labels: np.ndarray, scores: np.ndarray) -> float:
    """Area under the ROC curve (Mann-Whitney, ties counted half).

    :raises ValueError: one class only.
    """
    labels = np.asarray(labels).astype(bool)
    scores = np.asarray(scores, dtype=np.float64)
    positives = int(labels.sum())
    negatives = labels.size - positives
    if positives == 0 or negatives == 0:
        raise ValueError(f"AUC needs both classes; got {positives} positive and {negatives} negative rows")
    _, inverse, counts = np.unique(scores, return_inverse=True, return_counts=True)
    ranks = (np.cumsum(counts) - (counts - 1) / 2.0)[inverse]
    return float((ranks[labels].sum() - positives * (positives + 1) / 2.0) / (positives * negatives))
