"""Model components: apply a fitted model to a table, explain a tree model's features."""

from __future__ import annotations

from typing import Any

from airflow_mlplat.components._common import require_columns, require_vector, resolve_column
from airflow_mlplat.components.registry import component
from airflow_mlplat.components.spec import Model, Table


def _check_transformer(model: Any, component: str) -> None:
    from pyspark.ml import Transformer

    if not isinstance(model, Transformer):
        raise ValueError(f"{component}: input 'model' must be a fitted Spark ML model, got {type(model).__name__}")


def _stages(model: Any) -> list[Any]:
    from pyspark.ml import PipelineModel

    if isinstance(model, PipelineModel):
        return [stage for inner in model.stages for stage in _stages(inner)]
    return [model]


def _input_columns(stage: Any) -> list[str]:
    columns: list[str] = []
    for param in ("featuresCol", "inputCol"):
        if stage.hasParam(param) and stage.isDefined(param):
            columns.append(stage.getOrDefault(param))
    if stage.hasParam("inputCols") and stage.isDefined("inputCols"):
        columns.extend(stage.getOrDefault("inputCols"))
    return columns


@component(category="model", outputs={"data": Table})
def predict(ctx, model: Model, data: Table, *, score_col: str = "score"):
    """Apply a fitted model (classifier, regressor, feature transformer or pipeline) to a table.

    For a binary classifier the output also gets ``score_col``: P(class 1) as a double, read
    from the probability vector, ready for ranking, thresholds and evaluation.

    Args:
        model: the fitted model.
        data: the table to apply it to; it needs the columns the model was fitted on.
        score_col: binary classifiers: the name of the P(class 1) column to add; empty adds none.
    """
    from pyspark.ml.functions import vector_to_array
    from pyspark.sql import functions as F

    _check_transformer(model, "predict")
    stages = _stages(model)
    first = stages[0] if stages else model
    for column in _input_columns(first):
        if resolve_column(data, column) is None:
            raise ValueError(
                f"predict: input 'data' has no column {column!r}, which the model "
                f"({type(first).__name__}) reads (its columns: {', '.join(data.columns)})"
            )
    out = model.transform(data)
    last = stages[-1] if stages else model
    probability = None
    if getattr(last, "numClasses", None) == 2 and last.hasParam("probabilityCol"):
        probability = last.getOrDefault("probabilityCol")
    if score_col and probability and probability in out.columns:
        out = out.withColumn(score_col, vector_to_array(F.col(probability))[1])
    return out


def _feature_names(data: Any, features_col: str, size: int) -> list[str]:
    """Names of the vector's elements from its ``ml_attr`` metadata; ``<features_col>_<i>`` where unknown."""
    names = [f"{features_col}_{i}" for i in range(size)]
    attrs = data.schema[features_col].metadata.get("ml_attr", {}).get("attrs", {})
    for group in attrs.values():
        for attr in group:
            index = attr.get("idx")
            if isinstance(index, int) and 0 <= index < size and attr.get("name"):
                names[index] = attr["name"]
    return names


@component(category="model", outputs={"importance": Table})
def feature_importance(ctx, model: Model, data: Table, *, features_col: str = "features"):
    """The feature importances of a tree model, by feature name, most important first.

    The model is a tree ensemble or decision tree (GBDT, random forest), or a pipeline whose
    last stage with importances is used. Names come from the features vector's metadata
    (``vector_assembler`` records its input columns there).

    Args:
        model: the fitted tree model (or a pipeline ending in one).
        data: a table with the features vector column the model was fitted on (e.g. the training table).
        features_col: the features vector column of ``data``.
        importance: a table of ``feature`` (string), ``importance`` (double, summing to 1) and
            ``rank`` (int, 1 = most important).
    """
    _check_transformer(model, "feature_importance")
    tree = next((stage for stage in reversed(_stages(model)) if hasattr(stage, "featureImportances")), None)
    if tree is None:
        raise ValueError(
            f"feature_importance: input 'model' ({type(model).__name__}) has no featureImportances; "
            "use a tree model (gbdt_classifier, random_forest_classifier, gbdt_regressor, random_forest_regressor)"
        )
    (column,) = require_columns(data, [features_col], component="feature_importance", param="features_col")
    require_vector(data, column, component="feature_importance", param="features_col")
    weights = tree.featureImportances.toArray().tolist()
    names = _feature_names(data, column, len(weights))
    order = sorted(range(len(weights)), key=lambda i: (-weights[i], i))
    rows = [(names[i], float(weights[i]), rank) for rank, i in enumerate(order, start=1)]
    return ctx.spark.createDataFrame(rows, "feature string, importance double, rank int")
