"""Training input from a Hive table: partitions resolved through the real metastore, read as Parquet."""

from __future__ import annotations

import json
import uuid
from urllib.parse import quote

import pytest


@pytest.fixture(scope="module")
def clicks_table(spark, ctx_factory, ranking_tables):
    from airflow_mlplat.components.registry import get_component

    database = f"rank_{uuid.uuid4().hex[:8]}"
    spark.sql(f"CREATE DATABASE {database}")
    ctx = ctx_factory()
    write = get_component("write_hive_table").func
    train = spark.read.parquet(ranking_tables.train)
    old, new = train.randomSplit([0.5, 0.5], seed=3)
    write(ctx, old, table=f"{database}.clicks", partition={"dt": "2024-01-01"})
    write(ctx, new, table=f"{database}.clicks", partition={"dt": "2024-01-02"})
    yield f"{database}.clicks", old.count(), new
    spark.sql(f"DROP DATABASE {database} CASCADE")


@pytest.fixture(scope="module")
def ctx_factory(spark, tmp_path_factory):
    from airflow_mlplat.engine.context import ComponentContext

    return lambda: ComponentContext(spark=spark, node_id="hive", artifacts_dir=str(tmp_path_factory.mktemp("art")))


def test_partitions_are_resolved_through_the_metastore(local_hive, clicks_table, ranking_tables):
    from airflow_mlplat.ranking.data import EncodedTable, EncodedTableError
    from airflow_mlplat.ranking.feature_map import FeatureMap

    table, old_rows, new = clicks_table
    feature_map = FeatureMap.load(ranking_tables.encoder)
    host = local_hive.metastore_uri.removeprefix("thrift://")
    url = f"hive://{host}/{table}?filter=" + quote("dt='2024-01-02'")
    encoded = EncodedTable(url, feature_map, extra=["id"])
    assert encoded.num_rows == new.count()
    ids = sorted(i for b in encoded.batches(500, shuffle=False, steps=None) for i in b["id"].tolist())
    assert ids == sorted(r.id for r in new.select("id").collect())
    everything = EncodedTable(f"hive://{host}/{table}", feature_map)
    assert everything.num_rows == old_rows + new.count()
    with pytest.raises(EncodedTableError, match="no partition matching"):
        EncodedTable(f"hive://{host}/{table}?filter=" + quote("dt='1999-01-01'"), feature_map)


def test_a_model_trains_on_a_hive_partition(local_hive, clicks_table, ranking_tables, tmp_path, monkeypatch):
    from airflow_mlplat.ranking.train import run

    table, _, new = clicks_table
    monkeypatch.setenv("MLPLAT_HIVE_METASTORE_URIS", local_hive.metastore_uri)  # no host in the URL: the env names it
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    config = {
        "model": "wide_deep",
        "params": {"epochs": 1, "embedding_dim": 4, "hidden_units": [8], "batch_size": 256},
        "train": f"hive:///{table}?filter=" + quote("dt='2024-01-02'"),
        "validation": ranking_tables.validation,
        "feature_map": ranking_tables.encoder,
    }
    metrics = run(config, output=str(tmp_path / "model"))
    assert metrics["train_rows"] == new.count() and metrics["epochs_run"] == 1
    assert json.loads((tmp_path / "model" / "metrics.json").read_text())["train_rows"] == new.count()
    assert (tmp_path / "model" / "model.onnx").exists()
