"""``CtrFeatureEncoderModel``: a fitted ``FeatureMap`` as a Spark ML Model.

``ctr_feature_encoder`` returns it; ``predict`` (or any pipeline) applies it to other tables,
and the engine saves it like every model. ``transform`` runs ``FeatureMap.encode_frame`` on the
executors (``mapInPandas``, one map parse per task), the same function the trainer and the
prediction service run, so an encoded row is the same wherever it is encoded.

``write().save(path)`` writes Spark's ``metadata/`` (the map is in its extra metadata too) and
``feature_map.json`` as one plain file through Hadoop's filesystem, so a training replica or the
serving process reads ``FeatureMap.load(path)`` without Spark.

Imported only when such a model is fitted or loaded (it imports pyspark at module level).
"""

from __future__ import annotations

from typing import Any

from pyspark.ml import Model
from pyspark.ml.util import DefaultParamsReader, DefaultParamsWriter, MLReadable, MLReader, MLWritable, MLWriter
from pyspark.sql import DataFrame

from airflow_mlplat.ranking.feature_map import FILE_NAME, FeatureMap


def encoded_schema(feature_map: FeatureMap, data: DataFrame) -> Any:
    """The Spark schema of ``data`` encoded by ``feature_map``."""
    from pyspark.sql import types as T

    fields = []
    for spec in feature_map.fields:
        if spec.kind == "numeric":
            kind: Any = T.FloatType()
        elif spec.kind == "sequence":
            kind = T.ArrayType(T.LongType(), containsNull=False)
        else:
            kind = T.LongType()
        fields.append(T.StructField(spec.name, kind, nullable=False))
    fields += [T.StructField(label, T.FloatType()) for label in feature_map.labels]
    by_name = {f.name: f for f in data.schema.fields}
    fields += [by_name[c] for c in feature_map.passthrough if c in by_name]
    return T.StructType(fields)


def _encoder(map_json: str, labels: bool) -> Any:
    """The ``mapInPandas`` function; it refers to no module globals, so it pickles by value."""

    def encode(batches: Any) -> Any:
        from airflow_mlplat.ranking.feature_map import FeatureMap

        feature_map = FeatureMap.from_json(map_json)
        for frame in batches:
            yield feature_map.encode_frame(frame, labels=labels)

    return encode


class CtrFeatureEncoderModel(Model, MLReadable, MLWritable):
    """Encodes raw click-log columns into model indices by a fitted ``FeatureMap``."""

    def __init__(self, feature_map_json: str = "") -> None:
        super().__init__()
        self._map_json = feature_map_json

    @property
    def featureMap(self) -> FeatureMap:  # noqa: N802 (Spark-style accessor)
        return FeatureMap.from_json(self._map_json)

    def featureMapJson(self) -> str:  # noqa: N802 (Spark-style accessor)
        return self._map_json

    def _transform(self, dataset: DataFrame) -> DataFrame:
        feature_map = self.featureMap
        missing = [c for c in feature_map.names if c not in dataset.columns]
        if missing:
            raise ValueError(
                f"CtrFeatureEncoderModel: the table has no column {missing[0]!r}, which the feature map encodes "
                f"(its columns: {', '.join(dataset.columns)})"
            )
        labels = all(label in dataset.columns for label in feature_map.labels)
        present = [c for c in feature_map.encoded_columns() if c in dataset.columns]
        schema = encoded_schema(feature_map, dataset)
        if not labels:
            schema = type(schema)([f for f in schema.fields if f.name not in feature_map.labels])
        from pyspark.sql import functions as F

        from airflow_mlplat.components._common import quote

        columns = [F.col(quote(c)) for c in present]
        return dataset.select(*columns).mapInPandas(_encoder(self._map_json, labels), schema)

    def write(self) -> MLWriter:
        return _EncoderWriter(self)

    @classmethod
    def read(cls) -> MLReader:
        return _EncoderReader(cls)


class _EncoderWriter(MLWriter):
    def __init__(self, instance: CtrFeatureEncoderModel) -> None:
        super().__init__()
        self.instance = instance

    def saveImpl(self, path: str) -> None:  # noqa: N802 (Spark's name)
        DefaultParamsWriter.saveMetadata(
            self.instance, path, self.sc, extraMetadata={"featureMap": self.instance.featureMap.to_dict()}
        )
        from airflow_mlplat.engine.storage import hadoop_write_bytes

        document = self.instance.featureMapJson().encode()
        hadoop_write_bytes(self.sparkSession, f"{path.rstrip('/')}/{FILE_NAME}", document)


class _EncoderReader(MLReader):
    def __init__(self, cls: type[CtrFeatureEncoderModel]) -> None:
        super().__init__()
        self.cls = cls

    def load(self, path: str) -> CtrFeatureEncoderModel:
        metadata = DefaultParamsReader.loadMetadata(path, self.sc, f"{self.cls.__module__}.{self.cls.__name__}")
        instance = self.cls(FeatureMap.from_dict(metadata["featureMap"]).to_json())
        DefaultParamsReader.getAndSetParams(instance, metadata)
        instance._resetUid(metadata["uid"])
        return instance
