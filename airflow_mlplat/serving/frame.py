"""The columnar batch the file scorer passes from stage to stage.

Scalar columns are 1-D arrays (float64, or object for strings), vector columns 2-D float64
arrays (rows x size). Numeric nulls are NaN plus an entry in ``nulls``, because a few Spark
stages treat null and NaN differently (Bucketizer keeps nulls, StringIndexer casts to string).
Rows that a ``handleInvalid="skip"`` stage drops stay in the arrays with ``kept`` False; they
come back as ``None`` predictions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from airflow_mlplat.serving.errors import InvalidInputError

#: Spark type names (as MLflow signatures spell them) that are integers.
INTEGER_TYPES = frozenset({"long", "integer", "int", "short", "byte"})


@dataclass
class Frame:
    columns: dict[str, np.ndarray]
    size: int
    nulls: dict[str, np.ndarray] = field(default_factory=dict)
    types: dict[str, str] = field(default_factory=dict)
    kept: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.kept is None:
            self.kept = np.ones(self.size, dtype=bool)

    @classmethod
    def from_rows(cls, rows: Sequence[Mapping[str, Any]], types: Mapping[str, str]) -> Frame:
        """Rows (dicts) to columns; ``types`` maps each input column to its Spark type name."""
        size = len(rows)
        columns: dict[str, np.ndarray] = {}
        nulls: dict[str, np.ndarray] = {}
        for name, kind in types.items():
            values = [row.get(name) for row in rows]
            if kind == "string":
                columns[name] = np.array(values, dtype=object)
                continue
            missing = np.fromiter((v is None for v in values), dtype=bool, count=size)
            if missing.any():
                nulls[name] = missing
                values = [np.nan if v is None else v for v in values]
            columns[name] = np.asarray(values, dtype=np.float64)
        return cls(columns=columns, size=size, nulls=nulls, types=dict(types))

    @classmethod
    def from_arrow(cls, table: Any, types: Mapping[str, str], where: str) -> Frame:
        """The columns ``types`` names out of a pyarrow Table, nulls kept as :meth:`from_rows` keeps them."""
        import pyarrow as pa

        columns: dict[str, np.ndarray] = {}
        nulls: dict[str, np.ndarray] = {}
        for name, kind in types.items():
            if name not in table.column_names:
                raise InvalidInputError(f"{where}: has no column {name!r} (columns: {table.column_names})", field=name)
            column = table.column(name)
            if kind == "string":
                columns[name] = np.array(column.to_pylist(), dtype=object)
                continue
            if column.null_count:
                nulls[name] = column.is_null().to_numpy(zero_copy_only=False)
            columns[name] = np.asarray(column.cast(pa.float64()).to_numpy(zero_copy_only=False), dtype=np.float64)
        return cls(columns=columns, size=table.num_rows, nulls=nulls, types=dict(types))

    def column(self, name: str, where: str) -> np.ndarray:
        try:
            return self.columns[name]
        except KeyError:
            raise InvalidInputError(
                f"{where}: needs column {name!r}, which is neither an input nor made by an earlier stage "
                f"(columns: {', '.join(sorted(self.columns))})",
                field=name,
            ) from None

    def null_mask(self, name: str) -> np.ndarray | None:
        return self.nulls.get(name)

    def numeric(self, name: str, where: str) -> np.ndarray:
        values = self.column(name, where)
        if values.dtype == object:
            raise InvalidInputError(f"{where}: column {name!r} must be numeric, got strings", field=name)
        return values

    def fail_if(self, bad: np.ndarray, where: str, name: str, what: str) -> None:
        """Raise for the first kept row where ``bad`` is true (a stage with ``handleInvalid="error"``)."""
        bad = bad & self.kept
        if bad.any():
            row = int(np.argmax(bad))
            raise InvalidInputError(f"{where}: column {name!r} row {row}: {what}", field=name, row=row)
