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
