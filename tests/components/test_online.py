"""The online components carry their state from window to window, and serving scores their models."""

from __future__ import annotations

import math

import numpy as np
import pytest

from airflow_mlplat.components.online import ftrl_train, online_standard_scaler, progressive_evaluation
from airflow_mlplat.online.ftrl import Ftrl
from airflow_mlplat.online.metrics import auc_roc
from airflow_mlplat.online.moments import Moments


def _paper_ftrl(examples, dim, alpha, beta, l1, l2):
    """Algorithm 1 of McMahan et al. (2013), coordinate by coordinate; the intercept (index dim) unregularised."""
    z, n = [0.0] * (dim + 1), [0.0] * (dim + 1)
    for features, y in examples:
        items = [*features.items(), (dim, 1.0)]
        w = {}
        for i, _ in items:
            reg1, reg2 = (0.0, 0.0) if i == dim else (l1, l2)
            if abs(z[i]) <= reg1:
                w[i] = 0.0
            else:
                w[i] = -(z[i] - math.copysign(reg1, z[i])) / ((beta + math.sqrt(n[i])) / alpha + reg2)
        p = 1.0 / (1.0 + math.exp(-sum(w[i] * x for i, x in items)))
        for i, x in items:
            g = (p - y) * x
            sigma = (math.sqrt(n[i] + g * g) - math.sqrt(n[i])) / alpha
            z[i] += g - sigma * w[i]
            n[i] += g * g
    return np.array(z), np.array(n)


def _examples(rows, dim, seed):
    rng = np.random.default_rng(seed)
    truth = rng.normal(size=dim)
    x = rng.normal(size=(rows, dim)) * (rng.random((rows, dim)) < 0.5)  # half the entries zero
    y = (rng.random(rows) < 1.0 / (1.0 + np.exp(-(x @ truth)))).astype(float)
    return x, y


def test_ftrl_follows_the_paper_and_round_trips_its_state():
    x, y = _examples(300, 6, seed=1)
    state = Ftrl(6, alpha=0.3, beta=1.0, l1=0.2, l2=0.1)
    for row, label in zip(x, y, strict=True):
        nonzero = np.flatnonzero(row)
        state.learn_one(nonzero, row[nonzero], label)
    z, n = _paper_ftrl(
        [({i: v for i, v in enumerate(row) if v}, label) for row, label in zip(x, y, strict=True)],
        6,
        0.3,
        1.0,
        0.2,
        0.1,
    )
    np.testing.assert_allclose(state.z, z, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(state.n, n, rtol=1e-12, atol=1e-12)
    copy = Ftrl.from_arrays(state.to_arrays())
    assert copy.hyper_parameters == state.hyper_parameters and copy.examples == 300
    np.testing.assert_array_equal(copy.weights()[0], state.weights()[0])
    with pytest.raises(ValueError, match="alpha must be"):
        Ftrl(3, alpha=0.0)
    with pytest.raises(ValueError, match="4 entries"):
        Ftrl(3, z=np.zeros(3), n=np.zeros(4))


def test_moments_merged_window_by_window_equal_one_pass():
    rng = np.random.default_rng(2)
    windows = [rng.normal(loc=i, scale=1 + i, size=(50 + 10 * i, 3)) for i in range(4)]
    merged = Moments.empty(3)
    for w in windows:
        merged = merged.merge(Moments.of_batch(len(w), w.mean(axis=0), w.var(axis=0, ddof=1)))
    everything = np.concatenate(windows)
    np.testing.assert_allclose(merged.mean, everything.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(merged.std(), everything.std(axis=0, ddof=1), rtol=1e-12)


def _window(spark, x, y, sparse=False):
    from pyspark.ml.linalg import Vectors

    def vector(row):
        if sparse:
            nonzero = np.flatnonzero(row)
            return Vectors.sparse(len(row), nonzero.tolist(), row[nonzero].tolist())
        return Vectors.dense(row.tolist())

    rows = [(vector(row), float(label)) for row, label in zip(x, y, strict=True)]
    return spark.createDataFrame(rows, ["features", "label"]).coalesce(1)


def test_ftrl_train_continues_from_the_previous_window(ctx, spark):
    x, y = _examples(400, 5, seed=3)
    first = ftrl_train(ctx, _window(spark, x[:200], y[:200]), alpha=0.2, l1=0.05)
    second = ftrl_train(ctx, _window(spark, x[200:], y[200:], sparse=True), first, alpha=0.2, l1=0.05)
    assert ctx.details["ftrl"]["examples_before"] == 200 and ctx.details["ftrl"]["examples"] == 400
    at_once = ftrl_train(ctx, _window(spark, x, y), alpha=0.2, l1=0.05)
    # Two windows learnt one after the other are the same as both learnt in one go.
    np.testing.assert_allclose(second.ftrl.z, at_once.ftrl.z, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(second.ftrl.n, at_once.ftrl.n, rtol=1e-12, atol=1e-12)
    assert first.ftrl.examples == 200  # the input model's state is not changed by the update


def test_ftrl_train_skips_missing_rows_and_names_bad_input(ctx, spark):
    from pyspark.ml.linalg import Vectors

    rows = [
        (Vectors.dense([1.0, 0.0]), 1.0),
        (None, 0.0),
        (Vectors.dense([0.0, 1.0]), None),
        (Vectors.dense([-1.0, 0.0]), 0.0),
    ]
    model = ftrl_train(ctx, spark.createDataFrame(rows, ["features", "label"]))
    assert ctx.details["ftrl"] == {"learnt_rows": 2, "skipped_rows": 2, "examples_before": 0, "examples": 2}
    wider = spark.createDataFrame([(Vectors.dense([1.0, 0.0, 2.0]), 1.0)], ["features", "label"])
    with pytest.raises(
        ValueError, match=r"inputs.model was trained on 2 features, params.features_col column 'features' has 3"
    ):
        ftrl_train(ctx, wider, model)
    three = spark.createDataFrame([(Vectors.dense([1.0, 0.0]), 2.0)], ["features", "label"])
    with pytest.raises(ValueError, match=r"params.label_col column 'label' holds 2.0"):
        ftrl_train(ctx, three)
    with pytest.raises(ValueError, match=r"inputs.model must be a FtrlModel"):
        ftrl_train(ctx, wider, online_standard_scaler(ctx, wider)["model"])


def test_ftrl_model_saved_loaded_and_scored_by_serving_as_by_spark(ctx, spark, tmp_path):
    from pyspark.ml import PipelineModel
    from pyspark.ml.feature import VectorAssembler

    from airflow_mlplat.serving.spark_scorer import SparkFileScorer

    rng = np.random.default_rng(4)
    table = spark.createDataFrame(
        [(float(a), float(b), float(a - b > 0)) for a, b in rng.normal(size=(300, 2))],
        "a double, b double, label double",
    )
    assembler = VectorAssembler(inputCols=["a", "b"], outputCol="features")
    scaler = online_standard_scaler(ctx, assembler.transform(table), input_col="features", output_col="scaled")
    model = ftrl_train(ctx, scaler["data"], features_col="scaled", alpha=0.5)
    pipeline = PipelineModel(stages=[assembler, scaler["model"], model])
    pipeline.write().save(str(tmp_path / "model"))
    loaded = PipelineModel.load(str(tmp_path / "model"))
    np.testing.assert_array_equal(loaded.stages[2].ftrl.z, model.ftrl.z)
    expected = [
        (r.probability[1], r.prediction) for r in loaded.transform(table).select("probability", "prediction").collect()
    ]
    rows = [{"a": r.a, "b": r.b} for r in table.collect()]
    served = SparkFileScorer.load(tmp_path / "model", {"a": "double", "b": "double"}).predict(rows)
    np.testing.assert_allclose([s["probability"][1] for s in served], [e[0] for e in expected], rtol=1e-9)
    assert [s["prediction"] for s in served] == [e[1] for e in expected]
    assert auc_roc([r.label for r in table.collect()], [s["probability"][1] for s in served]) > 0.95


def test_online_standard_scaler_over_windows_equals_spark_on_their_union(ctx, spark):
    from pyspark.ml.feature import StandardScaler
    from pyspark.ml.linalg import Vectors

    rng = np.random.default_rng(5)
    windows = [rng.normal(loc=3 * i, scale=1 + i, size=(40, 3)) for i in range(3)]
    model = None
    for w in windows:
        out = online_standard_scaler(
            ctx, spark.createDataFrame([(Vectors.dense(r.tolist()),) for r in w], ["features"]), model
        )
        model = out["model"]
    union = spark.createDataFrame([(Vectors.dense(r.tolist()),) for r in np.concatenate(windows)], ["features"])
    reference = StandardScaler(inputCol="features", outputCol="s", withMean=True).fit(union)
    np.testing.assert_allclose(model.moments.mean, reference.mean.toArray(), rtol=1e-9)
    np.testing.assert_allclose(model.moments.std(), reference.std.toArray(), rtol=1e-9)
    assert model.moments.count == 120


def test_progressive_evaluation_scores_before_learning_and_keeps_history(ctx, spark):
    x, y = _examples(600, 4, seed=6)
    windows = [_window(spark, x[i : i + 200], y[i : i + 200]) for i in range(0, 600, 200)]
    model = ftrl_train(ctx, windows[0], alpha=0.3)
    history = None
    for index, window in enumerate(windows[1:], start=1):
        expected = Ftrl.from_arrays(model.ftrl.to_arrays()).predict_dense(x[index * 200 : (index + 1) * 200])
        history = progressive_evaluation(ctx, model, window, history, keep_windows=1)
        assert history["window_auc"] == pytest.approx(auc_roc(y[index * 200 : (index + 1) * 200], expected))
        model = ftrl_train(ctx, window, model, alpha=0.3)
    assert history["windows"] == 2 and history["rows"] == 400 and len(history["recent_auc"]) == 1
    one_class = _window(spark, x[:10], np.ones(10))
    metrics = progressive_evaluation(ctx, model, one_class)
    assert metrics["window_auc"] is None and metrics["mean_recent_auc"] is None and metrics["window_log_loss"] > 0
