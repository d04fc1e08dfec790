"""Statistics components: describe a table's columns and test hypotheses on them.

Every statistic is computed in Spark (one aggregation or one shuffle per component where
possible); only the small result travels to the driver, which shapes it into a table and,
for some components, draws a PNG. Missing values (null, and NaN in float columns) are left
out of every statistic and counted separately where the output has a place for them.
"""

from __future__ import annotations

import math
from typing import Annotated, Any

from airflow_mlplat.components._common import (
    check_training_table,
    column_type,
    is_vector,
    missing_value,
    numeric_columns,
    quote,
    require_columns,
    require_nonempty,
    require_numeric,
    require_unique,
    vector_element_names,
)
from airflow_mlplat.components.registry import component
from airflow_mlplat.components.spec import Interval, Options, Table

#: percentile_approx accuracy for the quartiles of summary_statistics (rank error 1/10 000).
_QUANTILE_ACCURACY = 10_000
_DEFAULT_PROBABILITIES = (0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99)


def _present(df: Any, column: str) -> Any:
    """The column as a double, null where the value is missing (null or NaN)."""
    from pyspark.sql import functions as F

    return F.when(~missing_value(df, column), F.col(quote(column)).cast("double"))


def _free_name(name: str, columns: list[str], *, component: str, param: str) -> None:
    """The output's label column must not collide with a data column that becomes an output column."""
    if name.lower() in (c.lower() for c in columns):
        raise ValueError(
            f"{component}: params.{param} names column {name!r}, which clashes with the output's "
            f"{name!r} column; rename it first"
        )


def _complete_rows(df: Any, columns: list[str]) -> Any:
    """The rows with a value in every one of ``columns`` (listwise deletion), as doubles."""
    from pyspark.sql import functions as F

    condition = F.lit(True)
    for column in columns:
        condition = condition & ~missing_value(df, column)
    return df.where(condition).select(*[F.col(quote(c)).cast("double").alias(f"c{i}") for i, c in enumerate(columns)])


def _matrix_table(ctx: Any, columns: list[str], matrix: list[list[float | None]]) -> Any:
    from pyspark.sql.types import DoubleType, StringType, StructField, StructType

    schema = StructType([StructField("column", StringType(), False)] + [StructField(c, DoubleType()) for c in columns])
    rows = [(column, *values) for column, values in zip(columns, matrix, strict=True)]
    return ctx.spark.createDataFrame(rows, schema)


def _figure(width: float, height: float) -> Any:
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height))


@component(category="statistics", outputs={"summary": Table})
def summary_statistics(ctx, data: Table, *, columns: list[str] | None = None):
    """Per-column summary of numeric columns: count, missing, mean, standard deviation, min, quartiles, max.

    One aggregation computes everything. ``stddev`` is the sample standard deviation (null
    for fewer than two values); ``q1``, ``median`` and ``q3`` are Spark's ``percentile_approx``
    (actual values of the column, exact up to a rank error of 1/10 000).

    Args:
        data: the input table.
        columns: the numeric columns to describe; empty means every numeric column.
        summary: one row per column: ``column``, ``count`` (values present), ``missing``
            (null or NaN), ``mean``, ``stddev``, ``min``, ``q1``, ``median``, ``q3``, ``max``.
    """
    from pyspark.sql import functions as F

    name = "summary_statistics"
    chosen = numeric_columns(data, columns, component=name, param="columns")
    aggregates = []
    for i, column in enumerate(chosen):
        value = _present(data, column)
        aggregates += [
            F.count(value).alias(f"n{i}"),
            F.sum(missing_value(data, column).cast("long")).alias(f"m{i}"),
            F.avg(value).alias(f"mean{i}"),
            F.stddev_samp(value).alias(f"sd{i}"),
            F.min(value).alias(f"min{i}"),
            F.percentile_approx(value, [0.25, 0.5, 0.75], _QUANTILE_ACCURACY).alias(f"q{i}"),
            F.max(value).alias(f"max{i}"),
        ]
    stats = data.agg(*aggregates).first()
    rows = []
    for i, column in enumerate(chosen):
        quartiles = stats[f"q{i}"] or [None, None, None]
        sd = stats[f"sd{i}"]
        rows.append(
            (
                column,
                int(stats[f"n{i}"] or 0),
                int(stats[f"m{i}"] or 0),
                stats[f"mean{i}"],
                None if sd is None or math.isnan(sd) else float(sd),
                stats[f"min{i}"],
                *quartiles,
                stats[f"max{i}"],
            )
        )
    ctx.log.info("%s: described %d column(s)", ctx.node_id, len(chosen))
    return ctx.spark.createDataFrame(
        rows,
        "column string, count bigint, missing bigint, mean double, stddev double, min double, "
        "q1 double, median double, q3 double, max double",
    )


@component(category="statistics", outputs={"correlation": Table})
def correlation(
    ctx,
    data: Table,
    *,
    columns: list[str] | None = None,
    method: Annotated[str, Options("pearson", "spearman")] = "pearson",
):
    """The correlation matrix of numeric columns (Spark ML's ``Correlation``), Pearson or Spearman.

    Rows with a missing value in any of the columns are left out. A constant column's
    correlations are NaN. Spearman ranks each column (ties get their average rank) and
    correlates the ranks.

    Args:
        data: the input table.
        columns: the numeric columns to correlate (at least two); empty means every numeric column.
        method: ``pearson`` (linear) or ``spearman`` (rank, monotonic).
        correlation: a square table: ``column`` names the row, then one double column per input column.
    """
    from pyspark.ml.feature import VectorAssembler
    from pyspark.ml.stat import Correlation

    name = "correlation"
    chosen = numeric_columns(data, columns, component=name, param="columns")
    if len(chosen) < 2:
        raise ValueError(f"{name}: params.columns must name at least two numeric columns, got {chosen!r}")
    _free_name("column", chosen, component=name, param="columns")
    complete = _complete_rows(data, chosen)
    vectors = VectorAssembler(inputCols=complete.columns, outputCol="v").transform(complete).select("v")
    ctx.log.info("%s: %s correlation of %d column(s)", ctx.node_id, method, len(chosen))
    row = Correlation.corr(vectors, "v", method).first()
    if row is None:
        raise ValueError(f"{name}: no row has a value in every one of params.columns {chosen!r}")
    matrix = row[0].toArray().tolist()
    return _matrix_table(ctx, chosen, matrix)


@component(category="statistics", outputs={"covariance": Table})
def covariance(ctx, data: Table, *, columns: list[str] | None = None, sample: bool = True):
    """The covariance matrix of numeric columns, computed in one aggregation.

    Rows with a missing value in any of the columns are left out, so every entry is computed
    on the same rows.

    Args:
        data: the input table.
        columns: the numeric columns (at least one); empty means every numeric column.
        sample: the sample covariance (divide by n - 1); false for the population covariance (divide by n).
        covariance: a square table: ``column`` names the row, then one double column per input column.
    """
    from pyspark.sql import functions as F

    name = "covariance"
    chosen = numeric_columns(data, columns, component=name, param="columns")
    _free_name("column", chosen, component=name, param="columns")
    complete = _complete_rows(data, chosen)
    covar = F.covar_samp if sample else F.covar_pop
    size = len(chosen)
    pairs = [(i, j) for i in range(size) for j in range(i, size)]
    stats = complete.agg(*[covar(f"c{i}", f"c{j}").alias(f"v{i}_{j}") for i, j in pairs]).first()
    matrix: list[list[float | None]] = [[None] * size for _ in range(size)]
    for i, j in pairs:
        value = stats[f"v{i}_{j}"]
        value = None if value is None or math.isnan(value) else float(value)
        matrix[i][j] = matrix[j][i] = value
    ctx.log.info("%s: covariance of %d column(s)", ctx.node_id, size)
    return _matrix_table(ctx, chosen, matrix)


@component(category="statistics", outputs={"histogram": Table})
def histogram(
    ctx,
    data: Table,
    *,
    columns: list[str] | None = None,
    bins: Annotated[int, Interval(1, 1000)] = 10,
    plot: bool = True,
):
    """Equal-width histograms of numeric columns, as a table and a PNG (``histogram.png``).

    Each column's range [min, max] is cut into ``bins`` equal bins, the last one closed on
    both sides; a constant column gets one bin holding every value. Counting is one Spark
    shuffle for all columns together; missing values are not counted.

    Args:
        data: the input table.
        columns: the numeric columns; empty means every numeric column.
        bins: the number of bins per column.
        plot: also draw the histograms (one panel per column) as ``histogram.png``.
        histogram: one row per column and bin: ``column``, ``bin`` (0 = lowest), ``lower``,
            ``upper``, ``count``; empty bins are listed with count 0.
    """
    from pyspark.sql import functions as F

    name = "histogram"
    chosen = numeric_columns(data, columns, component=name, param="columns")
    ranges = data.agg(
        *[
            agg(_present(data, c)).alias(f"{prefix}{i}")
            for i, c in enumerate(chosen)
            for prefix, agg in (("lo", F.min), ("hi", F.max))
        ]
    ).first()
    edges: dict[int, tuple[float, float, int]] = {}
    for i, _ in enumerate(chosen):
        low, high = ranges[f"lo{i}"], ranges[f"hi{i}"]
        if low is not None:
            edges[i] = (float(low), float(high), bins if high > low else 1)
    counts: dict[tuple[int, int], int] = {}
    if edges:
        cells = []
        for i, (low, high, n_bins) in edges.items():
            value = _present(data, chosen[i])
            width = (high - low) / n_bins if high > low else 1.0
            # least() skips nulls, so a missing value must stay null explicitly.
            index = F.when(
                value.isNotNull(),
                F.least(F.floor((value - F.lit(low)) / F.lit(width)).cast("int"), F.lit(n_bins - 1)),
            )
            cells.append(F.struct(F.lit(i).alias("k"), index.alias("b")))
        exploded = data.select(F.explode(F.array(*cells)).alias("cell")).select("cell.k", "cell.b")
        for row in exploded.where(F.col("b").isNotNull()).groupBy("k", "b").count().collect():
            counts[(row["k"], row["b"])] = int(row["count"])
    rows = []
    for i, (low, high, n_bins) in edges.items():
        width = (high - low) / n_bins
        for b in range(n_bins):
            upper = high if b == n_bins - 1 else low + (b + 1) * width
            rows.append((chosen[i], b, low + b * width, upper, counts.get((i, b), 0)))
    skipped = [c for i, c in enumerate(chosen) if i not in edges]
    if skipped:
        ctx.log.info("%s: no values to count in %s", ctx.node_id, ", ".join(skipped))
    if plot and edges:
        _plot_histograms(ctx, rows, [chosen[i] for i in edges])
    return ctx.spark.createDataFrame(rows, "column string, bin int, lower double, upper double, count bigint")


def _plot_histograms(ctx: Any, rows: list[tuple], columns: list[str]) -> None:
    panels = len(columns)
    per_row = min(panels, 3)
    grid_rows = math.ceil(panels / per_row)
    figure = _figure(4.0 * per_row, 3.0 * grid_rows)
    for position, column in enumerate(columns, start=1):
        axes = figure.add_subplot(grid_rows, per_row, position)
        mine = [r for r in rows if r[0] == column]
        lefts = [r[2] for r in mine]
        widths = [max(r[3] - r[2], 1e-12) if r[3] > r[2] else 1.0 for r in mine]
        axes.bar(lefts, [r[4] for r in mine], width=widths, align="edge", edgecolor="white")
        axes.set_title(column)
        axes.set_ylabel("rows")
    figure.tight_layout()
    ctx.save_figure(figure, "histogram")


@component(category="statistics", outputs={"counts": Table})
def value_counts(
    ctx,
    data: Table,
    *,
    column: str,
    top_k: Annotated[int, Interval(1, None)] = 20,
    include_null: bool = True,
):
    """The most frequent values of a column, with their counts and shares of all rows.

    Args:
        data: the input table.
        column: the column whose values are counted (any type).
        top_k: how many of the most frequent values to list.
        include_null: count null as a value of its own.
        counts: ``value`` (the column's type), ``count``, ``share`` (of all rows) and ``rank``
            (1 = most frequent); ties are ordered by value.
    """
    from pyspark import StorageLevel
    from pyspark.sql import functions as F
    from pyspark.sql.types import DoubleType, LongType, StructField, StructType

    name = "value_counts"
    (resolved,) = require_columns(data, [column], component=name, param="column")
    grouped = data.groupBy(F.col(quote(resolved)).alias("value")).count()
    grouped = grouped.persist(StorageLevel.MEMORY_AND_DISK)
    try:
        total = int(grouped.agg(F.sum("count")).first()[0] or 0)
        listed = grouped if include_null else grouped.where(F.col("value").isNotNull())
        top = listed.orderBy(F.col("count").desc(), F.col("value").asc_nulls_last()).limit(top_k).collect()
        distinct = grouped.count()
    finally:
        grouped.unpersist()
    ctx.log.info("%s: %d distinct value(s) in %r over %d row(s)", ctx.node_id, distinct, resolved, total)
    schema = StructType(
        [
            StructField("value", column_type(data, resolved)),
            StructField("count", LongType(), False),
            StructField("share", DoubleType(), False),
            StructField("rank", LongType(), False),
        ]
    )
    rows = [(r["value"], int(r["count"]), r["count"] / total, rank) for rank, r in enumerate(top, start=1)]
    return ctx.spark.createDataFrame(rows, schema)


@component(category="statistics", outputs={"result": Table})
def chi_square_test(
    ctx,
    data: Table,
    *,
    features_col: str = "features",
    label_col: str = "label",
    columns: list[str] | None = None,
):
    """Pearson's chi-squared test of independence of each categorical feature and the label.

    Spark ML's ``ChiSquareTest`` builds the contingency table of every feature against the
    label (both must be categorical: a few distinct numeric values). The features are the
    elements of ``features_col``, or the numeric ``columns`` when given. Rows with a missing
    value are not allowed.

    Args:
        data: the input table.
        features_col: the features vector column (used when ``columns`` is empty).
        label_col: the categorical numeric label column.
        columns: numeric categorical columns to test instead of a features vector.
        result: one row per feature: ``feature`` (its name), ``index``, ``statistic``,
            ``degrees_of_freedom`` and ``p_value``.
    """
    from pyspark.ml.feature import VectorAssembler
    from pyspark.ml.stat import ChiSquareTest
    from pyspark.sql import functions as F

    name = "chi_square_test"
    if columns:
        chosen = numeric_columns(data, columns, component=name, param="columns")
        (label,) = require_columns(data, [label_col], component=name, param="label_col")
        require_numeric(data, label, component=name, param="label_col")
        table = data.select(
            *[F.col(quote(c)).cast("double").alias(f"c{i}") for i, c in enumerate(chosen)],
            F.col(quote(label)).cast("double").alias("label"),
        )
        table = VectorAssembler(inputCols=[f"c{i}" for i in range(len(chosen))], outputCol="features").transform(table)
        features, label, names = "features", "label", chosen
    else:
        vector, label = check_training_table(ctx, data, component=name, features_col=features_col, label_col=label_col)
        table = data.select(F.col(quote(vector)).alias("features"), F.col(quote(label)).cast("double").alias("label"))
        names = None
        features, label = "features", "label"
    ctx.log.info("%s: testing %s against %r", ctx.node_id, "columns" if columns else repr(features_col), label_col)
    try:
        tested = ChiSquareTest.test(table, features, label, flatten=True).orderBy("featureIndex").collect()
    except Exception as exc:  # Spark rejects nulls and too many categories with a JVM error
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ValueError(f"{name}: Spark's ChiSquareTest failed on the input: {message}") from exc
    if names is None:
        names = vector_element_names(data, vector, len(tested))
    rows = [
        (
            names[r["featureIndex"]],
            int(r["featureIndex"]),
            float(r["statistic"]),
            int(r["degreesOfFreedom"]),
            float(r["pValue"]),
        )
        for r in tested
    ]
    return ctx.spark.createDataFrame(
        rows, "feature string, index int, statistic double, degrees_of_freedom int, p_value double"
    )


def _kolmogorov_two_sample_p(statistic: float, n1: int, n2: int) -> float:
    """The asymptotic two-sided p-value (scipy's ``ks_2samp(method='asymp')``)."""
    from scipy.stats import kstwo

    effective = round(n1 * n2 / (n1 + n2))
    return float(min(1.0, max(0.0, kstwo.sf(statistic, max(effective, 1)))))


@component(category="statistics", outputs={"result": Table})
def ks_test(
    ctx,
    data: Table,
    *,
    columns: list[str],
    group_col: str | None = None,
    mean: float = 0.0,
    std: Annotated[float, Interval(0.0, None, closed="neither")] = 1.0,
):
    """Kolmogorov-Smirnov test: each column against a normal distribution, or between two groups.

    Without ``group_col`` each column is tested against N(``mean``, ``std``) by Spark ML's
    ``KolmogorovSmirnovTest``. With it, the column's values in the group with the smaller
    ``group_col`` value are compared with those in the other group (exactly two groups): the
    statistic is the largest gap between the two empirical distribution functions, computed
    in Spark over the distinct values; the p-value is the asymptotic one (as scipy's
    ``ks_2samp(method='asymp')``). Missing values are left out.

    Args:
        data: the input table.
        columns: the numeric columns to test.
        group_col: a column with exactly two distinct values splitting the rows into two
            samples; unset for the one-sample test against a normal distribution.
        mean: one-sample test: the normal distribution's mean.
        std: one-sample test: the normal distribution's standard deviation.
        result: one row per column: ``column``, ``statistic``, ``p_value``, ``rows_1`` (the
            sample size; the first group's for two samples), ``rows_2`` (the second group's,
            null for one sample), ``group_1`` and ``group_2`` (the groups' values as text).
    """
    from pyspark.ml.stat import KolmogorovSmirnovTest
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    name = "ks_test"
    chosen = numeric_columns(
        data, require_nonempty(columns, component=name, param="columns"), component=name, param="columns"
    )
    schema = (
        "column string, statistic double, p_value double, rows_1 bigint, rows_2 bigint, group_1 string, group_2 string"
    )
    rows: list[tuple] = []
    if not group_col:
        for column in chosen:
            sample = data.where(~missing_value(data, column)).select(F.col(quote(column)).cast("double").alias("x"))
            size = sample.count()
            if not size:
                raise ValueError(f"{name}: params.columns column {column!r} has no values to test")
            result = KolmogorovSmirnovTest.test(sample, "x", "norm", float(mean), float(std)).first()
            rows.append((column, float(result["statistic"]), float(result["pValue"]), size, None, None, None))
        ctx.log.info("%s: tested %d column(s) against N(%g, %g)", ctx.node_id, len(chosen), mean, std)
        return ctx.spark.createDataFrame(rows, schema)

    (group,) = require_columns(data, [group_col], component=name, param="group_col")
    if group in chosen:
        raise ValueError(f"{name}: params.group_col {group!r} is also in params.columns")
    levels = [
        r[0] for r in data.where(F.col(quote(group)).isNotNull()).select(quote(group)).distinct().limit(3).collect()
    ]
    if len(levels) != 2:
        raise ValueError(
            f"{name}: params.group_col column {group!r} must have exactly two distinct values, got "
            f"{'more than 2' if len(levels) > 2 else len(levels)}"
        )
    first, second = sorted(levels)
    in_first = F.col(quote(group)) == F.lit(first)
    cells = [
        F.struct(F.lit(i).alias("k"), _present(data, c).alias("x"), in_first.alias("first"))
        for i, c in enumerate(chosen)
    ]
    values = (
        data.where(F.col(quote(group)).isNotNull())
        .select(F.explode(F.array(*cells)).alias("cell"))
        .select("cell.*")
        .where(F.col("x").isNotNull())
    )
    by_value = values.groupBy("k", "x").agg(
        F.sum(F.col("first").cast("long")).alias("a"), F.sum((~F.col("first")).cast("long")).alias("b")
    )
    sizes = Window.partitionBy("k")
    running = sizes.orderBy("x").rowsBetween(Window.unboundedPreceding, Window.currentRow)
    gaps = by_value.select(
        "k",
        F.sum("a").over(sizes).alias("n1"),
        F.sum("b").over(sizes).alias("n2"),
        F.abs(
            F.sum("a").over(running) / F.sum("a").over(sizes) - F.sum("b").over(running) / F.sum("b").over(sizes)
        ).alias("gap"),
    )
    found = {
        r["k"]: r
        for r in gaps.groupBy("k")
        .agg(F.max("gap").alias("d"), F.first("n1").alias("n1"), F.first("n2").alias("n2"))
        .collect()
    }
    for i, column in enumerate(chosen):
        row = found.get(i)
        n1, n2 = (int(row["n1"] or 0), int(row["n2"] or 0)) if row else (0, 0)
        if not n1 or not n2:
            raise ValueError(
                f"{name}: params.columns column {column!r} has no values in group {first if not n1 else second!r} "
                f"of params.group_col {group!r}"
            )
        statistic = float(row["d"])
        rows.append((column, statistic, _kolmogorov_two_sample_p(statistic, n1, n2), n1, n2, str(first), str(second)))
    ctx.log.info("%s: compared %d column(s) between %s=%s and %s", ctx.node_id, len(chosen), group, first, second)
    return ctx.spark.createDataFrame(rows, schema)


@component(category="statistics", outputs={"percentiles": Table})
def percentiles(
    ctx,
    data: Table,
    *,
    columns: list[str] | None = None,
    probabilities: list[float] | None = None,
    method: Annotated[str, Options("approximate", "exact")] = "approximate",
    accuracy: Annotated[int, Interval(1, None)] = 10_000,
):
    """Percentiles of numeric columns, approximate (scalable) or exact (interpolated).

    ``approximate`` is Spark's ``percentile_approx``: each result is an actual value of the
    column whose rank is within ``rows / accuracy`` of the exact rank. ``exact`` is Spark's
    ``percentile``: linear interpolation between the two nearest ranks (as numpy's default);
    it holds each column's values in memory per task, so keep it to moderate tables.

    Args:
        data: the input table.
        columns: the numeric columns; empty means every numeric column.
        probabilities: the percentiles to compute, as fractions between 0 and 1; empty means
            0.01, 0.05, 0.25, 0.5, 0.75, 0.95 and 0.99.
        method: ``approximate`` or ``exact``.
        accuracy: approximate: higher is more accurate and uses more memory (relative error 1/accuracy).
        percentiles: one row per probability: ``percentile`` (the fraction), then one double column per input column.
    """
    from pyspark.sql import functions as F
    from pyspark.sql.types import DoubleType, StructField, StructType

    name = "percentiles"
    chosen = numeric_columns(data, columns, component=name, param="columns")
    probabilities = probabilities or list(_DEFAULT_PROBABILITIES)
    bad = [p for p in probabilities if not 0.0 <= p <= 1.0]
    if bad:
        raise ValueError(f"{name}: params.probabilities must be fractions between 0 and 1, got {bad[0]!r}")
    _free_name("percentile", chosen, component=name, param="columns")
    probs = [float(p) for p in probabilities]

    def aggregate(value: Any) -> Any:
        if method == "exact":
            return F.percentile(value, probs)
        return F.percentile_approx(value, probs, accuracy)

    stats = data.agg(*[aggregate(_present(data, c)).alias(f"p{i}") for i, c in enumerate(chosen)]).first()
    by_column = [stats[f"p{i}"] or [None] * len(probs) for i in range(len(chosen))]
    rows = [(p, *[None if v[j] is None else float(v[j]) for v in by_column]) for j, p in enumerate(probs)]
    schema = StructType(
        [StructField("percentile", DoubleType(), False)] + [StructField(c, DoubleType()) for c in chosen]
    )
    ctx.log.info("%s: %d %s percentile(s) of %d column(s)", ctx.node_id, len(probs), method, len(chosen))
    return ctx.spark.createDataFrame(rows, schema)


@component(category="statistics", outputs={"crosstab": Table})
def crosstab(
    ctx,
    data: Table,
    *,
    row_col: str,
    column_col: str,
    normalize: Annotated[str, Options("none", "row", "all")] = "none",
):
    """A contingency table of two columns (Spark's ``DataFrame.stat.crosstab``).

    Values are shown as text; null appears as ``null``. Spark caps the number of distinct
    pairs at one million.

    Args:
        data: the input table.
        row_col: the column whose distinct values become rows.
        column_col: the column whose distinct values become columns.
        normalize: ``none`` for counts; ``row`` for shares of each row's total; ``all`` for shares of all rows.
        crosstab: first column named ``row_col`` (its values, ordered), then one column per
            distinct value of ``column_col`` (ordered by name): counts (bigint) or shares (double).
    """
    from pyspark.sql import functions as F

    name = "crosstab"
    (rows_column,) = require_columns(data, [row_col], component=name, param="row_col")
    (cols_column,) = require_columns(data, [column_col], component=name, param="column_col")
    if rows_column == cols_column:
        raise ValueError(f"{name}: params.row_col and params.column_col are both {rows_column!r}")
    table = data.stat.crosstab(rows_column, cols_column)
    key, *values = table.columns
    if rows_column in values:
        raise ValueError(
            f"{name}: params.column_col column {cols_column!r} has the value {rows_column!r}, which clashes "
            "with the name of the row column"
        )
    values = sorted(values)
    cells = [F.col(quote(v)) for v in values]
    if normalize == "row":
        total = sum(cells[1:], cells[0]) if cells else F.lit(0)
        cells = [(c / total).alias(v) for c, v in zip(cells, values, strict=True)]
    elif normalize == "all":
        grand = data.count()
        cells = [(c / F.lit(float(grand))).alias(v) for c, v in zip(cells, values, strict=True)]
    else:
        cells = [c.alias(v) for c, v in zip(cells, values, strict=True)]
    return table.select(F.col(quote(key)).alias(rows_column), *cells).orderBy(rows_column)


@component(category="statistics", outputs={"profile": Table})
def data_profile(
    ctx,
    data: Table,
    *,
    columns: list[str] | None = None,
    plot: bool = True,
):
    """A profile of a table: per column its type, missing values, distinct values, range, mean and most frequent value.

    One aggregation gives the counts, ranges and means; one shuffle of (column, value) pairs
    gives the exact distinct counts and the most frequent values (ties: the smallest as text).
    Values are compared as text for ``distinct`` and ``top_value``; ``min`` and ``max`` use the
    column's own order and are shown as text. Vector, array, map and struct columns are not
    profiled. With ``plot``, ``data_profile.png`` shows the missing share and the distinct
    count of every column.

    Args:
        data: the input table.
        columns: the columns to profile; empty means every column of a simple type.
        plot: also draw the overview as ``data_profile.png``.
        profile: one row per column: ``column``, ``type``, ``rows``, ``missing`` (null, or
            NaN in float columns), ``missing_share``, ``distinct``, ``min``, ``max``, ``mean``
            (numeric columns, else null), ``top_value``, ``top_count``.
    """
    from pyspark.sql import Window
    from pyspark.sql import functions as F
    from pyspark.sql.types import AtomicType, BooleanType, NumericType

    name = "data_profile"
    if columns:
        chosen = require_columns(data, columns, component=name, param="columns")
        require_unique(chosen, component=name, param="columns")
        for column in chosen:
            data_type = column_type(data, column)
            if not isinstance(data_type, AtomicType) or is_vector(data_type):
                raise ValueError(
                    f"{name}: params.columns column {column!r} is {data_type.simpleString()}; "
                    "only columns of simple types can be profiled"
                )
    else:
        chosen = [f.name for f in data.schema.fields if isinstance(f.dataType, AtomicType)]
    if not chosen:
        raise ValueError(f"{name}: the input table has no column of a simple type to profile")

    def numeric(column: str) -> bool:
        data_type = column_type(data, column)
        return isinstance(data_type, NumericType) and not isinstance(data_type, BooleanType)

    def present(column: str) -> Any:
        return F.when(~missing_value(data, column), F.col(quote(column)))

    aggregates = [F.count(F.lit(1)).alias("rows")]
    for i, column in enumerate(chosen):
        aggregates += [
            F.sum(missing_value(data, column).cast("long")).alias(f"m{i}"),
            F.min(present(column)).cast("string").alias(f"lo{i}"),
            F.max(present(column)).cast("string").alias(f"hi{i}"),
            (F.avg(present(column).cast("double")) if numeric(column) else F.lit(None).cast("double")).alias(
                f"mean{i}"
            ),
        ]
    stats = data.agg(*aggregates).first()
    total = int(stats["rows"] or 0)

    cells = [F.struct(F.lit(i).alias("k"), present(c).cast("string").alias("v")) for i, c in enumerate(chosen)]
    pairs = (
        data.select(F.explode(F.array(*cells)).alias("cell"))
        .select("cell.*")
        .where(F.col("v").isNotNull())
        .groupBy("k", "v")
        .count()
    )
    by_column = Window.partitionBy("k")
    ranked = pairs.select(
        "k",
        "v",
        "count",
        F.count(F.lit(1)).over(by_column).alias("distinct"),
        F.row_number().over(by_column.orderBy(F.col("count").desc(), F.col("v"))).alias("r"),
    ).where(F.col("r") == 1)
    tops = {r["k"]: r for r in ranked.collect()}

    rows = []
    for i, column in enumerate(chosen):
        missing = int(stats[f"m{i}"] or 0)
        top = tops.get(i)
        rows.append(
            (
                column,
                column_type(data, column).simpleString(),
                total,
                missing,
                missing / total if total else 0.0,
                int(top["distinct"]) if top else 0,
                stats[f"lo{i}"],
                stats[f"hi{i}"],
                stats[f"mean{i}"],
                top["v"] if top else None,
                int(top["count"]) if top else 0,
            )
        )
    ctx.log.info("%s: profiled %d column(s) over %d row(s)", ctx.node_id, len(chosen), total)
    if plot:
        _plot_profile(ctx, rows)
    return ctx.spark.createDataFrame(
        rows,
        "column string, type string, rows bigint, missing bigint, missing_share double, distinct bigint, "
        "min string, max string, mean double, top_value string, top_count bigint",
    )


def _plot_profile(ctx: Any, rows: list[tuple]) -> None:
    names = [r[0] for r in rows]
    height = max(2.5, 0.3 * len(names) + 1.0)
    figure = _figure(10.0, height)
    missing_axes = figure.add_subplot(1, 2, 1)
    missing_axes.barh(names, [r[4] for r in rows], color="tab:red")
    missing_axes.set_xlim(0.0, 1.0)
    missing_axes.set_xlabel("missing share")
    missing_axes.invert_yaxis()
    distinct_axes = figure.add_subplot(1, 2, 2)
    distinct_axes.barh(names, [r[5] for r in rows], color="tab:blue")
    distinct_axes.set_xlabel("distinct values")
    distinct_axes.invert_yaxis()
    distinct_axes.set_yticklabels([])
    figure.suptitle(f"profile of {len(names)} column(s), {rows[0][2] if rows else 0} row(s)")
    figure.tight_layout()
    ctx.save_figure(figure, "data_profile")
