"""Evaluation components: metrics of scored tables, as plain JSON-able dicts."""

from __future__ import annotations

from typing import Annotated, Any

from airflow_mlplat.components._common import is_numeric, is_vector, quote, require_columns, require_numeric
from airflow_mlplat.components.registry import component
from airflow_mlplat.components.spec import Interval, Metrics, Table


def _ratio(numerator: float, denominator: float) -> float:
    return float(numerator) / float(denominator) if denominator else 0.0


def _score_column(data: Any, column: str, *, component: str) -> Any:
    """P(class 1) as a double column: element 1 of a probability vector, or a numeric column as is."""
    from pyspark.ml.functions import vector_to_array
    from pyspark.sql import functions as F

    data_type = data.schema[column].dataType
    if is_vector(data_type):
        return vector_to_array(F.col(quote(column)))[1]
    if is_numeric(data_type):
        return F.col(quote(column)).cast("double")
    raise ValueError(
        f"{component}: params.probability_col column {column!r} must be a probability vector or a numeric "
        f"score, but it is {data_type.simpleString()}"
    )


@component(category="evaluation", outputs={"metrics": Metrics})
def binary_classification_evaluation(
    ctx,
    data: Table,
    *,
    label_col: str = "label",
    probability_col: str = "probability",
    prediction_col: str | None = "prediction",
    threshold: Annotated[float, Interval(0.0, 1.0)] = 0.5,
):
    """Evaluate a binary classifier's scored table: ranking quality, KS and the confusion matrix.

    The score is P(class 1): element 1 of a Spark probability vector, or a numeric column such
    as ``predict``'s ``score``. AUCs and KS use the score; the confusion matrix and the metrics
    derived from it use ``prediction_col`` (the classifier's own decision, at Spark's default
    threshold 0.5 unless the model was fitted with another), or, with ``prediction_col`` unset,
    ``score > threshold``. Labels must be 0 or 1, and both classes must occur.

    Metrics: ``auc_roc``, ``auc_pr``, ``ks`` (the largest gap between the true- and
    false-positive rates over all cut-offs), ``accuracy``, ``precision``, ``recall``, ``f1``,
    ``threshold``, ``confusion_matrix`` (``tp``, ``fp``, ``tn``, ``fn``), ``rows`` and
    ``positive_rate``; all plain floats and ints.

    Args:
        data: a scored table with the label and the classifier's probability (and prediction) columns.
        label_col: the true label column (0 or 1).
        probability_col: the probability vector column (or a numeric score column).
        prediction_col: the predicted label column (0 or 1); unset to predict ``score > threshold`` instead.
        threshold: the cut-off reported as ``threshold`` and, with prediction_col unset, applied to the score.
        metrics: the metrics dict.
    """
    from pyspark import StorageLevel
    from pyspark.ml.evaluation import BinaryClassificationEvaluator
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    name = "binary_classification_evaluation"
    (label,) = require_columns(data, [label_col], component=name, param="label_col")
    require_numeric(data, label, component=name, param="label_col", allow_boolean=False)
    (probability,) = require_columns(data, [probability_col], component=name, param="probability_col")
    score = _score_column(data, probability, component=name)
    if prediction_col:
        (prediction,) = require_columns(data, [prediction_col], component=name, param="prediction_col")
        require_numeric(data, prediction, component=name, param="prediction_col")
        predicted = F.col(quote(prediction)).cast("double") == 1.0
    else:
        predicted = score > F.lit(threshold)

    scored = data.select(
        F.col(quote(label)).cast("double").alias("label"),
        score.alias("score"),
        predicted.alias("predicted"),
    ).persist(StorageLevel.MEMORY_AND_DISK)
    try:
        positive, negative = F.col("label") == 1.0, F.col("label") == 0.0

        def count(condition: Any) -> Any:
            return F.sum(F.when(condition, 1).otherwise(0))

        counts = scored.agg(
            F.count(F.lit(1)).alias("rows"),
            count(positive & F.col("predicted")).alias("tp"),
            count(negative & F.col("predicted")).alias("fp"),
            count(negative & ~F.col("predicted")).alias("tn"),
            count(positive & ~F.col("predicted")).alias("fn"),
            count(~(positive | negative) | F.col("label").isNull()).alias("bad_labels"),
            count(F.col("score").isNull() | F.isnan("score")).alias("bad_scores"),
        ).first()
        rows = int(counts["rows"] or 0)
        if counts["bad_labels"]:
            raise ValueError(
                f"{name}: params.label_col column {label!r} has {counts['bad_labels']} value(s) other than 0 and 1"
            )
        if counts["bad_scores"]:
            raise ValueError(
                f"{name}: params.probability_col column {probability!r} has {counts['bad_scores']} "
                "missing (null or NaN) score(s)"
            )
        tp, fp, tn, fn = (int(counts[k]) for k in ("tp", "fp", "tn", "fn"))
        positives, negatives = tp + fn, fp + tn
        if not positives or not negatives:
            raise ValueError(
                f"{name}: params.label_col column {label!r} must hold both classes to evaluate, "
                f"got {positives} positive and {negatives} negative row(s)"
            )
        evaluator = BinaryClassificationEvaluator(rawPredictionCol="score", labelCol="label")
        auc_roc = evaluator.setMetricName("areaUnderROC").evaluate(scored)
        auc_pr = evaluator.setMetricName("areaUnderPR").evaluate(scored)

        # KS: walk the distinct scores from high to low, accumulating true and false positives.
        by_score = scored.groupBy("score").agg(count(positive).alias("pos"), count(negative).alias("neg"))
        descending = Window.orderBy(F.col("score").desc()).rowsBetween(Window.unboundedPreceding, Window.currentRow)
        ks = (
            by_score.select(
                F.abs(
                    F.sum("pos").over(descending) / F.lit(positives) - F.sum("neg").over(descending) / F.lit(negatives)
                ).alias("gap")
            )
            .agg(F.max("gap"))
            .first()[0]
        )
    finally:
        scored.unpersist()

    precision = _ratio(tp, tp + fp)
    recall = _ratio(tp, tp + fn)
    metrics = {
        "auc_roc": float(auc_roc),
        "auc_pr": float(auc_pr),
        "ks": float(ks or 0.0),
        "accuracy": _ratio(tp + tn, rows),
        "precision": precision,
        "recall": recall,
        "f1": _ratio(2 * precision * recall, precision + recall),
        "threshold": float(threshold),
        "confusion_matrix": {"tp": tp, "fp": fp, "tn": tn, "fn": fn},
        "rows": rows,
        "positive_rate": _ratio(positives, rows),
    }
    ctx.log.info(
        "%s: auc_roc=%.4f auc_pr=%.4f ks=%.4f on %d rows",
        ctx.node_id,
        metrics["auc_roc"],
        metrics["auc_pr"],
        metrics["ks"],
        rows,
    )
    return metrics


@component(category="evaluation", outputs={"metrics": Metrics})
def regression_evaluation(
    ctx,
    data: Table,
    *,
    label_col: str = "label",
    prediction_col: str = "prediction",
):
    """Evaluate a regressor's scored table.

    Metrics (as Spark's RegressionEvaluator defines them): ``rmse``, ``mse``, ``mae``, ``r2``
    (1 - residual sum of squares / total sum of squares), ``explained_variance`` (the mean
    squared deviation of the predictions from the label mean, Spark's ``var``) and ``rows``;
    all plain floats and ints, computed in one pass.

    Args:
        data: a scored table with the true label and the prediction.
        label_col: the true value column.
        prediction_col: the predicted value column.
        metrics: the metrics dict.
    """
    from pyspark.sql import functions as F

    name = "regression_evaluation"
    (label,) = require_columns(data, [label_col], component=name, param="label_col")
    (prediction,) = require_columns(data, [prediction_col], component=name, param="prediction_col")
    require_numeric(data, label, component=name, param="label_col")
    require_numeric(data, prediction, component=name, param="prediction_col")
    y, p = F.col(quote(label)).cast("double"), F.col(quote(prediction)).cast("double")

    def missing(column: Any) -> Any:
        return column.isNull() | F.isnan(column)

    stats = (
        data.select(y.alias("y"), p.alias("p"))
        .agg(
            F.count(F.lit(1)).alias("rows"),
            F.sum(F.when(missing(F.col("y")) | missing(F.col("p")), 1).otherwise(0)).alias("missing"),
            F.avg((F.col("p") - F.col("y")) ** 2).alias("mse"),
            F.avg(F.abs(F.col("p") - F.col("y"))).alias("mae"),
            F.avg("y").alias("y_mean"),
            F.var_pop("y").alias("y_var"),
            F.avg("p").alias("p_mean"),
            F.var_pop("p").alias("p_var"),
        )
        .first()
    )
    rows = int(stats["rows"] or 0)
    if stats["missing"]:
        raise ValueError(
            f"{name}: {stats['missing']} row(s) have a missing (null or NaN) value in params.label_col "
            f"column {label!r} or params.prediction_col column {prediction!r}"
        )
    if not rows:
        raise ValueError(f"{name}: the input table is empty")
    mse, mae = float(stats["mse"]), float(stats["mae"])
    y_var = float(stats["y_var"])
    if y_var > 0:
        r2 = 1.0 - mse / y_var
    else:  # a constant label: perfect predictions score 1, anything else 0 (as scikit-learn does)
        r2 = 1.0 if mse == 0 else 0.0
    explained = float(stats["p_var"]) + (float(stats["p_mean"]) - float(stats["y_mean"])) ** 2
    metrics = {
        "rmse": mse**0.5,
        "mse": mse,
        "mae": mae,
        "r2": r2,
        "explained_variance": explained,
        "rows": rows,
    }
    ctx.log.info("%s: rmse=%.4g r2=%.4f on %d rows", ctx.node_id, metrics["rmse"], r2, rows)
    return metrics
