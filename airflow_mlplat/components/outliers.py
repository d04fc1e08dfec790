"""Outlier-detection components: score every row, flag the outlying ones, optionally drop them.

Each component returns the input table with two more columns: a double score (how outlying
the row is; larger is more) and a boolean flag. Statistics are computed in one Spark
aggregation (per group for ``grouped_outliers``) and joined back, so nothing but a few
numbers travels to the driver.
"""

from __future__ import annotations

from typing import Annotated, Any

from airflow_mlplat.components._common import (
    fit_logged,
    missing_value,
    new_columns,
    numeric_columns,
    quote,
    require_columns,
    require_nonempty,
    require_unique,
    require_vector,
)
from airflow_mlplat.components.registry import component
from airflow_mlplat.components.spec import Interval, Options, Table

#: percentile_approx accuracy for quartiles and score cut-offs (rank error 1/10 000).
_ACCURACY = 10_000


def _present(df: Any, column: str) -> Any:
    from pyspark.sql import functions as F

    return F.when(~missing_value(df, column), F.col(quote(column)).cast("double"))


def _finish(
    ctx: Any, scored: Any, score: Any, flag: Any, *, score_col: str, flag_col: str, drop: bool, keep: list[str]
) -> Any:
    """The input columns plus the score and the flag; without the flagged rows when ``drop``."""
    from pyspark.sql import functions as F

    out = scored.select(
        *[F.col(quote(c)) for c in keep], score.alias(score_col), F.coalesce(flag, F.lit(False)).alias(flag_col)
    )
    if drop:
        ctx.log.info("%s: dropping the rows flagged in %r", ctx.node_id, flag_col)
        out = out.where(~F.col(quote(flag_col)))
    return out


def _robust_scores(
    data: Any,
    columns: list[str],
    group_cols: list[str],
    method: str,
) -> tuple[Any, list[Any]]:
    """``data`` joined with its per-group statistics, and one score Column per column.

    zscore: |x - mean| / sample std (0 where the std is 0 or undefined); iqr: the distance
    outside [Q1, Q3] in IQRs (0 inside; +inf outside when the IQR is 0). No group columns
    means one group: the whole table.
    """
    from pyspark.sql import functions as F

    aggregates = []
    for i, column in enumerate(columns):
        value = _present(data, column)
        if method == "zscore":
            aggregates += [F.avg(value).alias(f"__mean{i}"), F.stddev_samp(value).alias(f"__std{i}")]
        else:
            aggregates.append(F.percentile_approx(value, [0.25, 0.75], _ACCURACY).alias(f"__q{i}"))
    keys = [F.col(quote(c)).alias(f"__key{j}") for j, c in enumerate(group_cols)]
    stats = (data.groupBy(*keys) if keys else data).agg(*aggregates)
    if group_cols:
        condition = None
        for j, column in enumerate(group_cols):
            match = data[quote(column)].eqNullSafe(stats[f"__key{j}"])
            condition = match if condition is None else condition & match
        joined = data.join(stats, on=condition, how="left")
    else:
        joined = data.crossJoin(F.broadcast(stats))

    scores = []
    for i, column in enumerate(columns):
        value = _present(data, column)
        if method == "zscore":
            std = F.col(f"__std{i}")
            scores.append(
                F.when(value.isNull(), None)
                .when(std.isNull() | (std == 0) | F.isnan(std), F.lit(0.0))
                .otherwise(F.abs(value - F.col(f"__mean{i}")) / std)
            )
        else:
            q1, q3 = F.col(f"__q{i}")[0], F.col(f"__q{i}")[1]
            outside = F.greatest(q1 - value, value - q3, F.lit(0.0))
            scores.append(
                F.when(value.isNull(), None)
                .when(outside == 0, F.lit(0.0))
                .when(q3 - q1 == 0, F.lit(float("inf")))
                .otherwise(outside / (q3 - q1))
            )
    return joined, scores


def _check_outputs(data: Any, *, score_col: str, flag_col: str, component: str) -> None:
    new_columns(data, {"score_col": score_col, "flag_col": flag_col}, component=component)


def _helper_clash(data: Any, *, component: str) -> None:
    clashes = [c for c in data.columns if c.startswith("__")]
    if clashes:
        raise ValueError(
            f"{component}: the input table has column(s) starting with '__' ({clashes}), reserved for helpers"
        )


@component(category="outlier detection", outputs={"data": Table})
def zscore_outliers(
    ctx,
    data: Table,
    *,
    columns: list[str] | None = None,
    threshold: Annotated[float, Interval(0.0, None, closed="neither")] = 3.0,
    score_col: str = "outlier_score",
    flag_col: str = "is_outlier",
    drop_outliers: bool = False,
):
    """Flag rows with a value far from its column's mean, in standard deviations (z-score).

    A row's score is its largest |x - mean| / std over the columns (sample standard
    deviation; a constant column scores 0; missing values are skipped), and it is flagged
    when the score exceeds ``threshold``. With few rows the largest possible z-score is
    (n - 1) / sqrt(n), so small tables need a lower threshold.

    Args:
        data: the input table.
        columns: the numeric columns to check; empty means every numeric column.
        threshold: flag rows whose score is above this many standard deviations.
        score_col: the name of the score column to add (double; null when every value is missing).
        flag_col: the name of the flag column to add (boolean).
        drop_outliers: drop the flagged rows (the score and flag columns stay).
    """
    name = "zscore_outliers"
    chosen = numeric_columns(data, columns, component=name, param="columns")
    _check_outputs(data, score_col=score_col, flag_col=flag_col, component=name)
    _helper_clash(data, component=name)
    joined, scores = _robust_scores(data, chosen, [], "zscore")
    score = _largest(scores)
    ctx.log.info("%s: z-scores of %d column(s), threshold %g", ctx.node_id, len(chosen), threshold)
    return _finish(
        ctx,
        joined,
        score,
        score > threshold,
        score_col=score_col,
        flag_col=flag_col,
        drop=drop_outliers,
        keep=data.columns,
    )


def _largest(scores: list[Any]) -> Any:
    from pyspark.sql import functions as F

    return scores[0] if len(scores) == 1 else F.greatest(*scores)


@component(category="outlier detection", outputs={"data": Table})
def iqr_outliers(
    ctx,
    data: Table,
    *,
    columns: list[str] | None = None,
    multiplier: Annotated[float, Interval(0.0, None)] = 1.5,
    score_col: str = "outlier_score",
    flag_col: str = "is_outlier",
    drop_outliers: bool = False,
):
    """Flag rows outside Tukey's fences: below Q1 - k·IQR or above Q3 + k·IQR in any column.

    The quartiles are Spark's ``percentile_approx`` (actual values of the column, rank error
    1/10 000). A row's score is its largest distance outside [Q1, Q3] in IQRs over the
    columns (0 inside; +infinity outside a column whose IQR is 0); it is flagged when the
    score exceeds ``multiplier``.

    Args:
        data: the input table.
        columns: the numeric columns to check; empty means every numeric column.
        multiplier: k: how many IQRs beyond the quartiles a value must lie to be flagged.
        score_col: the name of the score column to add (double; null when every value is missing).
        flag_col: the name of the flag column to add (boolean).
        drop_outliers: drop the flagged rows (the score and flag columns stay).
    """
    name = "iqr_outliers"
    chosen = numeric_columns(data, columns, component=name, param="columns")
    _check_outputs(data, score_col=score_col, flag_col=flag_col, component=name)
    _helper_clash(data, component=name)
    joined, scores = _robust_scores(data, chosen, [], "iqr")
    score = _largest(scores)
    ctx.log.info("%s: IQR fences of %d column(s), multiplier %g", ctx.node_id, len(chosen), multiplier)
    return _finish(
        ctx,
        joined,
        score,
        score > multiplier,
        score_col=score_col,
        flag_col=flag_col,
        drop=drop_outliers,
        keep=data.columns,
    )


@component(category="outlier detection", outputs={"data": Table})
def grouped_outliers(
    ctx,
    data: Table,
    *,
    group_cols: list[str],
    columns: list[str] | None = None,
    method: Annotated[str, Options("zscore", "iqr")] = "zscore",
    threshold: Annotated[float, Interval(0.0, None)] = 3.0,
    score_col: str = "outlier_score",
    flag_col: str = "is_outlier",
    drop_outliers: bool = False,
):
    """Flag outliers within groups: z-scores or IQR fences computed per value of the group key.

    Like ``zscore_outliers`` / ``iqr_outliers``, but each group (rows with equal
    ``group_cols``; null is a group of its own) has its own mean and standard deviation or
    quartiles, so a price normal in one city can be flagged in another. A group of one row
    scores 0 by z-score.

    Args:
        data: the input table.
        group_cols: the columns whose values form the groups.
        columns: the numeric columns to check; empty means every numeric column not in ``group_cols``.
        method: ``zscore`` (standard deviations from the group mean) or ``iqr`` (IQRs outside the group's quartiles).
        threshold: flag rows scoring above it: the z-score cut-off, or the IQR multiplier.
        score_col: the name of the score column to add (double; null when every value is missing).
        flag_col: the name of the flag column to add (boolean).
        drop_outliers: drop the flagged rows (the score and flag columns stay).
    """
    name = "grouped_outliers"
    keys = require_columns(
        data, require_nonempty(group_cols, component=name, param="group_cols"), component=name, param="group_cols"
    )
    require_unique(keys, component=name, param="group_cols")
    if columns:
        chosen = numeric_columns(data, columns, component=name, param="columns")
        both = [c for c in chosen if c in keys]
        if both:
            raise ValueError(f"{name}: params.columns column {both[0]!r} is also in params.group_cols")
    else:
        chosen = numeric_columns(data.drop(*keys), None, component=name, param="columns")
    _check_outputs(data, score_col=score_col, flag_col=flag_col, component=name)
    _helper_clash(data, component=name)
    joined, scores = _robust_scores(data, chosen, keys, method)
    score = _largest(scores)
    ctx.log.info("%s: %s per group of %s over %d column(s)", ctx.node_id, method, ", ".join(keys), len(chosen))
    return _finish(
        ctx,
        joined,
        score,
        score > threshold,
        score_col=score_col,
        flag_col=flag_col,
        drop=drop_outliers,
        keep=data.columns,
    )


@component(category="outlier detection", outputs={"data": Table})
def distance_outliers(
    ctx,
    data: Table,
    *,
    features_col: str = "features",
    clusters: Annotated[int, Interval(2, None)] = 2,
    fraction: Annotated[float, Interval(0.0, 1.0, closed="left")] = 0.05,
    threshold: float | None = None,
    max_iter: Annotated[int, Interval(1, None)] = 20,
    seed: int = 42,
    score_col: str = "outlier_score",
    flag_col: str = "is_outlier",
    drop_outliers: bool = False,
):
    """Flag rows far from their k-means centroid in feature space.

    Spark ML's ``KMeans`` groups the feature vectors into ``clusters`` clusters; a row's
    score is the Euclidean distance from its vector to its cluster's centroid. With
    ``threshold`` set, rows scoring above it are flagged; otherwise the rows scoring above
    the (1 - ``fraction``) quantile of the scores (Spark's ``percentile_approx``), i.e. about
    ``fraction`` of the rows (fewer on ties or small tables). Scale the features first
    (``standard_scaler``) so no feature dominates the distance.

    Args:
        data: the input table with a features vector column (no missing vectors).
        features_col: the features vector column.
        clusters: k, the number of k-means clusters.
        fraction: without threshold: the share of rows to flag, those with the largest distances.
        threshold: flag rows whose distance is above it (overrides fraction).
        max_iter: the most k-means iterations.
        seed: random seed of the k-means initialisation.
        score_col: the name of the distance column to add (double).
        flag_col: the name of the flag column to add (boolean).
        drop_outliers: drop the flagged rows (the score and flag columns stay).
    """
    from pyspark.ml.clustering import KMeans
    from pyspark.ml.functions import vector_to_array
    from pyspark.sql import functions as F

    name = "distance_outliers"
    (features,) = require_columns(data, [features_col], component=name, param="features_col")
    require_vector(data, features, component=name, param="features_col")
    _check_outputs(data, score_col=score_col, flag_col=flag_col, component=name)
    _helper_clash(data, component=name)
    if threshold is not None and threshold < 0:
        raise ValueError(f"{name}: params.threshold must be >= 0, got {threshold!r}")
    missing = data.where(F.col(quote(features)).isNull()).limit(1).count()
    if missing:
        raise ValueError(f"{name}: params.features_col column {features!r} has missing (null) vectors")
    estimator = KMeans(featuresCol=features, predictionCol="__cluster", k=clusters, maxIter=max_iter, seed=seed)
    model = fit_logged(ctx, estimator, data)
    centers = [[float(x) for x in center] for center in model.clusterCenters()]
    centroid = F.element_at(
        F.array(*[F.array(*[F.lit(x) for x in center]) for center in centers]), F.col("__cluster") + 1
    )
    squares = F.zip_with(vector_to_array(F.col(quote(features))), centroid, lambda a, b: (a - b) * (a - b))
    distance = F.sqrt(F.aggregate(squares, F.lit(0.0), lambda total, x: total + x))
    scored = model.transform(data).withColumn("__distance", distance)
    if threshold is not None:
        cutoff = float(threshold)
    elif fraction == 0:
        cutoff = float("inf")
    else:
        cutoff = scored.agg(F.percentile_approx("__distance", 1.0 - fraction, _ACCURACY)).first()[0]
        cutoff = float("inf") if cutoff is None else float(cutoff)
    ctx.log.info("%s: %d cluster(s); flagging distances above %g", ctx.node_id, len(centers), cutoff)
    ctx.details["distance_cutoff"] = cutoff
    return _finish(
        ctx,
        scored,
        F.col("__distance"),
        F.col("__distance") > F.lit(cutoff),
        score_col=score_col,
        flag_col=flag_col,
        drop=drop_outliers,
        keep=data.columns,
    )
