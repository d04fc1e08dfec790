"""Feature-engineering components: scaling, bucketing, indexing, encoding, assembling, selection, projection.

The estimators return both the transformed table and the fitted Spark model, so the same
transformation can be applied to other data (test data, scoring data) with ``predict``.
"""

from __future__ import annotations

from typing import Annotated, Any

from airflow_mlplat.components._common import (
    check_training_table,
    column_type,
    fit_logged,
    is_numeric,
    is_vector,
    missing_value,
    numeric_columns,
    output_names,
    quote,
    require_columns,
    require_nonempty,
    require_numeric,
    require_unique,
    require_vector,
    resolve_column,
    vector_element_names,
)
from airflow_mlplat.components.registry import component
from airflow_mlplat.components.spec import Interval, Model, Options, Sql, Table


def _check_new_columns(data: Any, names: list[str], *, component: str, param: str) -> None:
    existing = {c.lower() for c in data.columns}
    for name in names:
        if name.lower() in existing:
            raise ValueError(f"{component}: params.{param} would create column {name!r}, which the table already has")


def _vector_in_out(data: Any, input_col: str, output_col: str, *, component: str) -> str:
    (column,) = require_columns(data, [input_col], component=component, param="input_col")
    require_vector(data, column, component=component, param="input_col")
    if not output_col:
        raise ValueError(f"{component}: params.output_col must not be empty")
    _check_new_columns(data, [output_col], component=component, param="output_col")
    return column


@component(category="feature engineering", outputs={"data": Table, "model": Model})
def standard_scaler(
    ctx,
    data: Table,
    *,
    input_col: str = "features",
    output_col: str = "scaled_features",
    with_mean: bool = False,
    with_std: bool = True,
):
    """Standardise a vector column: subtract the mean and/or divide by the standard deviation per element.

    Args:
        data: the table to fit on and transform.
        input_col: the vector column to scale (make one with vector_assembler).
        output_col: the new column for the scaled vector.
        with_mean: centre each element on its mean (makes sparse vectors dense).
        with_std: divide each element by its (sample) standard deviation.
        model: the fitted StandardScalerModel, to scale other tables the same way.
    """
    from pyspark.ml.feature import StandardScaler

    column = _vector_in_out(data, input_col, output_col, component="standard_scaler")
    scaler = StandardScaler(inputCol=column, outputCol=output_col, withMean=with_mean, withStd=with_std)
    model = fit_logged(ctx, scaler, data)
    return {"data": model.transform(data), "model": model}


@component(category="feature engineering", outputs={"data": Table, "model": Model})
def min_max_scaler(
    ctx,
    data: Table,
    *,
    input_col: str = "features",
    output_col: str = "scaled_features",
    min_value: float = 0.0,
    max_value: float = 1.0,
):
    """Rescale each element of a vector column linearly to [min_value, max_value].

    An element that is constant in the fitting data maps to the middle of the range.

    Args:
        data: the table to fit on and transform.
        input_col: the vector column to rescale (make one with vector_assembler).
        output_col: the new column for the rescaled vector.
        min_value: the lower end of the target range.
        max_value: the upper end of the target range (greater than min_value).
        model: the fitted MinMaxScalerModel, to rescale other tables the same way.
    """
    from pyspark.ml.feature import MinMaxScaler

    if not min_value < max_value:
        raise ValueError(
            f"min_max_scaler: params.min_value ({min_value}) must be less than params.max_value ({max_value})"
        )
    column = _vector_in_out(data, input_col, output_col, component="min_max_scaler")
    scaler = MinMaxScaler(inputCol=column, outputCol=output_col, min=min_value, max=max_value)
    model = fit_logged(ctx, scaler, data)
    return {"data": model.transform(data), "model": model}


def _multi_in_out(
    data: Any,
    input_cols: list[str],
    output_cols: list[str] | None,
    suffix: str,
    *,
    component: str,
) -> tuple[list[str], list[str]]:
    inputs = require_columns(
        data,
        require_nonempty(input_cols, component=component, param="input_cols"),
        component=component,
        param="input_cols",
    )
    require_unique(inputs, component=component, param="input_cols")
    outputs = output_names(inputs, output_cols, suffix, component=component)
    _check_new_columns(data, outputs, component=component, param="output_cols" if output_cols else "suffix")
    return inputs, outputs


@component(category="feature engineering", outputs={"data": Table, "model": Model})
def quantile_discretizer(
    ctx,
    data: Table,
    *,
    input_cols: list[str],
    output_cols: list[str] | None = None,
    suffix: str = "_bucket",
    num_buckets: Annotated[int, Interval(2, None)] = 10,
    relative_error: Annotated[float, Interval(0.0, 1.0)] = 0.001,
    handle_invalid: Annotated[str, Options("error", "skip", "keep")] = "keep",
):
    """Bucket numeric columns by quantiles: bucket i holds the values between the i-th and (i+1)-th quantile.

    Bucket numbers are doubles 0, 1, ...; fewer buckets are made where the column has fewer
    distinct values. Null and NaN values go to an extra bucket (``keep``), are dropped
    (``skip``) or fail the run (``error``).

    Args:
        data: the table to fit on and transform.
        input_cols: the numeric columns to bucket.
        output_cols: names of the bucket columns, one per input column; empty means input name + suffix.
        suffix: appended to each input column's name when output_cols is empty.
        num_buckets: how many buckets to make per column.
        relative_error: precision of the quantiles (0 computes them exactly, which is expensive).
        handle_invalid: what to do with null/NaN values.
        model: the fitted Bucketizer, to bucket other tables with the same splits.
    """
    from pyspark.ml.feature import QuantileDiscretizer

    name = "quantile_discretizer"
    inputs, outputs = _multi_in_out(data, input_cols, output_cols, suffix, component=name)
    for column in inputs:
        require_numeric(data, column, component=name, param="input_cols")
    discretizer = QuantileDiscretizer(
        inputCols=inputs,
        outputCols=outputs,
        numBuckets=num_buckets,
        relativeError=relative_error,
        handleInvalid=handle_invalid,
    )
    model = fit_logged(ctx, discretizer, data)
    return {"data": model.transform(data), "model": model}


@component(category="feature engineering", outputs={"data": Table, "model": Model})
def string_indexer(
    ctx,
    data: Table,
    *,
    input_cols: list[str],
    output_cols: list[str] | None = None,
    suffix: str = "_index",
    string_order_type: Annotated[
        str, Options("frequencyDesc", "frequencyAsc", "alphabetDesc", "alphabetAsc")
    ] = "frequencyDesc",
    handle_invalid: Annotated[str, Options("error", "skip", "keep")] = "keep",
):
    """Map the values of categorical columns to indices 0, 1, ... (by default the most frequent value gets 0).

    Args:
        data: the table to fit on and transform.
        input_cols: the categorical columns to index (strings or numbers).
        output_cols: names of the index columns, one per input column; empty means input name + suffix.
        suffix: appended to each input column's name when output_cols is empty.
        string_order_type: how values are ordered before numbering.
        handle_invalid: what to do with nulls and with values unseen when fitting: give them
            an extra index (``keep``), drop the row (``skip``) or fail (``error``).
        model: the fitted StringIndexerModel, to index other tables with the same mapping.
    """
    from pyspark.ml.feature import StringIndexer

    name = "string_indexer"
    inputs, outputs = _multi_in_out(data, input_cols, output_cols, suffix, component=name)
    for column in inputs:
        data_type = column_type(data, column)
        if not (is_numeric(data_type) or data_type.simpleString() in ("string", "boolean")):
            raise ValueError(
                f"{name}: params.input_cols column {column!r} must be a string or numeric column, "
                f"but it is {data_type.simpleString()}"
            )
    indexer = StringIndexer(
        inputCols=inputs,
        outputCols=outputs,
        stringOrderType=string_order_type,
        handleInvalid=handle_invalid,
    )
    model = fit_logged(ctx, indexer, data)
    return {"data": model.transform(data), "model": model}


@component(category="feature engineering", outputs={"data": Table, "model": Model})
def one_hot_encoder(
    ctx,
    data: Table,
    *,
    input_cols: list[str],
    output_cols: list[str] | None = None,
    suffix: str = "_vec",
    drop_last: bool = True,
    handle_invalid: Annotated[str, Options("error", "keep")] = "keep",
):
    """Encode category indices as one-hot (sparse) vectors.

    The input columns hold non-negative integer indices (index string columns with
    string_indexer first).

    Args:
        data: the table to fit on and transform.
        input_cols: the category-index columns to encode.
        output_cols: names of the vector columns, one per input column; empty means input name + suffix.
        suffix: appended to each input column's name when output_cols is empty.
        drop_last: leave out the last slot (its vector is all zeros), so the columns are not collinear;
            with ``keep`` the last slot is the one for unseen indices.
        handle_invalid: what to do with indices unseen when fitting: give them an extra slot
            (``keep``) or fail (``error``).
        model: the fitted OneHotEncoderModel, to encode other tables the same way.
    """
    from pyspark.ml.feature import OneHotEncoder

    name = "one_hot_encoder"
    inputs, outputs = _multi_in_out(data, input_cols, output_cols, suffix, component=name)
    for column in inputs:
        data_type = column_type(data, column)
        if not is_numeric(data_type):
            hint = " (index it with string_indexer first)" if data_type.simpleString() == "string" else ""
            raise ValueError(
                f"{name}: params.input_cols column {column!r} must hold numeric category indices, "
                f"but it is {data_type.simpleString()}{hint}"
            )
    encoder = OneHotEncoder(inputCols=inputs, outputCols=outputs, dropLast=drop_last, handleInvalid=handle_invalid)
    model = fit_logged(ctx, encoder, data)
    return {"data": model.transform(data), "model": model}


@component(category="feature engineering", outputs={"data": Table})
def vector_assembler(
    ctx,
    data: Table,
    *,
    input_cols: list[str],
    output_col: str = "features",
    handle_invalid: Annotated[str, Options("error", "skip", "keep")] = "keep",
):
    """Combine numeric, boolean and vector columns into one feature vector column.

    The vector's metadata keeps the input column names, which ``feature_importance`` reports.

    Args:
        data: the input table.
        input_cols: the columns to combine, in order.
        output_col: the new vector column.
        handle_invalid: what to do with null/NaN values: keep them as NaN (``keep``), drop the row
            (``skip``) or fail (``error``).
    """
    from pyspark.ml.feature import VectorAssembler

    name = "vector_assembler"
    inputs = require_columns(
        data, require_nonempty(input_cols, component=name, param="input_cols"), component=name, param="input_cols"
    )
    require_unique(inputs, component=name, param="input_cols")
    for column in inputs:
        data_type = column_type(data, column)
        if not is_vector(data_type):
            require_numeric(data, column, component=name, param="input_cols", allow_boolean=True)
    if not output_col:
        raise ValueError(f"{name}: params.output_col must not be empty")
    _check_new_columns(data, [output_col], component=name, param="output_col")
    assembler = VectorAssembler(inputCols=inputs, outputCol=output_col, handleInvalid=handle_invalid)
    return assembler.transform(data)


def _vector_size(data: Any, column: str) -> int | None:
    """A vector column's size: from its ``ml_attr`` metadata, else from the first non-null row; None if empty."""
    from pyspark.sql import functions as F

    group = data.schema[column].metadata.get("ml_attr", {})
    if isinstance(group.get("num_attrs"), int):
        return int(group["num_attrs"])
    if group.get("attrs"):
        return sum(len(attrs) for attrs in group["attrs"].values())
    row = data.select(F.col(quote(column))).where(F.col(quote(column)).isNotNull()).first()
    return None if row is None else int(row[0].size)


def _selected_names(ctx: Any, data: Any, column: str, selected: list[int]) -> list[str]:
    """Record which elements of ``column`` a selector kept (names where the metadata has them)."""
    size = _vector_size(data, column) or (max(selected) + 1 if selected else 0)
    names = vector_element_names(data, column, size)
    kept = [names[i] if i < len(names) else f"{column}_{i}" for i in selected]
    ctx.details["selected_features"] = kept
    ctx.log.info("%s: kept %d feature(s): %s", ctx.node_id, len(kept), ", ".join(kept))
    return kept


@component(category="feature engineering", outputs={"data": Table, "model": Model})
def max_abs_scaler(ctx, data: Table, *, input_col: str = "features", output_col: str = "scaled_features"):
    """Divide each element of a vector column by its largest absolute value, mapping it into [-1, 1].

    Nothing is shifted, so zeros stay zero and sparse vectors stay sparse.

    Args:
        data: the table to fit on and transform.
        input_col: the vector column to scale (make one with vector_assembler).
        output_col: the new column for the scaled vector.
        model: the fitted MaxAbsScalerModel, to scale other tables the same way.
    """
    from pyspark.ml.feature import MaxAbsScaler

    column = _vector_in_out(data, input_col, output_col, component="max_abs_scaler")
    model = fit_logged(ctx, MaxAbsScaler(inputCol=column, outputCol=output_col), data)
    return {"data": model.transform(data), "model": model}


@component(category="feature engineering", outputs={"data": Table, "model": Model})
def robust_scaler(
    ctx,
    data: Table,
    *,
    input_col: str = "features",
    output_col: str = "scaled_features",
    lower: Annotated[float, Interval(0.0, 1.0)] = 0.25,
    upper: Annotated[float, Interval(0.0, 1.0)] = 0.75,
    with_centering: bool = False,
    with_scaling: bool = True,
    relative_error: Annotated[float, Interval(0.0, 1.0)] = 0.001,
):
    """Scale a vector column by quantiles, which outliers barely move: (x - median) / (upper - lower quantile).

    Args:
        data: the table to fit on and transform.
        input_col: the vector column to scale (make one with vector_assembler).
        output_col: the new column for the scaled vector.
        lower: the lower quantile of the range (0.25: the first quartile).
        upper: the upper quantile of the range (0.75: the third quartile); greater than lower.
        with_centering: subtract each element's median (makes sparse vectors dense).
        with_scaling: divide each element by its quantile range.
        relative_error: precision of the quantiles (0 computes them exactly, which is expensive).
        model: the fitted RobustScalerModel, to scale other tables the same way.
    """
    from pyspark.ml.feature import RobustScaler

    if not lower < upper:
        raise ValueError(f"robust_scaler: params.lower ({lower}) must be less than params.upper ({upper})")
    column = _vector_in_out(data, input_col, output_col, component="robust_scaler")
    scaler = RobustScaler(
        inputCol=column,
        outputCol=output_col,
        lower=lower,
        upper=upper,
        withCentering=with_centering,
        withScaling=with_scaling,
        relativeError=relative_error,
    )
    model = fit_logged(ctx, scaler, data)
    return {"data": model.transform(data), "model": model}


@component(category="feature engineering", outputs={"data": Table})
def normalizer(
    ctx,
    data: Table,
    *,
    input_col: str = "features",
    output_col: str = "normalized_features",
    p: Annotated[float, Interval(1.0, None)] = 2.0,
):
    """Scale each row's vector to unit p-norm (p = 2: Euclidean length 1; p = 1: absolute values sum to 1).

    A zero vector stays zero.

    Args:
        data: the input table.
        input_col: the vector column to normalise (make one with vector_assembler).
        output_col: the new column for the normalised vector.
        p: the norm's order.
    """
    from pyspark.ml.feature import Normalizer

    column = _vector_in_out(data, input_col, output_col, component="normalizer")
    return Normalizer(inputCol=column, outputCol=output_col, p=float(p)).transform(data)


def _bucket_splits(values: list[float], open_ends: bool, *, where: str) -> list[float]:
    import math

    if any(math.isnan(v) for v in values):
        raise ValueError(f"bucketizer: {where} must not contain NaN, got {values!r}")
    if any(b <= a for a, b in zip(values, values[1:], strict=False)):
        raise ValueError(f"bucketizer: {where} must be strictly increasing, got {values!r}")
    splits = list(values)
    if open_ends:
        if not splits or splits[0] != -math.inf:
            splits.insert(0, -math.inf)
        if splits[-1] != math.inf:
            splits.append(math.inf)
    if len(splits) < 3:
        need = "at least one split point" if open_ends else "at least 3 split points (2 buckets)"
        raise ValueError(f"bucketizer: {where} must give {need}, got {values!r}")
    return splits


@component(category="feature engineering", outputs={"data": Table})
def bucketizer(
    ctx,
    data: Table,
    *,
    input_cols: list[str],
    splits: list[float] | None = None,
    column_splits: dict[str, str] | None = None,
    output_cols: list[str] | None = None,
    suffix: str = "_bucket",
    open_ends: bool = True,
    handle_invalid: Annotated[str, Options("error", "skip", "keep")] = "keep",
):
    """Bucket numeric columns at explicit split points: bucket i holds values in [split i, split i+1).

    The last bucket also holds its upper split. Bucket numbers are doubles 0, 1, ...
    With ``open_ends`` the outer buckets reach to -inf and +inf; without it a value outside
    the splits fails the run.

    Args:
        data: the input table.
        input_cols: the numeric columns to bucket.
        splits: increasing split points shared by every input column without its own column_splits.
        column_splits: per-column split points as comma-separated numbers, e.g. ``{"age": "18, 30, 65"}``
            (``-inf`` and ``inf`` are allowed); overrides splits for that column.
        output_cols: names of the bucket columns, one per input column; empty means input name + suffix.
        suffix: appended to each input column's name when output_cols is empty.
        open_ends: add -inf and +inf as the outermost splits, so every number falls in a bucket.
        handle_invalid: what to do with NaN values: put them in an extra bucket (``keep``), drop the
            row (``skip``, which drops rows with nulls too) or fail (``error``); else a null stays null.
    """
    from pyspark.ml.feature import Bucketizer

    name = "bucketizer"
    inputs, outputs = _multi_in_out(data, input_cols, output_cols, suffix, component=name)
    for column in inputs:
        require_numeric(data, column, component=name, param="input_cols")
    per_column = dict(column_splits or {})
    for key in per_column:
        if resolve_column(data, key) not in inputs:
            raise ValueError(
                f"{name}: params.column_splits names column {key!r}, which params.input_cols does not list"
            )
    by_resolved = {resolve_column(data, key): text for key, text in per_column.items()}
    splits_array = []
    for column in inputs:
        text = by_resolved.get(column)
        if text is not None:
            where = f"params.column_splits[{column!r}]"
            try:
                values = [float(part) for part in text.replace(";", ",").split(",") if part.strip()]
            except ValueError:
                raise ValueError(f"{name}: {where} must be numbers separated by commas, got {text!r}") from None
        elif splits:
            where, values = "params.splits", [float(v) for v in splits]
        else:
            raise ValueError(
                f"{name}: column {column!r} has no split points: set params.splits or params.column_splits"
            )
        splits_array.append(_bucket_splits(values, open_ends, where=where))
    transformer = Bucketizer(
        inputCols=inputs, outputCols=outputs, splitsArray=splits_array, handleInvalid=handle_invalid
    )
    return transformer.transform(data)


def _indexer_labels(indexer: Any, input_col: str) -> list[str]:
    from pyspark.ml.feature import StringIndexerModel

    if not isinstance(indexer, StringIndexerModel):
        raise ValueError(
            f"index_to_string: input 'indexer' must be a fitted StringIndexerModel (from string_indexer), "
            f"got {type(indexer).__name__}"
        )
    if indexer.isDefined("outputCols"):
        outputs = indexer.getOutputCols()
    else:
        outputs = [indexer.getOutputCol()]
    labels = indexer.labelsArray
    if len(labels) == 1:
        return list(labels[0])
    if input_col in outputs:
        return list(labels[outputs.index(input_col)])
    raise ValueError(
        f"index_to_string: the indexer model indexes {len(labels)} columns (into {', '.join(outputs)}); "
        f"params.input_col {input_col!r} is none of them: name one, or give params.labels"
    )


@component(category="feature engineering", outputs={"data": Table})
def index_to_string(
    ctx,
    data: Table,
    indexer: Model | None = None,
    *,
    input_col: str = "prediction",
    output_col: str = "predicted_label",
    labels: list[str] | None = None,
):
    """Map indices back to the original values, e.g. a classifier's predicted label index to the label's text.

    The labels come from ``params.labels`` when given, else from the ``indexer`` model
    (string_indexer's model), else from the index column's own metadata (a column made by
    string_indexer). An index outside the labels fails the run.

    Args:
        data: the input table.
        indexer: the StringIndexerModel that made the indices (optional).
        input_col: the numeric index column.
        output_col: the new column for the original values (strings).
        labels: the original values in index order (index 0 first); overrides the indexer.
    """
    from pyspark.ml.feature import IndexToString

    name = "index_to_string"
    (column,) = require_columns(data, [input_col], component=name, param="input_col")
    require_numeric(data, column, component=name, param="input_col")
    if not output_col:
        raise ValueError(f"{name}: params.output_col must not be empty")
    _check_new_columns(data, [output_col], component=name, param="output_col")
    transformer = IndexToString(inputCol=column, outputCol=output_col)
    if labels:
        transformer.setLabels(list(labels))
    elif indexer is not None:
        transformer.setLabels(_indexer_labels(indexer, column))
    else:
        attrs = data.schema[column].metadata.get("ml_attr", {})
        if not attrs.get("vals"):
            raise ValueError(
                f"{name}: params.input_col column {column!r} carries no labels in its metadata; "
                "connect the string_indexer model to the 'indexer' input or give params.labels"
            )
    return transformer.transform(data)


@component(category="feature engineering", outputs={"data": Table})
def vector_slicer(
    ctx,
    data: Table,
    *,
    input_col: str = "features",
    output_col: str = "sliced_features",
    indices: list[int] | None = None,
    names: list[str] | None = None,
):
    """Keep some elements of a vector column, chosen by position and/or by name.

    The new vector holds the elements given by ``indices`` first, in that order, then those
    given by ``names``. Names are read from the vector's metadata, which vector_assembler
    writes.

    Args:
        data: the input table.
        input_col: the vector column to slice.
        output_col: the new column for the sliced vector.
        indices: 0-based positions of the elements to keep.
        names: names of the elements to keep (the columns that vector_assembler combined).
    """
    from pyspark.ml.feature import VectorSlicer

    name = "vector_slicer"
    column = _vector_in_out(data, input_col, output_col, component=name)
    if not indices and not names:
        raise ValueError(f"{name}: give params.indices or params.names (the elements to keep); both are empty")
    size = _vector_size(data, column)
    for index in indices or []:
        if index < 0 or (size is not None and index >= size):
            raise ValueError(f"{name}: params.indices has {index}, outside column {column!r}'s {size} elements")
    require_unique([str(i) for i in indices or []], component=name, param="indices")
    if names:
        known = vector_element_names(data, column, size or 0)
        has_names = bool(data.schema[column].metadata.get("ml_attr", {}).get("attrs"))
        for element in names:
            if not has_names or element not in known:
                raise ValueError(
                    f"{name}: params.names has {element!r}, which is not an element of column {column!r} "
                    f"(its elements: {', '.join(known) if has_names else 'unnamed: use params.indices'})"
                )
        require_unique(names, component=name, param="names")
    slicer = VectorSlicer(inputCol=column, outputCol=output_col)
    if indices:
        slicer.setIndices(list(indices))
    if names:
        slicer.setNames(list(names))
    return slicer.transform(data)


@component(category="feature engineering", outputs={"data": Table, "model": Model})
def pca(
    ctx,
    data: Table,
    *,
    input_col: str = "features",
    output_col: str = "pca_features",
    k: Annotated[int, Interval(1, None)] = 2,
):
    """Project a vector column onto its top k principal components (Spark's PCA).

    The data is not centred before projecting. The share of variance each component explains
    is logged and listed in the run report.

    Args:
        data: the table to fit on and transform.
        input_col: the vector column to project (standardise it first when the scales differ).
        output_col: the new column for the k-element projection.
        k: the number of principal components (at most the vector's size).
        model: the fitted PCAModel, to project other tables the same way.
    """
    from pyspark.ml.feature import PCA

    column = _vector_in_out(data, input_col, output_col, component="pca")
    size = _vector_size(data, column)
    if size is not None and k > size:
        raise ValueError(f"pca: params.k ({k}) must be at most the size of column {column!r} ({size})")
    model = fit_logged(ctx, PCA(inputCol=column, outputCol=output_col, k=k), data)
    explained = [round(float(v), 6) for v in model.explainedVariance.toArray()]
    ctx.details["explained_variance"] = explained
    ctx.log.info("%s: the %d components explain %s of the variance", ctx.node_id, k, explained)
    return {"data": model.transform(data), "model": model}


@component(category="feature engineering", outputs={"data": Table})
def polynomial_expansion(
    ctx,
    data: Table,
    *,
    input_col: str = "features",
    output_col: str = "expanded_features",
    degree: Annotated[int, Interval(1, None)] = 2,
):
    """Expand a vector into all products of its elements up to a degree, e.g. (x, y) -> (x, x², y, xy, y²).

    The size grows fast: n elements at degree d give C(n + d, d) - 1 elements.

    Args:
        data: the input table.
        input_col: the vector column to expand.
        output_col: the new column for the expanded vector.
        degree: the highest total degree of the products.
    """
    from pyspark.ml.feature import PolynomialExpansion

    column = _vector_in_out(data, input_col, output_col, component="polynomial_expansion")
    return PolynomialExpansion(inputCol=column, outputCol=output_col, degree=degree).transform(data)


def _with_vector_attributes(data: Any, column: str) -> Any:
    """``data`` whose vector ``column`` has element attributes (Interaction needs them)."""
    from pyspark.sql import functions as F

    if data.schema[column].metadata.get("ml_attr", {}).get("attrs"):
        return data
    size = _vector_size(data, column) or 0
    metadata = {
        "ml_attr": {"attrs": {"numeric": [{"idx": i, "name": f"{column}_{i}"} for i in range(size)]}, "num_attrs": size}
    }
    return data.withColumn(column, F.col(quote(column)).alias(column, metadata=metadata))


@component(category="feature engineering", outputs={"data": Table})
def interaction(ctx, data: Table, *, input_cols: list[str], output_col: str = "interaction"):
    """Multiply columns together: one element for every combination of one element from each column.

    Numeric columns count as one element; vector columns contribute each of theirs, e.g.
    a number a with vectors (b1, b2) and (c1, c2) gives (a·b1·c1, a·b1·c2, a·b2·c1, a·b2·c2).

    Args:
        data: the input table.
        input_cols: two or more numeric or vector columns.
        output_col: the new vector column of products.
    """
    from pyspark.ml.feature import Interaction

    name = "interaction"
    inputs = require_columns(
        data, require_nonempty(input_cols, component=name, param="input_cols"), component=name, param="input_cols"
    )
    require_unique(inputs, component=name, param="input_cols")
    if len(inputs) < 2:
        raise ValueError(f"{name}: params.input_cols must name at least two columns, got {list(input_cols)!r}")
    if not output_col:
        raise ValueError(f"{name}: params.output_col must not be empty")
    _check_new_columns(data, [output_col], component=name, param="output_col")
    for column in inputs:
        if is_vector(column_type(data, column)):
            data = _with_vector_attributes(data, column)
        else:
            require_numeric(data, column, component=name, param="input_cols", allow_boolean=True)
    return Interaction(inputCols=inputs, outputCol=output_col).transform(data)


_SELECTION_DEFAULTS = {"numTopFeatures": 50.0, "percentile": 0.1, "fpr": 0.05, "fdr": 0.05, "fwe": 0.05}


@component(category="feature engineering", outputs={"data": Table, "model": Model})
def univariate_feature_selector(
    ctx,
    data: Table,
    *,
    features_col: str = "features",
    label_col: str = "label",
    output_col: str = "selected_features",
    feature_type: Annotated[str, Options("continuous", "categorical")] = "continuous",
    label_type: Annotated[str, Options("categorical", "continuous")] = "categorical",
    selection_mode: Annotated[str, Options("numTopFeatures", "percentile", "fpr", "fdr", "fwe")] = "numTopFeatures",
    selection_threshold: float | None = None,
):
    """Keep the features most related to the label, each tested on its own against the label.

    The test follows the types: categorical features and label: chi-squared; continuous
    features and categorical label: ANOVA F-test; both continuous: F-test of a linear
    regression. The kept features are listed in the run report.

    Args:
        data: the table to fit on and transform.
        features_col: the features vector column.
        label_col: the numeric label column.
        output_col: the new vector column of the kept features.
        feature_type: whether the features are categorical (small non-negative integers) or continuous.
        label_type: whether the label is categorical (class indices) or continuous.
        selection_mode: keep the best N features (``numTopFeatures``), the best share of them
            (``percentile``), or those whose p-value passes a false-positive-rate, false-discovery-rate
            or family-wise-error bound (``fpr``, ``fdr``, ``fwe``).
        selection_threshold: N for numTopFeatures (a whole number >= 1), the share in (0, 1] for
            percentile, the p-value bound in (0, 1] otherwise; empty means 50, 0.1 or 0.05.
        model: the fitted UnivariateFeatureSelectorModel, to select the same features from other tables.
    """
    from pyspark.ml.feature import UnivariateFeatureSelector

    name = "univariate_feature_selector"
    features, label = check_training_table(ctx, data, component=name, features_col=features_col, label_col=label_col)
    if not output_col:
        raise ValueError(f"{name}: params.output_col must not be empty")
    _check_new_columns(data, [output_col], component=name, param="output_col")
    threshold = _SELECTION_DEFAULTS[selection_mode] if selection_threshold is None else float(selection_threshold)
    if selection_mode == "numTopFeatures":
        if threshold < 1 or threshold != int(threshold):
            raise ValueError(
                f"{name}: params.selection_threshold must be a whole number >= 1 with numTopFeatures, got {threshold}"
            )
    elif not 0.0 < threshold <= 1.0:
        raise ValueError(f"{name}: params.selection_threshold must be in (0, 1] with {selection_mode}, got {threshold}")
    selector = UnivariateFeatureSelector(
        featuresCol=features,
        labelCol=label,
        outputCol=output_col,
        selectionMode=selection_mode,
    )
    selector.setFeatureType(feature_type).setLabelType(label_type).setSelectionThreshold(threshold)
    model = fit_logged(ctx, selector, data, label_col=label)
    _selected_names(ctx, data, features, list(model.selectedFeatures))
    return {"data": model.transform(data), "model": model}


@component(category="feature engineering", outputs={"data": Table, "model": Model})
def variance_threshold_selector(
    ctx,
    data: Table,
    *,
    features_col: str = "features",
    output_col: str = "selected_features",
    variance_threshold: Annotated[float, Interval(0.0, None)] = 0.0,
):
    """Drop the features whose (sample) variance is not above a threshold; 0 drops the constant ones.

    The kept features are listed in the run report.

    Args:
        data: the table to fit on and transform.
        features_col: the features vector column.
        output_col: the new vector column of the kept features.
        variance_threshold: features with a variance at or below this are dropped.
        model: the fitted VarianceThresholdSelectorModel, to select the same features from other tables.
    """
    from pyspark.ml.feature import VarianceThresholdSelector

    name = "variance_threshold_selector"
    (column,) = require_columns(data, [features_col], component=name, param="features_col")
    require_vector(data, column, component=name, param="features_col")
    if not output_col:
        raise ValueError(f"{name}: params.output_col must not be empty")
    _check_new_columns(data, [output_col], component=name, param="output_col")
    selector = VarianceThresholdSelector(
        featuresCol=column, outputCol=output_col, varianceThreshold=float(variance_threshold)
    )
    model = fit_logged(ctx, selector, data)
    _selected_names(ctx, data, column, list(model.selectedFeatures))
    return {"data": model.transform(data), "model": model}


@component(category="feature engineering", outputs={"data": Table})
def feature_hasher(
    ctx,
    data: Table,
    *,
    input_cols: list[str],
    output_col: str = "features",
    num_features: Annotated[int, Interval(1, None)] = 262144,
    categorical_cols: list[str] | None = None,
):
    """Hash columns of any mix of types into one fixed-size sparse feature vector (the hashing trick).

    A numeric column adds its value at the slot its name hashes to; a string or boolean column
    (and a numeric one listed in ``categorical_cols``) adds 1.0 at the slot of "column=value".
    Different inputs may share a slot; more slots make that rarer.

    Args:
        data: the input table.
        input_cols: the numeric, boolean and string columns to hash.
        output_col: the new vector column.
        num_features: the vector's size (a power of two spreads the slots evenly).
        categorical_cols: numeric columns among input_cols to treat as categories.
    """
    from pyspark.ml.feature import FeatureHasher

    name = "feature_hasher"
    inputs = require_columns(
        data, require_nonempty(input_cols, component=name, param="input_cols"), component=name, param="input_cols"
    )
    require_unique(inputs, component=name, param="input_cols")
    for column in inputs:
        if column_type(data, column).simpleString() != "string":
            require_numeric(data, column, component=name, param="input_cols", allow_boolean=True)
    categorical = require_columns(data, categorical_cols or [], component=name, param="categorical_cols")
    for column in categorical:
        if column not in inputs:
            raise ValueError(
                f"{name}: params.categorical_cols names column {column!r}, which params.input_cols does not list"
            )
    if not output_col:
        raise ValueError(f"{name}: params.output_col must not be empty")
    _check_new_columns(data, [output_col], component=name, param="output_col")
    hasher = FeatureHasher(inputCols=inputs, outputCol=output_col, numFeatures=num_features)
    if categorical:
        hasher.setCategoricalCols(categorical)
    return hasher.transform(data)


@component(category="feature engineering", outputs={"data": Table, "model": Model})
def imputer(
    ctx,
    data: Table,
    *,
    input_cols: list[str],
    output_cols: list[str] | None = None,
    strategy: Annotated[str, Options("mean", "median", "mode")] = "mean",
    missing_value: float | None = None,
    relative_error: Annotated[float, Interval(0.0, 1.0)] = 0.001,
):
    """Fill missing values in numeric columns with each column's mean, median or most frequent value.

    Nulls always count as missing; so do NaN values, or instead the value ``missing_value``.
    Integer columns stay integer (a mean is truncated). The statistic is computed on the
    fitting table, and the model fills other tables with the same values.

    Args:
        data: the table to fit on and transform.
        input_cols: the numeric columns to fill.
        output_cols: names of the filled columns, one per input column; empty fills the input columns in place.
        strategy: the statistic that replaces a missing value.
        missing_value: a value that marks a missing entry besides null (e.g. -1); empty means NaN.
        relative_error: precision of the median (0 computes it exactly, which is expensive).
        model: the fitted ImputerModel, to fill other tables with the same values.
    """
    from pyspark.ml.feature import Imputer

    name = "imputer"
    inputs = require_columns(
        data, require_nonempty(input_cols, component=name, param="input_cols"), component=name, param="input_cols"
    )
    require_unique(inputs, component=name, param="input_cols")
    for column in inputs:
        require_numeric(data, column, component=name, param="input_cols")
    if output_cols:
        outputs = output_names(inputs, output_cols, "", component=name)
        _check_new_columns(data, outputs, component=name, param="output_cols")
    else:
        outputs = inputs
    estimator = Imputer(inputCols=inputs, outputCols=outputs, strategy=strategy, relativeError=relative_error)
    if missing_value is not None:
        estimator.setMissingValue(float(missing_value))
    model = fit_logged(ctx, estimator, data)
    return {"data": model.transform(data), "model": model}


def _clip_bounds_from_data(
    data: Any, columns: list[str], method: str, iqr_multiplier: float, z_threshold: float, relative_error: float
) -> dict[str, tuple[float | None, float | None]]:
    from pyspark.sql import functions as F

    if method == "iqr":
        quartiles = data.approxQuantile(columns, [0.25, 0.75], relative_error)
        bounds = {}
        for column, found in zip(columns, quartiles, strict=True):
            if len(found) < 2:
                bounds[column] = (None, None)
                continue
            q1, q3 = found
            spread = iqr_multiplier * (q3 - q1)
            bounds[column] = (q1 - spread, q3 + spread)
        return bounds
    aggregates = []
    for i, column in enumerate(columns):
        value = F.when(~missing_value(data, column), F.col(quote(column)).cast("double"))
        aggregates += [F.mean(value).alias(f"m{i}"), F.stddev(value).alias(f"s{i}")]
    row = data.agg(*aggregates).first()
    bounds = {}
    for i, column in enumerate(columns):
        mean, std = row[f"m{i}"], row[f"s{i}"]
        if mean is None or std is None:
            bounds[column] = (None, None)
        else:
            bounds[column] = (mean - z_threshold * std, mean + z_threshold * std)
    return bounds


def _read_bounds(bounds: Any) -> dict[str, tuple[float | None, float | None]]:
    for needed in ("column", "lower", "upper"):
        if needed not in bounds.columns:
            raise ValueError(
                "outlier_clipping: input 'fitted_bounds' must have the columns column, lower, upper (an earlier "
                f"outlier_clipping's bounds output); it has {', '.join(bounds.columns)}"
            )
    return {row["column"]: (row["lower"], row["upper"]) for row in bounds.select("column", "lower", "upper").collect()}


@component(category="feature engineering", outputs={"data": Table, "bounds": Table})
def outlier_clipping(
    ctx,
    data: Table,
    fitted_bounds: Table | None = None,
    *,
    input_cols: list[str] | None = None,
    method: Annotated[str, Options("iqr", "z_score")] = "iqr",
    iqr_multiplier: Annotated[float, Interval(0.0, None)] = 1.5,
    z_threshold: Annotated[float, Interval(0.0, None, closed="neither")] = 3.0,
    relative_error: Annotated[float, Interval(0.0, 1.0)] = 0.001,
):
    """Clip outliers in numeric columns to per-column bounds computed from the table (winsorising).

    ``iqr``: the bounds are the Tukey fences Q1 - m·IQR and Q3 + m·IQR (m = iqr_multiplier);
    ``z_score``: mean ± z·(sample standard deviation). Values below the lower bound become
    the lower bound, values above the upper bound the upper bound; nulls and NaN are left
    alone. Integer columns stay integer (their bounds are rounded inwards). To clip another
    table (test data) with the same bounds, connect this node's ``bounds`` output to that
    node's ``fitted_bounds`` input.

    Args:
        data: the input table.
        fitted_bounds: optional bounds to apply instead of computing them: an earlier
            outlier_clipping's ``bounds`` output (columns column, lower, upper).
        input_cols: the numeric columns to clip; empty means every numeric column (with
            fitted_bounds: every column it has bounds for).
        method: how the bounds are computed.
        iqr_multiplier: iqr: how many interquartile ranges the fences lie beyond the quartiles.
        z_threshold: z_score: how many standard deviations the bounds lie from the mean.
        relative_error: iqr: precision of the quartiles (0 computes them exactly, which is expensive).
        bounds: one row per clipped column: column, lower, upper (null where the column has no values).
    """
    import math

    from pyspark.sql import functions as F
    from pyspark.sql.types import IntegralType

    name = "outlier_clipping"
    if fitted_bounds is None:
        columns = numeric_columns(data, input_cols, component=name, param="input_cols")
        found = _clip_bounds_from_data(data, columns, method, iqr_multiplier, z_threshold, relative_error)
    else:
        given = _read_bounds(fitted_bounds)
        if input_cols:
            columns = numeric_columns(data, input_cols, component=name, param="input_cols")
        else:
            columns = []
            for column in given:
                if resolve_column(data, column) is None:
                    raise ValueError(
                        f"{name}: input 'fitted_bounds' has bounds for column {column!r}, which the input table "
                        f"does not have (set params.input_cols to clip only some columns)"
                    )
                columns.append(resolve_column(data, column))
            columns = numeric_columns(data, columns, component=name, param="fitted_bounds")
        by_folded = {column.lower(): bounds for column, bounds in given.items()}
        missing = [column for column in columns if column.lower() not in by_folded]
        if missing:
            raise ValueError(
                f"{name}: input 'fitted_bounds' has no bounds for column(s) {missing} of params.input_cols"
            )
        found = {column: by_folded[column.lower()] for column in columns}
    clipped = {}
    for column, (lower, upper) in found.items():
        if lower is None or upper is None:
            continue
        data_type, value = column_type(data, column), F.col(quote(column))
        if isinstance(data_type, IntegralType):
            lower, upper = math.ceil(lower), math.floor(upper)
        result = (
            F.when(missing_value(data, column), value)
            .when(value < F.lit(lower), F.lit(lower))
            .when(value > F.lit(upper), F.lit(upper))
            .otherwise(value)
        )
        clipped[column] = result.cast(data_type).alias(column)
    ctx.log.info(
        "%s: clipping %s",
        ctx.node_id,
        ", ".join(f"{c} to [{lo}, {hi}]" for c, (lo, hi) in found.items()),
    )
    out = data.select(*[clipped.get(c, F.col(quote(c))) for c in data.columns])
    rows = [
        (column, None if lower is None else float(lower), None if upper is None else float(upper))
        for column, (lower, upper) in found.items()
    ]
    table = ctx.spark.createDataFrame(rows, "column string, lower double, upper double")
    return {"data": out, "bounds": table}


@component(category="feature engineering", outputs={"data": Table})
def binarizer(
    ctx,
    data: Table,
    *,
    input_cols: list[str],
    output_cols: list[str] | None = None,
    suffix: str = "_binary",
    threshold: float = 0.0,
):
    """Turn numeric or vector columns into 0/1: 1.0 where the value is greater than the threshold, else 0.0.

    Vector columns are binarised element by element.

    Args:
        data: the input table.
        input_cols: the numeric or vector columns to binarise.
        output_cols: names of the 0/1 columns, one per input column; empty means input name + suffix.
        suffix: appended to each input column's name when output_cols is empty.
        threshold: values strictly greater than this become 1.0.
    """
    from pyspark.ml.feature import Binarizer

    name = "binarizer"
    inputs, outputs = _multi_in_out(data, input_cols, output_cols, suffix, component=name)
    for column in inputs:
        if not is_vector(column_type(data, column)):
            require_numeric(data, column, component=name, param="input_cols")
    transformer = Binarizer(inputCols=inputs, outputCols=outputs, thresholds=[float(threshold)] * len(inputs))
    return transformer.transform(data)


@component(category="feature engineering", outputs={"data": Table})
def elementwise_product(
    ctx,
    data: Table,
    *,
    input_col: str = "features",
    output_col: str = "weighted_features",
    scaling_vec: list[float],
):
    """Multiply each element of a vector column by a fixed weight (the Hadamard product with scaling_vec).

    Args:
        data: the input table.
        input_col: the vector column to weight.
        output_col: the new column for the weighted vector.
        scaling_vec: one weight per element of the vector.
    """
    from pyspark.ml.feature import ElementwiseProduct
    from pyspark.ml.linalg import Vectors

    name = "elementwise_product"
    column = _vector_in_out(data, input_col, output_col, component=name)
    if not scaling_vec:
        raise ValueError(f"{name}: params.scaling_vec must hold one weight per element, got {scaling_vec!r}")
    size = _vector_size(data, column)
    if size is not None and size != len(scaling_vec):
        raise ValueError(
            f"{name}: params.scaling_vec has {len(scaling_vec)} weights, but column {column!r} has {size} elements"
        )
    weights = Vectors.dense([float(v) for v in scaling_vec])
    return ElementwiseProduct(inputCol=column, outputCol=output_col, scalingVec=weights).transform(data)


@component(category="feature engineering", outputs={"data": Table})
def dct(
    ctx,
    data: Table,
    *,
    input_col: str = "features",
    output_col: str = "dct_features",
    inverse: bool = False,
):
    """Discrete cosine transform (orthonormal DCT-II) of a vector column, e.g. to turn a signal into frequencies.

    Args:
        data: the input table.
        input_col: the vector column to transform (read as a sequence, e.g. values over time).
        output_col: the new column for the transformed vector (same size).
        inverse: apply the inverse transform (DCT-III) instead.
    """
    from pyspark.ml.feature import DCT

    column = _vector_in_out(data, input_col, output_col, component="dct")
    return DCT(inputCol=column, outputCol=output_col, inverse=inverse).transform(data)


def _spark_message(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


@component(category="feature engineering", outputs={"data": Table, "model": Model})
def sql_feature(ctx, data: Table, *, statement: Annotated[str, Sql("query")]):
    """Derive features with a Spark SQL statement over ``__THIS__``, kept as a model for other tables.

    Unlike sql_transform, the statement becomes a model (Spark's SQLTransformer): ``predict``
    applies the same statement to test or scoring data, e.g.
    ``SELECT *, price / area AS price_per_m2 FROM __THIS__``.

    Args:
        data: the input table, visible to the statement as ``__THIS__``.
        statement: a SELECT statement that reads ``__THIS__``.
        model: the SQLTransformer, to apply the statement to other tables.
    """
    from pyspark.errors import AnalysisException, ParseException
    from pyspark.ml.feature import SQLTransformer

    if "__THIS__" not in statement:
        raise ValueError(f"sql_feature: params.statement must read the input table as __THIS__, got {statement!r}")
    model = SQLTransformer(statement=statement)
    try:
        out = model.transform(data)
    except (ParseException, AnalysisException) as exc:
        raise ValueError(f"sql_feature: params.statement {statement!r} is not valid: {_spark_message(exc)}") from exc
    return {"data": out, "model": model}


@component(category="feature engineering", outputs={"data": Table, "model": Model})
def r_formula(
    ctx,
    data: Table,
    *,
    formula: str,
    features_col: str = "features",
    label_col: str = "label",
    handle_invalid: Annotated[str, Options("error", "skip", "keep")] = "error",
    string_order_type: Annotated[
        str, Options("frequencyDesc", "frequencyAsc", "alphabetDesc", "alphabetAsc")
    ] = "frequencyDesc",
    force_index_label: bool = False,
):
    """Build the features vector and the label from an R model formula, e.g. ``bought ~ duration + city``.

    String columns are indexed and one-hot encoded (dropping the last category), numeric
    columns are used as they are. Supported: ``~`` (label ~ terms), ``+`` (add), ``-``
    (remove a term), ``.`` (every column but the label) and ``:`` (interaction). A string
    label is indexed to 0, 1, ...

    Args:
        data: the table to fit on and transform.
        formula: the R formula.
        features_col: the new features vector column.
        label_col: the label column to create.
        handle_invalid: what to do with nulls and with categories unseen when fitting: an extra
            category (``keep``), drop the row (``skip``) or fail (``error``).
        string_order_type: how a string column's values are ordered before indexing (the last is dropped).
        force_index_label: index the label even when it is numeric.
        model: the fitted RFormulaModel, to build the same features from other tables.
    """
    from pyspark.errors import AnalysisException, IllegalArgumentException, ParseException
    from pyspark.ml.feature import RFormula

    name = "r_formula"
    if "~" not in formula:
        raise ValueError(f"{name}: params.formula must have the form 'label ~ terms', got {formula!r}")
    if not features_col:
        raise ValueError(f"{name}: params.features_col must not be empty")
    _check_new_columns(data, [features_col], component=name, param="features_col")
    estimator = RFormula(
        formula=formula,
        featuresCol=features_col,
        labelCol=label_col,
        handleInvalid=handle_invalid,
        stringIndexerOrderType=string_order_type,
        forceIndexLabel=force_index_label,
    )
    try:
        model = fit_logged(ctx, estimator, data)
        out = model.transform(data)
    except (IllegalArgumentException, AnalysisException, ParseException) as exc:
        raise ValueError(f"{name}: params.formula {formula!r} does not fit the table: {_spark_message(exc)}") from exc
    return {"data": out, "model": model}


@component(category="feature engineering", outputs={"data": Table, "model": Model})
def target_encoder(
    ctx,
    data: Table,
    *,
    input_cols: list[str],
    label_col: str = "label",
    output_cols: list[str] | None = None,
    suffix: str = "_encoded",
    target_type: Annotated[str, Options("binary", "continuous")] = "binary",
    smoothing: Annotated[float, Interval(0.0, None)] = 0.0,
    handle_invalid: Annotated[str, Options("error", "keep")] = "keep",
):
    """Replace each category by the mean of the label over its rows (target / mean encoding).

    For a 0/1 label that is the category's share of 1s. Smoothing pulls small categories
    towards the overall mean: (n·mean_category + s·mean_all) / (n + s). The input columns hold
    category indices (index string columns with string_indexer first).

    Args:
        data: the table to fit on and transform.
        input_cols: the category-index columns to encode.
        label_col: the numeric label column.
        output_cols: names of the encoded columns, one per input column; empty means input name + suffix.
        suffix: appended to each input column's name when output_cols is empty.
        target_type: a 0/1 label (``binary``) or a numeric one (``continuous``).
        smoothing: how strongly categories are pulled towards the overall mean (0: not at all).
        handle_invalid: categories unseen when fitting get the overall mean (``keep``) or fail the run (``error``).
        model: the fitted TargetEncoderModel, to encode other tables with the same means.
    """
    from pyspark.ml.feature import TargetEncoder

    name = "target_encoder"
    inputs, outputs = _multi_in_out(data, input_cols, output_cols, suffix, component=name)
    for column in inputs:
        data_type = column_type(data, column)
        if not is_numeric(data_type):
            hint = " (index it with string_indexer first)" if data_type.simpleString() == "string" else ""
            raise ValueError(
                f"{name}: params.input_cols column {column!r} must hold numeric category indices, "
                f"but it is {data_type.simpleString()}{hint}"
            )
    (label,) = require_columns(data, [label_col], component=name, param="label_col")
    require_numeric(data, label, component=name, param="label_col")
    encoder = TargetEncoder(
        inputCols=inputs,
        outputCols=outputs,
        labelCol=label,
        targetType=target_type,
        smoothing=float(smoothing),
        handleInvalid=handle_invalid,
    )
    model = fit_logged(ctx, encoder, data, label_col=label)
    return {"data": model.transform(data), "model": model}


@component(category="feature engineering", outputs={"data": Table, "model": Model})
def vector_indexer(
    ctx,
    data: Table,
    *,
    input_col: str = "features",
    output_col: str = "indexed_features",
    max_categories: Annotated[int, Interval(2, None)] = 20,
    handle_invalid: Annotated[str, Options("error", "skip", "keep")] = "error",
):
    """Find the categorical elements of a feature vector and index their values 0, 1, ...

    An element with at most ``max_categories`` distinct values is taken as categorical; its
    values are renumbered (0.0 keeps index 0, the others follow in increasing order) and
    marked categorical in the vector's metadata, which tree learners read. Other elements pass
    through unchanged. The categorical elements are listed in the run report.

    Args:
        data: the table to fit on and transform.
        input_col: the features vector column.
        output_col: the new column for the indexed vector.
        max_categories: the most distinct values an element may have to be taken as categorical.
        handle_invalid: values of a categorical element unseen when fitting: an extra index
            (``keep``), drop the row (``skip``) or fail (``error``).
        model: the fitted VectorIndexerModel, to index other tables the same way.
    """
    from pyspark.ml.feature import VectorIndexer

    column = _vector_in_out(data, input_col, output_col, component="vector_indexer")
    indexer = VectorIndexer(
        inputCol=column, outputCol=output_col, maxCategories=max_categories, handleInvalid=handle_invalid
    )
    model = fit_logged(ctx, indexer, data)
    categorical = sorted(model.categoryMaps)
    ctx.details["categorical_features"] = categorical
    ctx.log.info("%s: categorical elements %s", ctx.node_id, categorical)
    return {"data": model.transform(data), "model": model}
