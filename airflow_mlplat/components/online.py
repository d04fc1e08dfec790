"""Online components: they work on one window of rows at a time and carry their state through a model port.

Feed a component the model it produced on the previous window (``load_model``, or the champion
the real-time loop downloads) and it continues from there; leave the port empty and it starts
fresh. ``ftrl_train`` learns example by example (FTRL-Proximal), ``online_standard_scaler``
merges the window's moments into the running ones, and ``progressive_evaluation`` scores a window
with the model as it was before learning it and keeps the running figures.
"""

from __future__ import annotations

import math
from typing import Annotated, Any

from airflow_mlplat.components._common import (
    check_training_table,
    quote,
    require_columns,
    require_numeric,
    require_vector,
    vector_size,
)
from airflow_mlplat.components.registry import component
from airflow_mlplat.components.spec import Interval, Metrics, Model, Table

#: Rows between two progress lines of a long window.
_PROGRESS_ROWS = 50_000


def _previous_stage(model: Any, kind: type, *, component: str) -> Any:
    """``model`` itself, or the one stage of type ``kind`` inside a PipelineModel; ``ValueError`` otherwise."""
    if isinstance(model, kind):
        return model
    stages = [s for s in getattr(model, "stages", []) if isinstance(s, kind)]
    if len(stages) == 1:
        return stages[0]
    raise ValueError(
        f"{component}: inputs.model must be a {kind.__name__} (the output of a previous {component}), "
        f"but it is {type(model).__name__}" + (f" with {len(stages)} such stages" if stages else "")
    )


def _rows(data: Any, features: str, label: str) -> Any:
    """``(indices, values, label)`` per row with both present, in the table's order, streamed to the driver."""
    import numpy as np
    from pyspark.ml.linalg import SparseVector

    for row in data.select(quote(features), quote(label)).toLocalIterator(prefetchPartitions=True):
        vector, y = row[0], row[1]
        if vector is None or y is None or (isinstance(y, float) and math.isnan(y)):
            continue
        if isinstance(vector, SparseVector):
            yield vector.indices, vector.values, float(y)
        else:
            values = vector.toArray()
            yield np.arange(values.shape[0]), values, float(y)


@component(category="online", outputs={"model": Model})
def ftrl_train(
    ctx,
    data: Table,
    model: Model | None = None,
    *,
    features_col: str = "features",
    label_col: str = "label",
    alpha: Annotated[float, Interval(0.0, None, closed="neither")] = 0.05,
    beta: Annotated[float, Interval(0.0, None)] = 1.0,
    l1: Annotated[float, Interval(0.0, None)] = 0.0,
    l2: Annotated[float, Interval(0.0, None)] = 0.0,
    threshold: Annotated[float, Interval(0.0, 1.0)] = 0.5,
):
    """FTRL-Proximal logistic regression, updated example by example on this window.

    With ``model`` set, learning continues from that model's state (its per-coordinate
    accumulators), under this node's hyper-parameters; without it, from zero. Rows are learnt in
    the table's order; rows with a missing features vector or label are skipped (counted in the
    run report). Binary labels only (0 or 1). The model scores like a logistic regression:
    ``rawPrediction``, ``probability`` and ``prediction`` columns.

    Args:
        data: the window: a features vector column and a 0/1 label.
        model: optional: the FtrlModel of the previous window (or a pipeline holding one).
        features_col: the features vector column (dense or sparse; hashed features are fine).
        label_col: the label column, 0 or 1.
        alpha: the per-coordinate learning rate scale.
        beta: the learning rate smoothing term.
        l1: L1 regularisation (sparsity); the intercept is not regularised.
        l2: L2 regularisation; the intercept is not regularised.
        threshold: predict 1 when P(1) exceeds it.
        model: the updated FtrlModel, whose state the next window continues from.
    """
    from airflow_mlplat.components._online_models import FtrlModel
    from airflow_mlplat.online.ftrl import Ftrl

    features, label = check_training_table(
        ctx, data, component="ftrl_train", features_col=features_col, label_col=label_col
    )
    dim = vector_size(data, features, component="ftrl_train", param="features_col")
    hyper = {"alpha": alpha, "beta": beta, "l1": l1, "l2": l2}
    if model is None:
        state, start = Ftrl(dim, **hyper), "a fresh model"
    else:
        previous = _previous_stage(model, FtrlModel, component="ftrl_train").ftrl
        if previous.dim != dim:
            raise ValueError(
                f"ftrl_train: inputs.model was trained on {previous.dim} features, params.features_col "
                f"column {features!r} has {dim}: the window must be encoded the same way"
            )
        state, start = previous.with_hyper_parameters(**hyper), f"the input model ({previous.examples} examples)"
    ctx.log.info("%s: learning window rows one by one from %s", ctx.node_id, start)
    learnt = 0
    before = state.examples
    for index, value, y in _rows(data, features, label):
        if y not in (0.0, 1.0):
            raise ValueError(f"ftrl_train: params.label_col column {label!r} holds {y!r}; FTRL needs labels 0 or 1")
        state.learn_one(index, value, y)
        learnt += 1
        if learnt % _PROGRESS_ROWS == 0:
            ctx.log.info("%s: learnt %d rows", ctx.node_id, learnt)
    if learnt == 0:
        raise ValueError(f"ftrl_train: no row of the input table has both {features!r} and {label!r}")
    skipped = int(data.count()) - learnt
    ctx.details["ftrl"] = {
        "learnt_rows": learnt,
        "skipped_rows": skipped,
        "examples_before": before,
        "examples": state.examples,
    }
    ctx.log.info("%s: learnt %d rows (%d skipped); the model has seen %d", ctx.node_id, learnt, skipped, state.examples)
    fitted = FtrlModel(state)
    fitted.setParams(featuresCol=features, threshold=threshold)
    return fitted


@component(category="online", outputs={"data": Table, "model": Model})
def online_standard_scaler(
    ctx,
    data: Table,
    model: Model | None = None,
    *,
    input_col: str = "features",
    output_col: str = "scaled_features",
    with_mean: bool = True,
    with_std: bool = True,
):
    """Standardise a vector column by its running mean and standard deviation.

    The window's count, mean and variance (one aggregation) are merged into the input model's, so
    after any number of windows the scaler equals one fitted on all of them at once. The window is
    scaled by the merged figures. A feature with zero deviation scales to 0.

    Args:
        data: the window with a vector column.
        model: optional: the OnlineStandardScalerModel of the previous window (or a pipeline holding one).
        input_col: the vector column to scale.
        output_col: the scaled vector column to add.
        with_mean: subtract the running mean.
        with_std: divide by the running (sample) standard deviation.
        data: the window with the scaled column.
        model: the scaler with the merged moments.
    """
    from pyspark.ml.stat import Summarizer
    from pyspark.sql import functions as F

    from airflow_mlplat.components._common import new_columns
    from airflow_mlplat.components._online_models import OnlineStandardScalerModel
    from airflow_mlplat.online.moments import Moments

    (column,) = require_columns(data, [input_col], component="online_standard_scaler", param="input_col")
    require_vector(data, column, component="online_standard_scaler", param="input_col")
    new_columns(data, {"output_col": output_col}, component="online_standard_scaler")
    present = data.where(F.col(quote(column)).isNotNull())
    summary = present.select(Summarizer.metrics("count", "mean", "variance").summary(F.col(quote(column)))).first()[0]
    count = int(summary["count"] or 0)
    if count:
        window = Moments.of_batch(count, summary["mean"].toArray(), summary["variance"].toArray())
    if model is None:
        if not count:
            raise ValueError(f"online_standard_scaler: the input table has no row with a {column!r} vector")
        merged = window
    else:
        previous = _previous_stage(model, OnlineStandardScalerModel, component="online_standard_scaler").moments
        if count and previous.dim != window.dim:
            raise ValueError(
                f"online_standard_scaler: inputs.model holds {previous.dim} features, params.input_col column "
                f"{column!r} has {window.dim}"
            )
        merged = previous.merge(window) if count else previous
    ctx.details["online_standard_scaler"] = {"window_rows": count, "rows_seen": int(merged.count)}
    fitted = OnlineStandardScalerModel(merged)
    fitted.setParams(featuresCol=column, outputCol=output_col, withMean=with_mean, withStd=with_std)
    return {"data": fitted.transform(data), "model": fitted}


@component(category="online", outputs={"metrics": Metrics})
def progressive_evaluation(
    ctx,
    model: Model,
    data: Table,
    history: Metrics | None = None,
    *,
    label_col: str = "label",
    probability_col: str = "probability",
    keep_windows: Annotated[int, Interval(1, 1000)] = 24,
):
    """Progressive validation: score this window with the model as it was before learning it.

    Wire ``model`` to the previous window's model (the one ``ftrl_train`` continues from), not to
    this window's, so every row is scored before the model has seen it. The window's AUC and log
    loss are added to ``history`` (the previous window's metrics): the running log loss over all
    rows and the AUCs of the last ``keep_windows`` windows.

    Args:
        model: the binary classifier before it learns this window.
        data: the window: the model's input columns and a 0/1 label.
        history: optional: the metrics of the previous window's progressive_evaluation.
        label_col: the label column, 0 or 1.
        probability_col: the probability vector column the model writes.
        keep_windows: how many recent window AUCs the metrics keep.
        metrics: window_auc (None when the window holds one class), window_log_loss, window_rows,
            rows, windows, log_loss (over all rows), recent_auc (a list) and mean_recent_auc.
    """
    from pyspark.sql import functions as F

    from airflow_mlplat.components.evaluation import _score_column
    from airflow_mlplat.online.metrics import auc_roc

    (label,) = require_columns(data, [label_col], component="progressive_evaluation", param="label_col")
    require_numeric(data, label, component="progressive_evaluation", param="label_col", allow_boolean=False)
    scored = model.transform(data)
    (probability,) = require_columns(
        scored, [probability_col], component="progressive_evaluation", param="probability_col"
    )
    score = _score_column(scored, probability, component="progressive_evaluation")
    pairs = scored.select(F.col(quote(label)).cast("double").alias("y"), score.alias("p")).where(
        "y IS NOT NULL AND p IS NOT NULL"
    )
    frame = pairs.toPandas()
    labels, p = frame["y"].to_numpy(), frame["p"].to_numpy()
    if not set(labels.tolist()) <= {0.0, 1.0}:
        raise ValueError(f"progressive_evaluation: params.label_col column {label!r} must hold 0 or 1")
    import numpy as np

    rows = int(labels.size)
    if rows == 0:
        raise ValueError("progressive_evaluation: no scored row with a label in this window")
    clipped = np.clip(p, 1e-12, 1 - 1e-12)
    loss = float(-np.mean(labels * np.log(clipped) + (1 - labels) * np.log(1 - clipped)))
    try:
        auc = auc_roc(labels, p)
    except ValueError:  # one class only in this window: AUC is undefined (None), log loss is not
        auc = None
    before = history or {}
    seen = int(before.get("rows", 0))
    recent = [*before.get("recent_auc", []), auc][-keep_windows:]
    defined = [a for a in recent if a is not None]
    running = (float(before.get("log_loss", 0.0)) * seen + loss * rows) / (seen + rows)
    metrics = {
        "window_auc": auc,
        "window_log_loss": loss,
        "window_rows": rows,
        "rows": seen + rows,
        "windows": int(before.get("windows", 0)) + 1,
        "log_loss": running,
        "recent_auc": recent,
        "mean_recent_auc": float(np.mean(defined)) if defined else None,
    }
    ctx.log.info("%s: window AUC %s, log loss %.4f over %d rows", ctx.node_id, auc, loss, rows)
    return metrics
