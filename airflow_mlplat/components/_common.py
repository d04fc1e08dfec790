"""Checks and helpers shared by the built-in components (no component is declared here).

Nothing here imports Spark at module level; the helpers receive Spark objects and import
what they need inside their bodies.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from typing import Any


def quote(column: str) -> str:
    """``column`` as a back-quoted SQL identifier (safe for names with spaces or dots)."""
    return "`" + column.replace("`", "``") + "`"


def resolve_column(df: Any, column: str) -> str | None:
    """The table's own spelling of ``column`` (Spark resolves names case-insensitively), or None."""
    if column in df.columns:
        return column
    folded = [c for c in df.columns if c.lower() == column.lower()]
    if len(folded) == 1 and not _case_sensitive(df):
        return folded[0]
    return None


def _case_sensitive(df: Any) -> bool:
    try:
        return str(df.sparkSession.conf.get("spark.sql.caseSensitive", "false")).lower() == "true"
    except Exception:  # pragma: no cover - a session without the setting
        return False


def require_columns(df: Any, columns: Iterable[str], *, component: str, param: str) -> list[str]:
    """The table's spelling of each column; ``ValueError`` naming the parameter and the first missing one."""
    resolved = []
    for column in columns:
        found = resolve_column(df, column)
        if found is None:
            raise ValueError(
                f"{component}: params.{param} names column {column!r}, which the input table does not have "
                f"(its columns: {', '.join(df.columns) or 'none'})"
            )
        resolved.append(found)
    return resolved


def require_nonempty(values: Sequence[Any] | None, *, component: str, param: str) -> list[Any]:
    if not values:
        raise ValueError(f"{component}: params.{param} must name at least one column, got {values!r}")
    return list(values)


def require_unique(values: Sequence[str], *, component: str, param: str) -> None:
    seen: set[str] = set()
    for value in values:
        if value in seen:
            raise ValueError(f"{component}: params.{param} names column {value!r} twice")
        seen.add(value)


def column_type(df: Any, column: str) -> Any:
    return df.schema[column].dataType


def is_numeric(data_type: Any) -> bool:
    from pyspark.sql.types import NumericType

    return isinstance(data_type, NumericType)


def is_vector(data_type: Any) -> bool:
    from pyspark.ml.linalg import VectorUDT

    return isinstance(data_type, VectorUDT)


def require_numeric(df: Any, column: str, *, component: str, param: str, allow_boolean: bool = False) -> None:
    from pyspark.sql.types import BooleanType

    data_type = column_type(df, column)
    if is_numeric(data_type) or (allow_boolean and isinstance(data_type, BooleanType)):
        return
    hint = " (cast it with cast_columns first)" if data_type.simpleString() == "string" else ""
    raise ValueError(
        f"{component}: params.{param} column {column!r} must be numeric, but it is {data_type.simpleString()}{hint}"
    )


def require_vector(df: Any, column: str, *, component: str, param: str) -> None:
    data_type = column_type(df, column)
    if not is_vector(data_type):
        raise ValueError(
            f"{component}: params.{param} column {column!r} must be a vector column "
            f"(make one with vector_assembler), but it is {data_type.simpleString()}"
        )


def output_names(
    input_cols: Sequence[str],
    output_cols: Sequence[str] | None,
    suffix: str,
    *,
    component: str,
) -> list[str]:
    """Output column names: ``output_cols`` when given (one per input), else input name + suffix."""
    if output_cols:
        if len(output_cols) != len(input_cols):
            raise ValueError(
                f"{component}: params.output_cols must name one column per input column "
                f"({len(input_cols)}), got {len(output_cols)}: {list(output_cols)!r}"
            )
        names = list(output_cols)
        require_unique(names, component=component, param="output_cols")
        return names
    if not suffix:
        raise ValueError(f"{component}: params.suffix must not be empty when params.output_cols is not set")
    return [c + suffix for c in input_cols]


def fit_logged(ctx: Any, estimator: Any, data: Any, *, label_col: str | None = None) -> Any:
    """Fit a Spark ML estimator, logging the start and how long it took."""
    what = type(estimator).__name__
    features = estimator.getOrDefault("featuresCol") if estimator.hasParam("featuresCol") else None
    detail = ", ".join(
        f"{key}={value!r}" for key, value in (("features", features), ("label", label_col)) if value is not None
    )
    ctx.log.info("%s: fitting %s on %s", ctx.node_id, what, detail or "the input table")
    started = time.perf_counter()
    model = estimator.fit(data)
    ctx.log.info("%s: fitted %s in %.1f s", ctx.node_id, what, time.perf_counter() - started)
    return model


def check_training_table(ctx: Any, data: Any, *, component: str, features_col: str, label_col: str) -> tuple[str, str]:
    """Check a supervised learner's input: a vector features column and a numeric label column."""
    features, label = (
        require_columns(data, [features_col], component=component, param="features_col")[0],
        require_columns(data, [label_col], component=component, param="label_col")[0],
    )
    require_vector(data, features, component=component, param="features_col")
    require_numeric(data, label, component=component, param="label_col", allow_boolean=False)
    return features, label


# --- shared by statistics, outliers and evaluation ----------------------------------------


def numeric_columns(df: Any, columns: Sequence[str] | None, *, component: str, param: str) -> list[str]:
    """``columns`` resolved and checked numeric; when empty, every numeric (non-boolean) column.

    ``ValueError`` naming the parameter when a column is missing, not numeric or named twice, or
    when there is no numeric column at all.
    """
    if columns:
        chosen = require_columns(df, columns, component=component, param=param)
        require_unique(chosen, component=component, param=param)
        for column in chosen:
            require_numeric(df, column, component=component, param=param)
        return chosen
    chosen = [f.name for f in df.schema.fields if is_numeric(f.dataType)]
    if not chosen:
        raise ValueError(f"{component}: params.{param} is empty and the input table has no numeric column")
    return chosen


def missing_value(df: Any, column: str) -> Any:
    """A boolean Column: the value is null, or NaN in a float/double column."""
    from pyspark.sql import functions as F
    from pyspark.sql.types import DoubleType, FloatType

    col = F.col(quote(column))
    if isinstance(column_type(df, column), (DoubleType, FloatType)):
        return col.isNull() | F.isnan(col)
    return col.isNull()


def vector_element_names(df: Any, column: str, size: int) -> list[str]:
    """Names of a vector column's elements from its ``ml_attr`` metadata; ``<column>_<i>`` where unknown."""
    names = [f"{column}_{i}" for i in range(size)]
    attrs = df.schema[column].metadata.get("ml_attr", {}).get("attrs", {})
    for group in attrs.values():
        for attr in group:
            index = attr.get("idx")
            if isinstance(index, int) and 0 <= index < size and attr.get("name"):
                names[index] = attr["name"]
    return names


def new_columns(df: Any, names: dict[str, str], *, component: str) -> None:
    """``ValueError`` when an output column (``{param: name}``) is empty or already in the table."""
    seen: dict[str, str] = {}
    for param, name in names.items():
        if not name:
            raise ValueError(f"{component}: params.{param} must not be empty")
        if resolve_column(df, name) is not None:
            raise ValueError(f"{component}: params.{param} {name!r} is already a column of the input table")
        if name.lower() in seen:
            raise ValueError(f"{component}: params.{param} and params.{seen[name.lower()]} are both {name!r}")
        seen[name.lower()] = param


# --- Training-table shape: vector sizes and label stats (classification, regression, gbdt) ---


def vector_size(data: Any, column: str, *, component: str, param: str) -> int:
    """The length of a vector column: from its ``ml_attr`` metadata, else from the first row (one small job).

    Raises ``ValueError`` naming the component and parameter when the table has no rows.
    """
    size = data.schema[column].metadata.get("ml_attr", {}).get("num_attrs")
    if isinstance(size, int) and size > 0:
        return size
    first = data.select(quote(column)).first()
    if first is None or first[0] is None:
        raise ValueError(f"{component}: the input table is empty (no rows in params.{param} column {column!r})")
    return int(first[0].size)


def label_stats(data: Any, label: str, *, component: str, classes: bool) -> tuple[int, int]:
    """(rows, number of classes) of a training table, in one Spark job.

    ``ValueError`` naming the component and ``label_col`` for an empty table or null labels;
    with ``classes``, also for labels that are not class indices 0, 1, 2, ... (the number of
    classes is then the largest label + 1, at least 2; without ``classes`` it is 0).
    """
    from pyspark.sql import functions as F

    column = F.col(quote(label)).cast("double")
    stats = data.agg(
        F.count(F.lit(1)).alias("rows"),
        F.count(column).alias("labelled"),
        F.min(column).alias("low"),
        F.max(column).alias("high"),
        F.sum(F.when(column != F.floor(column), 1).otherwise(0)).alias("fractional"),
    ).first()
    rows = int(stats["rows"])
    if rows == 0:
        raise ValueError(f"{component}: the input table is empty")
    if stats["labelled"] != rows:
        raise ValueError(
            f"{component}: params.label_col column {label!r} has {rows - stats['labelled']} null value(s); "
            "drop or fill them first"
        )
    if not classes:
        return rows, 0
    if stats["low"] < 0 or stats["fractional"]:
        raise ValueError(
            f"{component}: params.label_col column {label!r} must hold class indices 0, 1, 2, ... "
            f"(found values from {stats['low']} to {stats['high']}); index string labels with string_indexer"
        )
    return rows, max(2, int(stats["high"]) + 1)
