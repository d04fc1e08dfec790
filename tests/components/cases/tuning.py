"""Cases for the tuning components: a grid where the winner is known in advance."""

from __future__ import annotations

import json
import random
from typing import Any

from tests.components.cases import Case


def classification_table(spark: Any, rows: int = 40, seed: int = 7) -> Any:
    """A noisy label driven by x1 (x2 is a weak second signal): logistic regression ranks it well.

    Strong L1 regularisation (reg_param 1 with elastic_net_param 1) zeroes every coefficient,
    so that model scores every row the same (AUC exactly 0.5); no regularisation ranks well.
    """
    from pyspark.ml.linalg import Vectors

    rng = random.Random(seed)
    data = []
    for _ in range(rows):
        x1, x2 = rng.uniform(-1, 1), rng.uniform(-1, 1)
        data.append((Vectors.dense([x1, x2]), 1.0 if x1 + 0.2 * x2 + rng.gauss(0, 0.2) > 0 else 0.0))
    return spark.createDataFrame(data, ["features", "label"])


def regression_table(spark: Any, rows: int = 30, seed: int = 11) -> Any:
    """y = 2 x1 - x2 + 1 exactly: linear regression fits it with (almost) no error."""
    from pyspark.ml.linalg import Vectors

    rng = random.Random(seed)
    data = []
    for _ in range(rows):
        x1, x2 = rng.uniform(-1, 1), rng.uniform(-1, 1)
        data.append((Vectors.dense([x1, x2]), 2 * x1 - x2 + 1))
    return spark.createDataFrame(data, ["features", "label"])


_L1 = {"elastic_net_param": 1.0, "max_iter": 10}


def _check_grid(out: dict[str, Any], ctx: Any) -> None:
    from pyspark.ml.regression import LinearRegressionModel

    best = out["best"]
    assert best["best_params"] == {"reg_param": 0.0, "fit_intercept": True} and best["best_trial"] == 4
    assert best["metric"] == "rmse" and best["greater_is_better"] is False
    assert best["trials"] == 4 and best["splits"] == 2 and best["best_score"] < 1e-6
    trials = out["trials"]
    assert trials.dtypes[:4] == [
        ("trial", "int"),
        ("params", "string"),
        ("param_reg_param", "double"),
        ("param_fit_intercept", "boolean"),
    ]
    rows = trials.orderBy("trial").collect()
    # Every combination once, the last key varying fastest.
    assert [(r.param_reg_param, r.param_fit_intercept) for r in rows] == [
        (1.0, False),
        (1.0, True),
        (0.0, False),
        (0.0, True),
    ]
    assert [r.rank for r in rows][3] == 1 and all(len(r.fold_scores) == 2 for r in rows)
    assert json.loads(rows[3].params) == {"fit_intercept": True, "reg_param": 0.0}
    assert all(r.mean_score > 0.1 for r in rows[:3])  # lasso zeroes the slopes; no intercept misses y's offset
    model = out["model"]
    assert isinstance(model, LinearRegressionModel) and model.getRegParam() == 0.0
    assert abs(model.intercept - 1) < 1e-6 and abs(model.coefficients[0] - 2) < 1e-6


def _check_random(out: dict[str, Any], ctx: Any) -> None:
    trials = out["trials"].orderBy("trial").collect()
    tried = [t.param_reg_param for t in trials]
    # Two distinct draws from the grid, the same for the same seed.
    assert tried == [[10.0, 1.0, 0.0][i] for i in random.Random(5).sample(range(3), 2)] == [0.0, 1.0]
    assert out["best"]["best_params"] == {"reg_param": 0.0}
    assert out["best"]["metric"] == "rmse" and out["best"]["greater_is_better"] is False
    assert trials[0].rank == 1 and trials[0].mean_score < 1e-6  # the exact fit: lower is better
    assert trials[1].rank == 2 and trials[1].mean_score > 0.1


def _check_cross_validation(out: dict[str, Any], ctx: Any) -> None:
    best = out["best"]
    assert best["metric"] == "rmse" and best["greater_is_better"] is False
    assert best["best_params"] == {} and best["splits"] == 3 and best["best_score"] < 1e-6
    (trial,) = out["trials"].collect()
    assert trial.params == "{}" and len(trial.fold_scores) == 3 and max(trial.fold_scores) < 1e-6
    coefficients = out["model"].coefficients
    assert abs(coefficients[0] - 2) < 1e-6 and abs(coefficients[1] + 1) < 1e-6
    assert abs(out["model"].intercept - 1) < 1e-6


def _check_holdout(out: dict[str, Any], ctx: Any) -> None:
    from pyspark.ml.classification import LogisticRegressionModel

    best = out["best"]
    assert best["best_params"] == {"reg_param": 0.0} and best["splits"] == 1
    assert best["metric"] == "auc_roc" and best["greater_is_better"] is True and best["best_score"] > 0.85
    trials = {t.param_reg_param: t for t in out["trials"].collect()}
    assert trials[1.0].fold_scores == [0.5] and trials[1.0].rank == 2  # all coefficients zeroed: no ranking
    assert trials[0.0].rank == 1 and len(trials[0.0].fold_scores) == 1
    assert isinstance(out["model"], LogisticRegressionModel) and out["model"].coefficients[0] > 0


CASES = {
    "grid_search": Case(
        inputs=lambda spark: {"data": regression_table(spark)},
        params={
            "estimator": "linear_regression",
            "grid": {"reg_param": [1.0, 0.0], "fit_intercept": [False, True]},
            "fixed": {"elastic_net_param": 1.0},
            "metric": "rmse",
            "folds": 2,
            "seed": 3,
        },
        check=_check_grid,
    ),
    "random_search": Case(
        inputs=lambda spark: {"data": regression_table(spark)},
        params={
            "estimator": "linear_regression",
            "grid": {"reg_param": [10.0, 1.0, 0.0]},
            "n_trials": 2,
            "fixed": {"elastic_net_param": 1.0},
            "metric": "rmse",
            "folds": 2,
            "seed": 5,
        },
        check=_check_random,
    ),
    "cross_validation": Case(
        inputs=lambda spark: {"data": regression_table(spark)},
        params={"estimator": "linear_regression", "metric": "rmse", "folds": 3, "seed": 1},
        check=_check_cross_validation,
    ),
    "train_validation_split": Case(
        inputs=lambda spark: {"data": classification_table(spark)},
        params={
            "estimator": "logistic_regression",
            "grid": {"reg_param": [1.0, 0.0]},
            "fixed": _L1,
            "metric": "auc_roc",
            "train_ratio": 0.6,
            "seed": 2,
        },
        check=_check_holdout,
    ),
}
