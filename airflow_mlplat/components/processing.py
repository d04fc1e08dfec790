"""Data-processing components: SQL, type conversion, splitting, missing values, row and column selection."""

from __future__ import annotations

import re
from typing import Annotated, Any

from airflow_mlplat.components._common import quote, require_columns, require_nonempty, require_unique
from airflow_mlplat.components.registry import component
from airflow_mlplat.components.spec import Interval, Options, Table

_VIEW_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _sql_error(component_name: str, param: str, text: str, exc: Exception) -> ValueError:
    message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return ValueError(f"{component_name}: params.{param} {text!r} is not valid: {message}")


@component(category="data processing", outputs={"data": Table})
def sql_transform(
    ctx,
    data: Table,
    other: Table | None = None,
    *,
    query: str,
    view: str = "data",
    other_view: str = "other",
):
    """Transform tables with a Spark SQL query.

    The inputs are registered as temporary views (``data`` and ``other`` unless renamed) for
    the query only; the query's result is the output.

    Args:
        data: the main input table, visible to the query as ``view``.
        other: an optional second table (e.g. for a join), visible as ``other_view``.
        query: a Spark SQL SELECT statement over the views, e.g. ``SELECT *, a + b AS c FROM data``.
        view: the name under which the query sees ``data``.
        other_view: the name under which the query sees ``other``.
    """
    from pyspark.errors import AnalysisException, ParseException

    names = {"view": view} if other is None else {"view": view, "other_view": other_view}
    for param, name in names.items():
        if not _VIEW_NAME.match(name):
            raise ValueError(f"sql_transform: params.{param} must be an SQL identifier, got {name!r}")
    if other is not None and view.lower() == other_view.lower():
        raise ValueError(f"sql_transform: params.view and params.other_view must differ, both are {view!r}")
    spark = ctx.spark
    registered = [(view, data)] + ([(other_view, other)] if other is not None else [])
    for name, frame in registered:
        frame.createOrReplaceTempView(name)
    try:
        # spark.sql analyses the query eagerly: the result keeps the views' plans, so the views
        # can be dropped at once and do not leak into later nodes' queries.
        return spark.sql(query)
    except (ParseException, AnalysisException) as exc:
        raise _sql_error("sql_transform", "query", query, exc) from exc
    finally:
        for name, _ in registered:
            spark.catalog.dropTempView(name)


_CAST_TYPES = ("double", "float", "int", "bigint", "string", "boolean", "date", "timestamp")


@component(category="data processing", outputs={"data": Table})
def cast_columns(
    ctx,
    data: Table,
    *,
    columns: list[str],
    to_type: Annotated[str, Options(*_CAST_TYPES)] = "double",
):
    """Convert columns to another type, e.g. numbers stored as strings to doubles.

    Values that cannot be converted (``'abc'`` as a double, ``''``) become null instead of
    failing the run (``try_cast`` semantics, whether or not Spark's ANSI mode is on). The
    column order is kept.

    Args:
        data: the input table.
        columns: the columns to convert.
        to_type: the type to convert them to.
    """
    from pyspark.sql import functions as F

    wanted = require_columns(
        data,
        require_nonempty(columns, component="cast_columns", param="columns"),
        component="cast_columns",
        param="columns",
    )
    require_unique(wanted, component="cast_columns", param="columns")
    targets = set(wanted)
    return data.select(
        *[
            F.expr(f"try_cast({quote(c)} as {to_type})").alias(c) if c in targets else F.col(quote(c))
            for c in data.columns
        ]
    )


@component(category="data processing", outputs={"train": Table, "test": Table})
def random_split(
    ctx,
    data: Table,
    *,
    ratio: Annotated[float, Interval(0.0, 1.0, closed="neither")] = 0.85,
    seed: int = 42,
    stratify_by: str | None = None,
):
    """Split a table at random into a training and a test part.

    Without ``stratify_by`` each row goes to ``train`` with probability ``ratio``
    (``DataFrame.randomSplit``). With it, every value of that column (e.g. the label) is split
    exactly: ``round(ratio * n)`` of its ``n`` rows go to ``train``, chosen by a seeded random
    order, so both parts keep the column's proportions.

    Args:
        data: the input table.
        ratio: the share of rows that go to the training part.
        seed: random seed; the same seed splits the same table the same way.
        stratify_by: a column whose values are split separately and exactly (usually the label).
        train: the training part.
        test: the test part.
    """
    if not stratify_by:
        train, test = data.randomSplit([ratio, 1.0 - ratio], seed=seed)
        return {"train": train, "test": test}

    from pyspark.sql import Window
    from pyspark.sql import functions as F

    (stratum,) = require_columns(data, [stratify_by], component="random_split", param="stratify_by")
    key, order, size = "__split_key", "__split_row", "__split_size"
    clashes = {key, order, size} & set(data.columns)
    if clashes:
        raise ValueError(f"random_split: the input table already has helper column(s) {sorted(clashes)}")
    by_stratum = Window.partitionBy(F.col(quote(stratum)))
    tagged = (
        data.withColumn(key, F.rand(seed))
        .withColumn(order, F.row_number().over(by_stratum.orderBy(F.col(key))))
        .withColumn(size, F.count(F.lit(1)).over(by_stratum))
    )
    in_train = F.col(order) <= F.round(F.col(size) * F.lit(ratio))
    helpers = [key, order, size]
    return {
        "train": tagged.where(in_train).drop(*helpers),
        "test": tagged.where(~in_train).drop(*helpers),
    }


_MEDIAN_ACCURACY = 100_000
_SPARK_CONVERTS = object()


def _constant_for(value: str, data_type: Any) -> Any:
    """``value`` converted to a column type the way ``try_cast`` would, without a Spark job.

    None when it does not convert; ``_SPARK_CONVERTS`` for types left to Spark.
    """
    import decimal

    from pyspark.sql.types import AtomicType, BooleanType, DecimalType, FractionalType, IntegralType, StringType

    text = value.strip()
    try:
        if isinstance(data_type, StringType):
            return value
        if isinstance(data_type, BooleanType):
            return {
                "true": True,
                "t": True,
                "yes": True,
                "y": True,
                "1": True,
                "false": False,
                "f": False,
                "no": False,
                "n": False,
                "0": False,
            }.get(text.lower())
        if isinstance(data_type, IntegralType):
            return int(text)
        if isinstance(data_type, DecimalType):
            return decimal.Decimal(text)
        if isinstance(data_type, FractionalType):
            return float(text)
    except (ValueError, decimal.InvalidOperation):
        return None
    return _SPARK_CONVERTS if isinstance(data_type, AtomicType) else None


def _missing(column: Any, data_type: Any) -> Any:
    from pyspark.sql import functions as F
    from pyspark.sql.types import DoubleType, FloatType

    if isinstance(data_type, (DoubleType, FloatType)):
        return column.isNull() | F.isnan(column)
    return column.isNull()


@component(category="data processing", outputs={"data": Table})
def fill_missing(
    ctx,
    data: Table,
    *,
    strategy: Annotated[str, Options("mean", "median", "mode", "constant")] = "mean",
    columns: list[str] | None = None,
    value: str | None = None,
):
    """Replace missing values (null, and NaN in float columns) column by column.

    ``mean`` and ``median`` apply to numeric columns (integer columns get the statistic rounded
    half up, so their type is kept; the median is Spark's ``percentile_approx``, an actual value
    of the column, exact up to a rank error of 1/100 000); ``mode`` (the most frequent value, the smallest on ties)
    and ``constant`` apply to any column. A column with no values at all is left as it is.

    Args:
        data: the input table.
        strategy: what to fill with: the column's mean, median or most frequent value, or ``value``.
        columns: the columns to fill; empty means every column the strategy applies to (for
            ``constant``: every column ``value`` converts to).
        value: the fill value for ``constant``, as text (converted to each column's type).
    """
    from pyspark.sql import Column
    from pyspark.sql import functions as F
    from pyspark.sql.types import DecimalType, DoubleType, FloatType, NumericType

    name = "fill_missing"
    types = {f.name: f.dataType for f in data.schema.fields}
    explicit = bool(columns)
    chosen = require_columns(data, columns or [], component=name, param="columns") if explicit else list(data.columns)
    require_unique(chosen, component=name, param="columns")

    if strategy == "constant":
        if value is None:
            raise ValueError(f"{name}: params.value is required when params.strategy is 'constant'")
        fills: dict[str, Any] = {}
        converted_by_column = {c: _constant_for(value, types[c]) for c in chosen}
        # Types Python cannot convert like Spark (dates, timestamps...): one probe job converts them.
        castable = [c for c, v in converted_by_column.items() if v is _SPARK_CONVERTS]
        probes = (
            data.sparkSession.range(1)
            .select(*[F.lit(value).try_cast(types[c]).alias(f"c{i}") for i, c in enumerate(castable)])
            .first()
            if castable
            else None
        )
        for c in chosen:
            converted = converted_by_column[c]
            if converted is _SPARK_CONVERTS:
                converted = probes[f"c{castable.index(c)}"] if probes is not None else None
            if converted is None:
                if explicit:
                    raise ValueError(
                        f"{name}: params.value {value!r} cannot fill column {c!r} of type {types[c].simpleString()}"
                    )
                continue
            fills[c] = converted
    else:
        if strategy in ("mean", "median"):
            applicable = [c for c in chosen if isinstance(types[c], NumericType)]
            if explicit and len(applicable) != len(chosen):
                bad = next(c for c in chosen if c not in applicable)
                raise ValueError(
                    f"{name}: params.columns names column {bad!r} of type {types[bad].simpleString()}, "
                    f"but strategy {strategy!r} needs numeric columns"
                )
        else:
            applicable = list(chosen)
        if not applicable:
            return data

        def present(c: str) -> Any:
            col = F.col(quote(c))
            return F.when(~_missing(col, types[c]), col)

        aggregate = {
            "mean": F.avg,
            "median": lambda col: F.percentile_approx(col, 0.5, _MEDIAN_ACCURACY),
            "mode": lambda col: F.mode(col, True),
        }[strategy]
        stats = data.select(*[aggregate(present(c)).alias(f"s{i}") for i, c in enumerate(applicable)]).first()
        fills = {}
        for i, c in enumerate(applicable):
            statistic = stats[f"s{i}"] if stats is not None else None
            if statistic is None:
                continue
            if strategy != "mode" and not isinstance(types[c], (DoubleType, FloatType, DecimalType)):
                statistic = F.floor(F.lit(float(statistic)) + F.lit(0.5))
            fills[c] = statistic

    if not fills:
        return data
    ctx.log.info("%s: filling %d column(s) by %s", ctx.node_id, len(fills), strategy)

    def filled(c: str) -> Any:
        col = F.col(quote(c))
        if c not in fills:
            return col
        replacement = fills[c] if isinstance(fills[c], Column) else F.lit(fills[c])
        return F.when(_missing(col, types[c]), replacement.cast(types[c])).otherwise(col).alias(c)

    return data.select(*[filled(c) for c in data.columns])


@component(category="data processing", outputs={"data": Table})
def drop_duplicates(ctx, data: Table, *, subset: list[str] | None = None):
    """Remove duplicate rows, keeping one row of each group of duplicates.

    Args:
        data: the input table.
        subset: the columns that define a duplicate; empty means all columns.
    """
    if not subset:
        return data.dropDuplicates()
    keys = require_columns(data, subset, component="drop_duplicates", param="subset")
    return data.dropDuplicates(keys)


@component(category="data processing", outputs={"data": Table})
def filter_rows(ctx, data: Table, *, condition: str):
    """Keep the rows for which an SQL condition holds.

    Args:
        data: the input table.
        condition: a Spark SQL boolean expression over the columns, e.g. ``age >= 18 AND city IS NOT NULL``.
    """
    from pyspark.errors import AnalysisException, ParseException

    if not condition.strip():
        raise ValueError("filter_rows: params.condition must not be empty")
    try:
        return data.where(condition)
    except (ParseException, AnalysisException) as exc:
        raise _sql_error("filter_rows", "condition", condition, exc) from exc


@component(category="data processing", outputs={"data": Table})
def select_columns(
    ctx,
    data: Table,
    *,
    columns: list[str] | None = None,
    rename: dict[str, str] | None = None,
):
    """Keep some columns, in the given order, and optionally rename them.

    Args:
        data: the input table.
        columns: the columns to keep, in order; empty keeps all columns.
        rename: new names for some of the kept columns, as ``{old: new}``.
    """
    from pyspark.sql import functions as F

    name = "select_columns"
    kept = require_columns(data, columns, component=name, param="columns") if columns else list(data.columns)
    require_unique(kept, component=name, param="columns")
    mapping = dict(rename or {})
    renamed = {}
    for old, new in mapping.items():
        found = next((c for c in kept if c == old), None)
        if found is None:
            found = next((c for c in kept if c.lower() == old.lower()), None)
        if found is None:
            where = "the selected columns" if columns else "the input table"
            raise ValueError(f"{name}: params.rename names column {old!r}, which {where} do not have")
        if not new:
            raise ValueError(f"{name}: params.rename gives column {old!r} an empty new name")
        renamed[found] = new
    final = [renamed.get(c, c) for c in kept]
    duplicates = sorted({c for c in final if final.count(c) > 1})
    if duplicates:
        raise ValueError(f"{name}: after params.rename the output would have duplicate column(s) {duplicates}")
    return data.select(*[F.col(quote(c)).alias(renamed.get(c, c)) for c in kept])
