"""Reading a fitted Spark ML model's stages: which columns it reads, writes and predicts.

Shared by ``pipeline_model`` (composition checks), the PMML export and the model registry
(signature). Nothing here imports Spark at module level.
"""

from __future__ import annotations

from typing import Any

_INPUT_PARAMS = ("inputCol", "featuresCol")
_INPUT_LIST_PARAMS = ("inputCols",)
_OUTPUT_PARAMS = ("outputCol", "predictionCol", "probabilityCol", "rawPredictionCol", "leafCol", "varianceCol")
_OUTPUT_LIST_PARAMS = ("outputCols",)


def flat_stages(model: Any) -> list[Any]:
    """The stages of a model in order, nested pipeline models flattened; a plain model is one stage."""
    from pyspark.ml import PipelineModel

    if isinstance(model, PipelineModel):
        return [stage for inner in model.stages for stage in flat_stages(inner)]
    return [model]


def _param(stage: Any, name: str) -> Any:
    if stage.hasParam(name) and stage.isDefined(name):
        value = stage.getOrDefault(name)
        return value if value not in ("", None) else None
    return None


def stage_inputs(stage: Any) -> list[str]:
    """The columns one stage reads."""
    columns = [value for name in _INPUT_PARAMS if (value := _param(stage, name))]
    for name in _INPUT_LIST_PARAMS:
        columns.extend(_param(stage, name) or [])
    return columns


def stage_outputs(stage: Any) -> list[str]:
    """The columns one stage writes."""
    columns = [value for name in _OUTPUT_PARAMS if (value := _param(stage, name))]
    for name in _OUTPUT_LIST_PARAMS:
        columns.extend(_param(stage, name) or [])
    return columns


def raw_input_columns(model: Any) -> list[str]:
    """The columns a model reads from its input table (not made by an earlier stage), in first-use order."""
    produced: set[str] = set()
    raw: list[str] = []
    for stage in flat_stages(model):
        for column in stage_inputs(stage):
            if column not in produced and column not in raw:
                raw.append(column)
        produced.update(stage_outputs(stage))
    return raw


def predictor(model: Any) -> Any | None:
    """The model's last stage that predicts (has a ``predictionCol``), or None."""
    return next((s for s in reversed(flat_stages(model)) if _param(s, "predictionCol")), None)


def label_column(model: Any) -> str | None:
    """The label column the model's predictor was fitted on, or None."""
    last = predictor(model)
    return _param(last, "labelCol") if last is not None else None


def probability_column(model: Any) -> str | None:
    """The probability vector column of a classifier's predictor, or None (regressors, clusterers)."""
    last = predictor(model)
    return _param(last, "probabilityCol") if last is not None else None
