"""Cases for the fast GBDT components: a tiny table trains LightGBM on the driver and learns the classes.

The xgboost.spark path, save/load and the path choice are covered in test_gbdt_native.py.
"""

from __future__ import annotations

from typing import Any

from tests.components.cases import Case
from tests.components.cases.classification import accuracy, separable_binary
from tests.components.cases.regression import max_step_error, step_table


def _check_classifier(out: dict[str, Any], ctx: Any) -> None:
    from airflow_mlplat.components._lightgbm_models import LightGBMClassificationModel

    model = out["model"]
    assert isinstance(model, LightGBMClassificationModel)
    assert ctx.details["training_path"] == "lightgbm on the driver"
    assert ctx.details["rows"] == 20 and ctx.details["estimated_bytes"] == 20 * 3 * 8
    assert model.numClasses == 2 and model.booster.num_trees() == 10
    data = separable_binary(ctx.spark)
    assert accuracy(model, data) == 1.0
    for row in model.transform(data).collect():
        p = row.probability
        assert abs(p[0] + p[1] - 1.0) < 1e-12 and (p[1] > 0.5) == (row.label == 1.0)
        assert row.rawPrediction[1] == -row.rawPrediction[0]
    assert model.featureImportances[0] > 0.9 and abs(sum(model.featureImportances) - 1.0) < 1e-12


def _check_regressor(out: dict[str, Any], ctx: Any) -> None:
    from airflow_mlplat.components._lightgbm_models import LightGBMRegressionModel

    model = out["model"]
    assert isinstance(model, LightGBMRegressionModel)
    assert ctx.details["training_path"] == "lightgbm on the driver"
    # One tree, learning rate 1, from the mean 5: leaves of -5 and +5 reproduce the step.
    assert model.booster.num_trees() == 1
    assert max_step_error(model, step_table(ctx.spark)) < 1e-9
    assert list(model.featureImportances.toArray()) == [1.0, 0.0]


CASES = {
    "fast_gbdt_classifier": Case(
        inputs=lambda spark: {"data": separable_binary(spark)},
        params={"max_iter": 10, "max_depth": 2, "step_size": 0.3},
        check=_check_classifier,
    ),
    "fast_gbdt_regressor": Case(
        inputs=lambda spark: {"data": step_table(spark)},
        params={"max_iter": 1, "max_depth": 1, "step_size": 1.0},
        check=_check_regressor,
    ),
}
