"""Evaluation components: metrics of scored tables, as plain JSON-able dicts, with tables and plots."""

from __future__ import annotations

import math
from typing import Annotated, Any

from airflow_mlplat.components._common import (
    is_numeric,
    is_vector,
    quote,
    require_columns,
    require_numeric,
    require_vector,
)
from airflow_mlplat.components.registry import component
from airflow_mlplat.components.spec import Interval, Metrics, Options, Table


def _ratio(numerator: float, denominator: float) -> float:
    return float(numerator) / float(denominator) if denominator else 0.0


def _score_column(data: Any, column: str, *, component: str) -> Any:
    """P(class 1) as a double column: element 1 of a probability vector, or a numeric column as is."""
    from pyspark.ml.functions import vector_to_array
    from pyspark.sql import functions as F

    data_type = data.schema[column].dataType
    if is_vector(data_type):
        # get() is null past the end (a one-element vector), reported as a missing score.
        return F.get(vector_to_array(F.col(quote(column))), 1)
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
    plots: bool = True,
    plot_bins: Annotated[int, Interval(10, 10_000)] = 100,
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

    With ``plots``, four PNGs are saved: ``roc_curve``, ``precision_recall_curve``,
    ``confusion_matrix`` and ``score_distribution`` (the score histogram of each class). The
    curves are drawn from ``plot_bins`` equal-width score bins; the AUCs in their legends are
    the exact ones.

    Everything comes from one Spark aggregation: class and confusion counts per score key (a
    score's binary exponent and top 16 mantissa bits, so near-equal scores on any scale share a
    key), one row per key to the driver. AUCs and KS are those of Spark's
    ``BinaryClassificationEvaluator`` without down-sampling, scores closer than 2**-16 of their
    magnitude counting as tied.

    Args:
        data: a scored table with the label and the classifier's probability (and prediction) columns.
        label_col: the true label column (0 or 1).
        probability_col: the probability vector column (or a numeric score column).
        prediction_col: the predicted label column (0 or 1); unset to predict ``score > threshold`` instead.
        threshold: the cut-off reported as ``threshold`` and, with prediction_col unset, applied to the score.
        plots: save the ROC, precision-recall, confusion-matrix and score-distribution PNGs.
        plot_bins: the number of score bins the curves and the score distribution are drawn from.
        metrics: the metrics dict.
    """
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

    # One aggregation (one Spark job) gives every metric and every plot's data: class and
    # confusion counts per score key, ordered on the driver. Ties (and scores closer than
    # 2**-16 of their magnitude, which share a key) move together, as equal scores do in Spark.
    histogram = _score_histogram(data, F.col(quote(label)), score, predicted)
    rows = histogram["rows"]
    if histogram["bad_labels"]:
        raise ValueError(
            f"{name}: params.label_col column {label!r} has {histogram['bad_labels']} value(s) other than 0 and 1"
        )
    if histogram["bad_scores"]:
        raise ValueError(
            f"{name}: params.probability_col column {probability!r} has {histogram['bad_scores']} "
            "missing (null or NaN) score(s)"
        )
    tp, fp, tn, fn = (int(histogram[k].sum()) for k in ("tp", "fp", "tn", "fn"))
    positives, negatives = int(histogram["pos"].sum()), int(histogram["neg"].sum())
    if not positives or not negatives:
        raise ValueError(
            f"{name}: params.label_col column {label!r} must hold both classes to evaluate, "
            f"got {positives} positive and {negatives} negative row(s)"
        )
    curves = _binary_curves(histogram["pos"], histogram["neg"])
    auc_roc, auc_pr, ks = curves["auc_roc"], curves["auc_pr"], curves["ks"]
    binned = _rebin(histogram, plot_bins) if plots else None

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
    if binned is not None:
        decision = f"by {prediction_col!r}" if prediction_col else f"score > {threshold:g}"
        _plot_binary(ctx, binned, metrics, decision)
    return metrics


#: Mantissa bits of the score histogram's keys: scores closer than 2**-16 (1.5e-5) of their own
#: magnitude share a key, so a key holds near-equal scores on any scale, and an octave of scores
#: (0.25-0.5, say) has at most 65,536 keys whatever the table's size.
_KEY_BITS = 16
_KEY_OFFSET = 1100  # above -min(binary exponent of a double) so that every key of a positive score is positive


def _score_key(score: Any) -> Any:
    """A long that orders like ``score``: its binary exponent and top ``_KEY_BITS`` mantissa bits.

    Null for a null or NaN score. ``floor(log2(a))`` may be off by one at an exact power of two;
    the key of ``a`` is ``floor(a * 2**(bits - e)) + (e - 1) * 2**bits`` for either exponent there,
    so the order holds.
    """
    from pyspark.sql import functions as F

    a = F.abs(score)
    e = F.floor(F.log2(a))
    magnitude = F.floor(a * F.pow(F.lit(2.0), F.lit(_KEY_BITS) - e)) + (e - 1 + F.lit(_KEY_OFFSET)) * F.lit(
        2**_KEY_BITS
    )
    top = F.lit((2 * _KEY_OFFSET + 2) * 2**_KEY_BITS)  # beyond every finite score's key
    return (
        F.when(score.isNull() | F.isnan(score), F.lit(None))
        .when(a < F.lit(1e-300), F.lit(0))
        .when(a == F.lit(math.inf), F.signum(score) * top)
        .otherwise(F.signum(score) * magnitude)
        .cast("long")
    )


def _score_histogram(data: Any, label: Any, score: Any, predicted: Any | None = None) -> dict[str, Any]:
    """One Spark aggregation of a scored table into per-key class counts: the source of every binary metric.

    Returns numpy arrays ordered by score, highest first (``pos``, ``neg``, ``low``, ``high``,
    and with ``predicted`` the confusion counts ``tp``, ``fp``, ``tn``, ``fn`` per key), and the
    totals ``rows``, ``bad_labels`` (neither 0 nor 1) and ``bad_scores`` (null or NaN). Only one
    row per distinct key reaches the driver, as Arrow.
    """
    import numpy as np
    from pyspark.sql import functions as F

    y = label.cast("double")
    positive, negative = y == 1.0, y == 0.0

    def count(condition: Any) -> Any:
        return F.sum(F.when(condition, 1).otherwise(0)).cast("long")

    aggregates = [
        F.count(F.lit(1)).alias("rows"),
        count(positive).alias("pos"),
        count(negative).alias("neg"),
        count(~(positive | negative) | y.isNull()).alias("bad_labels"),
        F.min(score).alias("low"),
        F.max(score).alias("high"),
    ]
    if predicted is not None:
        aggregates += [
            count(positive & predicted).alias("tp"),
            count(negative & predicted).alias("fp"),
            count(negative & ~predicted).alias("tn"),
            count(positive & ~predicted).alias("fn"),
        ]
    table = data.groupBy(_score_key(score).alias("key")).agg(*aggregates).toArrow()
    columns = {name: table.column(name).to_numpy(zero_copy_only=False) for name in table.column_names}
    valid = ~table.column("key").is_null().to_numpy(zero_copy_only=False)
    order = np.argsort(-columns["key"][valid].astype(np.int64), kind="stable")
    histogram: dict[str, Any] = {
        "rows": int(columns["rows"].sum()),
        "bad_labels": int(columns["bad_labels"].sum()),
        "bad_scores": int(columns["rows"][~valid].sum()),
    }
    for name, values in columns.items():
        if name not in ("key", "rows", "bad_labels"):
            histogram[name] = values[valid][order]
    return histogram


def _binary_curves(pos: Any, neg: Any) -> dict[str, Any]:
    """ROC and PR curves, AUCs and KS from class counts per distinct score, highest score first.

    As Spark's ``BinaryClassificationMetrics`` without down-sampling: one point per distinct
    score (equal scores move together), trapezoids under (0, 0) + ROC and under
    (0, precision at the top score) + PR.
    """
    import numpy as np

    tp, fp = np.cumsum(pos, dtype=np.float64), np.cumsum(neg, dtype=np.float64)
    positives, negatives = tp[-1], fp[-1]
    tpr, fpr = tp / positives, fp / negatives
    precision = tp / (tp + fp)
    roc_x, roc_y = np.concatenate(([0.0], fpr)), np.concatenate(([0.0], tpr))
    pr_x, pr_y = np.concatenate(([0.0], tpr)), np.concatenate((precision[:1], precision))
    return {
        "auc_roc": float(np.sum(np.diff(roc_x) * (roc_y[1:] + roc_y[:-1]) / 2)),
        "auc_pr": float(np.sum(np.diff(pr_x) * (pr_y[1:] + pr_y[:-1]) / 2)),
        "ks": float(np.max(np.abs(tpr - fpr))),
    }


def _rebin(histogram: dict[str, Any], bins: int) -> list[tuple]:
    """``(lower edge, upper edge, positives, negatives)`` of ``bins`` equal-width score bins, lowest first."""
    import numpy as np

    low, high = float(histogram["low"].min()), float(histogram["high"].max())
    width = (high - low) / bins if high > low else 1.0
    index = np.minimum(np.floor((histogram["low"] - low) / width).astype(np.int64), bins - 1)
    pos = np.bincount(index, weights=histogram["pos"], minlength=bins)
    neg = np.bincount(index, weights=histogram["neg"], minlength=bins)
    return [(low + b * width, low + (b + 1) * width, int(pos[b]), int(neg[b])) for b in range(bins)]


def _figure(width: float = 5.0, height: float = 4.5) -> Any:
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height))


def _plot_binary(ctx: Any, binned: list[tuple], metrics: dict[str, Any], decision: str) -> None:
    positives = sum(b[2] for b in binned)
    negatives = sum(b[3] for b in binned)
    # Cut-offs at the bins' edges, from the highest score down: one curve point per bin.
    fpr, tpr, recall, precision = [0.0], [0.0], [0.0], [1.0]
    tp = fp = 0
    for _, _, pos, neg in reversed(binned):
        if not pos and not neg:
            continue
        tp, fp = tp + pos, fp + neg
        fpr.append(fp / negatives)
        tpr.append(tp / positives)
        recall.append(tp / positives)
        precision.append(tp / (tp + fp))

    figure = _figure()
    axes = figure.add_subplot(1, 1, 1)
    axes.plot(fpr, tpr, color="tab:blue", label=f"AUC = {metrics['auc_roc']:.4f}")
    axes.plot([0, 1], [0, 1], color="grey", linestyle="--", linewidth=1, label="random")
    axes.set(xlabel="false positive rate", ylabel="true positive rate", title="ROC curve", xlim=(0, 1), ylim=(0, 1.02))
    axes.legend(loc="lower right")
    ctx.save_figure(figure, "roc_curve")

    figure = _figure()
    axes = figure.add_subplot(1, 1, 1)
    axes.plot(recall, precision, color="tab:green", label=f"AUC = {metrics['auc_pr']:.4f}")
    base = metrics["positive_rate"]
    axes.axhline(base, color="grey", linestyle="--", linewidth=1, label=f"positive rate {base:.3f}")
    axes.set(xlabel="recall", ylabel="precision", title="Precision-recall curve", xlim=(0, 1), ylim=(0, 1.02))
    axes.legend(loc="lower left")
    ctx.save_figure(figure, "precision_recall_curve")

    cells = metrics["confusion_matrix"]
    _plot_confusion(ctx, ["0", "1"], [[cells["tn"], cells["fp"]], [cells["fn"], cells["tp"]]], f"predicted {decision}")

    figure = _figure(6.0, 4.0)
    axes = figure.add_subplot(1, 1, 1)
    edges = [b[0] for b in binned] + [binned[-1][1]]
    for column, label, color in ((3, "label 0", "tab:red"), (2, "label 1", "tab:blue")):
        total = sum(b[column] for b in binned) or 1
        axes.stairs([b[column] / total for b in binned], edges, fill=True, alpha=0.5, color=color, label=label)
    axes.set(xlabel="score", ylabel="share of the class's rows", title="Score distribution by class")
    axes.legend()
    ctx.save_figure(figure, "score_distribution")


def _plot_confusion(ctx: Any, labels: list[str], matrix: list[list[int]], subtitle: str = "") -> None:
    size = len(labels)
    side = min(12.0, 2.5 + 0.5 * size)
    figure = _figure(side + 1.0, side)
    axes = figure.add_subplot(1, 1, 1)
    image = axes.imshow(matrix, cmap="Blues")
    figure.colorbar(image, ax=axes)
    axes.set_xticks(range(size), labels=labels)
    axes.set_yticks(range(size), labels=labels)
    axes.set(xlabel="predicted", ylabel="true", title="Confusion matrix" + (f" ({subtitle})" if subtitle else ""))
    if size <= 20:
        peak = max((max(row) for row in matrix), default=0)
        for i, row in enumerate(matrix):
            for j, value in enumerate(row):
                color = "white" if peak and value > peak / 2 else "black"
                axes.text(j, i, str(value), ha="center", va="center", color=color)
    ctx.save_figure(figure, "confusion_matrix")


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


#: Confusion-matrix PNGs are drawn for at most this many classes.
_PLOT_CLASSES = 50


@component(
    category="evaluation",
    outputs={"metrics": Metrics, "per_class": Table, "confusion_matrix": Table},
)
def multiclass_evaluation(
    ctx,
    data: Table,
    *,
    label_col: str = "label",
    prediction_col: str = "prediction",
    probability_col: str | None = "probability",
    plot: bool = True,
):
    """Evaluate a multiclass classifier's scored table: accuracy, weighted scores, log loss, per-class scores.

    The confusion counts are one Spark aggregation; every score follows from them as Spark's
    ``MulticlassClassificationEvaluator`` defines it: per class, precision = TP / predicted
    (0 when never predicted), recall = TP / support, F1 their harmonic mean; the weighted
    scores average them weighted by each class's support. Log loss is the mean of
    -log(max(p[label], 1e-15)), which needs integer labels 0..n-1 indexing the probability
    vector. With ``plot``, ``confusion_matrix.png`` shows the counts (up to 50 classes).

    Metrics: ``accuracy``, ``weighted_precision``, ``weighted_recall``, ``weighted_f1``,
    ``macro_f1`` (the plain mean of the F1 of the classes that occur as labels), ``log_loss``
    (only with ``probability_col``), ``rows``, ``classes``.

    Args:
        data: a scored table with the true label and the predicted label.
        label_col: the true label column (numeric class ids).
        prediction_col: the predicted label column.
        probability_col: the class-probability vector column, for log loss; unset to skip log loss.
        plot: save the confusion matrix as ``confusion_matrix.png``.
        metrics: the metrics dict.
        per_class: one row per class (true or predicted): ``label``, ``support`` (true rows),
            ``predicted``, ``true_positives``, ``precision``, ``recall``, ``f1``.
        confusion_matrix: ``label``, ``prediction``, ``count`` for every pair that occurs.
    """
    from pyspark.ml.functions import vector_to_array
    from pyspark.sql import functions as F

    name = "multiclass_evaluation"
    (label,) = require_columns(data, [label_col], component=name, param="label_col")
    (prediction,) = require_columns(data, [prediction_col], component=name, param="prediction_col")
    require_numeric(data, label, component=name, param="label_col")
    require_numeric(data, prediction, component=name, param="prediction_col")
    probability = None
    if probability_col:
        (probability,) = require_columns(data, [probability_col], component=name, param="probability_col")
        if not is_vector(data.schema[probability].dataType):
            raise ValueError(
                f"{name}: params.probability_col column {probability!r} must be a probability vector, but it is "
                f"{data.schema[probability].dataType.simpleString()} (unset probability_col to skip log loss)"
            )
    y, p = F.col(quote(label)).cast("double"), F.col(quote(prediction)).cast("double")
    # One aggregation: the confusion counts and, per (label, prediction) pair, the log-loss sum.
    aggregates = [F.count(F.lit(1)).alias("count")]
    if probability is not None:
        probs = vector_to_array(F.col(quote(probability)))
        valid = (y >= 0) & (y == F.floor(y)) & (y < F.size(probs))
        aggregates += [
            F.sum(F.when(valid, -F.log(F.greatest(F.element_at(probs, y.cast("int") + 1), F.lit(1e-15))))).alias(
                "loss"
            ),
            F.sum(F.when(valid, 0).otherwise(1)).alias("invalid"),
        ]
    pairs = data.groupBy(y.alias("y"), p.alias("p")).agg(*aggregates).collect()
    bad = sum(r["count"] for r in pairs if r["y"] is None or r["p"] is None or math.isnan(r["y"]) or math.isnan(r["p"]))
    if bad:
        raise ValueError(
            f"{name}: {bad} row(s) have a missing (null or NaN) value in params.label_col column {label!r} "
            f"or params.prediction_col column {prediction!r}"
        )
    counts = {(float(r["y"]), float(r["p"])): int(r["count"]) for r in pairs}
    rows = sum(counts.values())
    if not rows:
        raise ValueError(f"{name}: the input table is empty")
    classes = sorted({y for y, _ in counts} | {p for _, p in counts})
    per_class = []
    for c in classes:
        support = sum(n for (y, _), n in counts.items() if y == c)
        predicted = sum(n for (_, p), n in counts.items() if p == c)
        tp = counts.get((c, c), 0)
        precision, recall = _ratio(tp, predicted), _ratio(tp, support)
        per_class.append(
            (c, support, predicted, tp, precision, recall, _ratio(2 * precision * recall, precision + recall))
        )
    metrics: dict[str, Any] = {
        "accuracy": _ratio(sum(r[3] for r in per_class), rows),
        "weighted_precision": sum(r[4] * r[1] for r in per_class) / rows,
        "weighted_recall": sum(r[5] * r[1] for r in per_class) / rows,
        "weighted_f1": sum(r[6] * r[1] for r in per_class) / rows,
        "macro_f1": sum(r[6] for r in per_class if r[1]) / sum(1 for r in per_class if r[1]),
    }
    if probability is not None:
        invalid = sum(int(r["invalid"] or 0) for r in pairs)
        if invalid:
            raise ValueError(
                f"{name}: {invalid} label(s) in params.label_col column {label!r} are not class "
                f"indexes 0..n-1 of params.probability_col column {probability!r}, so log loss is undefined "
                "(unset probability_col to skip it)"
            )
        metrics["log_loss"] = sum(float(r["loss"] or 0.0) for r in pairs) / rows
    metrics["rows"] = rows
    metrics["classes"] = len(classes)
    ctx.log.info(
        "%s: accuracy=%.4f weighted_f1=%.4f over %d classes, %d rows",
        ctx.node_id,
        metrics["accuracy"],
        metrics["weighted_f1"],
        len(classes),
        rows,
    )
    if plot and len(classes) <= _PLOT_CLASSES:
        names = [f"{c:g}" for c in classes]
        _plot_confusion(ctx, names, [[counts.get((t, q), 0) for q in classes] for t in classes])
    per_class_table = ctx.spark.createDataFrame(
        per_class,
        "label double, support bigint, predicted bigint, true_positives bigint, precision double, recall double, "
        "f1 double",
    )
    confusion = ctx.spark.createDataFrame(
        [(y, p, n) for (y, p), n in sorted(counts.items())], "label double, prediction double, count bigint"
    )
    return {"metrics": metrics, "per_class": per_class_table, "confusion_matrix": confusion}


@component(category="evaluation", outputs={"metrics": Metrics, "sizes": Table})
def clustering_evaluation(
    ctx,
    data: Table,
    *,
    features_col: str = "features",
    prediction_col: str = "cluster",
    distance_measure: Annotated[str, Options("squaredEuclidean", "cosine")] = "squaredEuclidean",
    plot: bool = True,
):
    """Evaluate a clustering: the silhouette (Spark's ``ClusteringEvaluator``) and the cluster sizes.

    The silhouette is the mean over rows of (b - a) / max(a, b), where a is the row's mean
    distance to the rest of its cluster and b the smallest mean distance to another cluster;
    Spark measures distance as the squared Euclidean distance or the cosine distance. It lies
    in [-1, 1]; higher is better. It needs at least two clusters. With ``plot``,
    ``cluster_sizes.png`` shows the rows per cluster.

    Metrics: ``silhouette``, ``clusters``, ``rows``, ``largest_cluster_share``.

    Args:
        data: a clustered table with the features vector and the cluster id (e.g. kmeans' data, or predict's).
        features_col: the features vector column the clustering used.
        prediction_col: the cluster id column (the clustering components write ``cluster``).
        distance_measure: the distance the silhouette is measured in.
        plot: save the cluster sizes as ``cluster_sizes.png``.
        metrics: the metrics dict.
        sizes: ``cluster``, ``rows``, ``share`` per cluster, largest first.
    """
    from pyspark.ml.evaluation import ClusteringEvaluator
    from pyspark.sql import functions as F

    name = "clustering_evaluation"
    (features,) = require_columns(data, [features_col], component=name, param="features_col")
    (prediction,) = require_columns(data, [prediction_col], component=name, param="prediction_col")
    require_vector(data, features, component=name, param="features_col")
    require_numeric(data, prediction, component=name, param="prediction_col")
    sized = data.groupBy(F.col(quote(prediction)).alias("cluster")).count().collect()
    if any(r["cluster"] is None for r in sized):
        raise ValueError(f"{name}: params.prediction_col column {prediction!r} has missing (null) cluster ids")
    rows = sum(int(r["count"]) for r in sized)
    if len(sized) < 2:
        raise ValueError(
            f"{name}: params.prediction_col column {prediction!r} must hold at least two clusters for a "
            f"silhouette, got {len(sized)}"
        )
    evaluator = ClusteringEvaluator(
        featuresCol=features, predictionCol=prediction, metricName="silhouette", distanceMeasure=distance_measure
    )
    silhouette = float(
        evaluator.evaluate(data.select(features, F.col(quote(prediction)).cast("double").alias(prediction)))
    )
    ordered = sorted(sized, key=lambda r: (-r["count"], r["cluster"]))
    sizes = [(int(r["cluster"]), int(r["count"]), r["count"] / rows) for r in ordered]
    metrics = {
        "silhouette": silhouette,
        "clusters": len(sizes),
        "rows": rows,
        "largest_cluster_share": sizes[0][2],
    }
    ctx.log.info("%s: silhouette=%.4f over %d clusters, %d rows", ctx.node_id, silhouette, len(sizes), rows)
    if plot:
        figure = _figure(max(4.0, min(12.0, 0.4 * len(sizes) + 2.0)), 3.5)
        axes = figure.add_subplot(1, 1, 1)
        by_id = sorted(sizes)
        axes.bar(range(len(by_id)), [n for _, n, _ in by_id], color="tab:purple")
        axes.set_xticks(range(len(by_id)), labels=[str(c) for c, _, _ in by_id])
        axes.set(xlabel="cluster", ylabel="rows", title=f"Cluster sizes (silhouette {silhouette:.3f})")
        ctx.save_figure(figure, "cluster_sizes")
    return {"metrics": metrics, "sizes": ctx.spark.createDataFrame(sizes, "cluster int, rows bigint, share double")}


@component(category="evaluation", outputs={"metrics": Metrics})
def ranking_evaluation(
    ctx,
    data: Table,
    *,
    prediction_col: str = "prediction",
    label_col: str = "label",
    k: Annotated[int, Interval(1, None)] = 10,
):
    """Evaluate rankings (e.g. recommendations): NDCG@k, MAP, precision@k and recall@k.

    Each row holds one query's (user's) ranked predicted items and its relevant items, both
    arrays of numeric ids; Spark ML's ``RankingEvaluator`` averages each metric over the rows
    (binary relevance). A null array counts as empty. precision@k divides the hits in the top
    k by k; recall@k by the number of relevant items; MAP divides each row's summed
    precisions at the hits by its number of relevant items (MAP@k by min(k, relevant)).

    Metrics: ``ndcg_at_k``, ``map``, ``map_at_k``, ``precision_at_k``, ``recall_at_k``,
    ``k``, ``rows``.

    Args:
        data: a table with one row per query: the predicted ranking and the relevant items.
        prediction_col: the ranked predicted item ids (an array of numbers, best first).
        label_col: the relevant (true) item ids (an array of numbers).
        k: the cut-off rank of the @k metrics.
        metrics: the metrics dict.
    """
    from pyspark import StorageLevel
    from pyspark.ml.evaluation import RankingEvaluator
    from pyspark.sql import functions as F
    from pyspark.sql.types import ArrayType, NumericType

    name = "ranking_evaluation"
    columns = {}
    for param, value in (("prediction_col", prediction_col), ("label_col", label_col)):
        (column,) = require_columns(data, [value], component=name, param=param)
        data_type = data.schema[column].dataType
        if not (isinstance(data_type, ArrayType) and isinstance(data_type.elementType, NumericType)):
            raise ValueError(
                f"{name}: params.{param} column {column!r} must be an array of numeric item ids, "
                f"but it is {data_type.simpleString()}"
            )
        columns[param] = F.coalesce(F.col(quote(column)).cast("array<double>"), F.array().cast("array<double>"))
    ranked = data.select(columns["prediction_col"].alias("prediction"), columns["label_col"].alias("label")).persist(
        StorageLevel.MEMORY_AND_DISK
    )
    try:
        rows = ranked.count()
        if not rows:
            raise ValueError(f"{name}: the input table is empty")
        evaluator = RankingEvaluator(predictionCol="prediction", labelCol="label", k=k)
        spark_names = {
            "ndcg_at_k": "ndcgAtK",
            "map": "meanAveragePrecision",
            "map_at_k": "meanAveragePrecisionAtK",
            "precision_at_k": "precisionAtK",
            "recall_at_k": "recallAtK",
        }
        metrics: dict[str, Any] = {
            key: float(evaluator.setMetricName(metric).evaluate(ranked)) for key, metric in spark_names.items()
        }
    finally:
        ranked.unpersist()
    metrics["k"] = k
    metrics["rows"] = rows
    ctx.log.info("%s: ndcg@%d=%.4f map=%.4f over %d rows", ctx.node_id, k, metrics["ndcg_at_k"], metrics["map"], rows)
    return metrics


@component(category="evaluation", outputs={"lift": Table})
def lift_gain_table(
    ctx,
    data: Table,
    *,
    label_col: str = "label",
    probability_col: str = "probability",
    bins: Annotated[int, Interval(2, 100)] = 10,
    plot: bool = True,
):
    """Lift and cumulative-gain table of a binary classifier: rows cut into equal-size score buckets.

    The cut-offs are the score's exact 1/bins, 2/bins, ... quantiles (the lowest score with at
    least that share of the rows at or below it), taken from the same one-aggregation score
    histogram as ``binary_classification_evaluation``, so each bucket holds about rows/bins
    rows; equal scores (and scores closer than 2**-16 of their magnitude) always share a
    bucket, so with ties buckets are uneven and empty ones are left out. Bucket 1 holds the
    highest scores. With ``plot``, ``gain_chart.png`` shows the cumulative gain against the
    share of rows targeted, and the lift per bucket.

    Args:
        data: a scored table with a 0/1 label and the classifier's probability (or a numeric score).
        label_col: the true label column (0 or 1).
        probability_col: the probability vector column (P(class 1) is element 1) or a numeric score column.
        bins: the number of buckets (10 for deciles).
        plot: save the gain chart as ``gain_chart.png``.
        lift: one row per bucket, highest scores first: ``bucket``, ``rows``, ``positives``,
            ``min_score``, ``max_score``, ``response_rate`` (positives / rows), ``lift``
            (response rate / overall positive rate), ``cumulative_rows``,
            ``cumulative_positives``, ``cumulative_lift`` and ``cumulative_gain`` (the share of
            all positives in this bucket and the ones above it).
    """
    import numpy as np
    from pyspark.sql import functions as F

    name = "lift_gain_table"
    (label,) = require_columns(data, [label_col], component=name, param="label_col")
    require_numeric(data, label, component=name, param="label_col")
    (probability,) = require_columns(data, [probability_col], component=name, param="probability_col")
    histogram = _score_histogram(data, F.col(quote(label)), _score_column(data, probability, component=name))
    if histogram["bad_labels"]:
        raise ValueError(
            f"{name}: params.label_col column {label!r} has {histogram['bad_labels']} value(s) other than 0 and 1"
        )
    if histogram["bad_scores"]:
        raise ValueError(
            f"{name}: params.probability_col column {probability!r} has {histogram['bad_scores']} missing (null or "
            "NaN) score(s)"
        )
    total, positives = histogram["rows"], int(histogram["pos"].sum())
    if not positives:
        raise ValueError(f"{name}: params.label_col column {label!r} has no positive (1) row, so lift is undefined")
    # Ascending by score: cut-off j is the lowest score with at least j/bins of the rows at or
    # below it (the exact quantile); a row's bucket is bins minus the cut-offs below its score.
    pos, neg = histogram["pos"][::-1], histogram["neg"][::-1]
    below_or_at = np.cumsum(pos + neg)
    cut_index = [int(np.searchsorted(below_or_at, j * total / bins, side="left")) for j in range(1, bins)]
    above = np.searchsorted(np.array(cut_index), np.arange(len(pos)), side="left")
    bucket_of = bins - above
    table = []
    cumulative_rows = cumulative_positives = 0
    low, high = histogram["low"][::-1], histogram["high"][::-1]
    for bucket in sorted(set(bucket_of.tolist())):
        keys = bucket_of == bucket
        hits = int(pos[keys].sum())
        n = hits + int(neg[keys].sum())
        cumulative_rows += n
        cumulative_positives += hits
        table.append(
            (
                int(bucket),
                n,
                hits,
                float(low[keys].min()),
                float(high[keys].max()),
                hits / n,
                hits / n / (positives / total),
                cumulative_rows,
                cumulative_positives,
                cumulative_positives / cumulative_rows / (positives / total),
                cumulative_positives / positives,
            )
        )
    ctx.log.info(
        "%s: %d bucket(s); top bucket lift %.3f, gain %.3f", ctx.node_id, len(table), table[0][6], table[0][10]
    )
    if plot:
        _plot_gain(ctx, table, total)
    return ctx.spark.createDataFrame(
        table,
        "bucket int, rows bigint, positives bigint, min_score double, max_score double, response_rate double, "
        "lift double, cumulative_rows bigint, cumulative_positives bigint, cumulative_lift double, "
        "cumulative_gain double",
    )


def _plot_gain(ctx: Any, table: list[tuple], total: int) -> None:
    figure = _figure(10.0, 4.0)
    gain = figure.add_subplot(1, 2, 1)
    shares = [0.0] + [r[7] / total for r in table]
    gains = [0.0] + [r[10] for r in table]
    gain.plot(shares, gains, marker="o", color="tab:blue", label="model")
    gain.plot([0, 1], [0, 1], color="grey", linestyle="--", linewidth=1, label="random")
    gain.set(xlabel="share of rows targeted", ylabel="share of positives captured", title="Cumulative gain")
    gain.set(xlim=(0, 1), ylim=(0, 1.02))
    gain.legend(loc="lower right")
    lift = figure.add_subplot(1, 2, 2)
    lift.bar(range(len(table)), [r[6] for r in table], color="tab:orange")
    lift.set_xticks(range(len(table)), labels=[str(r[0]) for r in table])
    lift.axhline(1.0, color="grey", linestyle="--", linewidth=1)
    lift.set(xlabel="bucket (1 = highest scores)", ylabel="lift", title="Lift by bucket")
    figure.tight_layout()
    ctx.save_figure(figure, "gain_chart")
