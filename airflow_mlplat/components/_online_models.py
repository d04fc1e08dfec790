"""Spark ML models whose state is numpy arrays: ``FtrlModel`` and ``OnlineStandardScalerModel``.

``write().save(path)`` writes Spark's ``metadata/`` and the arrays as ``state.npz`` through Hadoop's
filesystem; reading loads the arrays with ``allow_pickle=False``, so a saved model holds numbers,
never code. The serving's file scorer reads the same ``state.npz`` (``serving.online``) without Spark.

Imported only when such a model is fitted or loaded (it imports pyspark at module level).
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np
from pyspark.ml import Model
from pyspark.ml.param import Param, Params, TypeConverters
from pyspark.ml.util import DefaultParamsReader, DefaultParamsWriter, MLReadable, MLReader, MLWritable, MLWriter
from pyspark.sql import DataFrame

from airflow_mlplat.engine.storage import hadoop_read_bytes, hadoop_write_bytes
from airflow_mlplat.online import STATE_FILE
from airflow_mlplat.online.ftrl import Ftrl
from airflow_mlplat.online.moments import Moments


class _ArrayStateModel(Model, MLReadable, MLWritable):
    """A model whose fitted state is a dict of numpy arrays (``_state_arrays`` / ``_from_state``)."""

    def _state_arrays(self) -> dict[str, np.ndarray]:
        raise NotImplementedError

    def _set_state(self, arrays: dict[str, np.ndarray]) -> None:
        raise NotImplementedError

    def write(self) -> MLWriter:
        return _StateWriter(self)

    @classmethod
    def read(cls) -> MLReader:
        return _StateReader(cls)


class _StateWriter(MLWriter):
    def __init__(self, instance: _ArrayStateModel) -> None:
        super().__init__()
        self.instance = instance

    def saveImpl(self, path: str) -> None:  # noqa: N802 (Spark's name)
        DefaultParamsWriter.saveMetadata(self.instance, path, self.sparkSession)
        buffer = io.BytesIO()
        np.savez(buffer, **self.instance._state_arrays())
        hadoop_write_bytes(self.sparkSession, f"{path.rstrip('/')}/{STATE_FILE}", buffer.getvalue())


class _StateReader(MLReader):
    def __init__(self, cls: type[_ArrayStateModel]) -> None:
        super().__init__()
        self.cls = cls

    def load(self, path: str) -> _ArrayStateModel:
        metadata = DefaultParamsReader.loadMetadata(
            path, self.sparkSession, f"{self.cls.__module__}.{self.cls.__name__}"
        )
        data = hadoop_read_bytes(self.sparkSession, f"{path.rstrip('/')}/{STATE_FILE}")
        with np.load(io.BytesIO(data), allow_pickle=False) as arrays:
            state = {name: arrays[name] for name in arrays.files}
        instance = self.cls()
        DefaultParamsReader.getAndSetParams(instance, metadata)
        instance._set_state(state)
        instance._resetUid(metadata["uid"])
        return instance


class _HasFeaturesCol(Params):
    featuresCol = Param(Params._dummy(), "featuresCol", "features vector column", TypeConverters.toString)


class FtrlModel(_ArrayStateModel, _HasFeaturesCol):
    """FTRL-Proximal logistic regression; scores like Spark's LogisticRegressionModel (binary)."""

    predictionCol = Param(Params._dummy(), "predictionCol", "prediction column", TypeConverters.toString)
    probabilityCol = Param(Params._dummy(), "probabilityCol", "probability vector column", TypeConverters.toString)
    rawPredictionCol = Param(Params._dummy(), "rawPredictionCol", "margin vector column", TypeConverters.toString)
    threshold = Param(Params._dummy(), "threshold", "predict 1 above this probability", TypeConverters.toFloat)

    def __init__(self, ftrl: Ftrl | None = None) -> None:
        super().__init__()
        self._setDefault(
            featuresCol="features",
            predictionCol="prediction",
            probabilityCol="probability",
            rawPredictionCol="rawPrediction",
            threshold=0.5,
        )
        self.ftrl = ftrl

    def setParams(self, **params: Any) -> FtrlModel:  # noqa: N802 (Spark-style)
        return self._set(**params)

    def _state_arrays(self) -> dict[str, np.ndarray]:
        return self.ftrl.to_arrays()

    def _set_state(self, arrays: dict[str, np.ndarray]) -> None:
        self.ftrl = Ftrl.from_arrays(arrays)

    def _transform(self, dataset: DataFrame) -> DataFrame:
        from pyspark.ml.functions import array_to_vector
        from pyspark.sql import functions as F

        from airflow_mlplat.components._common import quote

        coefficients, intercept = self.ftrl.weights()
        features = self.getOrDefault("featuresCol")
        margin = F.udf(_margin_function(coefficients, intercept, self.ftrl.dim), "double")(F.col(quote(features)))
        p = 1.0 / (1.0 + F.exp(-margin))
        return (
            dataset.withColumn(self.getOrDefault("rawPredictionCol"), array_to_vector(F.array(-margin, margin)))
            .withColumn(self.getOrDefault("probabilityCol"), array_to_vector(F.array(1.0 - p, p)))
            .withColumn(self.getOrDefault("predictionCol"), (p > self.getOrDefault("threshold")).cast("double"))
        )


def _margin_function(coefficients: np.ndarray, intercept: float, dim: int) -> Any:
    """The UDF body: ``w . x + b`` of one vector; it refers to no module globals, so it pickles by value."""

    def margin(vector):  # no annotations: pyspark would read them as a pandas UDF's
        if vector is None:
            return None
        if vector.size != dim:
            raise ValueError(f"FtrlModel: a features vector has {vector.size} entries, the model {dim}")
        return float(vector.dot(coefficients)) + intercept

    return margin


class OnlineStandardScalerModel(_ArrayStateModel, _HasFeaturesCol):
    """Standardises a vector column by running moments: ``(x - mean) / std`` (std 0 gives 0)."""

    outputCol = Param(Params._dummy(), "outputCol", "scaled vector column", TypeConverters.toString)
    withMean = Param(Params._dummy(), "withMean", "subtract the mean", TypeConverters.toBoolean)
    withStd = Param(Params._dummy(), "withStd", "divide by the standard deviation", TypeConverters.toBoolean)

    def __init__(self, moments: Moments | None = None) -> None:
        super().__init__()
        self._setDefault(featuresCol="features", outputCol="scaled_features", withMean=True, withStd=True)
        self.moments = moments

    def setParams(self, **params: Any) -> OnlineStandardScalerModel:  # noqa: N802 (Spark-style)
        return self._set(**params)

    def _state_arrays(self) -> dict[str, np.ndarray]:
        return self.moments.to_arrays()

    def _set_state(self, arrays: dict[str, np.ndarray]) -> None:
        self.moments = Moments.from_arrays(arrays)

    def _transform(self, dataset: DataFrame) -> DataFrame:
        from pyspark.ml.linalg import VectorUDT
        from pyspark.sql import functions as F

        from airflow_mlplat.components._common import quote

        shift = self.moments.mean if self.getOrDefault("withMean") else np.zeros(self.moments.dim)
        std = self.moments.std()
        scale = np.where(std > 0, 1.0 / np.where(std > 0, std, 1.0), 0.0) if self.getOrDefault("withStd") else None
        scaler = F.udf(_scale_function(shift, scale, self.moments.dim), VectorUDT())
        features = self.getOrDefault("featuresCol")
        return dataset.withColumn(self.getOrDefault("outputCol"), scaler(F.col(quote(features))))


def _scale_function(shift: np.ndarray, scale: np.ndarray | None, dim: int) -> Any:
    def scale_vector(vector):  # no annotations: pyspark would read them as a pandas UDF's
        from pyspark.ml.linalg import Vectors

        if vector is None:
            return None
        if vector.size != dim:
            raise ValueError(f"OnlineStandardScalerModel: a features vector has {vector.size} entries, the model {dim}")
        values = vector.toArray() - shift
        return Vectors.dense(values if scale is None else values * scale)

    return scale_vector
