"""Score a saved Spark ``PipelineModel`` straight from its files: no Spark session, no pyspark import.

Usage::

    scorer = SparkFileScorer.load("path/to/sparkml", input_types={"x": "double", "s": "string"})
    scorer.predict([{"x": 1.5, "s": "a"}])   # [{"prediction": 1.0, "probability": [0.2, 0.8]}]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from airflow_mlplat.serving.errors import UnsupportedModelError
from airflow_mlplat.serving.frame import Frame
from airflow_mlplat.serving.online import ONLINE_FEATURE_STAGES, ONLINE_PREDICTORS
from airflow_mlplat.serving.predictors import PREDICTORS
from airflow_mlplat.serving.spark_files import read_pipeline
from airflow_mlplat.serving.stages import FEATURE_STAGES, Apply

PREDICTOR_STAGES = {**PREDICTORS, **ONLINE_PREDICTORS}
SUPPORTED_STAGES = {**FEATURE_STAGES, **ONLINE_FEATURE_STAGES, **PREDICTOR_STAGES}


class SparkFileScorer:
    """A PipelineModel's stages compiled to numpy functions.

    :param stages: ``(description, apply)`` pairs in pipeline order.
    :param input_types: input column -> Spark type name (``double``, ``long``, ``string``...).
    :param outputs: the columns returned per row (prediction, probability... of the last predictor).
    """

    def __init__(self, stages: list[tuple[str, Apply]], input_types: Mapping[str, str], outputs: dict[str, str]):
        self.stages = stages
        self.input_types = dict(input_types)
        self.outputs = outputs

    @classmethod
    def load(cls, path: str | Path, input_types: Mapping[str, str]) -> SparkFileScorer:
        """Read the saved model at ``path``.

        :raises UnsupportedModelError: a stage's class is not implemented (names stage index and class).
        """
        compiled: list[tuple[str, Apply]] = []
        outputs: dict[str, str] = {}
        for stage in read_pipeline(path):
            builder = SUPPORTED_STAGES.get(stage.short_class)
            if builder is None:
                raise UnsupportedModelError(
                    f"{stage.describe()} of the model at {path}: {stage.class_name} is not supported by the file "
                    f"scorer (supported: {', '.join(sorted(SUPPORTED_STAGES))})"
                )
            compiled.append((stage.describe(), builder(stage)))
            if stage.short_class in PREDICTOR_STAGES:
                params = stage.params
                outputs = {
                    key: params.get(col, default)
                    for key, col, default in (
                        ("prediction", "predictionCol", "prediction"),
                        ("probability", "probabilityCol", ""),
                    )
                    if params.get(col, default)
                }
                if stage.short_class.endswith("RegressionModel") and not stage.short_class.startswith("Logistic"):
                    outputs.pop("probability", None)
        if not outputs:
            raise UnsupportedModelError(f"the model at {path} has no classifier or regressor stage")
        return cls(compiled, input_types, outputs)

    def transform(self, rows: Sequence[Mapping[str, Any]]) -> Frame:
        """Run every stage on ``rows``; the frame holds all columns, as Spark's ``transform`` would."""
        return self.transform_frame(Frame.from_rows(rows, self.input_types))

    def transform_frame(self, frame: Frame) -> Frame:
        """Run every stage on a batch already in columns (e.g. :meth:`Frame.from_arrow`)."""
        for _, apply in self.stages:
            apply(frame)
        return frame

    def predict(self, rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any] | None]:
        """One dict per row (``prediction`` and, for classifiers, ``probability``); ``None`` for a skipped row.

        :raises InvalidInputError: a stage with ``handleInvalid="error"`` met an invalid value.
        """
        frame = self.transform(rows)
        columns = {key: frame.columns[col] for key, col in self.outputs.items()}
        kept = frame.kept
        result: list[dict[str, Any] | None] = []
        listed = {key: values.tolist() for key, values in columns.items()}
        for i in range(frame.size):
            result.append({key: values[i] for key, values in listed.items()} if kept[i] else None)
        return result

    def predict_frame(self, frame: Frame) -> dict[str, np.ndarray]:
        """The output columns (``prediction``, ``probability``...) and ``kept`` for a columnar batch."""
        frame = self.transform_frame(frame)
        return {key: frame.columns[col] for key, col in self.outputs.items()} | {"kept": frame.kept}
