"""The one-aggregation binary metrics against Spark's own evaluator and a numpy reference."""

from __future__ import annotations

import numpy as np
import pytest
from pyspark.ml.evaluation import BinaryClassificationEvaluator

from airflow_mlplat.components.evaluation import binary_classification_evaluation, lift_gain_table


def _table(spark, *, rows: int, tied: bool, seed: int):
    rng = np.random.default_rng(seed)
    label = (rng.random(rows) < 0.3).astype(int)
    score = 1 / (1 + np.exp(-(rng.normal(size=rows) + 1.2 * label)))
    if tied:  # few distinct scores, each shared by rows of both classes
        score = np.round(score, 2)
    data = [(int(y), float(s), float(s > 0.5)) for y, s in zip(label, score, strict=True)]
    return spark.createDataFrame(data, "label int, score double, prediction double"), label, score


def _reference(label, score):
    """AUC-ROC by the Mann-Whitney statistic (ties count half) and KS over distinct scores."""
    order = np.argsort(score, kind="stable")
    ranks = np.empty(len(score))
    sorted_scores = score[order]
    _, first, counts = np.unique(sorted_scores, return_index=True, return_counts=True)
    for start, n in zip(first, counts, strict=True):
        ranks[order[start : start + n]] = start + (n + 1) / 2
    positives, negatives = label.sum(), (1 - label).sum()
    auc = (ranks[label == 1].sum() - positives * (positives + 1) / 2) / (positives * negatives)
    distinct = np.unique(score)[::-1]
    tpr = np.array([((score >= t) & (label == 1)).sum() for t in distinct]) / positives
    fpr = np.array([((score >= t) & (label == 0)).sum() for t in distinct]) / negatives
    return auc, float(np.max(np.abs(tpr - fpr)))


@pytest.mark.parametrize("tied", [False, True], ids=["untied", "tied"])
def test_aucs_match_sparks_evaluator_and_ks_the_reference(ctx, spark, tied):
    data, label, score = _table(spark, rows=3000, tied=tied, seed=7)
    metrics = binary_classification_evaluation(ctx, data, probability_col="score", plots=False)
    exact = BinaryClassificationEvaluator(rawPredictionCol="score", labelCol="label", numBins=0)
    assert abs(metrics["auc_roc"] - exact.setMetricName("areaUnderROC").evaluate(data)) < 1e-4
    assert abs(metrics["auc_pr"] - exact.setMetricName("areaUnderPR").evaluate(data)) < 1e-4
    # Spark's default curves are down-sampled to 1,000 points; its AUC-ROC still agrees (its
    # down-sampled AUC-PR drifts by about 1e-4 from the exact one, so it is not the reference).
    default = BinaryClassificationEvaluator(rawPredictionCol="score", labelCol="label")
    assert abs(metrics["auc_roc"] - default.evaluate(data)) < 1e-4
    auc, ks = _reference(label, score)
    assert abs(metrics["auc_roc"] - auc) < 1e-9
    assert abs(metrics["ks"] - ks) < 1e-9
    predicted = score > 0.5
    expected = {
        "tp": int((predicted & (label == 1)).sum()),
        "fp": int((predicted & (label == 0)).sum()),
        "tn": int((~predicted & (label == 0)).sum()),
        "fn": int((~predicted & (label == 1)).sum()),
    }
    assert metrics["confusion_matrix"] == expected


def test_scores_on_any_scale_and_sign_keep_their_order(ctx, spark):
    # Raw margins: negative, zero, tiny, huge and infinite scores; the order must survive the keys.
    scores = [-1e12, -3.5, -1e-9, 0.0, 1e-200, 2.0**-20, 0.5, 1.0, 1.0 + 2**-10, 4.0, 1e300, float("inf")]
    labels = [0, 0, 1, 0, 0, 1, 0, 1, 0, 1, 1, 1]
    data = spark.createDataFrame(list(zip(labels, scores, strict=True)), "label int, score double")
    metrics = binary_classification_evaluation(ctx, data, probability_col="score", prediction_col=None, plots=False)
    auc, ks = _reference(np.array(labels), np.array(scores))
    assert metrics["auc_roc"] == pytest.approx(auc, abs=1e-12) and metrics["ks"] == pytest.approx(ks, abs=1e-12)


def test_binary_evaluation_is_one_spark_aggregation(ctx, spark):
    data, _, _ = _table(spark, rows=2000, tied=False, seed=3)
    data = data.cache()
    data.count()
    tracker = spark.sparkContext.statusTracker()
    spark.sparkContext.setJobGroup("one-pass-evaluation", "one-pass evaluation")
    try:
        binary_classification_evaluation(ctx, data, probability_col="score")
        lift_gain_table(ctx, data, probability_col="score", plot=False)
    finally:
        spark.sparkContext.setLocalProperty("spark.jobGroup.id", None)
        data.unpersist()
    # One aggregation each: with adaptive execution its shuffle map stage and its result run as two jobs.
    assert len(tracker.getJobIdsForGroup("one-pass-evaluation")) <= 4
