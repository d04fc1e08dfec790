"""Cases for the dataset components."""

from __future__ import annotations

from tests.components.cases import Case


def _check_purchase_intent(out, ctx):
    from airflow_mlplat.components.datasets import PURCHASE_INTENT_FEATURES

    data = out["data"]
    assert data.columns == ["user_id", *PURCHASE_INTENT_FEATURES, "city_tier", "label"]
    assert all(t == "string" for c, t in data.dtypes if c in PURCHASE_INTENT_FEATURES)
    rows = data.collect()
    assert [r.user_id for r in rows] == [f"u{i:09d}" for i in range(60)]
    assert {r.label for r in rows} <= {0, 1}
    assert {r.city_tier for r in rows} <= {"tier1", "tier2", "tier3", "tier4"}
    for r in rows:
        assert float(r.duration) > 0 and int(r.freqs_rank) >= 1 and 1 <= int(r.visit_days) <= 30
    assert [tuple(r) for r in data.collect()] == [tuple(r) for r in rows]  # seeded: the same table again


CASES = {
    "synthetic_purchase_intent": Case(
        inputs=lambda spark: {},
        params={"rows": 60, "seed": 3, "partitions": 2},
        check=_check_purchase_intent,
    ),
}


def _check_synthetic_ctr(out, ctx):
    import numpy as np

    from airflow_mlplat.ranking.synthetic import SyntheticCtr

    data = out["data"]
    generator = SyntheticCtr(fields=3, max_cardinality=40, interest_clusters=4, max_history=5, seed=3)
    assert data.columns == generator.columns
    rows = data.toPandas()
    assert len(rows) == 80 and sorted(rows["id"]) == list(range(80))
    assert rows["item"].str.startswith("item_").all() and rows["c02"].str.startswith("c02_").all()
    assert rows["hist_items"].map(len).between(1, 5).all()
    assert set(rows["label"]) <= {0, 1} and set(rows["label2"]) <= {0, 1}
    # the stored true probabilities are the true model's, recomputed from the raw columns
    logits = generator.logits(generator.parse(rows))
    assert np.allclose(rows["true_ctr"], 1 / (1 + np.exp(-logits["ctr"])), atol=1e-12)
    # the same rows from another partitioning (rows hash their id, not their partition)
    again = ctx.spark.createDataFrame(generator.generate(np.arange(80)))
    assert sorted(map(tuple, again.select("item", "label", "true_cvr").collect())) == sorted(
        map(tuple, data.select("item", "label", "true_cvr").collect())
    )


CASES["synthetic_ctr"] = Case(
    inputs=lambda spark: {},
    params={
        "rows": 80,
        "fields": 3,
        "max_cardinality": 40,
        "interest_clusters": 4,
        "max_history": 5,
        "seed": 3,
        "partitions": 3,
    },
    check=_check_synthetic_ctr,
)
