"""Spark ML classifiers and regressors on numpy: LR, linear regression, DT, RF, GBT.

Each builder returns ``apply(frame)`` that writes the model's ``rawPredictionCol``,
``probabilityCol`` and ``predictionCol`` (those that are set), computed as Spark 4 does.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from airflow_mlplat.serving.frame import Frame
from airflow_mlplat.serving.spark_files import SavedStage, to_matrix, to_vector
from airflow_mlplat.serving.stages import Apply
from airflow_mlplat.serving.trees import compile_trees


def _outputs(stage: SavedStage) -> tuple[str, str, str, str]:
    p = stage.params
    return (
        p.get("featuresCol", "features"),
        p.get("rawPredictionCol", ""),
        p.get("probabilityCol", ""),
        p.get("predictionCol", "prediction"),
    )


def _argmax_prediction(stage: SavedStage, raw: np.ndarray, probability: np.ndarray) -> np.ndarray:
    """ProbabilisticClassificationModel: argmax of probability / thresholds when set, else of raw."""
    thresholds = stage.metadata.get("paramMap", {}).get("thresholds")
    if thresholds:
        t = np.asarray(thresholds, dtype=np.float64)
        scaled = np.where(t == 0.0, np.inf, probability / np.where(t == 0.0, 1.0, t))
        return np.argmax(scaled, axis=1).astype(np.float64)
    return np.argmax(raw, axis=1).astype(np.float64)


def _write(
    frame: Frame, stage: SavedStage, raw: np.ndarray | None, probability: np.ndarray | None, prediction: np.ndarray
) -> None:
    _, raw_col, probability_col, prediction_col = _outputs(stage)
    if raw_col and raw is not None:
        frame.columns[raw_col] = raw
    if probability_col and probability is not None:
        frame.columns[probability_col] = probability
    if prediction_col:
        frame.columns[prediction_col] = prediction


def _normalize(raw: np.ndarray) -> np.ndarray:
    """normalizeToProbabilitiesInPlace: divide by the sum unless it is 0."""
    total = raw.sum(axis=1, keepdims=True)
    return np.where(total != 0, raw / np.where(total != 0, total, 1.0), raw)


def logistic_regression(stage: SavedStage) -> Apply:
    row = stage.data()[0]
    coefficients = to_matrix(row["coefficientMatrix"])  # (classes or 1, features)
    intercepts = to_vector(row["interceptVector"])
    multinomial = bool(row["isMultinomial"])
    features_col = _outputs(stage)[0]
    params = stage.params
    set_params = stage.metadata.get("paramMap", {})
    if not multinomial:
        if "thresholds" in set_params:
            t0, t1 = set_params["thresholds"]
            threshold = 1.0 / (1.0 + t0 / t1) if t1 != 0 else 1.0
        else:
            threshold = float(params.get("threshold", 0.5))
        raw_threshold = (
            -math.inf if threshold == 0.0 else math.inf if threshold == 1.0 else math.log(threshold / (1.0 - threshold))
        )
    where = stage.describe()

    def apply(frame: Frame) -> None:
        x = frame.numeric(features_col, where)
        margins = x @ coefficients.T + intercepts
        if multinomial:
            top = margins.max(axis=1, keepdims=True)
            exp = np.exp(np.where(top > 0, margins - top, margins))
            probability = exp * (1.0 / exp.sum(axis=1, keepdims=True))
            # A +inf margin: Spark puts all probability on that class.
            infinite = np.isposinf(top[:, 0])
            if infinite.any():
                probability[infinite] = 0.0
                probability[infinite, np.argmax(margins[infinite], axis=1)] = 1.0
            _write(frame, stage, margins, probability, _argmax_prediction(stage, margins, probability))
            return
        margin = margins[:, 0]
        raw = np.stack([-margin, margin], axis=1)
        probability = 1.0 / (1.0 + np.exp(-raw))
        if "thresholds" in set_params:
            prediction = (probability[:, 1] > threshold).astype(np.float64)
        else:
            prediction = (margin > raw_threshold).astype(np.float64)
        _write(frame, stage, raw, probability, prediction)

    return apply


def linear_regression(stage: SavedStage) -> Apply:
    row = stage.data()[0]
    coefficients, intercept = to_vector(row["coefficients"]), float(row["intercept"])
    features_col, where = _outputs(stage)[0], stage.describe()

    def apply(frame: Frame) -> None:
        _write(frame, stage, None, None, frame.numeric(features_col, where) @ coefficients + intercept)

    return apply


def _tree_classifier(stage: SavedStage, forest: bool) -> Apply:
    trees = compile_trees(stage.data())
    features_col, where = _outputs(stage)[0], stage.describe()
    num_classes = int(stage.metadata.get("numClasses", trees.stats.shape[1]))
    stats = trees.stats[:, :num_classes]
    if forest:
        # Each tree votes with its leaf's class counts normalized to sum 1.
        totals = stats.sum(axis=1, keepdims=True)
        stats = np.where(totals != 0, stats / np.where(totals != 0, totals, 1.0), 0.0)

    def apply(frame: Frame) -> None:
        leaves = trees.leaves(frame.numeric(features_col, where))
        raw = stats[leaves].sum(axis=1)
        probability = _normalize(raw)
        _write(frame, stage, raw, probability, _argmax_prediction(stage, raw, probability))

    return apply


def _tree_regressor(stage: SavedStage, forest: bool) -> Apply:
    trees = compile_trees(stage.data())
    features_col, where = _outputs(stage)[0], stage.describe()

    def apply(frame: Frame) -> None:
        values = trees.prediction[trees.leaves(frame.numeric(features_col, where))]
        prediction = values.sum(axis=1) / trees.num_trees if forest else values[:, 0]
        _write(frame, stage, None, None, prediction)

    return apply


def _gbt_weights(stage: SavedStage, count: int) -> np.ndarray:
    rows = sorted(stage.data("treesMetadata"), key=lambda r: r["_1"])
    weights = np.asarray([r["_3"] for r in rows], dtype=np.float64)
    return weights if len(weights) == count else np.ones(count)


def gbt_classifier(stage: SavedStage) -> Apply:
    trees = compile_trees(stage.data())
    weights = _gbt_weights(stage, trees.num_trees)
    loss = stage.params.get("lossType", "logistic")
    features_col, where = _outputs(stage)[0], stage.describe()

    def apply(frame: Frame) -> None:
        margin = trees.prediction[trees.leaves(frame.numeric(features_col, where))] @ weights
        raw = np.stack([-margin, margin], axis=1)
        # LogLoss.computeProbability(-margin) for class 0; class 1 is its complement.
        negative = 1.0 / (1.0 + np.exp(-2.0 * raw[:, 0]))
        probability = np.stack([negative, 1.0 - negative], axis=1)
        if loss != "logistic":
            probability = None
        if "thresholds" in stage.metadata.get("paramMap", {}) and probability is not None:
            prediction = _argmax_prediction(stage, raw, probability)
        else:
            prediction = (margin > 0.0).astype(np.float64)
        _write(frame, stage, raw, probability, prediction)

    return apply


def gbt_regressor(stage: SavedStage) -> Apply:
    trees = compile_trees(stage.data())
    weights = _gbt_weights(stage, trees.num_trees)
    features_col, where = _outputs(stage)[0], stage.describe()

    def apply(frame: Frame) -> None:
        _write(frame, stage, None, None, trees.prediction[trees.leaves(frame.numeric(features_col, where))] @ weights)

    return apply


PREDICTORS: dict[str, Callable[[SavedStage], Apply]] = {
    "LogisticRegressionModel": logistic_regression,
    "LinearRegressionModel": linear_regression,
    "DecisionTreeClassificationModel": lambda s: _tree_classifier(s, forest=False),
    "RandomForestClassificationModel": lambda s: _tree_classifier(s, forest=True),
    "DecisionTreeRegressionModel": lambda s: _tree_regressor(s, forest=False),
    "RandomForestRegressionModel": lambda s: _tree_regressor(s, forest=True),
    "GBTClassificationModel": gbt_classifier,
    "GBTRegressionModel": gbt_regressor,
}
