"""The feature map: encoding rules, JSON round trip, and errors that name the field."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from airflow_mlplat.ranking.feature_map import FeatureMap, FeatureMapError, FieldSpec, categorical_field


def _map() -> FeatureMap:
    return FeatureMap(
        fields=(
            categorical_field("item", [("b", 5), ("a", 5), ("c", 9), ("rare", 1)], min_count=2),
            categorical_field("flag", [("true", 3), ("false", 2)]),
            categorical_field("city", [("10", 4), ("7", 2)]),
            FieldSpec("price", "numeric", normalizer="standard", center=10.0, scale=2.0),
            FieldSpec("age", "categorical", boundaries=(18.0, 30.0, 50.0)),
            FieldSpec("hist", "sequence", max_length=3, share_vocabulary_with="item"),
            FieldSpec("tags", "sequence", vocabulary=("x", "y"), max_length=2, separator="|"),
        ),
        labels=("click",),
        passthrough=("id",),
    )


def test_vocabulary_is_most_frequent_first_and_min_count_makes_values_out_of_vocabulary():
    fmap = _map()
    assert fmap.field("item").vocabulary == ("c", "a", "b")  # 9, then the 5s by value; "rare" below min_count
    assert fmap.field("item").vocab_size == 5  # missing, out-of-vocabulary, 3 values
    assert fmap.field("hist").vocabulary == fmap.field("item").vocabulary
    assert fmap.field("age").vocab_size == 5 and fmap.field("price").vocab_size == 0


def test_encode_frame_applies_every_rule():
    frame = pd.DataFrame(
        {
            "item": ["c", "rare", None, "never", ""],
            "flag": [True, False, None, True, False],
            "city": [10, 7, None, 3, 10],
            "price": [12.0, np.nan, 8.0, None, 10.0],
            "age": [17.0, 18.0, 49.9, 50.0, np.nan],
            "hist": [["a", "b", "c", "c"], [], None, ["zzz"], ["b"]],
            "tags": ["x|y|x", "", None, "y", "q|x"],
            "click": [1, 0, 1, 0, 1],
            "id": [5, 6, 7, 8, 9],
        }
    )
    encoded = _map().encode_frame(frame)
    assert list(encoded.columns) == ["item", "flag", "city", "price", "age", "hist", "tags", "click", "id"]
    assert encoded["item"].tolist() == [2, 1, 0, 1, 0]
    assert encoded["flag"].tolist() == [2, 3, 0, 2, 3]
    assert encoded["city"].tolist() == [2, 3, 0, 1, 2]  # an int column with a null still reads 10, not 10.0
    assert encoded["price"].tolist() == [1.0, 0.0, -1.0, 0.0, 0.0]
    assert encoded["age"].tolist() == [1, 2, 3, 4, 0]
    # the most recent max_length items, left-aligned, 0-padded; unknown items out of vocabulary
    assert [list(v) for v in encoded["hist"]] == [[4, 2, 2], [0, 0, 0], [0, 0, 0], [1, 0, 0], [4, 0, 0]]
    assert [list(v) for v in encoded["tags"]] == [[3, 2], [0, 0], [0, 0], [3, 0], [1, 2]]
    assert encoded["click"].dtype == np.float32 and encoded["id"].tolist() == [5, 6, 7, 8, 9]


def test_encode_records_gives_the_model_inputs():
    arrays = _map().encode_records(
        [{"item": "a", "flag": True, "city": 7, "price": 14.0, "age": 60, "hist": ["c"], "tags": "y"}]
    )
    assert arrays["item"].dtype == np.int64 and arrays["item"].tolist() == [3]
    assert arrays["price"].dtype == np.float32 and arrays["price"].tolist() == [2.0]
    assert arrays["hist"].shape == (1, 3) and arrays["hist"].tolist() == [[2, 0, 0]]


def test_serving_rows_encode_exactly_as_a_training_frame():
    """encode_records (JSON rows, no pandas for plain values) equals encode_frame (pandas) on dirty rows."""
    rng = np.random.default_rng(7)
    choices = {
        "item": ["a", "b", "c", "rare", "never", "", None, 3, True],
        "flag": [True, False, None, "true", "maybe"],
        "city": [10, 7, 3, None, "10", 10.0, float("nan")],
        "price": [12.0, 8, None, float("nan"), float("inf"), -3.5, 0, "9.5", "cheap", True],
        "age": [17.0, 18, 49.9, 50, None, float("nan"), "30", "old"],
        "hist": [["a", "b", "c", "c"], [], None, ["zzz"], ["b", None, 3], "c"],
        "tags": ["x|y|x", "", None, "y", "q|x", ["x", "y"]],
    }
    rows = [{name: values[rng.integers(len(values))] for name, values in choices.items()} for _ in range(400)]
    rows += [{name: values[0] for name, values in choices.items() if name != "city"}]  # a field left out
    fmap = _map()
    served = fmap.encode_records(rows)
    for size in (1, 3, len(rows)):  # one request, a few, many: every row encodes alone as in a batch
        for start in range(0, len(rows), size * 37 or 1):
            part = fmap.encode_records(rows[start : start + size])
            for name in fmap.names:
                assert np.array_equal(part[name], served[name][start : start + size]), (name, start, size)
    frame = pd.DataFrame.from_records(rows, columns=[*fmap.names, "click"])
    trained = fmap.encode_frame(frame, labels=False)
    from airflow_mlplat.ranking.feature_map import model_input

    for spec in fmap.fields:
        expected = model_input(spec, trained[spec.name])
        assert served[spec.name].dtype == expected.dtype
        assert np.array_equal(served[spec.name], expected), spec.name


def test_json_round_trip_and_files(tmp_path):
    fmap = _map()
    again = FeatureMap.from_json(fmap.to_json())
    assert again == fmap
    document = fmap.to_dict()
    assert document["fields"][0] == {
        "name": "item",
        "kind": "categorical",
        "vocab_size": 5,
        "min_count": 2,
        "vocabulary": ["c", "a", "b"],
    }
    fmap.save(str(tmp_path / "m" / "feature_map.json"))
    assert FeatureMap.load(str(tmp_path / "m")) == fmap
    assert FeatureMap.load((tmp_path / "m" / "feature_map.json").as_uri()) == fmap


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ((FieldSpec("a", "categorical"), FieldSpec("a", "numeric")), "field 'a' appears twice"),
        ((FieldSpec("a", "image"),), "field 'a': kind must be one of"),
        ((FieldSpec("s", "sequence", max_length=0),), "field 's': max_length must be an integer >= 1"),
        ((FieldSpec("s", "sequence", max_length=2, share_vocabulary_with="x"),), "field 's': share_vocabulary_with"),
        ((FieldSpec("n", "numeric", scale=0.0),), "field 'n': scale must be > 0"),
        ((FieldSpec("b", "categorical", boundaries=(2.0, 1.0)),), "field 'b': boundaries must be strictly increasing"),
        ((FieldSpec("click", "numeric"),), "column 'click' is both a field and a label"),
    ],
)
def test_malformed_maps_are_refused_naming_the_field(fields, message):
    with pytest.raises(FeatureMapError, match=message):
        FeatureMap(fields=fields, labels=("click",))


def test_a_missing_column_is_named():
    with pytest.raises(FeatureMapError, match="no column 'tags'"):
        _map().encode_frame(
            pd.DataFrame(
                {"item": ["a"], "flag": [1], "city": [1], "price": [1.0], "age": [1.0], "hist": [[]], "click": [1]}
            )
        )
