"""Score held-out rows with Spark and with a PMML document; fail when they disagree.

The PMML side runs in jpmml-evaluator's own JVM (through py4j, started once per process and
stopped at exit), independent of the Spark JVM that made the document.
"""

from __future__ import annotations

import atexit
import dataclasses
import math
import threading
from pathlib import Path
from typing import Any

from airflow_mlplat.components._stages import predictor, probability_column, raw_input_columns
from airflow_mlplat.pmml.export import EXTRA_HINT

#: The default largest allowed |Spark - PMML| difference of a probability (or a regression prediction).
TOLERANCE = 1e-6
_ROW = "_mlplat_row"


class PmmlVerificationError(ValueError):
    """The PMML document scores differently from the Spark model; the message names row and field."""


@dataclasses.dataclass(frozen=True)
class VerificationResult:
    rows: int
    fields: list[str]  # the compared PMML output fields
    max_abs_diff: float
    tolerance: float

    def as_metrics(self) -> dict[str, Any]:
        return {"verified_rows": self.rows, "max_abs_diff": self.max_abs_diff, "tolerance": self.tolerance}


_gateway_lock = threading.Lock()
_backend: Any = None


def _evaluator_backend() -> Any:
    """A py4j backend on a JVM with jpmml-evaluator's jars, one per process."""
    global _backend
    with _gateway_lock:
        if _backend is None:
            try:
                from jpmml_evaluator import _classpath
                from jpmml_evaluator.py4j import Py4JBackend
            except ImportError as exc:
                raise RuntimeError(f"PMML verification needs jpmml-evaluator: {EXTRA_HINT}") from exc
            from py4j.java_gateway import JavaGateway

            # die_on_exit: the JVM ends with this process even if atexit never runs.
            gateway = JavaGateway.launch_gateway(classpath=":".join(_classpath([])), die_on_exit=True)
            atexit.register(gateway.shutdown)
            _backend = Py4JBackend(gateway)
        return _backend


def _evaluator(pmml: str | bytes | Path) -> Any:
    from jpmml_evaluator import make_evaluator

    source = Path(pmml).read_bytes() if isinstance(pmml, Path) else pmml
    if isinstance(source, str):
        source = source.encode()
    return make_evaluator(source, backend=_evaluator_backend()).verify()


def _describe(row: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in row.items())


def verify_pmml(
    pmml: str | bytes | Path,
    model: Any,
    data: Any,
    *,
    rows: int = 1000,
    tolerance: float = TOLERANCE,
) -> VerificationResult:
    """Score the first ``rows`` rows of ``data`` with ``model`` (Spark) and with ``pmml``; compare.

    Classifiers: every class probability must agree within ``tolerance``; regressors: the
    prediction. ``pmml`` is the document's text or bytes, or the path of a ``.pmml`` file.

    Raises:
        PmmlVerificationError: a probability differs by more than ``tolerance``, PMML failed to
            score a row, or the outputs do not match; the message names the row, the field and
            both values, and counts the rows that disagree.
    """
    import pandas as pd
    from pyspark.sql.types import LongType, StructField, StructType

    columns = raw_input_columns(model)
    sample = data.select(*columns).limit(rows).collect()
    if not sample:
        raise PmmlVerificationError("no rows to verify the PMML document on: the held-out table is empty")
    spark = data.sparkSession
    schema = StructType([StructField(_ROW, LongType(), False), *data.select(*columns).schema.fields])
    frame = spark.createDataFrame([(i, *row) for i, row in enumerate(sample)], schema)
    scored_frame = model.transform(frame)
    probability = probability_column(model)
    if probability and probability in scored_frame.columns:
        spark_rows = [
            (r[_ROW], list(r[probability].toArray())) for r in scored_frame.select(_ROW, probability).collect()
        ]
    else:
        prediction = predictor(model).getOrDefault("predictionCol")
        spark_rows = [(r[_ROW], [float(r[prediction])]) for r in scored_frame.select(_ROW, prediction).collect()]
    spark_scores = dict(spark_rows)

    evaluator = _evaluator(pmml)
    inputs = pd.DataFrame([row.asDict() for row in sample], columns=columns)
    results = evaluator.evaluateAll(inputs)
    errors = results["errors"] if "errors" in results.columns else None
    if errors is not None:
        for index, error in enumerate(errors):
            if isinstance(error, str) and error:
                raise PmmlVerificationError(f"row {index}: the PMML document failed to score it: {error}")
    output_names = [f.getName() for f in evaluator.getOutputFields()]
    if probability and probability in scored_frame.columns:
        fields = [name for name in output_names if name.startswith("probability(")]
        width = len(next(iter(spark_scores.values())))
        if len(fields) != width:
            raise PmmlVerificationError(
                f"the PMML document has {len(fields)} probability output(s) {fields}, the Spark model {width} classes"
            )
    else:
        fields = [f.getName() for f in evaluator.getTargetFields()]

    worst, bad_rows, first = 0.0, 0, None
    for index in range(len(sample)):
        row_bad = False
        for position, field in enumerate(fields):
            expected = float(spark_scores[index][position])
            got = float(results[field].iloc[index])
            diff = abs(expected - got) if not (math.isnan(expected) and math.isnan(got)) else 0.0
            if math.isnan(diff) or diff > tolerance:
                row_bad = True
                if first is None:
                    first = (index, field, expected, got, diff)
            if not math.isnan(diff):
                worst = max(worst, diff)
        bad_rows += row_bad
    if first is not None:
        index, field, expected, got, diff = first
        raise PmmlVerificationError(
            f"the PMML document disagrees with the Spark model on {bad_rows} of {len(sample)} held-out row(s); "
            f"first at row {index}, field {field}: Spark {expected!r}, PMML {got!r} "
            f"(|difference| {diff:.3g} > tolerance {tolerance:g}); row {index}: {_describe(sample[index].asDict())}"
        )
    return VerificationResult(rows=len(sample), fields=fields, max_abs_diff=worst, tolerance=tolerance)
