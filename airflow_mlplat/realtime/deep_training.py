"""The data side of a ranking model (``deepfm``) in ``realtime_retrain``: the encoding of the six behaviour
features and the encoded tables the launcher job trains on.

Encoding. Each feature of ``events.FEATURES`` becomes one bucketised categorical field of a
``ranking.feature_map.FeatureMap``: index ``1 + number of boundaries <= x``, ``0`` when the value is missing
or not a number, values past the last boundary in the last bucket. A fresh model's boundaries are the
training rows' quantiles (at most ``FEATURE_BUCKETS`` buckets per feature, duplicates merged); a warm-started
model takes its champion's feature map as it is, so champion and candidate encode every row identically and
each embedding row keeps its meaning from one window to the next. The map is saved with the model, and the
prediction service encodes the raw feature rows it receives with it (``serving.deep``), as training did.

The map keys a field by its raw column, so a feature is either bucketised or dense, not both: the buckets
give the FM part its embeddings (a dense field has none in DeepFM), and the linear part learns a weight per
bucket (a piecewise-constant function of the raw value).

Tables. The training windows' rows (the Parquet partitions the Flink job commits) are encoded in the task
and written as two Parquet tables, ``train`` and ``validation``: ``VALIDATION_PERCENT`` % of the rows, picked
by a hash of ``event_id`` (the same rows every time), are held out for the trainer's per-epoch validation
and early stopping. The newest window, which the gate compares on, is never among them.

Needs numpy, pandas and pyarrow; no torch, no Spark.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from airflow_mlplat.ranking.feature_map import FeatureMap, FieldSpec
from airflow_mlplat.realtime.events import FEATURES

LABEL = "label"
ID_COLUMN = "event_id"
#: The most buckets a fresh model cuts a feature into.
FEATURE_BUCKETS = 16
#: Share of the training rows (by ``event_id``) held out for validation.
VALIDATION_PERCENT = 15


class DeepTrainingDataError(ValueError):
    """The training windows cannot be encoded (the message names the partition, column or field)."""


def fit_feature_map(table: Any, buckets: int = FEATURE_BUCKETS, features: Sequence[str] = FEATURES) -> FeatureMap:
    """A map of one bucketised field per feature, its boundaries the quantiles of ``table``'s values.

    ``table``: a pyarrow Table or pandas DataFrame with the feature columns. Missing and non-finite values
    are ignored when fitting.

    :raises DeepTrainingDataError: a column is absent, or has no finite value.
    """
    if not isinstance(buckets, int) or buckets < 2:
        raise DeepTrainingDataError(f"buckets must be an integer >= 2, got {buckets!r}")
    fields = []
    for name in features:
        values = _float_column(table, name)
        values = values[np.isfinite(values)]
        if values.size == 0:
            raise DeepTrainingDataError(f"feature {name!r}: no value to fit bucket boundaries on")
        cuts = np.unique(np.quantile(values, np.linspace(0.0, 1.0, buckets + 1)[1:-1]))
        fields.append(FieldSpec(name=name, kind="categorical", boundaries=tuple(float(c) for c in cuts)))
    return FeatureMap(fields=tuple(fields), labels=(LABEL,))


def check_feature_map(feature_map: FeatureMap, features: Sequence[str] = FEATURES) -> list[str]:
    """Why ``feature_map`` is not an encoding of ``features`` this module makes (empty when it is)."""
    problems = []
    if feature_map.names != list(features):
        problems.append(f"its fields are {feature_map.names}, not {list(features)}")
    unbucketed = [spec.name for spec in feature_map.fields if not spec.bucketised]
    if unbucketed:
        problems.append(f"fields {unbucketed} are not bucketised")
    if list(feature_map.labels) != [LABEL]:
        problems.append(f"its labels are {list(feature_map.labels)}, not [{LABEL!r}]")
    return problems


def read_windows(partition_urls: Sequence[str]) -> Any:
    """The rows of the partitions (committed Parquet files of each folder), as one pyarrow Table.

    Columns: ``event_id``, the features and ``label``.

    :raises ValueError: a partition cannot be read, has no rows or lacks a column (names its URL).
    """
    import pyarrow as pa

    from airflow_mlplat.realtime.evaluate import read_partition

    if not partition_urls:
        raise DeepTrainingDataError("no training partition to read")
    tables = [read_partition(url, (ID_COLUMN, *FEATURES, LABEL)) for url in partition_urls]
    return pa.concat_tables([t.cast(tables[0].schema) for t in tables])


def validation_mask(event_ids: Sequence[Any], percent: int = VALIDATION_PERCENT) -> np.ndarray:
    """True for the rows held out for validation: ``crc32(event_id) % 100 < percent`` (stable across runs)."""
    return np.fromiter(
        (zlib.crc32(str(event_id).encode()) % 100 < percent for event_id in event_ids),
        dtype=bool,
        count=len(event_ids),
    )


def write_encoded_tables(feature_map: FeatureMap, table: Any, folder: str | Path) -> dict[str, Any]:
    """Encode ``table`` (``read_windows``) with ``feature_map`` and write ``FOLDER/train`` and ``FOLDER/validation``.

    Returns ``{"train", "validation"}`` (file URLs of the table folders) and ``train_rows``,
    ``validation_rows``.

    :raises DeepTrainingDataError: a label is missing or not 0/1, or either side would have no rows.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    frame = table.to_pandas()
    labels = frame[LABEL].to_numpy(dtype=float, na_value=np.nan)
    bad = ~np.isin(labels, (0.0, 1.0))
    if bad.any():
        raise DeepTrainingDataError(
            f"column {LABEL!r}: {int(bad.sum())} of {len(labels)} training rows have no 0/1 label "
            f"(first: {frame[LABEL].iloc[int(np.argmax(bad))]!r})"
        )
    held_out = validation_mask(frame[ID_COLUMN].tolist())
    encoded = feature_map.encode_frame(frame)
    root = Path(folder)
    out: dict[str, Any] = {}
    for side, rows in (("train", ~held_out), ("validation", held_out)):
        part = encoded[rows]
        if len(part) == 0:
            raise DeepTrainingDataError(f"the {side} side of {len(frame)} training rows is empty")
        target = root / side
        target.mkdir(parents=True, exist_ok=True)
        pq.write_table(pa.Table.from_pandas(part, preserve_index=False), target / "part-0.parquet")
        out[side] = target.as_uri()
        out[f"{side}_rows"] = len(part)
    return out


def _float_column(table: Any, name: str) -> np.ndarray:
    import pandas as pd

    columns = table.column_names if hasattr(table, "column_names") else list(table.columns)
    if name not in columns:
        raise DeepTrainingDataError(f"the training rows have no column {name!r}")
    column = table.column(name).to_pandas() if hasattr(table, "column_names") else table[name]
    return pd.to_numeric(column, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)


#: Files a previous model's folder must hold to be continued: the exported weights and the encoding.
CONTINUED_FILES = ("model.torchscript.pt", "feature_map.json")


@dataclass(frozen=True)
class EncodedWindows:
    tables: dict[str, Any]  # ``write_encoded_tables``'s result
    feature_map: FeatureMap
    feature_map_uri: str
    warm_start: str | None  # the previous model's TorchScript weights (file URI), None for a fresh model

    def job_inputs(self) -> dict[str, Any]:
        """``ranking.job.ranking_job``'s data arguments: the tables, the feature map and the warm start."""
        return {
            "train": self.tables["train"],
            "validation": self.tables["validation"],
            "feature_map": self.feature_map_uri,
            "warm_start": self.warm_start,
        }


def encode_windows(rows: Any, data_dir: Path, previous: Path | None, where: str) -> EncodedWindows:
    """Encode ``rows`` into ``data_dir`` for a job that continues from ``previous`` (an exported model folder:
    its feature map, checked, and its weights) or, without one, starts fresh with a map fitted on ``rows``.

    :raises ValueError: ``previous`` lacks a file or its feature map cannot encode the events (``where`` names it).
    """
    warm_start = None
    if previous is not None:
        missing = [name for name in CONTINUED_FILES if not (previous / name).is_file()]
        if missing:
            raise ValueError(f"{where}: its folder {previous} lacks {', '.join(missing)}")
        feature_map = FeatureMap.load(str(previous / "feature_map.json"))
        problems = check_feature_map(feature_map)
        if problems:
            raise ValueError(f"{where}: its feature map cannot encode the events: " + "; ".join(problems))
        warm_start = (previous / "model.torchscript.pt").as_uri()
    else:
        feature_map = fit_feature_map(rows)
    data_dir.mkdir(parents=True, exist_ok=True)
    feature_map.save(str(data_dir / "feature_map.json"))
    tables = write_encoded_tables(feature_map, rows, data_dir)
    return EncodedWindows(tables, feature_map, (data_dir / "feature_map.json").as_uri(), warm_start)
