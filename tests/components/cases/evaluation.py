"""Cases of the evaluation components: metrics of hand-made scored tables, computed by hand."""

from __future__ import annotations

import math

from tests.components.cases import Case, rows_equal
from tests.components.cases.statistics import assert_png

LABELS = [1, 1, 1, 0, 0, 0, 0, 1]
SCORES = [0.9, 0.8, 0.4, 0.7, 0.3, 0.2, 0.1, 0.6]


def _binary_data(spark):
    from pyspark.ml.linalg import Vectors

    rows = [(y, 1.0 if s > 0.5 else 0.0, Vectors.dense([1 - s, s])) for y, s in zip(LABELS, SCORES, strict=True)]
    return {"data": spark.createDataFrame(rows, ["label", "prediction", "probability"])}


def _binary(out, ctx):
    metrics = out["metrics"]
    assert metrics["confusion_matrix"] == {"tp": 3, "fp": 1, "tn": 3, "fn": 1}
    assert metrics["accuracy"] == 0.75 and metrics["precision"] == 0.75 and metrics["rows"] == 8
    # 14 of the 16 (positive, negative) pairs are ordered correctly; TPR - FPR peaks at 1 - 1/4.
    assert abs(metrics["auc_roc"] - 14 / 16) < 1e-12 and abs(metrics["ks"] - 0.75) < 1e-12
    for name in ("roc_curve", "precision_recall_curve", "confusion_matrix", "score_distribution"):
        assert_png(ctx, name)


def _regression(out, ctx):
    # residuals 0.5, 0, -0.5, 1: MSE 1.5 / 4, MAE 2 / 4; label variance 1.25.
    metrics = out["metrics"]
    assert abs(metrics["mse"] - 0.375) < 1e-12 and abs(metrics["rmse"] - math.sqrt(0.375)) < 1e-12
    assert abs(metrics["mae"] - 0.5) < 1e-12 and abs(metrics["r2"] - (1 - 0.375 / 1.25)) < 1e-12
    assert metrics["rows"] == 4


# (label, prediction, P(label)): the probability vector puts p_true on the true label.
_MULTICLASS = [(0, 0, 0.8), (0, 0, 0.8), (0, 1, 0.4), (1, 1, 0.8), (1, 1, 0.8), (1, 2, 0.4), (2, 2, 0.8), (2, 1, 0.4)]


def _multiclass_data(spark):
    from pyspark.ml.linalg import Vectors

    rows = []
    for label, prediction, p_true in _MULTICLASS:
        vector = [(1 - p_true) / 2] * 3
        vector[label] = p_true
        rows.append((float(label), float(prediction), Vectors.dense(vector)))
    return {"data": spark.createDataFrame(rows, ["label", "prediction", "probability"])}


def _multiclass(out, ctx):
    # class 0: support 3, predicted 2, TP 2 -> P 1, R 2/3, F1 0.8; class 1: 3, 4, 2 -> 1/2, 2/3,
    # 4/7; class 2: 2, 2, 1 -> 1/2, 1/2, 1/2. Weighted by support 3, 3, 2 of 8.
    metrics = out["metrics"]
    expected = {
        "accuracy": 5 / 8,
        "weighted_precision": (3 * 1 + 3 * 0.5 + 2 * 0.5) / 8,
        "weighted_recall": 5 / 8,
        "weighted_f1": (3 * 0.8 + 3 * 4 / 7 + 2 * 0.5) / 8,
        "macro_f1": (0.8 + 4 / 7 + 0.5) / 3,
        "log_loss": -(5 * math.log(0.8) + 3 * math.log(0.4)) / 8,
    }
    for key, value in expected.items():
        assert abs(metrics[key] - value) < 1e-12, (key, metrics[key], value)
    assert metrics["rows"] == 8 and metrics["classes"] == 3
    rows_equal(
        out["per_class"],
        [(0.0, 3, 2, 2, 1.0, 2 / 3, 0.8), (1.0, 3, 4, 2, 0.5, 2 / 3, 4 / 7), (2.0, 2, 2, 1, 0.5, 0.5, 0.5)],
        order_by=["label"],
    )
    rows_equal(
        out["confusion_matrix"],
        [(0.0, 0.0, 2), (0.0, 1.0, 1), (1.0, 1.0, 2), (1.0, 2.0, 1), (2.0, 1.0, 1), (2.0, 2.0, 1)],
        order_by=["label", "prediction"],
    )
    assert_png(ctx, "confusion_matrix")


def _clustering_data(spark):
    from pyspark.ml.linalg import Vectors

    points = [(0.0, 0), (1.0, 0), (10.0, 1), (11.0, 1), (12.0, 1)]
    return {"data": spark.createDataFrame([(Vectors.dense([x]), c) for x, c in points], ["features", "cluster"])}


def _clustering(out, ctx):
    # Spark's silhouette uses squared distances. a = mean to the own cluster, b = to the other:
    # 0: a 1, b (100 + 121 + 144) / 3; 1: a 1, b (81 + 100 + 121) / 3;
    # 10: a (1 + 4) / 2, b (100 + 81) / 2; 11: a 1, b (121 + 100) / 2; 12: a (4 + 1) / 2, b (144 + 121) / 2.
    pairs = [(1, 365 / 3), (1, 302 / 3), (2.5, 90.5), (1, 110.5), (2.5, 132.5)]
    silhouette = sum(1 - a / b for a, b in pairs) / 5
    metrics = out["metrics"]
    assert abs(metrics["silhouette"] - silhouette) < 1e-9, (metrics["silhouette"], silhouette)
    assert metrics["clusters"] == 2 and metrics["rows"] == 5 and metrics["largest_cluster_share"] == 0.6
    rows_equal(out["sizes"], [(1, 3, 0.6), (0, 2, 0.4)])
    assert_png(ctx, "cluster_sizes")


def _ranking(out, ctx):
    # query 1: ranked 1, 2, 3, relevant {1, 3}; query 2: ranked 4, 5, relevant {5}; k = 2.
    # precision@2: 1/2, 1/2; recall@2: 1/2, 1; AP: (1/1 + 2/3) / 2, (1/2) / 1; AP@2: 1/2, 1/2;
    # NDCG@2: 1 / (1 + 1/log2(3)), (1/log2(3)) / 1.
    metrics = out["metrics"]
    expected = {
        "precision_at_k": 0.5,
        "recall_at_k": 0.75,
        "map": (5 / 6 + 0.5) / 2,
        "map_at_k": 0.5,
        "ndcg_at_k": (1 / (1 + 1 / math.log2(3)) + 1 / math.log2(3)) / 2,
    }
    for key, value in expected.items():
        assert abs(metrics[key] - value) < 1e-12, (key, metrics[key], value)
    assert metrics["k"] == 2 and metrics["rows"] == 2


def _lift(out, ctx):
    # scores 0.1 .. 1.0, positives at 1.0, 0.9, 0.7, 0.3 (rate 0.4); quintile cut-offs 0.2, 0.4,
    # 0.6, 0.8 give buckets of two rows each, highest scores first.
    rows_equal(
        out["lift"],
        [
            (1, 2, 2, 0.9, 1.0, 1.0, 2.5, 2, 2, 2.5, 0.5),
            (2, 2, 1, 0.7, 0.8, 0.5, 1.25, 4, 3, 1.875, 0.75),
            (3, 2, 0, 0.5, 0.6, 0.0, 0.0, 6, 3, 1.25, 0.75),
            (4, 2, 1, 0.3, 0.4, 0.5, 1.25, 8, 4, 1.25, 1.0),
            (5, 2, 0, 0.1, 0.2, 0.0, 0.0, 10, 4, 1.0, 1.0),
        ],
        order_by=["bucket"],
    )
    assert_png(ctx, "gain_chart")


CASES = {
    "binary_classification_evaluation": Case(inputs=_binary_data, check=_binary),
    "regression_evaluation": Case(
        inputs=lambda spark: {
            "data": spark.createDataFrame(
                [(1.0, 1.5), (2.0, 2.0), (3.0, 2.5), (4.0, 5.0)], "label double, prediction double"
            )
        },
        check=_regression,
    ),
    "multiclass_evaluation": Case(inputs=_multiclass_data, check=_multiclass),
    "clustering_evaluation": Case(inputs=_clustering_data, check=_clustering),
    "ranking_evaluation": Case(
        inputs=lambda spark: {
            "data": spark.createDataFrame(
                [([1, 2, 3], [1, 3]), ([4, 5], [5])], "prediction array<int>, label array<int>"
            )
        },
        params={"k": 2},
        check=_ranking,
    ),
    "lift_gain_table": Case(
        inputs=lambda spark: {
            "data": spark.createDataFrame(
                [(1 if s in (10, 9, 7, 3) else 0, s / 10) for s in range(1, 11)], "label int, score double"
            )
        },
        params={"probability_col": "score", "bins": 5},
        check=_lift,
    ),
}
