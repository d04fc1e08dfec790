"""Data-processing components: SQL, types, splits, missing values, rows, columns, joins, windows and reshaping."""

from __future__ import annotations

import re
from typing import Annotated, Any

from airflow_mlplat.components._common import (
    quote,
    require_columns,
    require_nonempty,
    require_numeric,
    require_unique,
    resolve_column,
)
from airflow_mlplat.components.registry import component
from airflow_mlplat.components.spec import Interval, Options, Sql, Table

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
    query: Annotated[str, Sql("query")],
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
def filter_rows(ctx, data: Table, *, condition: Annotated[str, Sql("expression")]):
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


def _converted_texts(spark: Any, texts_and_types: list[tuple[str, Any]]) -> list[Any]:
    """Each text converted to its type as ``try_cast`` would (None where it does not convert).

    Python converts the simple types; the rest (dates, timestamps...) in one Spark probe.
    """
    from pyspark.sql import functions as F

    converted = [_constant_for(text, data_type) for text, data_type in texts_and_types]
    pending = [i for i, value in enumerate(converted) if value is _SPARK_CONVERTS]
    if pending:
        probe = spark.range(1).select(
            *[F.lit(texts_and_types[i][0]).try_cast(texts_and_types[i][1]).alias(f"c{i}") for i in pending]
        )
        values = probe.first()
        for i in pending:
            converted[i] = values[f"c{i}"]
    return converted


def _literal(text: str | None, data_type: Any) -> Any:
    """``text`` as a literal of ``data_type``, converted like ``_converted_texts`` (null for None).

    Types that Spark converts stay Spark-side: a collected timestamp turned back into a literal
    would pass through the driver's time zone rather than the session's.
    """
    from pyspark.sql import functions as F

    if text is None:
        return F.lit(None).cast(data_type)
    value = _constant_for(text, data_type)
    if value is _SPARK_CONVERTS:
        return F.lit(text).try_cast(data_type)
    return F.lit(value).cast(data_type)


def _same_name(a: str, b: str) -> bool:
    return a.lower() == b.lower()


_TIME_HINT = "a timestamp, date or numeric column (convert text with cast_columns first)"


@component(category="data processing", outputs={"train": Table, "test": Table})
def split_by_time(
    ctx,
    data: Table,
    *,
    time_col: str,
    cutoff: str | None = None,
    ratio: Annotated[float, Interval(0.0, 1.0, closed="neither")] = 0.85,
):
    """Split a table by time: earlier rows train, later rows test (no look-ahead, unlike a random split).

    With ``cutoff`` the rows before it train and the rest test. Without it the split time is the
    ``ratio`` quantile of ``time_col`` (Spark's ``percentile_approx``, exact on small tables) and
    rows up to and including it train, so rows with the same time never land in both parts.
    Rows whose time is null are in neither part. The split time used is in the run report.

    Args:
        data: the input table.
        time_col: the time column: a timestamp, date or number (e.g. epoch seconds).
        cutoff: the first time of the test part, as text (``2024-03-01``, ``2024-03-01 12:00:00``, ``1709251200``).
        ratio: without ``cutoff``: the share of rows (the earliest) that train.
        train: the earlier rows.
        test: the later rows.
    """
    from pyspark.sql import functions as F
    from pyspark.sql.types import DateType, NumericType, TimestampNTZType, TimestampType

    name = "split_by_time"
    (column,) = require_columns(data, [time_col], component=name, param="time_col")
    data_type = data.schema[column].dataType
    if not isinstance(data_type, (DateType, TimestampType, TimestampNTZType, NumericType)):
        raise ValueError(
            f"{name}: params.time_col column {column!r} must be {_TIME_HINT}, but it is {data_type.simpleString()}"
        )
    time = F.col(quote(column))
    if cutoff is not None and cutoff.strip():
        (converted,) = _converted_texts(data.sparkSession, [(cutoff, data_type)])
        if converted is None:
            raise ValueError(
                f"{name}: params.cutoff {cutoff!r} is not a value of column {column!r} "
                f"(type {data_type.simpleString()})"
            )
        ctx.details["cutoff"] = str(converted)
        ctx.log.info("%s: rows before %s train", ctx.node_id, converted)
        # Converted by Spark, like the probe, so the session time zone applies to both.
        boundary = F.lit(cutoff).try_cast(data_type)
        return {"train": data.where(time < boundary), "test": data.where(time >= boundary)}
    # Through text and back in Spark: a Python datetime would meet the driver's time zone instead.
    split_time = data.select(F.percentile_approx(time, ratio, _MEDIAN_ACCURACY).cast("string")).first()[0]
    if split_time is None:
        raise ValueError(f"{name}: params.time_col column {column!r} has no values to split by")
    ctx.details["split_time"] = str(split_time)
    ctx.log.info("%s: rows up to %s train (the %.3f quantile)", ctx.node_id, split_time, ratio)
    boundary = F.lit(split_time).cast(data_type)
    return {"train": data.where(time <= boundary), "test": data.where(time > boundary)}


@component(category="data processing", outputs={"data": Table})
def drop_missing(
    ctx,
    data: Table,
    *,
    how: Annotated[str, Options("any", "all")] = "any",
    subset: list[str] | None = None,
    threshold: Annotated[int | None, Interval(1, None)] = None,
):
    """Remove rows with missing values (null, and NaN in float columns).

    Args:
        data: the input table.
        how: drop a row when any of the columns is missing, or only when all of them are.
        subset: the columns to look at; empty means all columns.
        threshold: keep a row only if at least this many of the columns have a value (replaces ``how``).
    """
    name = "drop_missing"
    columns = require_columns(data, subset, component=name, param="subset") if subset else list(data.columns)
    require_unique(columns, component=name, param="subset")
    if threshold is not None and threshold > len(columns):
        raise ValueError(
            f"{name}: params.threshold {threshold} is more than the {len(columns)} column(s) looked at, "
            "so every row would be dropped"
        )
    return data.dropna(how=how, thresh=threshold, subset=columns)


@component(category="data processing", outputs={"data": Table})
def rename_columns(ctx, data: Table, *, mapping: dict[str, str]):
    """Rename columns; the others keep their names, and the column order is kept.

    Args:
        data: the input table.
        mapping: new names as ``{old: new}``.
    """
    from pyspark.sql import functions as F

    name = "rename_columns"
    if not mapping:
        raise ValueError(f"{name}: params.mapping must rename at least one column, got {mapping!r}")
    olds = require_columns(data, list(mapping), component=name, param="mapping")
    require_unique(olds, component=name, param="mapping")
    renamed = {}
    for old, new in zip(olds, mapping.values(), strict=True):
        if not new:
            raise ValueError(f"{name}: params.mapping gives column {old!r} an empty new name")
        renamed[old] = new
    final = [renamed.get(c, c) for c in data.columns]
    duplicates = sorted({c for c in final if sum(_same_name(c, other) for other in final) > 1})
    if duplicates:
        raise ValueError(f"{name}: after params.mapping the table would have duplicate column(s) {duplicates}")
    return data.select(*[F.col(quote(c)).alias(renamed.get(c, c)) for c in data.columns])


@component(category="data processing", outputs={"data": Table})
def drop_columns(ctx, data: Table, *, columns: list[str], ignore_missing: bool = False):
    """Remove columns.

    Args:
        data: the input table.
        columns: the columns to remove.
        ignore_missing: skip names the table does not have instead of failing.
    """
    name = "drop_columns"
    require_nonempty(columns, component=name, param="columns")
    if ignore_missing:
        found = [c for c in (resolve_column(data, c) for c in columns) if c is not None]
    else:
        found = require_columns(data, columns, component=name, param="columns")
    dropped = set(found)
    if dropped and dropped == set(data.columns):
        raise ValueError(f"{name}: params.columns names every column; a table needs at least one")
    from pyspark.sql import functions as F

    return data.select(*[F.col(quote(c)) for c in data.columns if c not in dropped])


_JOIN_TYPES = {
    "inner": "inner",
    "left": "left_outer",
    "right": "right_outer",
    "full": "full_outer",
    "semi": "left_semi",
    "anti": "left_anti",
}


@component(category="data processing", outputs={"data": Table})
def join_tables(
    ctx,
    left: Table,
    right: Table,
    *,
    on: list[str],
    right_on: list[str] | None = None,
    how: Annotated[str, Options(*_JOIN_TYPES)] = "inner",
    suffix: str = "_right",
):
    """Join two tables on equal key columns.

    The output has the key columns once (named as in ``left``; for ``full`` joins the key from
    whichever side has it), then the left table's other columns, then the right table's. A right
    column whose name the left table also has gets ``suffix``. ``semi`` keeps the left rows that
    have a match and ``anti`` those that have none (both only the left columns). Null keys
    never match.

    Args:
        left: the left table.
        right: the right table.
        on: the key columns of the left table (and of the right one, unless ``right_on`` is set).
        right_on: the right table's key columns, one per ``on`` column, when they are named differently.
        how: the join type: inner, left, right, full (outer), semi or anti.
        suffix: appended to the names of right columns that clash with left column names.
    """
    from pyspark.errors import AnalysisException
    from pyspark.sql import functions as F

    name = "join_tables"
    left_keys = require_columns(left, require_nonempty(on, component=name, param="on"), component=name, param="on")
    require_unique(left_keys, component=name, param="on")
    if right_on:
        if len(right_on) != len(left_keys):
            raise ValueError(
                f"{name}: params.right_on must name one column per params.on column ({len(left_keys)}), "
                f"got {len(right_on)}: {list(right_on)!r}"
            )
        right_keys = require_columns(right, right_on, component=name, param="right_on")
    else:
        right_keys = require_columns(right, left_keys, component=name, param="on")
    require_unique(right_keys, component=name, param="right_on" if right_on else "on")
    projected = [F.col(quote(r)).alias(k) for r, k in zip(right_keys, left_keys, strict=True)]
    names = list(left.columns)
    if how not in ("semi", "anti"):
        for column in right.columns:
            if column in right_keys:
                continue
            new = column
            if any(_same_name(column, c) for c in left.columns):
                if not suffix:
                    raise ValueError(
                        f"{name}: both tables have column {column!r}; set params.suffix to tell them apart"
                    )
                new = column + suffix
            if any(_same_name(new, c) for c in names):
                raise ValueError(
                    f"{name}: right column {column!r} would be named {new!r}, which the output already has "
                    "(choose another params.suffix)"
                )
            names.append(new)
            projected.append(F.col(quote(column)).alias(new))
    try:
        return left.join(right.select(*projected), on=left_keys, how=_JOIN_TYPES[how])
    except AnalysisException as exc:
        raise ValueError(f"{name}: cannot join on params.on {left_keys!r}: {str(exc).strip().splitlines()[0]}") from exc


@component(category="data processing", outputs={"data": Table})
def union_tables(
    ctx,
    data: Table,
    other: Table,
    *,
    by_name: bool = True,
    allow_missing_columns: bool = False,
    distinct: bool = False,
):
    """Stack the rows of two tables.

    By name, the columns are matched by name (the output has ``data``'s column order); by
    position, the n-th columns go together and the output has ``data``'s names. Column types
    are widened to a common type (int and double give double).

    Args:
        data: the first table.
        other: the table whose rows go below.
        by_name: match columns by name instead of by position.
        allow_missing_columns: by name only: a column that only one table has is null in the other's rows.
        distinct: remove duplicate rows from the result (SQL ``UNION`` rather than ``UNION ALL``).
    """
    from pyspark.errors import AnalysisException

    name = "union_tables"
    if by_name:
        if not allow_missing_columns:
            only_data = [c for c in data.columns if not any(_same_name(c, o) for o in other.columns)]
            only_other = [c for c in other.columns if not any(_same_name(c, d) for d in data.columns)]
            if only_data or only_other:
                raise ValueError(
                    f"{name}: the tables have different columns (only in data: {only_data}, only in other: "
                    f"{only_other}); set params.allow_missing_columns to fill them with nulls"
                )
    elif allow_missing_columns:
        raise ValueError(f"{name}: params.allow_missing_columns needs params.by_name")
    elif len(data.columns) != len(other.columns):
        raise ValueError(
            f"{name}: by position the tables need the same number of columns, "
            f"but data has {len(data.columns)} and other has {len(other.columns)}"
        )
    pairs = (
        [(c, next(o for o in other.columns if _same_name(c, o))) for c in data.columns if resolve_column(other, c)]
        if by_name
        else list(zip(data.columns, other.columns, strict=True))
    )
    for mine, theirs in pairs:
        a, b = data.schema[mine].dataType, other.schema[theirs].dataType
        if (a.typeName() == "string") != (b.typeName() == "string"):
            # Spark would cast the text to the other type, failing (or nulling) row by row at run time.
            raise ValueError(
                f"{name}: column {mine!r} of data is {a.simpleString()} but column {theirs!r} of other is "
                f"{b.simpleString()}; convert one with cast_columns first"
            )
    try:
        stacked = data.unionByName(other, allowMissingColumns=allow_missing_columns) if by_name else data.union(other)
    except AnalysisException as exc:
        raise ValueError(
            f"{name}: the tables' columns do not fit together: {str(exc).strip().splitlines()[0]}"
        ) from exc
    return stacked.distinct() if distinct else stacked


@component(category="data processing", outputs={"data": Table})
def append_id(
    ctx,
    data: Table,
    *,
    id_col: str = "id",
    method: Annotated[str, Options("monotonic", "row_number")] = "monotonic",
    order_by: list[str] | None = None,
    descending: bool = False,
):
    """Add a row id column (as the first column).

    ``monotonic`` ids are unique and increasing but not consecutive
    (``monotonically_increasing_id``: no shuffle, any table size). ``row_number`` numbers the rows
    1, 2, 3... in ``order_by`` order; it sorts all rows in one task, so keep it for tables of up
    to a few million rows. With ``monotonic``, ``order_by`` sorts the rows first, so the ids
    follow that order.

    Args:
        data: the input table.
        id_col: the name of the new column.
        method: unique increasing ids, or consecutive row numbers.
        order_by: the columns that order the rows (needed for ``row_number``; ties are numbered in any order).
        descending: order from the largest value down.
    """
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    name = "append_id"
    if not id_col:
        raise ValueError(f"{name}: params.id_col must not be empty")
    if any(_same_name(id_col, c) for c in data.columns):
        raise ValueError(f"{name}: params.id_col {id_col!r} is already a column of the input table")
    keys = require_columns(data, order_by, component=name, param="order_by") if order_by else []
    ordering = [F.col(quote(c)).desc() if descending else F.col(quote(c)).asc() for c in keys]
    if method == "row_number":
        if not keys:
            raise ValueError(f"{name}: params.order_by is required with params.method 'row_number'")
        numbered = F.row_number().over(Window.orderBy(*ordering)).cast("long").alias(id_col)
        return data.select(numbered, *[F.col(quote(c)) for c in data.columns])
    if ordering:
        data = data.orderBy(*ordering)
    return data.select(F.monotonically_increasing_id().alias(id_col), *[F.col(quote(c)) for c in data.columns])


@component(category="data processing", outputs={"data": Table})
def sort_rows(
    ctx,
    data: Table,
    *,
    columns: list[str],
    descending: list[str] | None = None,
    nulls: Annotated[str, Options("default", "first", "last")] = "default",
):
    """Sort the rows by one or more columns.

    The order holds for the steps that keep it (``limit_rows``, ``write_table``, a collect);
    joins and aggregations after it do not keep it.

    Args:
        data: the input table.
        columns: the columns to sort by, the first one first.
        descending: those of ``columns`` to sort from the largest value down.
        nulls: where nulls go: Spark's default (first ascending, last descending), first or last.
    """
    from pyspark.sql import functions as F

    name = "sort_rows"
    keys = require_columns(
        data, require_nonempty(columns, component=name, param="columns"), component=name, param="columns"
    )
    down = set(require_columns(data, descending or [], component=name, param="descending"))
    stray = sorted(down - set(keys))
    if stray:
        raise ValueError(f"{name}: params.descending names column {stray[0]!r}, which params.columns does not list")
    order = []
    for key in keys:
        col = F.col(quote(key))
        if key in down:
            col = {"default": col.desc(), "first": col.desc_nulls_first(), "last": col.desc_nulls_last()}[nulls]
        else:
            col = {"default": col.asc(), "first": col.asc_nulls_first(), "last": col.asc_nulls_last()}[nulls]
        order.append(col)
    return data.orderBy(*order)


@component(category="data processing", outputs={"data": Table})
def stratified_sample(
    ctx,
    data: Table,
    *,
    column: str,
    fractions: dict[str, float] | None = None,
    fraction: Annotated[float | None, Interval(0.0, 1.0)] = None,
    method: Annotated[str, Options("bernoulli", "exact")] = "bernoulli",
    seed: int = 42,
):
    """Sample each stratum (value of a column, e.g. the label) with its own fraction.

    ``fractions`` gives the fraction of some strata (e.g. keep all buyers, a tenth of the
    others: ``{"1": 1.0, "0": 0.1}``); ``fraction`` is the fraction of every other stratum
    (none: they are dropped). ``bernoulli`` keeps each row independently with its stratum's
    fraction (like ``DataFrame.sampleBy``; sizes vary a little); ``exact`` keeps exactly
    ``round(fraction * n)`` of a stratum's ``n`` rows, chosen by a seeded random order.

    Args:
        data: the input table.
        column: the column whose values are the strata.
        fractions: fractions of given strata, as ``{value: fraction}`` (values as text, converted to the column's type).
        fraction: the fraction of the strata ``fractions`` does not list.
        method: independent per-row draws, or exact per-stratum counts.
        seed: random seed; the same seed samples the same table the same way.
    """
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    name = "stratified_sample"
    (stratum,) = require_columns(data, [column], component=name, param="column")
    if not fractions and fraction is None:
        raise ValueError(f"{name}: set params.fractions, params.fraction or both")
    data_type = data.schema[stratum].dataType
    keys = list((fractions or {}).items())
    for key, value in keys:
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"{name}: params.fractions[{key!r}] must be between 0 and 1, got {value!r}")
    converted = _converted_texts(data.sparkSession, [(key, data_type) for key, _ in keys])
    probability: Any = F.lit(fraction if fraction is not None else 0.0)
    col = F.col(quote(stratum))
    for (key, _), typed in zip(keys, converted, strict=True):
        if typed is None:
            raise ValueError(
                f"{name}: params.fractions key {key!r} is not a value of column {stratum!r} "
                f"(type {data_type.simpleString()})"
            )
    for key, value in reversed(keys):
        probability = F.when(col == _literal(key, data_type), F.lit(value)).otherwise(probability)
    helpers = ["__sample_p", "__sample_u", "__sample_row", "__sample_size"]
    clashes = set(helpers) & set(data.columns)
    if clashes:
        raise ValueError(f"{name}: the input table already has helper column(s) {sorted(clashes)}")
    tagged = data.withColumn("__sample_p", probability).withColumn("__sample_u", F.rand(seed))
    if method == "bernoulli":
        return tagged.where(F.col("__sample_u") < F.col("__sample_p")).drop(*helpers)
    by_stratum = Window.partitionBy(col)
    ranked = tagged.withColumn("__sample_row", F.row_number().over(by_stratum.orderBy(F.col("__sample_u")))).withColumn(
        "__sample_size", F.count(F.lit(1)).over(by_stratum)
    )
    keep = F.col("__sample_row") <= F.round(F.col("__sample_size") * F.col("__sample_p"))
    return ranked.where(keep).drop(*helpers)


_WINDOW_FUNCTION = re.compile(r"^\s*(\w+)\s*\(\s*(.*?)\s*\)\s*$", re.DOTALL)
_OFFSET_FUNCTIONS = ("lag", "lead")
_ROLLING_FUNCTIONS = ("rolling_mean", "rolling_sum", "rolling_min", "rolling_max", "rolling_count", "rolling_std")
_CUMULATIVE_FUNCTIONS = ("cumulative_sum", "cumulative_count")


def _window_spec(name: str, output: str, text: str) -> tuple[str, str, int | None]:
    """``lag(amount, 2)`` -> ``("lag", "amount", 2)``; errors name ``params.features[output]``."""
    known = ", ".join((*_OFFSET_FUNCTIONS, *_ROLLING_FUNCTIONS, *_CUMULATIVE_FUNCTIONS))
    where = f"{name}: params.features[{output!r}] {text!r}"
    match = _WINDOW_FUNCTION.match(text)
    if not match:
        raise ValueError(f"{where} must look like FUNCTION(column[, n]), e.g. lag(amount, 1); functions: {known}")
    function, arguments = match.group(1).lower(), match.group(2)
    head, comma, tail = arguments.rpartition(",")
    column, count = (head, tail) if comma and tail.strip().isdigit() else (arguments, "")
    column, count = column.strip(), count.strip()
    if column.startswith("`") and column.endswith("`") and len(column) > 1:
        column = column[1:-1].replace("``", "`")
    if not column:
        raise ValueError(f"{where} names no column")
    if function not in (*_OFFSET_FUNCTIONS, *_ROLLING_FUNCTIONS, *_CUMULATIVE_FUNCTIONS):
        raise ValueError(f"{where}: unknown function {function!r}; functions: {known}")
    n = int(count) if count else None
    if function in _ROLLING_FUNCTIONS and not n:
        raise ValueError(f"{where}: {function} needs the number of rows, e.g. {function}({column}, 3)")
    if function in _CUMULATIVE_FUNCTIONS and n is not None:
        raise ValueError(f"{where}: {function} takes only a column")
    if function in _OFFSET_FUNCTIONS and n == 0:
        raise ValueError(f"{where}: the offset must be at least 1")
    return function, column, n if n is not None else (1 if function in _OFFSET_FUNCTIONS else None)


@component(category="data processing", outputs={"data": Table})
def window_features(
    ctx,
    data: Table,
    *,
    order_by: str,
    features: dict[str, str],
    partition_by: list[str] | None = None,
    exclude_current: bool = False,
):
    """Add features computed over each key's earlier (or later) rows: lags, leads, rolling statistics.

    Each feature is ``output column: FUNCTION(column[, n])`` with the functions ``lag`` and
    ``lead`` (the value ``n`` rows before/after, default 1), ``rolling_mean``, ``rolling_sum``,
    ``rolling_min``, ``rolling_max``, ``rolling_std``, ``rolling_count`` (over the last ``n`` rows up
    to the current one), ``cumulative_sum`` and ``cumulative_count`` (over all rows up to the
    current one), e.g. ``{"amount_prev": "lag(amount)", "amount_mean_7": "rolling_mean(amount, 7)"}``.
    Rows are ordered by ``order_by`` within each ``partition_by`` key. Rolling and cumulative
    statistics ignore nulls; at the start of a key they use the rows there are.

    Args:
        data: the input table.
        order_by: the column that orders each key's rows (usually a time).
        features: the features to add, as ``{output column: FUNCTION(column[, n])}``.
        partition_by: the key columns (e.g. the user id); empty treats the table as one sequence.
        exclude_current: leave the current row out of rolling and cumulative statistics (the last ``n``
            rows before it), so a feature never sees the row's own value (e.g. its label).
    """
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    name = "window_features"
    if not features:
        raise ValueError(f"{name}: params.features must define at least one feature, got {features!r}")
    (order,) = require_columns(data, [order_by], component=name, param="order_by")
    keys = require_columns(data, partition_by, component=name, param="partition_by") if partition_by else []
    base = Window.partitionBy(*[F.col(quote(k)) for k in keys]).orderBy(F.col(quote(order)))
    last = -1 if exclude_current else 0
    aggregates = {
        "rolling_mean": F.avg,
        "rolling_sum": F.sum,
        "rolling_min": F.min,
        "rolling_max": F.max,
        "rolling_std": F.stddev_samp,
        "rolling_count": F.count,
        "cumulative_sum": F.sum,
        "cumulative_count": F.count,
    }
    added = []
    for output, text in features.items():
        if not output:
            raise ValueError(f"{name}: params.features has an empty output column name")
        if any(_same_name(output, c) for c in [*data.columns, *added]):
            raise ValueError(f"{name}: params.features output column {output!r} already exists")
        function, column, n = _window_spec(name, output, text)
        found = resolve_column(data, column)
        if found is None:
            raise ValueError(
                f"{name}: params.features[{output!r}] names column {column!r}, which the input table does not have "
                f"(its columns: {', '.join(data.columns)})"
            )
        col = F.col(quote(found))
        if function in _OFFSET_FUNCTIONS:
            value = (F.lag if function == "lag" else F.lead)(col, n).over(base)
        else:
            if function not in ("rolling_count", "cumulative_count"):
                require_numeric(data, found, component=name, param=f"features[{output!r}]")
            assert n is not None or function in _CUMULATIVE_FUNCTIONS
            start = Window.unboundedPreceding if n is None else -(n - 1) + last
            value = aggregates[function](col).over(base.rowsBetween(start, last))
        data = data.withColumn(output, value)
        added.append(output)
    return data


@component(category="data processing", outputs={"data": Table})
def pivot_table(
    ctx,
    data: Table,
    *,
    index: list[str],
    pivot_col: str,
    values_col: str,
    aggregate: Annotated[str, Options("sum", "avg", "min", "max", "count")] = "sum",
    pivot_values: list[str] | None = None,
    prefix: str = "",
    fill_value: float | None = None,
):
    """Turn the values of one column into columns: one row per index key, one column per pivot value.

    Each cell aggregates ``values_col`` over the rows with that key and pivot value. Without
    ``pivot_values`` Spark finds the distinct values first (one extra pass, at most 10 000
    values); list them to skip that pass and fix the output's columns.

    Args:
        data: the input table.
        index: the columns that identify an output row.
        pivot_col: the column whose values become columns.
        values_col: the column aggregated into the cells.
        aggregate: how the cell's values are combined.
        pivot_values: the pivot values to make columns for, as text, in order; empty means all of them, sorted.
        prefix: put before each new column's name (e.g. ``month_`` gives ``month_1``).
        fill_value: the value of cells with no rows; empty leaves them null.
    """
    from pyspark.errors import AnalysisException
    from pyspark.sql import functions as F

    name = "pivot_table"
    keys = require_columns(data, require_nonempty(index, component=name, param="index"), component=name, param="index")
    require_unique(keys, component=name, param="index")
    (pivot,) = require_columns(data, [pivot_col], component=name, param="pivot_col")
    (values,) = require_columns(data, [values_col], component=name, param="values_col")
    if pivot in keys:
        raise ValueError(f"{name}: params.pivot_col {pivot!r} is also in params.index")
    if aggregate != "count":
        require_numeric(data, values, component=name, param="values_col")
    function = {"sum": F.sum, "avg": F.avg, "min": F.min, "max": F.max, "count": F.count}[aggregate]
    grouped = data.groupBy(*[F.col(quote(k)) for k in keys])
    try:
        pivoted = (
            grouped.pivot(quote(pivot), list(pivot_values)) if pivot_values else grouped.pivot(quote(pivot))
        ).agg(function(F.col(quote(values))))
    except AnalysisException as exc:
        raise ValueError(f"{name}: cannot pivot column {pivot!r}: {str(exc).strip().splitlines()[0]}") from exc
    new = [c for c in pivoted.columns if c not in keys]
    if fill_value is not None:
        pivoted = pivoted.fillna(fill_value, subset=new)
    final = [*keys, *[prefix + c for c in new]]
    duplicates = sorted({c for c in final if sum(_same_name(c, o) for o in final) > 1})
    if duplicates:
        raise ValueError(f"{name}: the output would have duplicate column(s) {duplicates}; set params.prefix")
    return pivoted.select(*[F.col(quote(k)) for k in keys], *[F.col(quote(c)).alias(prefix + c) for c in new])


@component(category="data processing", outputs={"data": Table})
def explode_column(
    ctx,
    data: Table,
    *,
    column: str,
    delimiter: str | None = None,
    output_col: str | None = None,
    position_col: str | None = None,
    keep_empty: bool = False,
):
    """Make one row per element of a list: an array column, or a string column of delimited items.

    The other columns are repeated on each element's row. The elements replace the column in
    place unless ``output_col`` names a new column.

    Args:
        data: the input table.
        column: the array column, or the string column to split (with ``delimiter``).
        delimiter: for a string column: the text between items (taken literally, e.g. ``,`` or ``|``).
        output_col: put the elements in this new column and keep ``column`` as it is.
        position_col: also add the element's position in its list (from 0) as this column.
        keep_empty: keep rows whose list is null or empty (with a null element) instead of dropping them.
    """
    from pyspark.sql import functions as F
    from pyspark.sql.types import ArrayType, StringType

    name = "explode_column"
    (source,) = require_columns(data, [column], component=name, param="column")
    data_type = data.schema[source].dataType
    col = F.col(quote(source))
    if isinstance(data_type, ArrayType):
        if delimiter:
            raise ValueError(f"{name}: params.delimiter applies to string columns; column {source!r} is an array")
        items = col
    elif isinstance(data_type, StringType):
        if not delimiter:
            raise ValueError(f"{name}: column {source!r} is a string; params.delimiter must say what separates items")
        items = F.split(col, re.escape(delimiter))
    else:
        raise ValueError(
            f"{name}: params.column column {source!r} must be an array or a string, "
            f"but it is {data_type.simpleString()}"
        )
    target = output_col or source
    taken = [c for c in data.columns if not (c == source and not output_col)]
    for param, new in (("output_col", output_col), ("position_col", position_col)):
        if new and any(_same_name(new, c) for c in taken):
            raise ValueError(f"{name}: params.{param} {new!r} is already a column of the input table")
    if output_col and position_col and _same_name(output_col, position_col):
        raise ValueError(f"{name}: params.output_col and params.position_col must differ")
    if position_col:
        function = F.posexplode_outer if keep_empty else F.posexplode
        generated = function(items).alias(position_col, target)
    else:
        function = F.explode_outer if keep_empty else F.explode
        generated = function(items).alias(target)
    if output_col:
        return data.select(*[F.col(quote(c)) for c in data.columns], generated)
    position = data.columns.index(source)
    before = [F.col(quote(c)) for c in data.columns[:position]]
    after = [F.col(quote(c)) for c in data.columns[position + 1 :]]
    return data.select(*before, generated, *after)


@component(category="data processing", outputs={"data": Table})
def add_column(ctx, data: Table, *, column: str, expression: Annotated[str, Sql("expression")], replace: bool = False):
    """Add a column computed by a Spark SQL expression over the other columns.

    Args:
        data: the input table.
        column: the new column's name.
        expression: a Spark SQL expression, e.g. ``price / area``, ``CASE WHEN age < 18 THEN 'minor' ELSE 'adult' END``.
        replace: allow ``column`` to be an existing column, whose values are replaced (in place).
    """
    from pyspark.errors import AnalysisException, ParseException
    from pyspark.sql import functions as F

    name = "add_column"
    if not column:
        raise ValueError(f"{name}: params.column must not be empty")
    if not expression.strip():
        raise ValueError(f"{name}: params.expression must not be empty")
    existing = resolve_column(data, column)
    if existing is not None and not replace:
        raise ValueError(f"{name}: params.column {column!r} already exists; set params.replace to overwrite it")
    try:
        return data.withColumn(existing or column, F.expr(expression))
    except (ParseException, AnalysisException) as exc:
        raise _sql_error(name, "expression", expression, exc) from exc


@component(category="data processing", outputs={"data": Table})
def group_aggregate(
    ctx,
    data: Table,
    *,
    aggregations: Annotated[dict[str, str], Sql("expression")],
    group_by: list[str] | None = None,
):
    """Group rows by key columns and aggregate each group into one row.

    Args:
        data: the input table.
        aggregations: the output columns, as ``{name: Spark SQL aggregate expression}``, e.g.
            ``{"orders": "count(*)", "revenue": "sum(price * quantity)", "last_seen": "max(ts)"}``.
        group_by: the key columns; empty aggregates the whole table into one row.
    """
    from pyspark.errors import AnalysisException, ParseException
    from pyspark.sql import functions as F

    name = "group_aggregate"
    if not aggregations:
        raise ValueError(f"{name}: params.aggregations must define at least one output column, got {aggregations!r}")
    keys = require_columns(data, group_by, component=name, param="group_by") if group_by else []
    require_unique(keys, component=name, param="group_by")
    outputs = [*keys]
    for output in aggregations:
        if not output:
            raise ValueError(f"{name}: params.aggregations has an empty output column name")
        if any(_same_name(output, c) for c in outputs):
            raise ValueError(f"{name}: params.aggregations output column {output!r} clashes with another output column")
        outputs.append(output)
    grouped = data.groupBy(*[F.col(quote(k)) for k in keys])

    def aggregate(pairs: list[tuple[str, str]]) -> Any:
        return grouped.agg(*[F.expr(text).alias(output) for output, text in pairs])

    try:
        return aggregate(list(aggregations.items()))
    except (ParseException, AnalysisException) as exc:
        # Spark names the expression only sometimes: find the one at fault.
        for output, text in aggregations.items():
            try:
                aggregate([(output, text)])
            except (ParseException, AnalysisException) as single:
                raise _sql_error(name, f"aggregations[{output!r}]", text, single) from single
        raise ValueError(
            f"{name}: params.aggregations are not valid together: {str(exc).strip().splitlines()[0]}"
        ) from exc


@component(category="data processing", outputs={"data": Table})
def replace_values(
    ctx,
    data: Table,
    *,
    mapping: dict[str, str | None],
    columns: list[str] | None = None,
):
    """Replace given values by others, e.g. codes by labels, or sentinel values such as ``-999`` by null.

    The values are text, converted to each column's type (``"-999"`` matches the integer -999
    and the string "-999"); null as a replacement makes the value missing. Values compare
    exactly; other values, and nulls, stay as they are.

    Args:
        data: the input table.
        mapping: the replacements, as ``{old value: new value or null}``.
        columns: the columns to replace values in; empty means every column whose type the
            mapping's values convert to.
    """
    from pyspark.sql import functions as F

    name = "replace_values"
    if not mapping:
        raise ValueError(f"{name}: params.mapping must give at least one replacement, got {mapping!r}")
    explicit = bool(columns)
    chosen = require_columns(data, columns or [], component=name, param="columns") if explicit else list(data.columns)
    require_unique(chosen, component=name, param="columns")
    types = {f.name: f.dataType for f in data.schema.fields}
    requests = [(text, types[c]) for c in chosen for pair in mapping.items() for text in pair if text is not None]
    converted = iter(_converted_texts(data.sparkSession, requests))
    pairs_by_column: dict[str, list[tuple[Any, Any]]] = {}
    for c in chosen:
        pairs = []
        for old, new in mapping.items():
            typed_old = next(converted)
            typed_new = next(converted) if new is not None else None
            if typed_old is None or (new is not None and typed_new is None):
                if explicit:
                    bad = old if typed_old is None else new
                    raise ValueError(
                        f"{name}: params.mapping value {bad!r} does not fit column {c!r} "
                        f"of type {types[c].simpleString()}"
                    )
                continue
            pairs.append((old, new))
        if pairs:
            pairs_by_column[c] = pairs
    if not pairs_by_column:
        return data
    ctx.log.info("%s: replacing values in %s", ctx.node_id, ", ".join(pairs_by_column))

    def replaced(c: str) -> Any:
        col = F.col(quote(c))
        if c not in pairs_by_column:
            return col
        expression = None
        for old, new in pairs_by_column[c]:
            condition = col == _literal(old, types[c])
            value = _literal(new, types[c])
            expression = F.when(condition, value) if expression is None else expression.when(condition, value)
        assert expression is not None
        return expression.otherwise(col).alias(c)

    return data.select(*[replaced(c) for c in data.columns])
