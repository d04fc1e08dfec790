"""Model components: apply a fitted model to a table, explain a tree model's features, save and
load models."""

from __future__ import annotations

from typing import Annotated, Any

from airflow_mlplat.components._common import require_columns, require_vector, resolve_column, vector_element_names
from airflow_mlplat.components.registry import component
from airflow_mlplat.components.spec import Model, Options, SchemaOnly, Table


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


@component(category="model", outputs={"importance": Table})
def feature_importance(ctx, model: Model, data: Table, *, features_col: str = "features", plots: bool = True):
    """The feature importances of a tree model, by feature name, most important first.

    The model is a tree ensemble or decision tree (GBDT, random forest), or a pipeline whose
    last stage with importances is used. Names come from the features vector's metadata
    (``vector_assembler`` records its input columns there). With ``plots``, also saves the
    ``feature_importance`` PNG: a horizontal bar chart of the (at most 30) most important features.

    Args:
        model: the fitted tree model (or a pipeline ending in one).
        data: a table with the features vector column the model was fitted on (e.g. the training table).
        features_col: the features vector column of ``data``.
        plots: save the bar chart PNG.
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
    names = vector_element_names(data, column, len(weights))
    order = sorted(range(len(weights)), key=lambda i: (-weights[i], i))
    rows = [(names[i], float(weights[i]), rank) for rank, i in enumerate(order, start=1)]
    if plots:
        ctx.save_figure(_importance_figure(rows[:_PLOTTED_FEATURES], type(tree).__name__), "feature_importance")
    return ctx.spark.createDataFrame(rows, "feature string, importance double, rank int")


_PLOTTED_FEATURES = 30


def _importance_figure(rows: list[tuple[str, float, int]], model_name: str) -> Any:
    """A horizontal bar chart of (feature, importance, rank) rows, the most important on top."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(7, 1.0 + 0.3 * max(len(rows), 1)))
    axes = figure.add_subplot()
    axes.barh([r[0] for r in reversed(rows)], [r[1] for r in reversed(rows)], color="tab:blue")
    axes.set_xlabel("importance")
    axes.set_title(f"feature importance ({model_name})")
    return figure


@component(category="model", outputs={"model": Model})
def save_model(ctx, model: Model, *, path: str, overwrite: bool = True):
    """Save a fitted model (any Spark ML model or pipeline) to a path, atomically.

    The model is written to a hidden temporary sibling first and moved into place, so a
    failure never leaves a half-written model at ``path``; load it back with ``load_model``.

    Args:
        model: the fitted model; the output ``model`` passes it on unchanged, so later nodes
            can use it once it is saved.
        path: where to save it: a local path or a file://, hdfs:// (or other Hadoop) URL.
        overwrite: replace a model already at ``path``; off fails instead.
    """
    from airflow_mlplat.engine.storage import atomic_spark_write

    name = "save_model"
    _check_transformer(model, name)
    if not path.strip():
        raise ValueError(f"{name}: params.path must not be empty")
    writer = getattr(model, "write", None)
    if writer is None:
        raise ValueError(f"{name}: input 'model' ({type(model).__name__}) cannot be saved (it has no Spark ML writer)")
    if not overwrite and _exists(ctx.spark, path):
        raise ValueError(f"{name}: params.path {path!r} already exists and params.overwrite is off")
    ctx.log.info("%s: saving %s to %s", ctx.node_id, type(model).__name__, path)
    atomic_spark_write(ctx.spark, path, lambda tmp: model.write().save(tmp))
    ctx.details["saved_to"] = path
    return model


def _exists(spark: Any, url: str) -> bool:
    jvm = spark.sparkContext._jvm
    hadoop_path = jvm.org.apache.hadoop.fs.Path(url)
    return bool(hadoop_path.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration()).exists(hadoop_path))


@component(category="model", outputs={"model": Model})
def load_model(ctx, *, path: str):
    """Load a saved Spark ML model (as ``save_model`` or a pipeline output writes it).

    The model's class is read from the saved metadata, so any Spark ML model, pipeline or
    xgboost.spark model loads without naming its type.

    Args:
        path: where the model is: a local path or a file://, hdfs:// (or other Hadoop) URL.
        model: the loaded model.
    """
    from airflow_mlplat.engine import storage

    name = "load_model"
    if not path.strip():
        raise ValueError(f"{name}: params.path must not be empty")
    if not _exists(ctx.spark, path):
        raise ValueError(f"{name}: params.path {path!r} does not exist")
    try:
        model = storage.load_model(ctx.spark, path)
    except Exception as exc:
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ValueError(f"{name}: params.path {path!r} holds no loadable Spark ML model: {message}") from exc
    ctx.log.info("%s: loaded %s from %s", ctx.node_id, type(model).__name__, path)
    return model


@component(category="model", outputs={"model": Model})
def pipeline_model(
    ctx,
    model: Model,
    prep_1: Model | None = None,
    prep_2: Model | None = None,
    prep_3: Model | None = None,
    vector_prep: Model | None = None,
    data: Annotated[Table | None, SchemaOnly] = None,
    *,
    assemble_cols: list[str] | None = None,
    features_col: str = "features",
    handle_invalid: Annotated[str, Options("error", "skip", "keep")] = "keep",
):
    """Compose fitted stages into one PipelineModel that goes from raw columns to predictions.

    The stages run in this order: ``prep_1``, ``prep_2``, ``prep_3`` (fitted column
    transformers such as ``imputer``, ``string_indexer``, ``one_hot_encoder``), a
    VectorAssembler of ``assemble_cols`` into ``features_col`` (when ``assemble_cols`` is
    set), ``vector_prep`` (a fitted vector transformer such as ``standard_scaler``), then
    ``model``. The result is what the model registry stores and the PMML export converts: one
    model whose input is the raw table. The stages' columns must chain: the vector that
    reaches ``model`` must be its features column. With ``data`` (a table with the raw
    columns, e.g. the held-out split), the composition is checked against its schema, which
    runs no Spark job. ``details`` lists the raw input columns.

    Args:
        model: the fitted predictor (classifier or regressor), or a fitted pipeline ending in one.
        prep_1: the first fitted column transformer.
        prep_2: the second fitted column transformer.
        prep_3: the third fitted column transformer.
        vector_prep: a fitted transformer of the assembled vector (a scaler, a selector).
        data: a table with the raw input columns to check the composed model against.
        assemble_cols: the columns to assemble into ``features_col``, in order; empty adds no assembler.
        features_col: the assembled vector column.
        handle_invalid: the assembler's treatment of null/NaN values: keep them as NaN, skip the row or fail.
        model: the composed PipelineModel.
    """
    from pyspark.ml import PipelineModel
    from pyspark.ml.feature import VectorAssembler

    from airflow_mlplat.components._stages import flat_stages, raw_input_columns, stage_inputs, stage_outputs

    name = "pipeline_model"

    def _check_stage(value: Any, port: str) -> None:
        from pyspark.ml import Transformer

        if not isinstance(value, Transformer):
            raise ValueError(f"{name}: input {port!r} must be a fitted Spark ML model, got {type(value).__name__}")

    stages: list[tuple[str, Any]] = []
    for port, value in (("prep_1", prep_1), ("prep_2", prep_2), ("prep_3", prep_3)):
        if value is not None:
            _check_stage(value, port)
            stages.append((port, value))
    if assemble_cols:
        assembler = VectorAssembler(inputCols=list(assemble_cols), outputCol=features_col, handleInvalid=handle_invalid)
        stages.append(("assembler", assembler))
    for port, value in (("vector_prep", vector_prep), ("model", model)):
        if value is not None:
            _check_stage(value, port)
            stages.append((port, value))
    if assemble_cols:
        # The vector must flow from the assembler through vector_prep into the model.
        vector = features_col
        for port, stage in stages[[p for p, _ in stages].index("assembler") + 1 :]:
            first = flat_stages(stage)[0]
            if vector not in stage_inputs(first):
                raise ValueError(
                    f"{name}: input {port!r} ({type(first).__name__}) reads {stage_inputs(first)}, not the "
                    f"vector {vector!r} made before it; make params.features_col and the stages' columns chain"
                )
            vector = next(iter(stage_outputs(flat_stages(stage)[-1])), vector)
    composed = PipelineModel(stages=[stage for _, stage in stages])
    raw = raw_input_columns(composed)
    if data is not None:
        missing = [column for column in raw if resolve_column(data, column) is None]
        if missing:
            raise ValueError(
                f"{name}: input 'data' lacks column(s) {missing}, which the composed model reads "
                f"(its columns: {', '.join(data.columns)})"
            )
        try:
            composed.transform(data.limit(0)).schema  # noqa: B018 - analysis only, no job
        except Exception as exc:
            message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ValueError(f"{name}: the composed stages do not apply to input 'data': {message}") from exc
    ctx.details["stages"] = [f"{port}: {type(stage).__name__}" for port, stage in stages]
    ctx.details["raw_input_columns"] = raw
    ctx.log.info("%s: composed %d stages reading %s", ctx.node_id, len(stages), ", ".join(raw))
    return composed
