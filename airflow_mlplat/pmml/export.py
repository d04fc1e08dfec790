"""Convert a fitted Spark model to a PMML document with JPMML-SparkML (pyspark2pmml)."""

from __future__ import annotations

from typing import Any

from airflow_mlplat.components._stages import flat_stages, label_column, raw_input_columns, stage_inputs, stage_outputs

#: The optional extra that brings the converter and the evaluator (both AGPL-3.0).
EXTRA_HINT = "install the optional AGPL-3.0 extra: pip install 'airflow-mlplat[pmml]'"

_SCALERS = ("StandardScalerModel", "MinMaxScalerModel", "MaxAbsScalerModel", "RobustScalerModel")


class PmmlExportError(ValueError):
    """The model cannot be exported as PMML; the message names the stage or column."""


def check_exportable(model: Any) -> None:
    """Refuse models JPMML-SparkML converts wrongly or not at all, naming the stage.

    A StringIndexer's output is a categorical index: scaling it (directly or inside an
    assembled vector) turns categories into numbers the PMML document cannot represent.
    """
    from pyspark.ml import Transformer

    if not isinstance(model, Transformer):
        raise PmmlExportError(f"PMML export needs a fitted Spark ML model, got {type(model).__name__}")
    categorical: dict[str, str] = {}  # column -> the StringIndexer stage it comes from
    for index, stage in enumerate(flat_stages(model)):
        kind = type(stage).__name__
        sources = [categorical[c] for c in stage_inputs(stage) if c in categorical]
        if kind in _SCALERS and sources:
            raise PmmlExportError(
                f"stage {index} ({kind}) scales column(s) {[c for c in stage_inputs(stage) if c in categorical]} "
                f"made by {sources[0]}: a StringIndexer output must not go through a scaler (one-hot encode it, "
                "or assemble it after the scaler)"
            )
        if kind == "StringIndexerModel":
            for column in stage_outputs(stage):
                categorical[column] = f"stage {index} (StringIndexerModel)"
        elif kind == "VectorAssembler":
            if sources:
                for column in stage_outputs(stage):
                    categorical[column] = sources[0]


def pmml_schema(model: Any, data: Any) -> Any:
    """The schema the converter gets: the model's raw input columns (types from ``data``), plus the label.

    The label stays in the schema (JPMML-SparkML reads the target field from it); when
    ``data`` has no label column it is declared as a double.
    """
    from pyspark.sql.types import DoubleType, StructField, StructType

    columns = raw_input_columns(model)
    missing = [c for c in columns if c not in data.columns]
    if missing:
        raise PmmlExportError(
            f"the table lacks column(s) {missing} that the model reads (its columns: {', '.join(data.columns)})"
        )
    fields = [data.schema[c] for c in columns]
    label = label_column(model)
    if label and label not in columns:
        fields.append(data.schema[label] if label in data.columns else StructField(label, DoubleType(), True))
    return StructType(fields)


def export_pmml(model: Any, data: Any) -> str:
    """The PMML document (XML text) of a fitted model whose raw input columns are in ``data``.

    Raises:
        PmmlExportError: the model is not exportable, or the converter rejected it (its message included).
        RuntimeError: the optional extra is missing, or the session lacks the JPMML-SparkML jars.
    """
    check_exportable(model)
    try:
        from pyspark2pmml import PMMLBuilder
    except ImportError as exc:
        raise RuntimeError(f"PMML export needs pyspark2pmml: {EXTRA_HINT}") from exc
    schema = pmml_schema(model, data)
    _quiet_converter_factory(data.sparkSession)
    try:
        builder = PMMLBuilder(schema, model)
    except RuntimeError as exc:
        if "not found on classpath" in str(exc):
            raise RuntimeError(
                "the SparkSession was created without the JPMML-SparkML jars; spark.jars must hold "
                "pyspark2pmml.spark_jars() when the session is created (airflow_mlplat.engine.session.get_session "
                "adds them), and cannot be added to a running session"
            ) from exc
        raise
    try:
        return builder.buildString()
    except Exception as exc:
        java = getattr(exc, "java_exception", None)
        message = str(java.toString()) if java is not None else (str(exc).strip() or type(exc).__name__)
        stages = ", ".join(type(s).__name__ for s in flat_stages(model))
        raise PmmlExportError(f"JPMML-SparkML cannot convert the model ({stages}): {message}") from exc


def _quiet_converter_factory(spark: Any) -> None:
    # It logs a stack trace for every optional converter (LightGBM, XGBoost) whose classes are absent.
    try:
        jvm = spark.sparkContext._jvm
        level = jvm.org.apache.logging.log4j.Level.ERROR
        jvm.org.apache.logging.log4j.core.config.Configurator.setLevel("org.jpmml.sparkml.ConverterFactory", level)
    except Exception:  # pragma: no cover - another logging backend: keep its noise
        pass
