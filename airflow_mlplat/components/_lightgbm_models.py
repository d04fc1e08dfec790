"""Spark ML models backed by a LightGBM booster, as ``fast_gbdt_classifier``/``fast_gbdt_regressor`` train them.

They are ordinary pyspark.ml Models, so ``predict``, ``feature_importance``, pipelines and
the engine's storage treat them like Spark's own tree models:

- ``transform`` scores on the executors: the booster's text travels once per transform as a
  broadcast and each task parses it once, then scores Arrow batches with an Arrow UDF. The
  classifier adds ``rawPrediction`` (``[-margin, margin]`` for two classes, the class margins
  otherwise), ``probability`` (``[1 - p, p]``, or the softmax) and ``prediction`` like Spark's
  classifiers; the regressor adds ``prediction``;
- ``featureImportances``: the total split gain per feature, normalised to sum 1, as a dense
  Spark Vector;
- ``write().save(path)`` writes Spark's usual ``metadata/`` (``DefaultParamsWriter``) and the
  LightGBM model text under ``model/`` (a plain text file LightGBM itself can load), so
  ``DefaultParamsReader.loadParamsInstance(path, sc)`` and ``cls.load(path)`` read it back, on
  any filesystem Spark can write.

Imported only when such a model is trained or loaded: it imports pyspark at module
level (lightgbm, numpy and pyarrow inside the functions that need them).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import Any

from pyspark.ml import Model
from pyspark.ml.functions import array_to_vector, vector_to_array
from pyspark.ml.linalg import Vector, Vectors
from pyspark.ml.param.shared import HasFeaturesCol, HasPredictionCol, HasProbabilityCol, HasRawPredictionCol
from pyspark.ml.util import DefaultParamsReader, DefaultParamsWriter, MLReadable, MLReader, MLWritable, MLWriter
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

#: The folder under a saved model's path that holds the LightGBM model text.
MODEL_TEXT_DIR = "model"


def _quote(column: str) -> str:
    return "`" + column.replace("`", "``") + "`"


def _score_function(model_text: Any, num_features: int, classifier: bool) -> Any:
    """An Arrow UDF scoring an ``array<double>`` features column with the broadcast booster text.

    Self-contained (it refers to no module globals), so executors need lightgbm, numpy and
    pyarrow, but not this package. Each task parses the booster once, then scores its Arrow
    batches: a batch's features are one flat Arrow buffer viewed as a row-major matrix, with
    no per-row Python objects (the pandas UDF this replaces stacked one array per row).
    """
    from pyspark.sql.functions import ArrowUDFType, arrow_udf
    from pyspark.sql.types import ArrayType, DoubleType, StructField, StructType

    def margins_of(batches: Iterator[Any]) -> Iterator[Any]:
        import lightgbm
        import numpy as np

        booster = lightgbm.Booster(model_str=model_text.value)
        per_row = int(booster.num_model_per_iteration())
        for features in batches:
            rows = len(features)
            if not rows:
                yield np.empty((0,) if per_row == 1 else (0, per_row), dtype=np.float64)
                continue
            flat = features.flatten()
            if features.null_count or len(flat) != rows * num_features:
                raise ValueError(
                    f"LightGBM scoring: every features vector must have {num_features} values and none may be null"
                )
            matrix = flat.to_numpy(zero_copy_only=False).reshape(rows, num_features)
            yield np.asarray(booster.predict(matrix, raw_score=True, num_threads=1), dtype=np.float64)

    def fixed_lists(values: Any, width: int) -> Any:
        import numpy as np
        import pyarrow as pa

        offsets = pa.array(np.arange(0, (len(values) // width + 1) * width, width, dtype=np.int32))
        return pa.ListArray.from_arrays(offsets, pa.array(values, type=pa.float64()))

    def regress(batches: Iterator[Any]) -> Iterator[Any]:
        import pyarrow as pa

        for margins in margins_of(batches):
            yield pa.array(margins.reshape(-1), type=pa.float64())

    def classify(batches: Iterator[Any]) -> Iterator[Any]:
        import numpy as np
        import pyarrow as pa

        for margins in margins_of(batches):
            if margins.ndim == 1:
                probability = 1.0 / (1.0 + np.exp(-margins))
                raw = np.column_stack([-margins, margins])
                probabilities = np.column_stack([1.0 - probability, probability])
            else:
                raw = margins
                shifted = np.exp(margins - margins.max(axis=1, keepdims=True))
                probabilities = shifted / shifted.sum(axis=1, keepdims=True)
            width = raw.shape[1]
            yield pa.StructArray.from_arrays(
                [
                    fixed_lists(np.ascontiguousarray(raw).reshape(-1), width),
                    fixed_lists(np.ascontiguousarray(probabilities).reshape(-1), width),
                    pa.array(probabilities.argmax(axis=1).astype(np.float64), type=pa.float64()),
                ],
                names=["raw", "probability", "prediction"],
            )

    with warnings.catch_warnings():
        # The closures are self-contained for pickling, so their kind is given, not read from type hints.
        warnings.filterwarnings("ignore", message="It is preferred to specify type hints", category=UserWarning)
        if classifier:
            scores = StructType(
                [
                    StructField("raw", ArrayType(DoubleType())),
                    StructField("probability", ArrayType(DoubleType())),
                    StructField("prediction", DoubleType()),
                ]
            )
            return arrow_udf(classify, scores, ArrowUDFType.SCALAR_ITER)
        return arrow_udf(regress, DoubleType(), ArrowUDFType.SCALAR_ITER)


class _LightGBMModel(Model, HasFeaturesCol, HasPredictionCol, MLReadable, MLWritable):
    """A fitted LightGBM booster as a Spark ML Model (see the module docstring)."""

    _classifier = False

    def __init__(self, model_text: str = "") -> None:
        super().__init__()
        self._model_text = model_text
        self._booster: Any = None
        self._broadcast: Any = None

    # -- the booster ---------------------------------------------------------------------

    def modelText(self) -> str:  # noqa: N802 (Spark-style accessor)
        """The LightGBM model text (what ``Booster.model_to_string`` returns)."""
        return self._model_text

    @property
    def booster(self) -> Any:
        """The ``lightgbm.Booster`` on the driver (parsed once, on first use)."""
        if self._booster is None:
            import lightgbm

            self._booster = lightgbm.Booster(model_str=self._model_text)
        return self._booster

    @property
    def numFeatures(self) -> int:  # noqa: N802 (Spark's name)
        return int(self.booster.num_feature())

    @property
    def featureImportances(self) -> Vector:  # noqa: N802 (Spark's name)
        """Total split gain per feature, normalised to sum 1 (all zeros for a model without splits)."""
        gains = [float(g) for g in self.booster.feature_importance(importance_type="gain")]
        total = sum(gains)
        return Vectors.dense([g / total for g in gains] if total > 0 else gains)

    def setFeaturesCol(self, value: str) -> _LightGBMModel:  # noqa: N802 (Spark's name)
        return self._set(featuresCol=value)

    def setPredictionCol(self, value: str) -> _LightGBMModel:  # noqa: N802 (Spark's name)
        return self._set(predictionCol=value)

    # -- scoring -------------------------------------------------------------------------

    def _model_broadcast(self, dataset: DataFrame) -> Any:
        context = dataset.sparkSession.sparkContext
        if self._broadcast is None or getattr(self._broadcast, "_mlplat_context", None) is not context:
            self._broadcast = context.broadcast(self._model_text)
            self._broadcast._mlplat_context = context
        return self._broadcast

    def _scores(self, dataset: DataFrame) -> Any:
        features = self.getFeaturesCol()
        if features not in dataset.columns:
            raise ValueError(
                f"{type(self).__name__}: the table has no features column {features!r} "
                f"(its columns: {', '.join(dataset.columns)})"
            )
        score = _score_function(self._model_broadcast(dataset), self.numFeatures, self._classifier)
        return score(vector_to_array(F.col(_quote(features)), "float64"))

    def _transform(self, dataset: DataFrame) -> DataFrame:
        prediction = self.getPredictionCol()
        if not prediction:
            return dataset
        return dataset.withColumn(prediction, self._scores(dataset))

    # -- persistence ---------------------------------------------------------------------

    def write(self) -> MLWriter:
        return _LightGBMModelWriter(self)

    @classmethod
    def read(cls) -> MLReader:
        return _LightGBMModelReader(cls)


class LightGBMClassificationModel(_LightGBMModel, HasProbabilityCol, HasRawPredictionCol):
    """A binary or multiclass LightGBM classifier as a Spark ML Model."""

    _classifier = True

    @property
    def numClasses(self) -> int:  # noqa: N802 (Spark's name)
        """The number of classes (2 for a binary model: one tree per round)."""
        return max(2, int(self.booster.num_model_per_iteration()))

    def setProbabilityCol(self, value: str) -> LightGBMClassificationModel:  # noqa: N802 (Spark's name)
        return self._set(probabilityCol=value)

    def setRawPredictionCol(self, value: str) -> LightGBMClassificationModel:  # noqa: N802 (Spark's name)
        return self._set(rawPredictionCol=value)

    def _transform(self, dataset: DataFrame) -> DataFrame:
        outputs = {
            self.getRawPredictionCol(): "raw",
            self.getProbabilityCol(): "probability",
            self.getPredictionCol(): "prediction",
        }
        outputs = {column: field for column, field in outputs.items() if column}
        if not outputs:
            return dataset
        scores = "__lightgbm_scores"
        while scores in dataset.columns:
            scores = "_" + scores
        scored = dataset.withColumn(scores, self._scores(dataset))
        for column, field in outputs.items():
            value = F.col(scores)[field]
            scored = scored.withColumn(column, value if field == "prediction" else array_to_vector(value))
        return scored.drop(scores)


class LightGBMRegressionModel(_LightGBMModel):
    """A LightGBM regressor as a Spark ML Model."""


class _LightGBMModelWriter(MLWriter):
    def __init__(self, instance: _LightGBMModel) -> None:
        super().__init__()
        self.instance = instance

    def saveImpl(self, path: str) -> None:  # noqa: N802 (Spark's name)
        import lightgbm

        DefaultParamsWriter.saveMetadata(
            self.instance,
            path,
            self.sc,
            extraMetadata={"lightgbmVersion": lightgbm.__version__, "numFeatures": self.instance.numFeatures},
        )
        lines = self.instance.modelText().split("\n")
        self.sc.parallelize(lines, 1).saveAsTextFile(f"{path.rstrip('/')}/{MODEL_TEXT_DIR}")


class _LightGBMModelReader(MLReader):
    def __init__(self, cls: type[_LightGBMModel]) -> None:
        super().__init__()
        self.cls = cls

    def load(self, path: str) -> _LightGBMModel:
        metadata = DefaultParamsReader.loadMetadata(path, self.sc, f"{self.cls.__module__}.{self.cls.__name__}")
        lines = self.sc.textFile(f"{path.rstrip('/')}/{MODEL_TEXT_DIR}", 1).collect()
        instance = self.cls("\n".join(lines))
        DefaultParamsReader.getAndSetParams(instance, metadata)
        instance._resetUid(metadata["uid"])
        return instance
