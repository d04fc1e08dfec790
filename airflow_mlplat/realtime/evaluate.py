"""Score a candidate model version and the champion on the SAME partition, with the same metric code.

Both versions are downloaded from the MLflow registry over REST and scored by the serving's numpy
scorer of Spark PipelineModels, so the numbers are those the prediction service would produce. No
pyspark, no mlflow import: this runs inside an Airflow worker in a second or two.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Sequence
from typing import Any

import numpy as np

from airflow_mlplat.realtime.events import FEATURES

LABEL = "label"


def read_partition(partition_url: str, columns: Sequence[str] = (*FEATURES, LABEL)) -> Any:
    """The committed Parquet files of one partition folder (hidden and ``_`` files skipped): a pyarrow Table.

    :raises ValueError: the partition has no rows or lacks a column (names the URL).
    """
    import pyarrow.parquet as pq

    from airflow_mlplat.storage.urls import filesystem

    fs, path = filesystem(partition_url)
    try:
        table = pq.read_table(path, filesystem=fs, columns=list(columns), partitioning=None)
    except (OSError, ValueError) as error:  # pyarrow's ArrowInvalid is a ValueError
        raise ValueError(f"evaluation partition {partition_url}: {error}") from error
    if table.num_rows == 0:
        raise ValueError(f"evaluation partition {partition_url}: no rows")
    return table


def auc_roc(labels: np.ndarray, scores: np.ndarray) -> float:
    """Area under the ROC curve (Mann-Whitney, ties counted half)."""
    labels = np.asarray(labels).astype(bool)
    scores = np.asarray(scores, dtype=float)
    positives = int(labels.sum())
    negatives = labels.size - positives
    if positives == 0 or negatives == 0:
        raise ValueError(f"AUC needs both classes; got {positives} positive and {negatives} negative rows")
    _, inverse, counts = np.unique(scores, return_inverse=True, return_counts=True)
    ends = np.cumsum(counts)
    ranks = (ends - (counts - 1) / 2.0)[inverse]
    return float((ranks[labels].sum() - positives * (positives + 1) / 2.0) / (positives * negatives))


def binary_metrics(labels: np.ndarray, p1: np.ndarray) -> dict[str, float]:
    """``auc_roc``, ``log_loss``, ``accuracy`` (threshold 0.5) and ``rows``."""
    labels = np.asarray(labels).astype(float)
    clipped = np.clip(p1, 1e-12, 1 - 1e-12)
    return {
        "auc_roc": auc_roc(labels, p1),
        "log_loss": float(-np.mean(labels * np.log(clipped) + (1 - labels) * np.log(1 - clipped))),
        "accuracy": float(np.mean((p1 > 0.5) == (labels > 0.5))),
        "rows": float(labels.size),
    }


def score_version(registry: Any, name: str, version: str, data: Any, cache_dir: str) -> np.ndarray:
    """P(label = 1) of model ``name`` version ``version`` for every row of ``data`` (a pyarrow Table)."""
    from airflow_mlplat.serving.frame import Frame
    from airflow_mlplat.serving.model import load_model_dir
    from airflow_mlplat.serving.registry import ModelRef

    info = registry.resolve(ModelRef.parse(f"models:/{name}/{version}"))
    model = load_model_dir(registry.download(info, cache_dir), name=name, version=info.version, slot="evaluate")
    size = data.num_rows
    where = f"evaluating model {name} version {version}"
    arrays = model.scorer.predict_frame(Frame.from_arrow(data, model.scorer.input_types, where))
    if "probability" not in arrays:
        raise ValueError(f"model {name} version {version}: not a probabilistic classifier (outputs {list(arrays)})")
    if not arrays["kept"].all():
        raise ValueError(f"model {name} version {version}: dropped {int((~arrays['kept']).sum())} of {size} rows")
    return np.asarray(arrays["probability"])[:, 1]


def evaluate_candidate(
    tracking_uri: str,
    model_name: str,
    candidate_version: str | int,
    partition_url: str,
    *,
    alias: str = "champion",
) -> dict[str, Any]:
    """Metrics of the candidate and of the champion (``model_name@alias``) on ``partition_url``.

    Returns ``{"candidate": {...}, "champion": {...} | None, "candidate_version", "champion_version",
    "partition", "rows"}``; ``champion`` is None when the alias does not exist yet.
    """
    from airflow_mlplat.serving.registry import RegistryClient

    data = read_partition(partition_url)
    labels = data.column(LABEL).to_numpy(zero_copy_only=False)
    registry = RegistryClient(tracking_uri)
    cache_dir = tempfile.mkdtemp(prefix="mlplat-evaluate-")
    try:
        candidate = str(candidate_version).strip()
        champion = registry.alias_version(model_name, alias)
        result: dict[str, Any] = {
            "partition": partition_url,
            "rows": data.num_rows,
            "candidate_version": candidate,
            "champion_version": champion,
            "candidate": binary_metrics(labels, score_version(registry, model_name, candidate, data, cache_dir)),
            "champion": None,
        }
        if champion is not None:
            scores = score_version(registry, model_name, champion, data, cache_dir)
            result["champion"] = binary_metrics(labels, scores)
        return result
    finally:
        registry.close()
        shutil.rmtree(cache_dir, ignore_errors=True)
