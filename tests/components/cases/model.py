"""Cases for the model components: scoring, feature importance, saving and loading models."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from tests.components.cases import Case, rows_equal

# Where save_model and load_model write in this test process (params are static values).
_MODEL_DIR = Path(tempfile.mkdtemp(prefix="mlplat-model-cases-"))
_SAVED = str(_MODEL_DIR / "saved" / "lr")
_TO_LOAD = str(_MODEL_DIR / "to_load" / "lr")


def _separable(spark: Any) -> Any:
    """x < 0 is class 0, x > 0 class 1: a logistic regression separates it perfectly."""
    from pyspark.ml.linalg import Vectors

    rows = [(Vectors.dense([x]), 1.0 if x > 0 else 0.0) for x in (-3.0, -2.0, -1.5, -1.0, 1.0, 1.5, 2.0, 3.0)]
    return spark.createDataFrame(rows, ["features", "label"])


def _fitted_lr(spark: Any) -> tuple[Any, Any]:
    from pyspark.ml.classification import LogisticRegression

    data = _separable(spark)
    return LogisticRegression(maxIter=50, regParam=0.01).fit(data), data


def _predict_inputs(spark: Any) -> dict[str, Any]:
    model, data = _fitted_lr(spark)
    return {"model": model, "data": data}


def _check_predict(out: dict[str, Any], ctx: Any) -> None:
    rows = out["data"].collect()
    assert {"prediction", "probability", "score"} <= set(out["data"].columns)
    assert len(rows) == 8 and all(r.prediction == r.label for r in rows)
    for r in rows:
        assert r.score == r.probability[1]
        assert (r.score > 0.5) == (r.label == 1.0)


def _importance_inputs(spark: Any) -> dict[str, Any]:
    from pyspark.ml.classification import DecisionTreeClassifier
    from pyspark.ml.feature import VectorAssembler

    rows = [
        (float(a), float(b), 1.0 if b > 0 else 0.0) for a, b in ((1, -2), (-1, -1), (2, -3), (-2, 1), (1, 2), (-1, 3))
    ]
    table = spark.createDataFrame(rows, "noise double, signal double, label double")
    data = VectorAssembler(inputCols=["noise", "signal"], outputCol="features").transform(table)
    return {"model": DecisionTreeClassifier(maxDepth=2, seed=1).fit(data), "data": data}


def _check_importance(out: dict[str, Any], ctx: Any) -> None:
    # Only the signal column separates the classes: the tree splits on it alone.
    rows_equal(out["importance"], [("signal", 1.0, 1), ("noise", 0.0, 2)])
    assert [Path(u).name for u in ctx.artifacts] == ["feature_importance.png"]
    assert Path(ctx.artifacts[0]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def _check_saved(out: dict[str, Any], ctx: Any) -> None:
    from pyspark.ml.classification import LogisticRegressionModel

    assert ctx.details["saved_to"] == _SAVED
    assert (Path(_SAVED) / "metadata").is_dir()
    assert not [p.name for p in Path(_SAVED).parent.iterdir() if p.name.startswith(".")]  # no temporary left
    loaded = LogisticRegressionModel.load(_SAVED)
    assert loaded.coefficients == out["model"].coefficients and loaded.intercept == out["model"].intercept


def _load_inputs(spark: Any) -> dict[str, Any]:
    model, _ = _fitted_lr(spark)
    model.write().overwrite().save(_TO_LOAD)
    _load_inputs.expected = (model.coefficients, model.intercept)  # type: ignore[attr-defined]
    return {}


def _check_loaded(out: dict[str, Any], ctx: Any) -> None:
    from pyspark.ml.classification import LogisticRegressionModel

    model = out["model"]
    assert isinstance(model, LogisticRegressionModel)
    assert (model.coefficients, model.intercept) == _load_inputs.expected  # type: ignore[attr-defined]
    assert model.coefficients[0] > 0  # larger x, class 1


CASES = {
    "predict": Case(inputs=_predict_inputs, check=_check_predict),
    "feature_importance": Case(inputs=_importance_inputs, check=_check_importance),
    "save_model": Case(
        inputs=lambda spark: {"model": _fitted_lr(spark)[0]},
        params={"path": _SAVED},
        check=_check_saved,
    ),
    "load_model": Case(inputs=_load_inputs, params={"path": _TO_LOAD}, check=_check_loaded),
}
