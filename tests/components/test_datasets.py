from __future__ import annotations

from pyspark.sql import functions as F

from airflow_mlplat.components.datasets import PURCHASE_INTENT_FEATURES, synthetic_purchase_intent
from airflow_mlplat.components.processing import cast_columns


def test_synthetic_purchase_intent_shape_and_types(ctx):
    data = synthetic_purchase_intent(ctx, rows=2000, seed=3, partitions=3)
    assert data.columns == ["user_id", *PURCHASE_INTENT_FEATURES, "city_tier", "label"]
    types = dict(data.dtypes)
    assert all(types[c] == "string" for c in PURCHASE_INTENT_FEATURES)
    assert types["label"] == "int" and types["city_tier"] == "string"
    assert data.rdd.getNumPartitions() == 3
    assert data.count() == 2000
    assert data.select("user_id").distinct().count() == 2000
    assert {r.city_tier for r in data.select("city_tier").distinct().collect()} == {"tier1", "tier2", "tier3", "tier4"}
    assert {r.label for r in data.select("label").distinct().collect()} == {0, 1}
    # every feature is a number stored as text: casting loses nothing
    numeric = cast_columns(ctx, data, columns=list(PURCHASE_INTENT_FEATURES), to_type="double")
    nulls = numeric.select([F.sum(F.col(c).isNull().cast("int")).alias(c) for c in PURCHASE_INTENT_FEATURES]).first()
    assert all(v == 0 for v in nulls)


def test_synthetic_purchase_intent_is_deterministic_per_seed(ctx):
    first = synthetic_purchase_intent(ctx, rows=500, seed=11, partitions=2).collect()
    again = synthetic_purchase_intent(ctx, rows=500, seed=11, partitions=2).collect()
    other = synthetic_purchase_intent(ctx, rows=500, seed=12, partitions=2).collect()
    assert first == again
    assert first != other


def test_synthetic_purchase_intent_positive_rate_and_signal(ctx):
    data = cast_columns(
        ctx, synthetic_purchase_intent(ctx, rows=20000, seed=7), columns=["visit_days"], to_type="double"
    )
    stats = data.groupBy("label").agg(F.count(F.lit(1)).alias("n"), F.avg("visit_days").alias("days")).collect()
    by_label = {r.label: r for r in stats}
    rate = by_label[1].n / 20000
    assert 0.1 <= rate <= 0.3
    assert by_label[1].days > by_label[0].days  # buyers visit on more days


def test_synthetic_purchase_intent_missing_rate(ctx):
    data = synthetic_purchase_intent(ctx, rows=5000, seed=5, missing_rate=0.2)
    share = data.select(F.avg(F.col("duration").isNull().cast("double"))).first()[0]
    assert 0.16 < share < 0.24
    assert data.where(F.col("label").isNull() | F.col("user_id").isNull()).count() == 0
