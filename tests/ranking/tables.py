"""Encoded tables made without Spark (pandas + pyarrow), for tests of the reader and the trainer."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from airflow_mlplat.ranking.feature_map import FeatureMap, FieldSpec, categorical_field
from airflow_mlplat.ranking.synthetic import SyntheticCtr

GENERATOR = SyntheticCtr(fields=4, max_cardinality=200, max_history=5, interest_clusters=4, seed=3)


def small_map(frame) -> FeatureMap:
    """A feature map fitted on a generated frame the way ctr_feature_encoder fits one."""
    fields = [categorical_field(name, frame[name].value_counts().items(), 1) for name in GENERATOR.categorical]
    fields.append(
        FieldSpec("n1", "numeric", normalizer="standard", center=float(frame.n1.mean()), scale=float(frame.n1.std()))
    )
    fields.append(FieldSpec("hist_items", "sequence", max_length=5, share_vocabulary_with="item"))
    return FeatureMap(fields=tuple(fields), labels=("label", "label2"), passthrough=("id",))


def write_encoded(root: Path, rows: int, *, files: int = 2, row_group_size: int | None = None, start: int = 0):
    """Generate and encode ``rows`` rows into ``files`` Parquet files under ``root``; return (map, encoded frame)."""
    frame = GENERATOR.generate(np.arange(start, start + rows))
    feature_map = small_map(GENERATOR.generate(np.arange(0, 2000)))
    encoded = feature_map.encode_frame(frame)
    root.mkdir(parents=True, exist_ok=True)
    for i, part in enumerate(np.array_split(np.arange(rows), files)):
        table = pa.Table.from_pandas(encoded.iloc[part].reset_index(drop=True), preserve_index=False)
        pq.write_table(table, root / f"part-{i:05d}.parquet", row_group_size=row_group_size)
    (root / "_SUCCESS").write_text("")
    return feature_map, encoded
