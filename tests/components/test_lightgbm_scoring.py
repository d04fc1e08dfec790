"""The fast GBDT path's executor-side scorer (an Arrow UDF), called on Arrow batches without Spark."""

from __future__ import annotations

import types

import numpy as np
import pyarrow as pa
import pytest

lightgbm = pytest.importorskip("lightgbm")


def _scorer(booster, classifier: bool):
    from airflow_mlplat.components._lightgbm_models import _score_function

    broadcast = types.SimpleNamespace(value=booster.model_to_string())  # what a task reads from the broadcast
    return _score_function(broadcast, booster.num_feature(), classifier).func


def _features(matrix):
    return pa.array([list(row) for row in matrix], type=pa.list_(pa.float64()))


def test_binary_scores_match_lightgbm_on_sliced_and_empty_batches():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(500, 3))
    booster = lightgbm.train({"objective": "binary", "verbosity": -1}, lightgbm.Dataset(x, label=x[:, 0] > 0), 5)
    batches = _features(x)
    out = list(_scorer(booster, True)(iter([batches.slice(0, 200), batches.slice(200, 300), batches.slice(0, 0)])))
    assert [len(batch) for batch in out] == [200, 300, 0]
    probability = np.concatenate([np.array(b.field("probability").to_pylist())[:, 1] for b in out[:2]])
    np.testing.assert_allclose(probability, booster.predict(x), rtol=0, atol=1e-12)
    raw = np.array(out[0].field("raw").to_pylist())
    np.testing.assert_allclose(raw[:, 1], -raw[:, 0])
    assert out[0].field("prediction").to_pylist() == list((probability[:200] > 0.5).astype(float))


def test_multiclass_and_regression_scores():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(300, 4))
    classes = rng.integers(0, 3, 300)
    multiclass = lightgbm.train(
        {"objective": "multiclass", "num_class": 3, "verbosity": -1}, lightgbm.Dataset(x, label=classes), 3
    )
    (scored,) = _scorer(multiclass, True)(iter([_features(x)]))
    np.testing.assert_allclose(np.array(scored.field("probability").to_pylist()), multiclass.predict(x), atol=1e-12)
    regression = lightgbm.train({"objective": "regression", "verbosity": -1}, lightgbm.Dataset(x, label=x[:, 1]), 3)
    (predicted,) = _scorer(regression, False)(iter([_features(x)]))
    np.testing.assert_allclose(predicted.to_numpy(), regression.predict(x), atol=1e-12)


def test_a_vector_of_the_wrong_size_is_an_error():
    x = np.random.default_rng(2).normal(size=(50, 3))
    booster = lightgbm.train({"objective": "regression", "verbosity": -1}, lightgbm.Dataset(x, label=x[:, 0]), 2)
    with pytest.raises(ValueError, match="every features vector must have 3 values"):
        list(_scorer(booster, False)(iter([pa.array([[1.0, 2.0]], type=pa.list_(pa.float64()))])))
