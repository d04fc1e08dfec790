"""Feature-engineering components: scaling, bucketing, indexing, one-hot encoding, assembling.

The estimators return both the transformed table and the fitted Spark model, so the same
transformation can be applied to other data (test data, scoring data) with ``predict``.
"""

from __future__ import annotations

from typing import Annotated, Any

from airflow_mlplat.components._common import (
    column_type,
    fit_logged,
    is_numeric,
    is_vector,
    output_names,
    require_columns,
    require_nonempty,
    require_numeric,
    require_unique,
    require_vector,
)
from airflow_mlplat.components.registry import component
from airflow_mlplat.components.spec import Interval, Model, Options, Table


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
