"""Cases for the regression components: known functions must be recovered.

Linear models get an exact linear label and must return its coefficients; trees get a step
and must predict it exactly; the isotonic fit must be the pool-adjacent-violators answer; the
survival model must order its quantiles and lengthen survival with the feature that drives it.
"""

from __future__ import annotations

import math
from typing import Any

from tests.components.cases import Case


def step_table(spark: Any) -> Any:
    """20 rows: ``label`` is 10 when feature 0 is 10 or more, else 0; feature 1 is noise."""
    from pyspark.ml.linalg import Vectors

    rows = [(Vectors.dense([float(i), float((i * 7) % 5)]), 10.0 if i >= 10 else 0.0) for i in range(20)]
    return spark.createDataFrame(rows, ["features", "label"])


def two_points_step(spark: Any) -> Any:
    """20 rows at two values of feature 0, ten copies each: label 0 at 0, label 10 at 10 (see two_points_binary)."""
    from pyspark.ml.linalg import Vectors

    rows = [(Vectors.dense([10.0 * (i % 2), float((i * 7) % 5)]), 10.0 * (i % 2)) for i in range(20)]
    return spark.createDataFrame(rows, ["features", "label"])


def max_step_error(model: Any, data: Any) -> float:
    rows = model.transform(data).select("label", "prediction").collect()
    return max(abs(row.label - row.prediction) for row in rows)


def _step_input(spark: Any) -> dict[str, Any]:
    return {"data": step_table(spark)}


def _linear_input(spark: Any) -> dict[str, Any]:
    from pyspark.ml.linalg import Vectors

    rows = [(Vectors.dense([float(i), float((i * 3) % 7)]), 3.0 * i - 2.0 * ((i * 3) % 7) + 1.0) for i in range(12)]
    return {"data": spark.createDataFrame(rows, ["features", "label"])}


def _check_linear(out: dict[str, Any], ctx: Any) -> None:
    from pyspark.ml.regression import LinearRegressionModel

    model = out["model"]
    assert isinstance(model, LinearRegressionModel)
    assert abs(model.coefficients[0] - 3.0) < 1e-6 and abs(model.coefficients[1] + 2.0) < 1e-6
    assert abs(model.intercept - 1.0) < 1e-6


def _check_gbdt(out: dict[str, Any], ctx: Any) -> None:
    from pyspark.ml.regression import GBTRegressionModel

    model = out["model"]
    assert isinstance(model, GBTRegressionModel)
    assert model.getNumTrees == 1 and model.trees[0].depth == 1
    assert max_step_error(model, step_table(ctx.spark)) < 1e-9  # the first tree alone fits the step
    assert list(model.featureImportances.toArray()) == [1.0, 0.0]


def _check_random_forest(out: dict[str, Any], ctx: Any) -> None:
    from pyspark.ml.regression import RandomForestRegressionModel

    model = out["model"]
    assert isinstance(model, RandomForestRegressionModel) and model.getNumTrees == 5
    # Every bootstrap sample still splits the two values into pure leaves, so every tree is exact.
    assert max_step_error(model, two_points_step(ctx.spark)) < 1e-9


def _poisson_input(spark: Any) -> dict[str, Any]:
    from pyspark.ml.linalg import Vectors

    rows = [(Vectors.dense([i / 4.0]), float(round(math.exp(0.2 + 0.3 * i / 4.0)))) for i in range(24)]
    return {"data": spark.createDataFrame(rows, ["features", "label"])}


def _check_glm(out: dict[str, Any], ctx: Any) -> None:
    from pyspark.ml.regression import GeneralizedLinearRegressionModel

    model = out["model"]
    assert isinstance(model, GeneralizedLinearRegressionModel)
    assert model.getFamily() == "poisson" and model.getLink() == "log"  # canonical link
    assert 0.2 < model.coefficients[0] < 0.4 and 0.0 < model.intercept < 0.45  # counts of exp(0.2 + 0.3 x)


def _check_decision_tree(out: dict[str, Any], ctx: Any) -> None:
    from pyspark.ml.regression import DecisionTreeRegressionModel

    model = out["model"]
    assert isinstance(model, DecisionTreeRegressionModel)
    assert model.depth == 1 and model.numNodes == 3
    assert max_step_error(model, step_table(ctx.spark)) < 1e-9


def _check_xgboost(out: dict[str, Any], ctx: Any) -> None:
    from xgboost.spark import SparkXGBRegressorModel

    model = out["model"]
    assert isinstance(model, SparkXGBRegressorModel)
    assert len(model.get_booster().get_dump()) == 20
    assert max_step_error(model, step_table(ctx.spark)) < 0.05
    assert model.featureImportances[0] > 0.9 and abs(sum(model.featureImportances) - 1.0) < 1e-9


def _isotonic_input(spark: Any) -> dict[str, Any]:
    # A numeric (not vector) feature column; labels rise with two violations to pool.
    rows = [(1.0, 1.0), (2.0, 3.0), (3.0, 2.0), (4.0, 4.0), (5.0, 6.0), (6.0, 5.0), (7.0, 7.0)]
    return {"data": spark.createDataFrame(rows, ["x", "label"])}


def _check_isotonic(out: dict[str, Any], ctx: Any) -> None:
    from pyspark.ml.regression import IsotonicRegressionModel

    model = out["model"]
    assert isinstance(model, IsotonicRegressionModel)
    data = _isotonic_input(ctx.spark)["data"]
    predictions = [row.prediction for row in model.transform(data).orderBy("x").collect()]
    assert predictions == [1.0, 2.5, 2.5, 4.0, 5.5, 5.5, 7.0]  # pool adjacent violators
    assert all(a <= b for a, b in zip(predictions, predictions[1:], strict=False))


def _fm_input(spark: Any) -> dict[str, Any]:
    from pyspark.ml.linalg import Vectors

    points = [(a / 2.0, b / 2.0) for a in range(-2, 3) for b in range(-2, 3)]
    rows = [(Vectors.dense([x, y]), 1.0 + x - y + 2.0 * x * y) for x, y in points]
    return {"data": spark.createDataFrame(rows, ["features", "label"])}


def _check_fm(out: dict[str, Any], ctx: Any) -> None:
    from pyspark.ml.regression import FMRegressionModel

    model = out["model"]
    assert isinstance(model, FMRegressionModel)
    rows = model.transform(_fm_input(ctx.spark)["data"]).select("label", "prediction").collect()
    mean = sum(r.label for r in rows) / len(rows)
    residual = sum((r.label - r.prediction) ** 2 for r in rows)
    total = sum((r.label - mean) ** 2 for r in rows)
    # The interaction term x*y is half the label's variance; a linear model alone explains < 60%.
    assert 1.0 - residual / total > 0.95
    assert model.linear[0] > 0 > model.linear[1]


def _survival_input(spark: Any) -> dict[str, Any]:
    from pyspark.ml.linalg import Vectors

    rows = []
    for i in range(16):
        x = i / 5.0
        time = math.exp(1.0 + 0.5 * x) * (0.8 + 0.4 * ((i * 7) % 4) / 3.0)
        rows.append((Vectors.dense([x]), time, 0.0 if i % 4 == 3 else 1.0))
    return {"data": spark.createDataFrame(rows, ["features", "label", "censor"])}


def _check_aft(out: dict[str, Any], ctx: Any) -> None:
    from pyspark.ml.regression import AFTSurvivalRegressionModel

    model = out["model"]
    assert isinstance(model, AFTSurvivalRegressionModel)
    assert model.coefficients[0] > 0.3  # a larger x stretches the time to the event
    assert model.getQuantileProbabilities() == [0.1, 0.5, 0.9]
    rows = model.transform(_survival_input(ctx.spark)["data"]).orderBy("features").collect()
    for row in rows:
        q10, q50, q90 = row.quantiles
        assert 0 < q10 < q50 < q90
    predictions = [row.prediction for row in rows]
    assert all(a < b for a, b in zip(predictions, predictions[1:], strict=False))


CASES = {
    "linear_regression": Case(inputs=_linear_input, params={"solver": "normal"}, check=_check_linear),
    "gbdt_regressor": Case(
        inputs=_step_input, params={"max_iter": 1, "max_depth": 1, "step_size": 1.0}, check=_check_gbdt
    ),
    "random_forest_regressor": Case(
        inputs=lambda spark: {"data": two_points_step(spark)},
        params={"num_trees": 5, "max_depth": 2, "feature_subset_strategy": "all"},
        check=_check_random_forest,
    ),
    "glm_regression": Case(inputs=_poisson_input, params={"family": "poisson"}, check=_check_glm),
    "decision_tree_regressor": Case(inputs=_step_input, params={"max_depth": 1}, check=_check_decision_tree),
    "xgboost_regressor": Case(
        inputs=_step_input,
        params={"n_estimators": 20, "max_depth": 2, "learning_rate": 0.5, "min_child_weight": 0.0},
        check=_check_xgboost,
    ),
    "isotonic_regression": Case(inputs=_isotonic_input, params={"features_col": "x"}, check=_check_isotonic),
    "fm_regressor": Case(
        inputs=_fm_input, params={"factor_size": 2, "max_iter": 50, "step_size": 0.1, "seed": 3}, check=_check_fm
    ),
    "aft_survival_regression": Case(
        inputs=_survival_input,
        params={"quantile_probabilities": [0.1, 0.5, 0.9], "quantiles_col": "quantiles"},
        check=_check_aft,
    ),
}
