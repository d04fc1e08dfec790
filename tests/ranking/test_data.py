"""The encoded-table reader: disjoint, complete, equal shards per epoch, and streaming batches."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from airflow_mlplat.ranking.data import EncodedTable, EncodedTableError, parse_hive_url
from tests.ranking.tables import write_encoded


@pytest.mark.parametrize(("files", "row_group_size", "world"), [(2, None, 2), (3, 200, 2), (1, None, 3), (5, 150, 3)])
def test_shards_are_disjoint_complete_and_take_equal_steps(tmp_path: Path, files, row_group_size, world):
    feature_map, encoded = write_encoded(tmp_path / "t", 1234, files=files, row_group_size=row_group_size)
    table = EncodedTable(str(tmp_path / "t"), feature_map, extra=["id"])
    assert table.num_rows == 1234
    for epoch in (0, 1):
        seen = []
        for rank in range(world):
            ids = np.concatenate(
                [b["id"] for b in table.batches(100, rank=rank, world=world, epoch=epoch, seed=3, steps=None)]
            )
            seen.append(ids)
        everything = np.concatenate(seen)
        assert sorted(everything.tolist()) == list(range(1234))  # every row once, on exactly one worker
        assert max(map(len, seen)) - min(map(len, seen)) <= max(u.rows for u in table.units)
        steps = table.steps_per_epoch(world, 100, epoch, 3)
        assert steps == int(np.ceil(max(map(len, seen)) / 100))
        for rank in range(world):
            batches = list(table.batches(100, rank=rank, world=world, epoch=epoch, seed=3, steps=steps))
            assert len(batches) == steps and all(len(b["label"]) == 100 for b in batches)


def test_epochs_shuffle_differently_and_batches_hold_model_inputs(tmp_path: Path):
    feature_map, encoded = write_encoded(tmp_path / "t", 600, files=2, row_group_size=100)
    table = EncodedTable(str(tmp_path / "t"), feature_map, extra=["id"])
    first = next(table.batches(50, epoch=0, seed=1, steps=1))
    second = next(table.batches(50, epoch=1, seed=1, steps=1))
    assert first["id"].tolist() != second["id"].tolist()
    assert first["hist_items"].shape == (50, 5) and first["hist_items"].dtype == np.int64
    assert first["item"].dtype == np.int64 and first["n1"].dtype == np.float32 and first["label"].dtype == np.float32
    rows = encoded.set_index("id").loc[first["id"]]
    assert first["item"].tolist() == rows["item"].tolist()
    assert [list(v) for v in rows["hist_items"]] == first["hist_items"].tolist()


def test_a_table_without_a_field_column_is_named(tmp_path: Path):
    import dataclasses

    from airflow_mlplat.ranking.feature_map import FeatureMap, FieldSpec

    feature_map, _ = write_encoded(tmp_path / "t", 50, files=1)
    wider = FeatureMap(fields=(*feature_map.fields, FieldSpec("n9", "numeric")), labels=feature_map.labels)
    with pytest.raises(EncodedTableError, match="has no column 'n9'"):
        EncodedTable(str(tmp_path / "t"), wider)
    assert dataclasses.replace(feature_map) == feature_map
    with pytest.raises(EncodedTableError, match="no Parquet files"):
        (tmp_path / "empty").mkdir()
        EncodedTable(str(tmp_path / "empty"), feature_map)


def test_hive_urls_name_the_metastore_table_and_filter():
    assert parse_hive_url("hive://127.0.0.1:9083/ml.clicks?filter=dt%3D%272024-01-01%27") == (
        "thrift://127.0.0.1:9083",
        "ml",
        "clicks",
        "dt='2024-01-01'",
    )
    assert parse_hive_url("hive:///ml.clicks") == (None, "ml", "clicks", None)
    with pytest.raises(EncodedTableError, match="DB.TABLE"):
        parse_hive_url("hive:///clicks")
