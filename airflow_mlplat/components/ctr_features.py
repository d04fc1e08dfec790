"""Features for the deep ranking models: ``ctr_feature_encoder`` fits a feature map on Spark.

Preprocessing scales with Spark: the vocabularies are one ``groupBy`` over every categorical
value and sequence item, the normalisers one aggregation, the bucket boundaries one
``approxQuantile``. Encoding runs on the executors with the same numpy code the trainer and the
prediction service use (``airflow_mlplat.ranking.feature_map``); the trainer only reads the
encoded Parquet. See ``FeatureMap`` for the encoding rules (index 0 missing or padding, 1
out-of-vocabulary).
"""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any

from airflow_mlplat.components._common import quote, require_columns, require_numeric
from airflow_mlplat.components.registry import component
from airflow_mlplat.components.spec import Interval, Model, Options, Table

_NAME = "ctr_feature_encoder"


def _check_lists(data: Any, lists: dict[str, list[str]]) -> dict[str, list[str]]:
    resolved: dict[str, list[str]] = {}
    owner: dict[str, str] = {}
    for param, columns in lists.items():
        resolved[param] = require_columns(data, columns, component=_NAME, param=param)
        for column in resolved[param]:
            if column in owner:
                raise ValueError(
                    f"{_NAME}: column {column!r} is named by both params.{owner[column]} and params.{param}"
                )
            owner[column] = param
    return resolved


def _check_categorical(data: Any, column: str, param: str) -> None:
    from pyspark.sql import types as T

    data_type = data.schema[column].dataType
    if isinstance(data_type, (T.ArrayType,)):
        raise ValueError(f"{_NAME}: params.{param} column {column!r} is an array; list it in sequence_cols")
    if isinstance(data_type, (T.FloatType, T.DoubleType, T.DecimalType)):
        raise ValueError(
            f"{_NAME}: params.{param} column {column!r} is {data_type.simpleString()}; a categorical column must be "
            "a string, integer or boolean (list a number in numeric_cols or bucketize_cols instead)"
        )


def _sequence_items(data: Any, column: str, separator: str) -> Any:
    """The column as ``array<string>`` (a delimited string is split on ``separator``, literally)."""
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    data_type = data.schema[column].dataType
    if isinstance(data_type, T.ArrayType):
        if isinstance(data_type.elementType, (T.FloatType, T.DoubleType, T.DecimalType, T.ArrayType, T.StructType)):
            raise ValueError(
                f"{_NAME}: params.sequence_cols column {column!r} is {data_type.simpleString()}; "
                "its items must be strings, integers or booleans"
            )
        return F.transform(F.col(quote(column)), lambda item: item.cast("string"))
    if isinstance(data_type, T.StringType):
        return F.split(F.col(quote(column)), "\\Q" + separator.replace("\\E", "\\E\\\\E\\Q") + "\\E")
    raise ValueError(
        f"{_NAME}: params.sequence_cols column {column!r} is {data_type.simpleString()}; "
        "a sequence is an array or a delimited string"
    )


def _tagged(field: str) -> Any:
    from pyspark.sql import functions as F

    return lambda item: F.struct(F.lit(field).alias("f"), item.alias("v"))


@component(category="feature engineering", outputs={"data": Table, "model": Model})
def ctr_feature_encoder(
    ctx,
    data: Table,
    *,
    categorical_cols: list[str] | None = None,
    numeric_cols: list[str] | None = None,
    bucketize_cols: list[str] | None = None,
    sequence_cols: list[str] | None = None,
    share_vocabulary: dict[str, str] | None = None,
    label_cols: list[str] | None = None,
    passthrough_cols: list[str] | None = None,
    min_count: Annotated[int, Interval(1, None)] = 1,
    normalizer: Annotated[str, Options("standard", "minmax")] = "standard",
    num_buckets: Annotated[int, Interval(2, 1000)] = 10,
    max_sequence_length: Annotated[int, Interval(1, 1000)] = 20,
    sequence_separator: str = ",",
):
    """Encode raw click-log columns for the deep ranking models and fit their feature map.

    Categorical values become indices (values seen fewer than ``min_count`` times share the
    out-of-vocabulary index 1; missing is 0; the rest from 2, most frequent first); numeric
    columns are normalised (``numeric_cols``) or cut into ``num_buckets`` quantile buckets that
    are then indexed (``bucketize_cols``); behaviour sequences (arrays, or delimited strings,
    oldest first) keep their last ``max_sequence_length`` items as indices, padded with 0.
    The feature map (field, kind, vocabulary size, vocabulary) travels inside ``model``:
    ``predict`` with it encodes other tables (the test split, new days) exactly the same way,
    and the ranking trainer and the prediction service read it from the saved model's
    ``feature_map.json``.

    Args:
        data: the raw table.
        categorical_cols: string, integer or boolean columns to index.
        numeric_cols: numeric columns to normalise (missing values become 0, the mean after standardising).
        bucketize_cols: numeric columns to cut into quantile buckets and index.
        sequence_cols: behaviour-sequence columns (arrays, or strings split on sequence_separator).
        share_vocabulary: sequence column -> the categorical column whose vocabulary it uses
            (a user's clicked items and the target item; both columns' values build it).
        label_cols: 0/1 label columns (one per task), copied as floats. Default: ["label"].
        passthrough_cols: columns copied unchanged (ids, known true probabilities for evaluation).
        min_count: the fewest occurrences a value needs for its own index.
        normalizer: standard (mean 0, standard deviation 1) or minmax (0 to 1) for numeric_cols.
        num_buckets: the number of quantile buckets of each bucketize_cols column.
        max_sequence_length: the encoded length of every sequence column.
        sequence_separator: the delimiter of sequences held as strings.
        model: the fitted encoder (its feature map); apply it with predict.
    """
    from pyspark.sql import functions as F

    from airflow_mlplat.components._ctr_encoder_model import CtrFeatureEncoderModel
    from airflow_mlplat.ranking.feature_map import FeatureMap, FieldSpec, categorical_field

    lists = _check_lists(
        data,
        {
            "categorical_cols": list(categorical_cols or []),
            "numeric_cols": list(numeric_cols or []),
            "bucketize_cols": list(bucketize_cols or []),
            "sequence_cols": list(sequence_cols or []),
            "label_cols": list(label_cols or ["label"]),
            "passthrough_cols": list(passthrough_cols or []),
        },
    )
    categorical, numeric, buckets = lists["categorical_cols"], lists["numeric_cols"], lists["bucketize_cols"]
    sequences, labels = lists["sequence_cols"], lists["label_cols"]
    if not (categorical or numeric or buckets or sequences):
        raise ValueError(
            f"{_NAME}: name at least one column in categorical_cols, numeric_cols, bucketize_cols or sequence_cols"
        )
    for column in categorical:
        _check_categorical(data, column, "categorical_cols")
    for param in ("numeric_cols", "bucketize_cols", "label_cols"):
        for column in lists[param]:
            require_numeric(data, column, component=_NAME, param=param, allow_boolean=param == "label_cols")
    shared: dict[str, str] = {}
    for sequence, source in (share_vocabulary or {}).items():
        if sequence not in sequences:
            raise ValueError(f"{_NAME}: params.share_vocabulary names {sequence!r}, which is not in sequence_cols")
        if source not in categorical:
            raise ValueError(
                f"{_NAME}: params.share_vocabulary maps {sequence!r} to {source!r}, which is not in categorical_cols"
            )
        shared[sequence] = source

    # Vocabularies: one job counts every categorical value and sequence item.
    values = [F.array(*[F.struct(F.lit(c).alias("f"), F.col(quote(c)).cast("string").alias("v")) for c in categorical])]
    for sequence in sequences:
        owner = shared.get(sequence, sequence)
        items = _sequence_items(data, sequence, sequence_separator)
        # One-argument lambdas only: Spark reads a second argument as the item's position.
        values.append(F.transform(items, _tagged(owner)))
    counts: dict[str, list[tuple[str, int]]] = {c: [] for c in categorical + sequences}
    if categorical or sequences:
        exploded = data.select(
            F.explode(F.flatten(F.filter(F.array(*values), lambda part: part.isNotNull()))).alias("x")
        ).select("x.f", "x.v")
        rows = exploded.where(F.col("v").isNotNull() & (F.col("v") != "")).groupBy("f", "v").count().collect()
        for row in rows:
            counts[row["f"]].append((row["v"], int(row["count"])))
    ctx.log.info("%s: counted the values of %d fields", ctx.node_id, len(categorical) + len(sequences))

    stats: dict[str, Any] = {}
    if numeric:
        aggregates = []
        for c in numeric:
            col = F.col(quote(c)).cast("double")
            if normalizer == "standard":
                aggregates += [
                    F.avg(col).alias(f"a{len(aggregates)}"),
                    F.stddev_pop(col).alias(f"a{len(aggregates) + 1}"),
                ]
            else:
                aggregates += [F.min(col).alias(f"a{len(aggregates)}"), F.max(col).alias(f"a{len(aggregates) + 1}")]
        row = data.agg(*aggregates).first()
        for i, c in enumerate(numeric):
            first, second = row[2 * i], row[2 * i + 1]
            center = float(first) if first is not None else 0.0
            if normalizer == "standard":
                scale = float(second) if second else 1.0
            else:
                scale = float(second) - center if second is not None and float(second) > center else 1.0
            stats[c] = (center, scale)
    boundaries: dict[str, tuple[float, ...]] = {}
    if buckets:
        probabilities = [i / num_buckets for i in range(1, num_buckets)]
        quantiles = data.select([F.col(quote(c)).cast("double").alias(c) for c in buckets]).approxQuantile(
            buckets, probabilities, 0.001
        )
        for c, cuts in zip(buckets, quantiles, strict=True):
            boundaries[c] = tuple(sorted({float(x) for x in cuts}))

    fields = []
    for c in data.columns:
        if c in categorical:
            fields.append(categorical_field(c, counts[c], min_count))
        elif c in numeric:
            fields.append(
                FieldSpec(name=c, kind="numeric", normalizer=normalizer, center=stats[c][0], scale=stats[c][1])
            )
        elif c in buckets:
            fields.append(FieldSpec(name=c, kind="categorical", boundaries=boundaries[c]))
        elif c in sequences:
            separator = sequence_separator if data.schema[c].dataType.simpleString() == "string" else None
            if c in shared:
                spec = FieldSpec(
                    name=c, kind="sequence", max_length=max_sequence_length, share_vocabulary_with=shared[c]
                )
            else:
                vocabulary = categorical_field(c, counts[c], min_count)
                spec = FieldSpec(
                    name=c,
                    kind="sequence",
                    vocabulary=vocabulary.vocabulary,
                    min_count=min_count,
                    max_length=max_sequence_length,
                )
            fields.append(dataclasses.replace(spec, separator=separator))
    feature_map = FeatureMap(fields=tuple(fields), labels=tuple(labels), passthrough=tuple(lists["passthrough_cols"]))
    ctx.details["fields"] = {
        spec.name: {"kind": spec.kind, "vocab_size": spec.vocab_size} for spec in feature_map.fields
    }
    model = CtrFeatureEncoderModel(feature_map.to_json())
    return {"data": model.transform(data), "model": model}
