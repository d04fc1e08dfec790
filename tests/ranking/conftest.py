"""Small encoded click tables for the ranking tests, made once per session with the real components.

``synthetic_ctr`` (4,000 rows, 5 categorical fields, a behaviour sequence, two labels) is split
80/10/10 and encoded by ``ctr_feature_encoder`` fitted on the training part; the three encoded
tables and the encoder model are written where the engine would write them (Parquet, Spark ML).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

ROWS = 4000
GENERATOR = {"fields": 5, "max_cardinality": 300, "max_history": 6, "interest_clusters": 4, "seed": 11}


@dataclasses.dataclass(frozen=True)
class RankingTables:
    root: Path
    train: str
    validation: str
    test: str
    encoder: str


@pytest.fixture(scope="session")
def ranking_tables(spark, tmp_path_factory) -> RankingTables:
    from airflow_mlplat.components import get_component
    from airflow_mlplat.components.spec import PortKind
    from airflow_mlplat.engine.context import ComponentContext
    from airflow_mlplat.engine.runner import call_component
    from airflow_mlplat.engine.storage import save_port

    root = tmp_path_factory.mktemp("ranking-tables")
    ctx = ComponentContext(spark=spark, node_id="data", artifacts_dir=str(root / "artifacts"))
    raw = call_component(get_component("synthetic_ctr"), ctx, {}, {"rows": ROWS, "partitions": 2, **GENERATOR})["data"]
    train, validation, test = raw.randomSplit([0.8, 0.1, 0.1], seed=5)
    encoded = call_component(
        get_component("ctr_feature_encoder"),
        ctx,
        {"data": train},
        {
            "categorical_cols": ["item", "c01", "c02", "c03", "c04"],
            "numeric_cols": ["n1"],
            "bucketize_cols": ["n2"],
            "sequence_cols": ["hist_items"],
            "share_vocabulary": {"hist_items": "item"},
            "label_cols": ["label", "label2"],
            "passthrough_cols": ["id", "true_ctr"],
            "min_count": 2,
            "max_sequence_length": 6,
        },
    )
    encoder = encoded["model"]
    paths = {name: str(root / name) for name in ("train", "validation", "test", "encoder")}
    save_port(spark, PortKind.TABLE, encoded["data"], paths["train"])
    save_port(spark, PortKind.TABLE, encoder.transform(validation), paths["validation"])
    save_port(spark, PortKind.TABLE, encoder.transform(test), paths["test"])
    save_port(spark, PortKind.MODEL, encoder, paths["encoder"])
    return RankingTables(root=root, **paths)
