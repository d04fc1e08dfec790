"""The training-curve PNG (the reference platform's "training process visualisation")."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any


def training_curve_png(history: Sequence[dict[str, Any]], tasks: Sequence[str], title: str) -> bytes:
    """Train loss and validation log loss per epoch (left), validation AUC per task (right), as PNG bytes.

    ``history``: one dict per epoch with ``epoch``, ``train_loss`` and ``val_auc_<task>``,
    ``val_logloss_<task>`` per task; the best epoch is marked.
    """
    from matplotlib.figure import Figure

    epochs = [h["epoch"] for h in history]
    figure = Figure(figsize=(9, 3.6))
    left, right = figure.subplots(1, 2)
    left.plot(epochs, [h["train_loss"] for h in history], marker="o", label="train loss")
    for task in tasks:
        left.plot(
            epochs, [h[f"val_logloss_{task}"] for h in history], marker="s", label=f"validation log loss ({task})"
        )
        right.plot(epochs, [h[f"val_auc_{task}"] for h in history], marker="o", label=f"validation AUC ({task})")
    best = [h["epoch"] for h in history if h.get("best")]
    for axis in (left, right):
        for epoch in best:
            axis.axvline(epoch, color="grey", linestyle=":", linewidth=1)
        axis.set_xlabel("epoch")
        axis.grid(alpha=0.3)
        axis.legend(fontsize=7)
    left.set_title("loss")
    right.set_title("validation AUC")
    figure.suptitle(title)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    return buffer.getvalue()
