"""Cases for model export and composition: pipeline_model, export_pmml."""

from __future__ import annotations

from typing import Any

from tests.components.cases import Case


def _raw(spark: Any) -> Any:
    """Two numeric columns with a missing value; class 1 when b is large."""
    rows = [(float(a), None if i == 3 else float(b), 1 if b > 4 else 0) for i, (a, b) in
            enumerate([(1, 1), (2, 2), (3, 3), (4, 4), (5, 5), (6, 6), (7, 7), (8, 8), (9, 0), (0, 9)])]  # fmt: skip
    return spark.createDataFrame(rows, "a double, b double, label int")


def _fitted_parts(spark: Any) -> dict[str, Any]:
    from pyspark.ml.classification import LogisticRegression
    from pyspark.ml.feature import Imputer, VectorAssembler

    raw = _raw(spark)
    imputer = Imputer(inputCols=["a", "b"], outputCols=["a", "b"]).fit(raw)
    assembled = VectorAssembler(inputCols=["a", "b"], outputCol="features").transform(imputer.transform(raw))
    model = LogisticRegression(maxIter=50, regParam=0.1).fit(assembled)
    return {"model": model, "prep_1": imputer, "data": raw}


def _check_pipeline_model(out: dict[str, Any], ctx: Any) -> None:
    composed = out["model"]
    assert [type(s).__name__ for s in composed.stages] == ["ImputerModel", "VectorAssembler", "LogisticRegressionModel"]
    assert ctx.details["raw_input_columns"] == ["a", "b"]
    # the composed model scores the raw table, missing value included
    scored = composed.transform(_raw(ctx.spark)).select("b", "prediction").collect()
    assert len(scored) == 10 and {r.prediction for r in scored if r.b is not None and r.b >= 7} == {1.0}


def _export_inputs(spark: Any) -> dict[str, Any]:
    from pyspark.ml import Pipeline
    from pyspark.ml.classification import DecisionTreeClassifier
    from pyspark.ml.feature import Imputer, VectorAssembler

    raw = _raw(spark)
    stages = [
        Imputer(inputCols=["a", "b"], outputCols=["a", "b"]),
        VectorAssembler(inputCols=["a", "b"], outputCol="features"),
        DecisionTreeClassifier(maxDepth=2),
    ]
    return {"model": Pipeline(stages=stages).fit(raw), "data": raw}


def _check_export(out: dict[str, Any], ctx: Any) -> None:
    metrics = out["metrics"]
    assert metrics["verified_rows"] == 10 and metrics["max_abs_diff"] <= 1e-6 and metrics["pmml_bytes"] > 500
    (artifact,) = ctx.artifacts
    with open(artifact, encoding="utf-8") as handle:
        assert "<TreeModel" in handle.read()


CASES = {
    "pipeline_model": Case(
        inputs=_fitted_parts,
        params={"assemble_cols": ["a", "b"], "features_col": "features"},
        check=_check_pipeline_model,
    ),
    "export_pmml": Case(inputs=_export_inputs, check=_check_export),
}
