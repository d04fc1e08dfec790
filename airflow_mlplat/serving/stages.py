"""Spark ML feature transformers re-implemented on numpy, exactly as Spark 4 computes them.

Each builder takes a :class:`SavedStage` and returns ``apply(frame)`` that adds the stage's
output columns to the :class:`Frame`. Predictors live in :mod:`predictors`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from decimal import Decimal

import numpy as np

from airflow_mlplat.serving.errors import UnsupportedModelError
from airflow_mlplat.serving.frame import INTEGER_TYPES, Frame
from airflow_mlplat.serving.spark_files import SavedStage, to_vector

Apply = Callable[[Frame], None]


def _float(value) -> float:
    return float(value) if not isinstance(value, str) else float(value.replace("Inf", "inf"))


def _columns(stage: SavedStage, single: str, multi: str) -> list[str]:
    params = stage.params
    if multi in stage.metadata.get("paramMap", {}):
        return list(params[multi])
    if single in params and params[single] is not None:
        return [params[single]]
    if multi in params:
        return list(params[multi])
    raise UnsupportedModelError(f"{stage.describe()}: neither {single} nor {multi} is set")


def _handle_invalid(stage: SavedStage, allowed: tuple[str, ...]) -> str:
    mode = stage.params.get("handleInvalid", "error")
    if mode not in allowed:
        raise UnsupportedModelError(f"{stage.describe()}: handleInvalid={mode!r} is not one of {allowed}")
    return mode


def imputer(stage: SavedStage) -> Apply:
    inputs, outputs = _columns(stage, "inputCol", "inputCols"), _columns(stage, "outputCol", "outputCols")
    surrogate_row = stage.data()[0]
    surrogates = [float(surrogate_row[name]) for name in inputs]
    missing = _float(stage.params.get("missingValue", "NaN"))
    where = stage.describe()

    def apply(frame: Frame) -> None:
        for name, out, surrogate in zip(inputs, outputs, surrogates, strict=True):
            values = frame.numeric(name, where)
            # Spark: when(isNull, s).when(col === missingValue, s); NaN === NaN is true in Spark SQL.
            replace = np.isnan(values) if math.isnan(missing) else values == missing
            nulls = frame.null_mask(name)
            if nulls is not None:
                replace = replace | nulls
            result = np.where(replace, surrogate, values)
            if frame.types.get(name) in INTEGER_TYPES:
                result = np.trunc(result)  # the output is cast back to the input's integer type
            frame.columns[out] = result
            frame.nulls.pop(out, None)

    return apply


def _java_string(value: float) -> str:
    """``CAST(double AS STRING)`` as Spark spells it (1.0 -> "1.0", 1e7 -> "1.0E7")."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value == int(value) and abs(value) < 1e7:
        return f"{int(value)}.0"
    if 1e-3 <= abs(value) < 1e7:
        return repr(value)
    sign, digits, exponent = Decimal(repr(value)).as_tuple()
    text = "".join(map(str, digits)).rstrip("0") or "0"
    power = exponent + len(digits) - 1
    return f"{'-' if sign else ''}{text[0]}.{text[1:] or '0'}E{power}"


def string_indexer(stage: SavedStage) -> Apply:
    inputs, outputs = _columns(stage, "inputCol", "inputCols"), _columns(stage, "outputCol", "outputCols")
    rows = stage.data()[0]
    labels_array = rows.get("labelsArray") or [rows["labels"]]
    lookups = [{label: float(i) for i, label in enumerate(labels)} for labels in labels_array]
    mode = _handle_invalid(stage, ("error", "skip", "keep"))
    where = stage.describe()

    def apply(frame: Frame) -> None:
        for name, out, lookup in zip(inputs, outputs, lookups, strict=True):
            values = frame.column(name, where)
            if values.dtype != object:
                # Spark casts the input to string before the lookup.
                nulls = frame.null_mask(name)
                kind = frame.types.get(name)
                values = [
                    None
                    if nulls is not None and nulls[i]
                    else (str(int(v)) if kind in INTEGER_TYPES else _java_string(float(v)))
                    for i, v in enumerate(values)
                ]
            index = np.fromiter(
                (lookup.get(v, -1.0) if v is not None else -1.0 for v in values), dtype=np.float64, count=frame.size
            )
            invalid = index < 0
            if invalid.any():
                if mode == "error":
                    frame.fail_if(invalid, where, name, "null or a label unseen in training (handleInvalid='error')")
                elif mode == "skip":
                    frame.kept &= ~invalid
                    index[invalid] = 0.0
                else:
                    index[invalid] = float(len(lookup))
            frame.columns[out] = index

    return apply


def one_hot_encoder(stage: SavedStage) -> Apply:
    inputs, outputs = _columns(stage, "inputCol", "inputCols"), _columns(stage, "outputCol", "outputCols")
    sizes = [int(s) for s in stage.data()[0]["categorySizes"]]
    keep = _handle_invalid(stage, ("error", "keep")) == "keep"
    drop_last = bool(stage.params.get("dropLast", True))
    where = stage.describe()
    configured = [size - 1 + int(keep) if drop_last else size + int(keep) for size in sizes]

    def apply(frame: Frame) -> None:
        rows = np.arange(frame.size)
        for name, out, size, width in zip(inputs, outputs, sizes, configured, strict=True):
            label = frame.numeric(name, where)
            valid = (label >= 0) & (label < size)
            if not keep:
                frame.fail_if(~valid, where, name, f"category index outside [0, {size}) (handleInvalid='error')")
            index = np.where(valid, np.trunc(np.where(valid, label, 0)), size).astype(np.int64)
            encoded = np.zeros((frame.size, width), dtype=np.float64)
            hot = index < width
            encoded[rows[hot], index[hot]] = 1.0
            frame.columns[out] = encoded

    return apply


def bucketizer(stage: SavedStage) -> Apply:
    params = stage.params
    inputs, outputs = _columns(stage, "inputCol", "inputCols"), _columns(stage, "outputCol", "outputCols")
    if "splitsArray" in params and "splits" not in stage.metadata.get("paramMap", {}):
        splits_list = [[_float(s) for s in splits] for splits in params["splitsArray"]]
    else:
        splits_list = [[_float(s) for s in params["splits"]]]
    splits_list = [np.asarray(s, dtype=np.float64) for s in splits_list]
    mode = _handle_invalid(stage, ("error", "skip", "keep"))
    where = stage.describe()

    def apply(frame: Frame) -> None:
        if mode == "skip":
            for name in inputs:
                frame.kept &= ~np.isnan(frame.numeric(name, where))
        for name, out, splits in zip(inputs, outputs, splits_list, strict=True):
            values = frame.numeric(name, where)
            nulls = frame.null_mask(name)
            nan = np.isnan(values) if nulls is None else np.isnan(values) & ~nulls
            if mode == "error":
                frame.fail_if(nan, where, name, "NaN (handleInvalid='error')")
            finite = np.where(np.isnan(values), splits[0], values)
            outside = (finite < splits[0]) | (finite > splits[-1])
            frame.fail_if(outside, where, name, f"value outside the buckets' bounds [{splits[0]}, {splits[-1]}]")
            bucket = np.searchsorted(splits, finite, side="right") - 1.0
            bucket = np.where(finite == splits[-1], len(splits) - 2.0, bucket)
            bucket = np.where(nan, len(splits) - 1.0, bucket)
            if nulls is not None:
                bucket = np.where(nulls, np.nan, bucket)
                frame.nulls[out] = nulls
            frame.columns[out] = bucket

    return apply


def vector_assembler(stage: SavedStage) -> Apply:
    inputs = list(stage.params["inputCols"])
    out = stage.params["outputCol"]
    mode = _handle_invalid(stage, ("error", "skip", "keep"))
    where = stage.describe()

    def apply(frame: Frame) -> None:
        blocks = []
        for name in inputs:
            values = frame.numeric(name, where)
            if values.ndim == 1:
                nan = np.isnan(values)
                if nan.any():
                    if mode == "error":
                        frame.fail_if(nan, where, name, "null or NaN (handleInvalid='error')")
                    elif mode == "skip":
                        frame.kept &= ~nan
                values = values[:, None]
            blocks.append(values)
        frame.columns[out] = np.concatenate(blocks, axis=1) if len(blocks) > 1 else blocks[0].copy()

    return apply


def standard_scaler(stage: SavedStage) -> Apply:
    row = stage.data()[0]
    with_mean, with_std = bool(stage.params.get("withMean", False)), bool(stage.params.get("withStd", True))
    shift = to_vector(row["mean"])
    std = to_vector(row["std"])
    scale = np.where(std == 0, 0.0, 1.0 / np.where(std == 0, 1.0, std))
    name, out, where = stage.params["inputCol"], stage.params["outputCol"], stage.describe()

    def apply(frame: Frame) -> None:
        values = frame.numeric(name, where)
        if with_mean and with_std:
            values = (values - shift) * scale
        elif with_mean:
            values = values - shift
        elif with_std:
            values = values * scale
        frame.columns[out] = np.array(values, dtype=np.float64)

    return apply


def min_max_scaler(stage: SavedStage) -> Apply:
    row = stage.data()[0]
    low, high = float(stage.params.get("min", 0.0)), float(stage.params.get("max", 1.0))
    original_min, original_max = to_vector(row["originalMin"]), to_vector(row["originalMax"])
    span = original_max - original_min
    scale = np.where(span != 0, (high - low) / np.where(span != 0, span, 1.0), 0.0)
    constant = (low + high) / 2
    name, out, where = stage.params["inputCol"], stage.params["outputCol"], stage.describe()

    def apply(frame: Frame) -> None:
        values = frame.numeric(name, where)
        scaled = np.where(scale != 0, (values - original_min) * scale + low, constant)
        frame.columns[out] = np.where(np.isnan(values), values, scaled)

    return apply


def max_abs_scaler(stage: SavedStage) -> Apply:
    max_abs = to_vector(stage.data()[0]["maxAbs"])
    scale = np.where(max_abs == 0, 1.0, 1.0 / np.where(max_abs == 0, 1.0, max_abs))
    name, out, where = stage.params["inputCol"], stage.params["outputCol"], stage.describe()

    def apply(frame: Frame) -> None:
        frame.columns[out] = frame.numeric(name, where) * scale

    return apply


#: Spark class (short name) -> builder. Predictors are added by :mod:`predictors`.
FEATURE_STAGES: dict[str, Callable[[SavedStage], Apply]] = {
    "ImputerModel": imputer,
    "StringIndexerModel": string_indexer,
    "OneHotEncoderModel": one_hot_encoder,
    "Bucketizer": bucketizer,
    "VectorAssembler": vector_assembler,
    "StandardScalerModel": standard_scaler,
    "MinMaxScalerModel": min_max_scaler,
    "MaxAbsScalerModel": max_abs_scaler,
}
