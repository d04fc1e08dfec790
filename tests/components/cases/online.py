"""Cases for the online components: FTRL, the running scaler and progressive validation."""

from __future__ import annotations

from typing import Any

from tests.components.cases import Case


def _separable(spark: Any, shift: float = 0.0) -> Any:
    """x < shift is class 0, x > shift class 1, twenty rows alternating between the classes."""
    from pyspark.ml.linalg import Vectors

    rows = []
    for i in range(10):
        rows += [(Vectors.dense([shift + 1.0 + i]), 1.0), (Vectors.dense([shift - 1.0 - i]), 0.0)]
    return spark.createDataFrame(rows, ["features", "label"])


def _check_ftrl(out: dict[str, Any], ctx: Any) -> None:
    model = out["model"]
    assert model.ftrl.examples == 20 and ctx.details["ftrl"]["learnt_rows"] == 20
    coefficients, _ = model.ftrl.weights()
    assert coefficients[0] > 0  # larger x, class 1


def _trained_ftrl(spark: Any) -> Any:
    from airflow_mlplat.components._online_models import FtrlModel
    from airflow_mlplat.online.ftrl import Ftrl

    state = Ftrl(1, alpha=0.5)
    for _ in range(5):
        for i in range(10):
            state.learn_one([0], [1.0 + i], 1.0)
            state.learn_one([0], [-1.0 - i], 0.0)
    return FtrlModel(state)


def _check_progressive(out: dict[str, Any], ctx: Any) -> None:
    metrics = out["metrics"]
    assert metrics["window_auc"] == 1.0 and metrics["window_rows"] == 20 and metrics["windows"] == 1
    assert metrics["recent_auc"] == [1.0] and metrics["log_loss"] == metrics["window_log_loss"] < 0.2


def _check_scaler(out: dict[str, Any], ctx: Any) -> None:
    values = [row.scaled_features[0] for row in out["data"].collect()]
    assert abs(sum(values)) < 1e-9  # centred on this window, the only one seen
    assert out["model"].moments.count == 20


CASES = {
    "ftrl_train": Case(inputs=lambda spark: {"data": _separable(spark)}, params={"alpha": 0.5}, check=_check_ftrl),
    "online_standard_scaler": Case(inputs=lambda spark: {"data": _separable(spark)}, check=_check_scaler),
    "progressive_evaluation": Case(
        inputs=lambda spark: {"model": _trained_ftrl(spark), "data": _separable(spark)},
        check=_check_progressive,
    ),
}
