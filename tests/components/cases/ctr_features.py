"""Cases for the ranking models' feature encoder (more in test_ctr_features.py)."""

from __future__ import annotations

from tests.components.cases import Case


def _raw(spark):
    rows = [
        ("a", 1, 10.0, 1.0, ["a", "b"], 1),
        ("a", 2, 20.0, 2.0, ["b"], 0),
        ("b", 1, 30.0, 3.0, [], 1),
        (None, None, None, None, None, 0),
        ("z", 3, 40.0, 4.0, ["q", "a", "a", "b"], 0),
    ]
    return spark.createDataFrame(rows, "item string, city int, price double, age double, hist array<string>, label int")


def _check(out, ctx):
    from airflow_mlplat.components._ctr_encoder_model import CtrFeatureEncoderModel

    model = out["model"]
    assert isinstance(model, CtrFeatureEncoderModel)
    fmap = model.featureMap
    # a: 2 + 3 in the history; b: 1 + 3; z, q once (below min_count 2: out of vocabulary)
    assert fmap.field("item").vocabulary == ("a", "b") and fmap.field("item").vocab_size == 4
    assert fmap.field("hist").vocabulary == ("a", "b") and fmap.field("hist").kind == "sequence"
    assert fmap.field("city").vocabulary == ("1",)
    rows = out["data"].collect()
    assert out["data"].columns == ["item", "city", "price", "age", "hist", "label"]
    assert [r.item for r in rows] == [2, 2, 3, 0, 1]
    assert [r.city for r in rows] == [2, 1, 2, 0, 1]
    assert [list(r.hist) for r in rows] == [[2, 3, 0], [3, 0, 0], [0, 0, 0], [0, 0, 0], [2, 2, 3]]
    price = [round(r.price, 5) for r in rows]
    assert price == [round((x - 25.0) / 11.18034, 5) for x in (10.0, 20.0, 30.0, 40.0)][:3] + [0.0, 1.34164]
    assert [r.label for r in rows] == [1.0, 0.0, 1.0, 0.0, 0.0]


CASES = {
    "ctr_feature_encoder": Case(
        inputs=lambda spark: {"data": _raw(spark)},
        params={
            "categorical_cols": ["item", "city"],
            "numeric_cols": ["price"],
            "bucketize_cols": ["age"],
            "sequence_cols": ["hist"],
            "share_vocabulary": {"hist": "item"},
            "min_count": 2,
            "max_sequence_length": 3,
            "num_buckets": 2,
        },
        check=_check,
    ),
}
