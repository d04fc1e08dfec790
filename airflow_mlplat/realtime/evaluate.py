"""Score a candidate model version and the champion on the SAME partition, with the same metric code.

Both versions are downloaded from the MLflow registry over REST and scored by the scorer the prediction
service loads for them: the numpy scorer of Spark PipelineModels, or a deep model's runtime (ONNX Runtime)
behind its feature map, which encodes the raw feature rows as requests are encoded. So the numbers are those
the prediction service would produce. No pyspark, no mlflow import: this runs inside an Airflow worker in a
second or two.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Sequence
from typing import Any

import numpy as np

from airflow_mlplat.online.metrics import auc_roc, log_loss
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


def binary_metrics(labels: np.ndarray, p1: np.ndarray) -> dict[str, float]:
    """``auc_roc``, ``log_loss``, ``accuracy`` (threshold 0.5) and ``rows``."""
    labels = np.asarray(labels).astype(float)
    return {
        "auc_roc": auc_roc(labels, p1),
        "log_loss": log_loss(labels, p1),
        "accuracy": float(np.mean((p1 > 0.5) == (labels > 0.5))),
        "rows": float(labels.size),
    }


def score_version(registry: Any, name: str, version: str, data: Any, cache_dir: str) -> np.ndarray:
    """P(label = 1) of model ``name`` version ``version`` for every row of ``data`` (a pyarrow Table).

    The version is loaded as the prediction service loads it (``serving.model.load_model_dir``) and scored
    by its scorer: a Spark model by the numpy file scorer on the typed columns, a deep model (a ranking
    model with its feature map) on the raw feature rows, encoded by its feature map, as requests are.
    """
    from airflow_mlplat.serving.model import load_model_dir
    from airflow_mlplat.serving.registry import ModelRef

    info = registry.resolve(ModelRef.parse(f"models:/{name}/{version}"))
    model = load_model_dir(registry.download(info, cache_dir), name=name, version=info.version, slot="evaluate")
    where = f"model {name} version {version}"
    if hasattr(model.scorer, "predict_frame"):
        return _spark_probability(model, data, where)
    return deep_probability(model, data, where)


def _spark_probability(model: Any, data: Any, where: str) -> np.ndarray:
    from airflow_mlplat.serving.frame import Frame

    size = data.num_rows
    arrays = model.scorer.predict_frame(Frame.from_arrow(data, model.scorer.input_types, f"evaluating {where}"))
    if "probability" not in arrays:
        raise ValueError(f"{where}: not a probabilistic classifier (outputs {list(arrays)})")
    if not arrays["kept"].all():
        raise ValueError(f"{where}: dropped {int((~arrays['kept']).sum())} of {size} rows")
    return np.asarray(arrays["probability"])[:, 1]


def deep_probability(model: Any, data: Any, where: str) -> np.ndarray:
    """``p_label`` of a deep model for the rows of ``data`` sent as request rows (the model's input columns)."""
    columns = [c for c in model.columns if c in data.column_names]
    missing = sorted(set(model.columns) - set(columns))
    if missing:
        raise ValueError(f"{where}: the partition lacks its input columns {missing}")
    rows = data.select(columns).to_pylist()
    answers = model.scorer.predict(rows)
    key = f"p_{LABEL}"
    dropped = sum(1 for answer in answers if answer is None)
    if dropped:
        raise ValueError(f"{where}: dropped {dropped} of {len(rows)} rows")
    if not answers or key not in answers[0]:
        outputs = sorted(answers[0]) if answers else []
        raise ValueError(f"{where}: not a classifier of {LABEL!r} (outputs {outputs})")
    return np.asarray([answer[key] for answer in answers], dtype=float)


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
