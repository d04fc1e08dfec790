"""The feature map: the contract between preprocessing, the ranking models and serving.

``ctr_feature_encoder`` fits a ``FeatureMap`` on Spark (vocabularies, normalisers, bucket
boundaries) and applies it with :meth:`FeatureMap.encode_frame`, the same function the trainer's
export check and the prediction service call: a row is encoded by one piece of code wherever it
is encoded. This module needs numpy and pandas only (no Spark, no torch), so it runs on Spark
executors, in training replicas and in the serving process alike.

Fields (``FieldSpec.kind``):

- ``categorical``: a value (string, integer or boolean; stored as its text) becomes an index.
  ``0`` is missing (null or empty), ``1`` is out-of-vocabulary (seen fewer than ``min_count``
  times when fitted, or never), ``2..`` the vocabulary, most frequent first. A numeric column
  bucketised by quantiles is a categorical field too (``boundaries`` set): index
  ``1 + number of boundaries <= x``, ``0`` when missing.
- ``numeric``: a float, ``(x - center) / scale`` (standardised or min-max); missing becomes 0.
- ``sequence``: an array (or a ``separator``-delimited string) of values, oldest first, becomes
  ``max_length`` indices: the most recent ``max_length`` values, left-aligned, padded with 0.
  With ``share_vocabulary_with`` it uses that categorical field's vocabulary (a user's clicked
  items and the target item share their indices, which target attention needs).

The map is saved as JSON (``feature_map.json``) next to every model trained on it.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

FORMAT_VERSION = 1
KINDS = ("categorical", "numeric", "sequence")
#: Reserved indices of categorical and sequence fields.
MISSING_INDEX = 0
OOV_INDEX = 1
FIRST_VOCABULARY_INDEX = 2
FILE_NAME = "feature_map.json"


class FeatureMapError(ValueError):
    """A feature map is malformed, or a table does not fit it (the message names the field)."""


def value_text(value: Any) -> str | None:
    """A categorical value as the text its vocabulary holds; None when missing.

    Spark's ``CAST(x AS STRING)`` spelling: integers as digits, booleans as ``true``/``false``.
    Floating-point values are refused at fitting time (their text differs between engines).
    """
    if value is None:
        return None
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        if math.isnan(value):
            return None
        if float(value).is_integer():
            return str(int(value))
        raise FeatureMapError(f"categorical value {value!r} is a fraction; cast the column to string first")
    text = str(value)
    return text if text != "" else None


@dataclasses.dataclass(frozen=True)
class FieldSpec:
    """One input field of the models.

    :param name: the column (raw and encoded tables use the same name).
    :param kind: ``categorical``, ``numeric`` or ``sequence``.
    :param vocabulary: categorical and sequence fields: the values of indices 2, 3, ... in order.
    :param min_count: the fewest occurrences a value needed to get its own index.
    :param boundaries: a bucketised numeric field: the sorted bucket boundaries.
    :param center: numeric fields: subtracted first (mean, or minimum).
    :param scale: numeric fields: divided by next (standard deviation, or max - min); never 0.
    :param normalizer: numeric fields: ``standard`` or ``minmax`` (how center and scale were fitted).
    :param max_length: sequence fields: the encoded length.
    :param share_vocabulary_with: sequence fields: the categorical field whose vocabulary it uses.
    :param separator: sequence fields held as delimited text: the delimiter.
    """

    name: str
    kind: str
    vocabulary: tuple[str, ...] = ()
    min_count: int = 1
    boundaries: tuple[float, ...] | None = None
    center: float = 0.0
    scale: float = 1.0
    normalizer: str | None = None
    max_length: int = 0
    share_vocabulary_with: str | None = None
    separator: str | None = None

    @property
    def vocab_size(self) -> int:
        """Rows of the field's embedding table (0 for a plain numeric field)."""
        if self.kind == "numeric":
            return 0
        if self.boundaries is not None:
            return FIRST_VOCABULARY_INDEX + len(self.boundaries) - 1 + 1
        return FIRST_VOCABULARY_INDEX + len(self.vocabulary)

    @property
    def bucketised(self) -> bool:
        return self.boundaries is not None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "kind": self.kind, "vocab_size": self.vocab_size}
        if self.kind == "numeric":
            out.update(normalizer=self.normalizer, center=self.center, scale=self.scale)
        elif self.boundaries is not None:
            out["boundaries"] = list(self.boundaries)
        else:
            out["min_count"] = self.min_count
            if self.share_vocabulary_with:
                out["share_vocabulary_with"] = self.share_vocabulary_with
            else:
                out["vocabulary"] = list(self.vocabulary)
        if self.kind == "sequence":
            out["max_length"] = self.max_length
            if self.separator is not None:
                out["separator"] = self.separator
        return out


@dataclasses.dataclass(frozen=True)
class FeatureMap:
    """The fields a model reads (in order) and the label columns it learns.

    :param fields: the input fields, in the models' input order.
    :param labels: the label columns (one per task), 0/1.
    :param passthrough: columns copied unchanged into the encoded table (ids, true probabilities).
    """

    fields: tuple[FieldSpec, ...]
    labels: tuple[str, ...] = ("label",)
    passthrough: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        problems = _problems(self)
        if problems:
            raise FeatureMapError("feature map: " + "; ".join(problems))
        # Sequence fields that share a vocabulary read it from their source field.
        resolved = []
        for spec in self.fields:
            if spec.share_vocabulary_with:
                source = self.field(spec.share_vocabulary_with)
                spec = dataclasses.replace(spec, vocabulary=source.vocabulary, min_count=source.min_count)
            resolved.append(spec)
        object.__setattr__(self, "fields", tuple(resolved))

    # -- lookup --------------------------------------------------------------------------

    def field(self, name: str) -> FieldSpec:
        for spec in self.fields:
            if spec.name == name:
                return spec
        raise FeatureMapError(f"feature map has no field {name!r} (fields: {', '.join(self.names)})")

    @property
    def names(self) -> list[str]:
        return [spec.name for spec in self.fields]

    def of_kind(self, *kinds: str) -> list[FieldSpec]:
        return [spec for spec in self.fields if spec.kind in kinds]

    def encoded_columns(self) -> list[str]:
        """The columns of an encoded table: the fields, the labels, then the pass-through columns."""
        return [*self.names, *self.labels, *self.passthrough]

    # -- JSON ----------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        return {
            "format_version": FORMAT_VERSION,
            "fields": [spec.to_dict() for spec in self.fields],
            "labels": list(self.labels),
            "passthrough": list(self.passthrough),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=1)

    @classmethod
    def from_dict(cls, document: Mapping[str, Any]) -> FeatureMap:
        if not isinstance(document, Mapping) or "fields" not in document:
            raise FeatureMapError("feature map: a JSON object with 'fields' is expected")
        version = document.get("format_version", FORMAT_VERSION)
        if version != FORMAT_VERSION:
            raise FeatureMapError(
                f"feature map: format_version {version!r} is not supported (expected {FORMAT_VERSION})"
            )
        fields = []
        for i, raw in enumerate(document["fields"]):
            data = dict(raw)
            data.pop("vocab_size", None)
            for key in ("vocabulary", "boundaries"):
                if data.get(key) is not None:
                    data[key] = tuple(data[key])
            try:
                fields.append(FieldSpec(**data))
            except TypeError as err:
                raise FeatureMapError(f"feature map: fields[{i}]: {err}") from None
        return cls(
            fields=tuple(fields),
            labels=tuple(document.get("labels", ("label",))),
            passthrough=tuple(document.get("passthrough", ())),
        )

    @classmethod
    def from_json(cls, text: str | bytes) -> FeatureMap:
        return cls.from_dict(json.loads(text))

    def save(self, url: str) -> None:
        """Write ``to_json()`` at ``url`` (a file URL or path on any platform filesystem)."""
        from airflow_mlplat.storage.urls import filesystem

        fs, path = filesystem(url)
        parent = path.rstrip("/").rpartition("/")[0]
        if parent:
            fs.makedirs(parent, exist_ok=True)
        with fs.open(path, "w") as handle:
            handle.write(self.to_json())

    @classmethod
    def load(cls, url: str) -> FeatureMap:
        """Read a map saved by ``save``; ``url`` may name the file or the folder holding ``feature_map.json``."""
        from airflow_mlplat.storage.urls import filesystem

        fs, path = filesystem(url)
        if fs.isdir(path):
            path = f"{path.rstrip('/')}/{FILE_NAME}"
        with fs.open(path, "r") as handle:
            return cls.from_json(handle.read())

    # -- encoding ------------------------------------------------------------------------

    def encode_frame(self, frame: Any, *, labels: bool = True) -> Any:
        """Encode a pandas DataFrame of raw columns; return the encoded pandas DataFrame.

        Columns: every field (``int64`` indices, ``float32`` numeric values, sequences as
        ``int64`` arrays of ``max_length``), then the labels (``float32``; with ``labels``) and the
        pass-through columns. A missing field column is an error naming it.
        """
        import pandas as pd

        missing = [name for name in self.names if name not in frame.columns]
        if missing:
            raise FeatureMapError(f"the table has no column {missing[0]!r}, which the feature map encodes")
        out: dict[str, Any] = {}
        for spec in self.fields:
            out[spec.name] = encode_column(spec, frame[spec.name])
        if labels:
            for label in self.labels:
                if label not in frame.columns:
                    raise FeatureMapError(f"the table has no label column {label!r}")
                out[label] = pd.to_numeric(frame[label], errors="coerce").astype("float32").to_numpy()
        for column in self.passthrough:
            if column in frame.columns:
                out[column] = frame[column].to_numpy()
        encoded = pd.DataFrame({k: v for k, v in out.items() if not isinstance(v, list)}, index=frame.index)
        for name, value in out.items():
            if isinstance(value, list):
                encoded[name] = value
        return encoded[[c for c in out]]

    def encode_records(self, records: Sequence[Mapping[str, Any]]) -> dict[str, np.ndarray]:
        """Encode JSON-like rows (serving); return ``{field: array}`` in the models' input layout.

        Categorical fields ``int64 [n]``, numeric ``float32 [n]``, sequences ``int64 [n, max_length]``.
        """
        rows = list(records)
        return {
            spec.name: model_input(spec, encode_column(spec, [r.get(spec.name) for r in rows])) for spec in self.fields
        }


def model_input(spec: FieldSpec, column: Any) -> np.ndarray:
    """An encoded column (pandas or Arrow values) as the model's input array for ``spec``."""
    if spec.kind == "numeric":
        return np.asarray(column, dtype=np.float32)
    if spec.kind == "sequence":
        values = list(column)
        if not values:
            return np.zeros((0, spec.max_length), dtype=np.int64)
        return np.asarray(np.stack([np.asarray(v, dtype=np.int64) for v in values]), dtype=np.int64)
    return np.asarray(column, dtype=np.int64)


def _lookup(spec: FieldSpec) -> dict[str, int]:
    cache = _LOOKUPS.get(id(spec))
    if cache is None or cache[0] is not spec:
        table = {value: FIRST_VOCABULARY_INDEX + i for i, value in enumerate(spec.vocabulary)}
        _LOOKUPS[id(spec)] = cache = (spec, table)
    return cache[1]


_LOOKUPS: dict[int, tuple[FieldSpec, dict[str, int]]] = {}


def encode_column(spec: FieldSpec, values: Any) -> Any:
    """Encode one raw column (a pandas Series, or a list of JSON values) by ``spec`` (see the module docstring).

    A list whose numeric values are all numbers or ``None`` skips pandas (serving encodes a few
    rows per request); it is encoded by the same per-value code and formulas as a Series.
    """
    if spec.kind == "numeric" or spec.boundaries is not None:
        x = _numbers(values)
        if spec.kind == "numeric":
            encoded = (x - spec.center) / spec.scale
            return np.where(np.isfinite(encoded), encoded, 0.0).astype(np.float32)
        index = np.searchsorted(np.asarray(spec.boundaries, dtype=np.float64), x, side="right") + 1
        return np.where(np.isnan(x), MISSING_INDEX, index).astype(np.int64)
    items = values.tolist() if hasattr(values, "tolist") else list(values)
    table = _lookup(spec)
    if spec.kind == "categorical":
        if hasattr(values, "isna"):  # a Series: also pd.NA and NaT
            missing = values.isna().to_numpy().tolist()
        else:
            missing = [v is None or (isinstance(v, float) and math.isnan(v)) for v in items]
        return np.fromiter(
            (MISSING_INDEX if gone else _index(table, value_text(v)) for v, gone in zip(items, missing, strict=True)),
            dtype=np.int64,
            count=len(items),
        )
    length = spec.max_length
    rows = []
    for raw in items:
        row = np.zeros(length, dtype=np.int64)
        sequence = _sequence_items(raw, spec.separator)
        if sequence:
            sequence = sequence[-length:]
            row[: len(sequence)] = [_index(table, value_text(v)) or OOV_INDEX for v in sequence]
        rows.append(row)
    return rows


def _numbers(values: Any) -> np.ndarray:
    """``pd.to_numeric(values, errors="coerce")`` as float64; plain lists of numbers and None without pandas."""
    if isinstance(values, list) and all(v is None or type(v) in (float, int) for v in values):
        return np.array([np.nan if v is None else float(v) for v in values], dtype=np.float64)
    import pandas as pd

    series = values if isinstance(values, pd.Series) else pd.Series(values)
    return pd.to_numeric(series, errors="coerce").to_numpy(dtype=np.float64)


def _index(table: Mapping[str, int], text: str | None) -> int:
    if text is None:
        return MISSING_INDEX
    return table.get(text, OOV_INDEX)


def _sequence_items(raw: Any, separator: str | None) -> list[Any]:
    if raw is None or (isinstance(raw, float) and math.isnan(raw)):
        return []
    if isinstance(raw, str):
        if separator is None:
            return [raw] if raw else []
        return [part for part in raw.split(separator) if part != ""]
    return list(raw)


def _problems(feature_map: FeatureMap) -> list[str]:
    problems = []
    names = [spec.name for spec in feature_map.fields]
    if not names:
        problems.append("at least one field is needed")
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        problems.append(f"field {duplicates[0]!r} appears twice")
    if not feature_map.labels:
        problems.append("at least one label column is needed")
    clash = set(names) & (set(feature_map.labels) | set(feature_map.passthrough))
    if clash:
        problems.append(f"column {sorted(clash)[0]!r} is both a field and a label or pass-through column")
    by_name = {spec.name: spec for spec in feature_map.fields}
    for spec in feature_map.fields:
        where = f"field {spec.name!r}"
        if spec.kind not in KINDS:
            problems.append(f"{where}: kind must be one of {', '.join(KINDS)}, got {spec.kind!r}")
            continue
        if spec.kind == "numeric" and not (isinstance(spec.scale, (int, float)) and spec.scale > 0):
            problems.append(f"{where}: scale must be > 0, got {spec.scale!r}")
        if spec.boundaries is not None:
            if spec.kind != "categorical":
                problems.append(f"{where}: boundaries belong to a bucketised (categorical) field")
            elif list(spec.boundaries) != sorted(set(spec.boundaries)):
                problems.append(f"{where}: boundaries must be strictly increasing")
        if spec.kind == "sequence":
            if not isinstance(spec.max_length, int) or spec.max_length < 1:
                problems.append(f"{where}: max_length must be an integer >= 1, got {spec.max_length!r}")
            source = spec.share_vocabulary_with
            if source is not None and (source not in by_name or by_name[source].kind != "categorical"):
                problems.append(f"{where}: share_vocabulary_with must name a categorical field, got {source!r}")
        elif spec.share_vocabulary_with:
            problems.append(f"{where}: only sequence fields share a vocabulary")
    return problems


def categorical_field(name: str, counts: Iterable[tuple[str, int]], min_count: int = 1) -> FieldSpec:
    """A categorical field from ``(value, count)`` pairs: values seen ``min_count`` times or more,
    most frequent first (ties by value), so the same data always gives the same indices."""
    kept = sorted(((v, c) for v, c in counts if v is not None and c >= min_count), key=lambda vc: (-vc[1], vc[0]))
    return FieldSpec(name=name, kind="categorical", vocabulary=tuple(v for v, _ in kept), min_count=min_count)
