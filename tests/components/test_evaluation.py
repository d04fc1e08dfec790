from __future__ import annotations

import json

import pytest
from pyspark.ml.evaluation import RegressionEvaluator
from pyspark.ml.linalg import Vectors

from airflow_mlplat.components.evaluation import binary_classification_evaluation, regression_evaluation

LABELS = [1, 1, 1, 0, 0, 0, 0, 1]
SCORES = [0.9, 0.8, 0.4, 0.7, 0.3, 0.2, 0.1, 0.6]


@pytest.fixture
def scored(spark):
    rows = [(y, s, 1.0 if s > 0.5 else 0.0, Vectors.dense([1 - s, s])) for y, s in zip(LABELS, SCORES, strict=True)]
    return spark.createDataFrame(rows, ["label", "score", "prediction", "probability"])


def _plain(value):
    if isinstance(value, dict):
        return all(_plain(v) for v in value.values())
    return type(value) in (int, float)


def test_binary_metrics_on_a_hand_made_table(ctx, scored):
    metrics = binary_classification_evaluation(ctx, scored)
    assert metrics["confusion_matrix"] == {"tp": 3, "fp": 1, "tn": 3, "fn": 1}
    assert metrics["rows"] == 8 and metrics["positive_rate"] == 0.5
    assert metrics["accuracy"] == 0.75 and metrics["precision"] == 0.75
    assert metrics["recall"] == 0.75 and metrics["f1"] == pytest.approx(0.75)
    assert metrics["threshold"] == 0.5
    # 14 of the 16 (positive, negative) pairs are ordered correctly
    assert metrics["auc_roc"] == pytest.approx(14 / 16)
    # TPR - FPR peaks after the 5th-highest score: 4/4 - 1/4
    assert metrics["ks"] == pytest.approx(0.75)
    # trapezoids under the PR curve (0,1) (.25,1) (.5,1) (.5,2/3) (.75,.75) (1,.8) ...
    assert metrics["auc_pr"] == pytest.approx(0.25 + 0.25 + (2 / 3 + 0.75) / 2 * 0.25 + (0.75 + 0.8) / 2 * 0.25)
    assert _plain(metrics)
    json.dumps(metrics)


def test_binary_metrics_from_a_numeric_score_and_a_threshold(ctx, scored):
    from_vector = binary_classification_evaluation(ctx, scored)
    from_score = binary_classification_evaluation(ctx, scored, probability_col="score")
    assert from_score == from_vector
    cut = binary_classification_evaluation(ctx, scored, probability_col="score", prediction_col=None, threshold=0.35)
    assert cut["confusion_matrix"] == {"tp": 4, "fp": 1, "tn": 3, "fn": 0}
    assert cut["threshold"] == 0.35 and cut["recall"] == 1.0 and cut["precision"] == 0.8


def test_perfect_separation(ctx, spark):
    rows = [(1, 0.9, 1.0), (1, 0.8, 1.0), (0, 0.3, 0.0), (0, 0.1, 0.0), (0, 0.2, 0.0)]
    metrics = binary_classification_evaluation(
        ctx, spark.createDataFrame(rows, "label int, p double, prediction double"), probability_col="p"
    )
    assert metrics["auc_roc"] == 1.0 and metrics["auc_pr"] == 1.0 and metrics["ks"] == 1.0
    assert metrics["accuracy"] == 1.0 and metrics["f1"] == 1.0


def test_binary_evaluation_errors(ctx, spark, scored):
    with pytest.raises(ValueError, match=r"params\.probability_col names column 'prob'"):
        binary_classification_evaluation(ctx, scored, probability_col="prob")
    with pytest.raises(ValueError, match=r"params\.label_col names column 'y'"):
        binary_classification_evaluation(ctx, scored, label_col="y")
    three = spark.createDataFrame([(2, 0.5, 1.0), (0, 0.1, 0.0)], "label int, score double, prediction double")
    with pytest.raises(ValueError, match=r"params\.label_col column 'label' has 1 value\(s\) other than 0 and 1"):
        binary_classification_evaluation(ctx, three, probability_col="score")
    one_class = spark.createDataFrame([(1, 0.5, 1.0)], "label int, score double, prediction double")
    with pytest.raises(ValueError, match=r"must hold both classes"):
        binary_classification_evaluation(ctx, one_class, probability_col="score")


def test_regression_metrics(ctx, spark):
    data = spark.createDataFrame([(1.0, 1.5), (2.0, 2.0), (3.0, 2.5), (4.0, 5.0)], "label double, prediction double")
    metrics = regression_evaluation(ctx, data)
    assert metrics["mse"] == pytest.approx(0.375)
    assert metrics["rmse"] == pytest.approx(0.375**0.5)
    assert metrics["mae"] == pytest.approx(0.5)
    assert metrics["r2"] == pytest.approx(1 - 0.375 / 1.25)
    assert metrics["explained_variance"] == pytest.approx(1.875)
    assert metrics["rows"] == 4
    for name, key in (("rmse", "rmse"), ("mse", "mse"), ("mae", "mae"), ("r2", "r2"), ("var", "explained_variance")):
        assert RegressionEvaluator(metricName=name).evaluate(data) == pytest.approx(metrics[key]), name
    assert _plain(metrics)
    with pytest.raises(ValueError, match=r"regression_evaluation: params\.prediction_col names column 'yhat'"):
        regression_evaluation(ctx, data, prediction_col="yhat")
    with pytest.raises(ValueError, match=r"1 row\(s\) have a missing"):
        regression_evaluation(ctx, data.union(spark.createDataFrame([(None, 1.0)], data.schema)))
