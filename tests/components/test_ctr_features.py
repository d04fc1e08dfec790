"""ctr_feature_encoder with real Spark: the saved encoder, applying it to new data, and errors."""

from __future__ import annotations

import pytest

from airflow_mlplat.components.ctr_features import ctr_feature_encoder
from airflow_mlplat.components.datasets import synthetic_ctr

PARAMS = {
    "categorical_cols": ["item", "c01", "c02"],
    "numeric_cols": ["n1"],
    "bucketize_cols": ["n2"],
    "sequence_cols": ["hist_items"],
    "share_vocabulary": {"hist_items": "item"},
    "label_cols": ["label", "label2"],
    "passthrough_cols": ["id"],
    "min_count": 3,
    "num_buckets": 4,
    "max_sequence_length": 4,
}


@pytest.fixture(scope="module")
def raw(spark, tmp_path_factory):
    from airflow_mlplat.engine.context import ComponentContext

    ctx = ComponentContext(spark=spark, node_id="gen", artifacts_dir=str(tmp_path_factory.mktemp("a")))
    return synthetic_ctr(
        ctx, rows=1500, fields=3, max_cardinality=200, max_history=6, interest_clusters=4, seed=2
    ).cache()


def test_saved_encoder_applies_the_same_encoding_as_serving(ctx, raw, tmp_path):
    from airflow_mlplat.components.model import predict
    from airflow_mlplat.components.spec import PortKind
    from airflow_mlplat.engine.storage import load_port, save_port
    from airflow_mlplat.ranking.feature_map import FeatureMap

    train, new = raw.randomSplit([0.7, 0.3], seed=1)
    out = ctr_feature_encoder(ctx, train, **PARAMS)
    url = str(tmp_path / "encoder")
    save_port(ctx.spark, PortKind.MODEL, out["model"], url)
    loaded = load_port(ctx.spark, PortKind.MODEL, url)
    feature_map = FeatureMap.load(url)  # the plain JSON file, no Spark needed
    assert feature_map == loaded.featureMap == out["model"].featureMap
    assert feature_map.field("n2").vocab_size == 2 + len(feature_map.field("n2").boundaries) <= 5
    # item's vocabulary counts the target items and the behaviour sequences' items, at least min_count each
    items = feature_map.field("item")
    assert items.vocab_size > 10 and feature_map.field("hist_items").vocabulary == items.vocabulary

    encoded = predict(ctx, loaded, new, score_col="score")
    assert encoded.columns == ["item", "c01", "c02", "n1", "n2", "hist_items", "label", "label2", "id"]
    by_id = {r.id: r for r in encoded.collect()}
    raw_rows = new.toPandas()
    served = feature_map.encode_records(raw_rows.to_dict("records"))
    for i, row_id in enumerate(raw_rows["id"]):
        row = by_id[row_id]
        for name in ("item", "c01", "c02", "n2"):
            assert served[name][i] == getattr(row, name)
        assert abs(served["n1"][i] - row.n1) < 1e-6
        assert served["hist_items"][i].tolist() == list(row.hist_items)
    # unseen and rare values took the out-of-vocabulary index, never a wrong one
    assert {r.item for r in encoded.collect()} <= set(range(items.vocab_size))
    assert any(r.item == 1 for r in encoded.collect())


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"categorical_cols": ["n1"]}, "params.categorical_cols column 'n1' is double"),
        ({"categorical_cols": ["hist_items"]}, "is an array; list it in sequence_cols"),
        (
            {"categorical_cols": ["item"], "numeric_cols": ["item"]},
            "named by both params.categorical_cols and params.numeric_cols",
        ),
        ({"categorical_cols": ["nope"]}, "params.categorical_cols names column 'nope'"),
        ({"numeric_cols": ["item"]}, "params.numeric_cols column 'item' must be numeric"),
        (
            {"sequence_cols": ["hist_items"], "share_vocabulary": {"hist_items": "c01"}},
            "which is not in categorical_cols",
        ),
        ({}, "name at least one column"),
    ],
)
def test_bad_parameters_name_the_parameter(ctx, raw, params, message):
    with pytest.raises(ValueError, match=message):
        ctr_feature_encoder(ctx, raw, **params)
