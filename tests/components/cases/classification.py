"""Cases for the classification components: obvious classes must be learnt exactly.

The tables are tiny and trivially separable, so every learner must reach full training
accuracy, and what it learnt must point the right way (coefficient signs, importances,
tree shape, number of classes).
"""

from __future__ import annotations

from typing import Any

from tests.components.cases import Case


def separable_binary(spark: Any) -> Any:
    """20 rows: ``label`` is 1 exactly when feature 0 is 10 or more; feature 1 is noise."""
    from pyspark.ml.linalg import Vectors

    rows = [(Vectors.dense([float(i), float((i * 7) % 5)]), float(i >= 10)) for i in range(20)]
    return spark.createDataFrame(rows, ["features", "label"])


def separable_scaled_binary(spark: Any) -> Any:
    """The same classes with feature 0 centred and scaled into [-1, 1] (for gradient-based learners)."""
    from pyspark.ml.linalg import Vectors

    rows = [(Vectors.dense([(i - 9.5) / 9.5, ((i * 7) % 5) / 4.0]), float(i >= 10)) for i in range(20)]
    return spark.createDataFrame(rows, ["features", "label"])


def three_groups(spark: Any) -> Any:
    """Three tight groups at (0, 0), (5, 0) and (0, 5), labelled 0, 1 and 2, five points each."""
    from pyspark.ml.linalg import Vectors

    centres = [(0.0, 0.0), (5.0, 0.0), (0.0, 5.0)]
    offsets = [(0.0, 0.0), (0.3, 0.0), (0.0, 0.3), (0.3, 0.3), (0.15, 0.15)]
    rows = [
        (Vectors.dense([x + dx, y + dy]), float(label)) for label, (x, y) in enumerate(centres) for dx, dy in offsets
    ]
    return spark.createDataFrame(rows, ["features", "label"])


def two_points_binary(spark: Any) -> Any:
    """20 rows at just two values of feature 0 (0 is class 0, 10 is class 1), ten copies each.

    Every bootstrap sample a random forest draws still holds both values, so every tree
    splits between them and the forest is exact.
    """
    from pyspark.ml.linalg import Vectors

    rows = [(Vectors.dense([10.0 * (i % 2), float((i * 7) % 5)]), float(i % 2)) for i in range(20)]
    return spark.createDataFrame(rows, ["features", "label"])


def accuracy(model: Any, data: Any) -> float:
    rows = model.transform(data).select("label", "prediction").collect()
    return sum(row.label == row.prediction for row in rows) / len(rows)


def _binary_input(spark: Any) -> dict[str, Any]:
    return {"data": separable_binary(spark)}


def _scaled_input(spark: Any) -> dict[str, Any]:
    return {"data": separable_scaled_binary(spark)}


def _groups_input(spark: Any) -> dict[str, Any]:
    return {"data": three_groups(spark)}


def _check_logistic(out: dict[str, Any], ctx: Any) -> None:
    from pyspark.ml.classification import LogisticRegressionModel

    model = out["model"]
    assert isinstance(model, LogisticRegressionModel)
    data = separable_binary(ctx.spark)
    assert accuracy(model, data) == 1.0
    assert model.coefficients[0] > 0 > model.intercept  # more of feature 0, more likely class 1


def _check_gbdt(out: dict[str, Any], ctx: Any) -> None:
    from pyspark.ml.classification import GBTClassificationModel

    model = out["model"]
    assert isinstance(model, GBTClassificationModel)
    assert model.getNumTrees == 5 and all(tree.depth <= 2 for tree in model.trees)
    assert accuracy(model, separable_binary(ctx.spark)) == 1.0
    assert model.featureImportances[0] > 0.9


def _check_random_forest(out: dict[str, Any], ctx: Any) -> None:
    from pyspark.ml.classification import RandomForestClassificationModel

    model = out["model"]
    assert isinstance(model, RandomForestClassificationModel)
    assert model.getNumTrees == 5
    assert accuracy(model, two_points_binary(ctx.spark)) == 1.0
    assert model.featureImportances[0] > 0.9


def _check_linear_svc(out: dict[str, Any], ctx: Any) -> None:
    from pyspark.ml.classification import LinearSVCModel

    model = out["model"]
    assert isinstance(model, LinearSVCModel)
    assert accuracy(model, separable_binary(ctx.spark)) == 1.0
    assert model.coefficients[0] > 0 > model.intercept


def _check_naive_bayes(out: dict[str, Any], ctx: Any) -> None:
    import math

    from pyspark.ml.classification import NaiveBayesModel
    from pyspark.ml.linalg import Vectors

    model = out["model"]
    assert isinstance(model, NaiveBayesModel) and model.numClasses == 2
    # Class 0 uses term 0 four times as often as term 1, class 1 the reverse; smoothing 1.
    theta = model.theta.toArray()
    assert abs(math.exp(theta[0][0]) - (8 + 1) / (10 + 2)) < 1e-9
    assert abs(math.exp(theta[1][1]) - (8 + 1) / (10 + 2)) < 1e-9
    probe = ctx.spark.createDataFrame([(Vectors.dense([3.0, 0.0]), 0.0), (Vectors.dense([0.0, 3.0]), 1.0)])
    assert accuracy(model, probe.toDF("features", "label")) == 1.0


def _counts_input(spark: Any) -> dict[str, Any]:
    from pyspark.ml.linalg import Vectors

    rows = [(Vectors.dense([4.0, 1.0]), 0.0), (Vectors.dense([4.0, 1.0]), 0.0)]
    rows += [(Vectors.dense([1.0, 4.0]), 1.0), (Vectors.dense([1.0, 4.0]), 1.0)]
    return {"data": spark.createDataFrame(rows, ["features", "label"])}


def _check_decision_tree(out: dict[str, Any], ctx: Any) -> None:
    from pyspark.ml.classification import DecisionTreeClassificationModel

    model = out["model"]
    assert isinstance(model, DecisionTreeClassificationModel)
    assert model.depth == 1 and model.numNodes == 3  # one split: feature 0 between 9 and 10
    assert list(model.featureImportances.toArray()) == [1.0, 0.0]
    assert accuracy(model, separable_binary(ctx.spark)) == 1.0


def _check_xgboost(out: dict[str, Any], ctx: Any) -> None:
    from xgboost.spark import SparkXGBClassifierModel

    model = out["model"]
    assert isinstance(model, SparkXGBClassifierModel)
    assert model.numClasses == 2
    assert len(model.get_booster().get_dump()) == 5  # five rounds, one tree each
    assert accuracy(model, separable_binary(ctx.spark)) == 1.0
    assert model.featureImportances[0] > 0.9 and abs(sum(model.featureImportances) - 1.0) < 1e-9


def _check_xgboost_forest(out: dict[str, Any], ctx: Any) -> None:
    from xgboost.spark import SparkXGBClassifierModel

    model = out["model"]
    assert isinstance(model, SparkXGBClassifierModel)
    booster = model.get_booster()
    assert booster.num_boosted_rounds() == 1 and len(booster.get_dump()) == 4  # one round of four trees
    assert accuracy(model, separable_binary(ctx.spark)) == 1.0
    assert model.featureImportances[0] > 0.9


def _check_mlp(out: dict[str, Any], ctx: Any) -> None:
    from pyspark.ml.classification import MultilayerPerceptronClassificationModel

    model = out["model"]
    assert isinstance(model, MultilayerPerceptronClassificationModel)
    assert model.getLayers() == [2, 4, 3]  # 2 inputs, the hidden layer, one output per class
    assert accuracy(model, three_groups(ctx.spark)) == 1.0


def _check_fm(out: dict[str, Any], ctx: Any) -> None:
    from pyspark.ml.classification import FMClassificationModel

    model = out["model"]
    assert isinstance(model, FMClassificationModel)
    assert model.factors.numRows == 2 and model.factors.numCols == 2
    assert accuracy(model, separable_scaled_binary(ctx.spark)) == 1.0
    assert model.linear[0] > 0


def _check_one_vs_rest(out: dict[str, Any], ctx: Any) -> None:
    from pyspark.ml.classification import LinearSVCModel, OneVsRestModel

    model = out["model"]
    assert isinstance(model, OneVsRestModel)
    assert len(model.models) == 3 and all(isinstance(m, LinearSVCModel) for m in model.models)
    assert accuracy(model, three_groups(ctx.spark)) == 1.0
    # Class 1 sits at large feature 0, class 2 at large feature 1.
    assert model.models[1].coefficients[0] > 0 and model.models[2].coefficients[1] > 0


CASES = {
    "logistic_regression": Case(
        inputs=_binary_input, params={"max_iter": 50, "reg_param": 0.01}, check=_check_logistic
    ),
    "gbdt_classifier": Case(inputs=_binary_input, params={"max_iter": 5, "max_depth": 2}, check=_check_gbdt),
    "random_forest_classifier": Case(
        inputs=lambda spark: {"data": two_points_binary(spark)},
        params={"num_trees": 5, "max_depth": 3, "feature_subset_strategy": "all"},
        check=_check_random_forest,
    ),
    "linear_svc": Case(inputs=_binary_input, params={"max_iter": 10, "reg_param": 0.01}, check=_check_linear_svc),
    "naive_bayes": Case(inputs=_counts_input, params={"model_type": "multinomial"}, check=_check_naive_bayes),
    "decision_tree_classifier": Case(inputs=_binary_input, params={"max_depth": 1}, check=_check_decision_tree),
    "xgboost_classifier": Case(
        inputs=_binary_input, params={"n_estimators": 5, "max_depth": 2, "min_child_weight": 0.0}, check=_check_xgboost
    ),
    "xgboost_random_forest_classifier": Case(
        inputs=_binary_input,
        params={"num_trees": 4, "max_depth": 3, "subsample": 0.9, "colsample_bynode": 1.0, "min_child_weight": 0.0},
        check=_check_xgboost_forest,
    ),
    "mlp_classifier": Case(inputs=_groups_input, params={"hidden_layers": [4], "max_iter": 100}, check=_check_mlp),
    "fm_classifier": Case(
        inputs=_scaled_input, params={"factor_size": 2, "max_iter": 20, "step_size": 0.5}, check=_check_fm
    ),
    "one_vs_rest": Case(
        inputs=_groups_input, params={"base_learner": "linear_svc", "max_iter": 10}, check=_check_one_vs_rest
    ),
}
