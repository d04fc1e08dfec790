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
