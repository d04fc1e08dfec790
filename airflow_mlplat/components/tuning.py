"""Hyper-parameter tuning components, generic over the registry's learner components.

A tuning component names a learner (``estimator``: any registered component with a ``data``
table input, a ``model`` output and a ``label_col`` parameter, e.g. ``gbdt_classifier``), the
values to try for some of its parameters (``grid``) and the values to hold (``fixed``). Every
value is checked against the learner's own declaration before any Spark work starts. Each
trial fits the learner through the registry on the training part of each split, scores the
held-out part with ``predict`` and the evaluation components, and the best parameters are
refitted on all the data.
"""

from __future__ import annotations

import dataclasses
import json
import math
import random
import statistics
import time
from typing import Annotated, Any

from airflow_mlplat.components._common import resolve_column
from airflow_mlplat.components.registry import component, get_component
from airflow_mlplat.components.spec import ComponentSpec, Interval, Metrics, Model, Options, PortKind, Table

#: Metric name -> (evaluation component, higher is better).
_METRICS: dict[str, tuple[str, bool]] = {
    "auc_roc": ("binary_classification_evaluation", True),
    "auc_pr": ("binary_classification_evaluation", True),
    "f1": ("binary_classification_evaluation", True),
    "accuracy": ("binary_classification_evaluation", True),
    "rmse": ("regression_evaluation", False),
    "mae": ("regression_evaluation", False),
    "r2": ("regression_evaluation", True),
}
_METRIC_OPTIONS = Options(*_METRICS)
#: The most trials one tuning node runs (a larger grid belongs to random_search).
_MAX_TRIALS = 1000
_FOLD_COL = "__mlplat_fold"


def _learner(component_name: str, estimator: str) -> ComponentSpec:
    """The estimator's spec: a registered component that fits a model on a labelled table."""
    try:
        spec = get_component(estimator)
    except KeyError:
        raise ValueError(f"{component_name}: params.estimator {estimator!r} is not a registered component") from None
    data, model = spec.input("data"), spec.output("model")
    if data is None or data.kind is not PortKind.TABLE or model is None or model.kind is not PortKind.MODEL:
        raise ValueError(
            f"{component_name}: params.estimator {estimator!r} is not a learner: it must have a 'data' table "
            "input and a 'model' output"
        )
    others = [p.name for p in spec.inputs if p.name != "data" and not p.optional]
    if others:
        raise ValueError(
            f"{component_name}: params.estimator {estimator!r} needs further inputs ({', '.join(others)}); "
            "a tuned learner may only need 'data'"
        )
    if spec.param("label_col") is None:
        raise ValueError(
            f"{component_name}: params.estimator {estimator!r} has no label_col parameter; "
            "tuning scores supervised learners only"
        )
    return spec


def _checked(component_name: str, spec: ComponentSpec, key: str, value: Any, where: str) -> Any:
    from airflow_mlplat.pipeline.params import check_value, coerce_value

    param = spec.param(key)
    if param is None:
        known = ", ".join(p.name for p in spec.params)
        raise ValueError(
            f"{component_name}: params.{where} key {key!r} is not a parameter of {spec.name} (its parameters: {known})"
        )
    problem = check_value(param, value)
    if problem:
        raise ValueError(f"{component_name}: params.{where}[{key!r}] value {value!r}: {spec.name}.{key} {problem}")
    return coerce_value(param, value)


def _checked_search(
    component_name: str,
    spec: ComponentSpec,
    grid: dict[str, list[Any]] | None,
    fixed: dict[str, Any] | None,
) -> tuple[dict[str, list[Any]], dict[str, Any]]:
    """The grid and fixed values, each checked against the estimator's declaration and coerced."""
    grid, fixed = grid or {}, fixed or {}
    checked_fixed = {key: _checked(component_name, spec, key, value, "fixed") for key, value in fixed.items()}
    checked_grid: dict[str, list[Any]] = {}
    for key, values in grid.items():
        if key in fixed:
            raise ValueError(f"{component_name}: params.grid key {key!r} is also in params.fixed; give it in one only")
        if key == "label_col":
            raise ValueError(f"{component_name}: params.grid must not vary label_col; set it in params.fixed")
        if not values:
            raise ValueError(f"{component_name}: params.grid[{key!r}] must list at least one value, got {values!r}")
        checked_grid[key] = [_checked(component_name, spec, key, value, "grid") for value in values]
    missing = [p.name for p in spec.params if p.required and p.name not in checked_fixed and p.name not in grid]
    if missing:
        raise ValueError(
            f"{component_name}: params.estimator {spec.name!r} requires {', '.join(missing)}; "
            "give them in params.fixed or params.grid"
        )
    return checked_grid, checked_fixed


def _require_grid(component_name: str, grid: dict[str, list[Any]]) -> None:
    if not grid:
        raise ValueError(f"{component_name}: params.grid must name at least one parameter to search, got {grid!r}")


def _combinations(grid: dict[str, list[Any]]) -> int:
    return math.prod(len(values) for values in grid.values())


def _combination(grid: dict[str, list[Any]], index: int) -> dict[str, Any]:
    """The ``index``-th combination of the grid, in row-major order (the last key varies fastest)."""
    chosen: dict[str, Any] = {}
    for key in reversed(list(grid)):
        index, position = divmod(index, len(grid[key]))
        chosen[key] = grid[key][position]
    return {key: chosen[key] for key in grid}


@dataclasses.dataclass
class _Trial:
    number: int
    params: dict[str, Any]
    scores: list[float]
    seconds: float

    @property
    def mean(self) -> float:
        return statistics.fmean(self.scores)

    @property
    def std(self) -> float:
        return statistics.pstdev(self.scores) if len(self.scores) > 1 else 0.0


def _sort_key(trial: _Trial, higher_is_better: bool) -> tuple[int, float, int]:
    mean = trial.mean
    if math.isnan(mean):
        return (1, 0.0, trial.number)
    return (0, -mean if higher_is_better else mean, trial.number)


def _label_col(spec: ComponentSpec, params: dict[str, Any]) -> str:
    if "label_col" in params:
        return params["label_col"]
    return spec.param("label_col").default  # type: ignore[union-attr]


def _score(
    component_name: str, ctx: Any, spec: ComponentSpec, params: dict[str, Any], train: Any, test: Any, metric: str
) -> float:
    """Fit the estimator on ``train`` and return ``metric`` on ``test`` (all through the registry)."""
    from airflow_mlplat.engine.runner import call_component

    model = call_component(spec, ctx, {"data": train}, params)["model"]
    scored = call_component(get_component("predict"), ctx, {"model": model, "data": test}, {})["data"]
    evaluator, _ = _METRICS[metric]
    label = _label_col(spec, params)
    if evaluator == "binary_classification_evaluation":
        if "probability" not in scored.columns:
            raise ValueError(
                f"{component_name}: params.metric {metric!r} needs a binary classifier's probabilities, but "
                f"{spec.name}'s predictions have no 'probability' column (use rmse, mae or r2 for a regressor)"
            )
        eval_params = {
            "label_col": label,
            "probability_col": "probability",
            "prediction_col": "prediction",
            "plots": False,  # one set of pictures per trial and fold would be noise
        }
    else:
        eval_params = {"label_col": label, "prediction_col": "prediction"}
    metrics = call_component(get_component(evaluator), ctx, {"data": scored}, eval_params)["metrics"]
    return float(metrics[metric])


def _splits(component_name: str, ctx: Any, data: Any, *, folds: int, train_ratio: float | None, seed: int) -> Any:
    """``data`` with a fold column, persisted: k folds, or 0 = train / 1 = validation for a holdout split."""
    from pyspark import StorageLevel
    from pyspark.sql import functions as F

    if _FOLD_COL in data.columns:
        raise ValueError(f"{component_name}: input 'data' must not have a column named {_FOLD_COL!r}")
    if train_ratio is None:
        fold = F.least(F.floor(F.rand(seed) * folds), F.lit(folds - 1)).cast("int")
    else:
        fold = F.when(F.rand(seed) < F.lit(train_ratio), 0).otherwise(1)
    parts = 2 if train_ratio is not None else folds
    folded = data.withColumn(_FOLD_COL, fold).persist(StorageLevel.MEMORY_AND_DISK)
    counts = {row[0]: row[1] for row in folded.groupBy(_FOLD_COL).count().collect()}
    sizes = [int(counts.get(i, 0)) for i in range(parts)]
    if min(sizes) == 0:
        folded.unpersist()
        what = "the train and validation parts" if train_ratio is not None else f"{folds} folds"
        raise ValueError(
            f"{component_name}: input 'data' has {sum(sizes)} row(s), too few to split into {what} (sizes {sizes})"
        )
    ctx.log.info("%s: split %d rows into %s", ctx.node_id, sum(sizes), sizes)
    return folded


def _typed_column(values: list[Any]) -> tuple[str, list[Any]]:
    """A Spark type for one grid key's values in the trials table, and the values to store."""
    present = [v for v in values if v is not None]
    if present and all(isinstance(v, bool) for v in present):
        return "boolean", values
    if present and all(isinstance(v, int) and not isinstance(v, bool) for v in present):
        return "bigint", values
    if present and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in present):
        return "double", [None if v is None else float(v) for v in values]
    if present and all(isinstance(v, str) for v in present):
        return "string", values
    return "string", [None if v is None else json.dumps(v, sort_keys=True) for v in values]


def _trials_table(ctx: Any, trials: list[_Trial], keys: list[str], ranks: dict[int, int]) -> Any:
    from pyspark.sql.types import (
        ArrayType,
        DoubleType,
        IntegerType,
        StringType,
        StructField,
        StructType,
        _parse_datatype_string,
    )

    columns = {key: _typed_column([t.params.get(key) for t in trials]) for key in keys}
    fields = [StructField("trial", IntegerType(), False), StructField("params", StringType(), False)]
    fields += [StructField(f"param_{key}", _parse_datatype_string(columns[key][0]), True) for key in keys]
    fields += [
        StructField("mean_score", DoubleType(), True),
        StructField("std_score", DoubleType(), True),
        StructField("fold_scores", ArrayType(DoubleType(), True), False),
        StructField("seconds", DoubleType(), False),
        StructField("rank", IntegerType(), False),
    ]
    rows = []
    for position, trial in enumerate(trials):
        rows.append(
            (
                trial.number,
                json.dumps(trial.params, sort_keys=True),
                *[columns[key][1][position] for key in keys],
                trial.mean,
                trial.std,
                list(trial.scores),
                round(trial.seconds, 3),
                ranks[trial.number],
            )
        )
    return ctx.spark.createDataFrame(rows, StructType(fields))


def _tune(
    ctx: Any,
    component_name: str,
    data: Any,
    *,
    estimator: str,
    grid: dict[str, list[Any]] | None,
    fixed: dict[str, Any] | None,
    metric: str,
    seed: int,
    folds: int = 0,
    train_ratio: float | None = None,
    n_trials: int | None = None,
) -> dict[str, Any]:
    """Run the trials and refit the best; see the module docstring. ``n_trials`` samples the grid."""
    from airflow_mlplat.engine.runner import call_component

    spec = _learner(component_name, estimator)
    checked_grid, checked_fixed = _checked_search(component_name, spec, grid, fixed)
    label = _label_col(spec, checked_fixed)
    if resolve_column(data, label) is None:
        raise ValueError(
            f"{component_name}: input 'data' has no column {label!r}, the estimator's label_col "
            f"(set it in params.fixed; the table's columns: {', '.join(data.columns)})"
        )
    total = _combinations(checked_grid)
    if n_trials is None:
        if total > _MAX_TRIALS:
            raise ValueError(
                f"{component_name}: params.grid has {total} combinations, more than {_MAX_TRIALS}; "
                "shrink it or use random_search"
            )
        candidates = [_combination(checked_grid, i) for i in range(total)]
    elif n_trials >= total:
        ctx.log.info("%s: the grid has %d combinations (<= n_trials): trying them all", ctx.node_id, total)
        candidates = [_combination(checked_grid, i) for i in range(total)]
    else:
        picked = random.Random(seed).sample(range(total), n_trials)
        candidates = [_combination(checked_grid, i) for i in picked]
    _, higher_is_better = _METRICS[metric]

    folded = _splits(component_name, ctx, data, folds=folds, train_ratio=train_ratio, seed=seed)
    from pyspark.sql import functions as F

    if train_ratio is None:
        splits = [
            (folded.where(F.col(_FOLD_COL) != i).drop(_FOLD_COL), folded.where(F.col(_FOLD_COL) == i).drop(_FOLD_COL))
            for i in range(folds)
        ]
    else:
        splits = [
            (folded.where(F.col(_FOLD_COL) == 0).drop(_FOLD_COL), folded.where(F.col(_FOLD_COL) == 1).drop(_FOLD_COL))
        ]

    trials: list[_Trial] = []
    try:
        for number, candidate in enumerate(candidates, start=1):
            params = {**checked_fixed, **candidate}
            started = time.perf_counter()
            scores = []
            for index, (train, test) in enumerate(splits, start=1):
                try:
                    scores.append(_score(component_name, ctx, spec, params, train, test, metric))
                except ValueError as exc:
                    if str(exc).startswith(f"{component_name}:"):
                        raise
                    raise ValueError(
                        f"{component_name}: trial {number} ({json.dumps(candidate, sort_keys=True)}), "
                        f"split {index}: {exc}"
                    ) from exc
            trial = _Trial(number, candidate, scores, time.perf_counter() - started)
            trials.append(trial)
            ctx.log.info(
                "%s: trial %d/%d %s: %s=%.6g (%s) in %.1f s",
                ctx.node_id,
                number,
                len(candidates),
                json.dumps(candidate, sort_keys=True),
                metric,
                trial.mean,
                ", ".join(f"{s:.4g}" for s in scores),
                trial.seconds,
            )
    finally:
        folded.unpersist()

    ordered = sorted(trials, key=lambda t: _sort_key(t, higher_is_better))
    ranks = {trial.number: rank for rank, trial in enumerate(ordered, start=1)}
    best = ordered[0]
    ctx.log.info(
        "%s: best trial %d %s: %s=%.6g; refitting on all the data",
        ctx.node_id,
        best.number,
        json.dumps(best.params, sort_keys=True),
        metric,
        best.mean,
    )
    model = call_component(spec, ctx, {"data": data}, {**checked_fixed, **best.params})["model"]
    summary = {
        "metric": metric,
        "greater_is_better": higher_is_better,
        "best_score": best.mean,
        "best_std": best.std,
        "best_params": dict(best.params),
        "best_trial": best.number,
        "trials": len(trials),
        "splits": len(splits),
    }
    ctx.details.update({"estimator": spec.name, "best_params": dict(best.params), "best_score": best.mean})
    return {"model": model, "best": summary, "trials": _trials_table(ctx, trials, list(checked_grid), ranks)}


_OUTPUTS = {"model": Model, "best": Metrics, "trials": Table}


@component(category="model", outputs=_OUTPUTS)
def grid_search(
    ctx,
    data: Table,
    *,
    estimator: str,
    grid: dict[str, list[Any]],
    fixed: dict[str, Any] | None = None,
    metric: Annotated[str, _METRIC_OPTIONS] = "auc_roc",
    folds: Annotated[int, Interval(2, 20)] = 3,
    seed: int = 42,
):
    """Exhaustive hyper-parameter search: every combination of the grid, scored by k-fold cross-validation.

    ``estimator`` names a learner component (e.g. ``gbdt_classifier``, ``logistic_regression``,
    ``linear_regression``); each key of ``grid`` is one of its parameters and each value must
    pass that parameter's declaration. Each combination is fitted on k-1 folds and scored on
    the held-out fold, k times; the combination with the best mean score is refitted on all
    the data. Higher is better for every metric except rmse and mae. At most 1000 combinations.

    Args:
        data: the training table, as the estimator takes it (features vector and label).
        estimator: the name of the learner component to tune.
        grid: the values to try per parameter, e.g. ``{"max_depth": [3, 5], "step_size": [0.05, 0.1]}``.
        fixed: parameter values held in every trial, e.g. ``{"max_iter": 50, "label_col": "bought"}``.
        metric: the score compared: binary classifiers auc_roc, auc_pr, f1, accuracy; regressors rmse, mae, r2.
        folds: the number of cross-validation folds (rows are assigned at random).
        seed: random seed of the fold assignment.
        model: the estimator refitted on all the data with the best parameters.
        best: ``metric``, ``greater_is_better``, ``best_score`` (mean over the folds), ``best_std``,
            ``best_params`` (the winning grid values), ``best_trial``, ``trials`` and ``splits``.
        trials: one row per trial: ``trial`` (int), ``params`` (its grid values as JSON),
            ``param_<key>`` per grid key, ``mean_score`` and ``std_score`` over the splits,
            ``fold_scores`` (array, one score per split), ``seconds`` and ``rank`` (int, 1 = best).
    """
    _require_grid("grid_search", grid)
    return _tune(
        ctx, "grid_search", data, estimator=estimator, grid=grid, fixed=fixed, metric=metric, seed=seed, folds=folds
    )


@component(category="model", outputs=_OUTPUTS)
def random_search(
    ctx,
    data: Table,
    *,
    estimator: str,
    grid: dict[str, list[Any]],
    n_trials: Annotated[int, Interval(1, _MAX_TRIALS)] = 10,
    fixed: dict[str, Any] | None = None,
    metric: Annotated[str, _METRIC_OPTIONS] = "auc_roc",
    folds: Annotated[int, Interval(2, 20)] = 3,
    seed: int = 42,
):
    """Random hyper-parameter search: ``n_trials`` distinct combinations drawn from the grid, scored by k-fold CV.

    Like ``grid_search``, but only ``n_trials`` combinations, drawn without repetition (all
    of them when the grid has no more), so large grids stay affordable. The same seed draws
    the same combinations.

    Args:
        data: the training table, as the estimator takes it (features vector and label).
        estimator: the name of the learner component to tune.
        grid: the values to draw from per parameter, e.g. ``{"max_depth": [2, 3, 4, 5, 6]}``.
        n_trials: how many combinations to try.
        fixed: parameter values held in every trial.
        metric: the score compared: binary classifiers auc_roc, auc_pr, f1, accuracy; regressors rmse, mae, r2.
        folds: the number of cross-validation folds (rows are assigned at random).
        seed: random seed of the draw and of the fold assignment.
        model: the estimator refitted on all the data with the best parameters.
        best: ``metric``, ``greater_is_better``, ``best_score`` (mean over the folds), ``best_std``,
            ``best_params`` (the winning grid values), ``best_trial``, ``trials`` and ``splits``.
        trials: one row per trial: ``trial`` (int), ``params`` (its grid values as JSON),
            ``param_<key>`` per grid key, ``mean_score`` and ``std_score`` over the splits,
            ``fold_scores`` (array, one score per split), ``seconds`` and ``rank`` (int, 1 = best).
    """
    _require_grid("random_search", grid)
    return _tune(
        ctx,
        "random_search",
        data,
        estimator=estimator,
        grid=grid,
        fixed=fixed,
        metric=metric,
        seed=seed,
        folds=folds,
        n_trials=n_trials,
    )


@component(category="model", outputs=_OUTPUTS)
def cross_validation(
    ctx,
    data: Table,
    *,
    estimator: str,
    fixed: dict[str, Any] | None = None,
    grid: dict[str, list[Any]] | None = None,
    metric: Annotated[str, _METRIC_OPTIONS] = "auc_roc",
    folds: Annotated[int, Interval(2, 20)] = 5,
    seed: int = 42,
):
    """K-fold cross-validation of a learner (Spark's CrossValidator): how well it generalises.

    Without a grid the estimator is evaluated with the ``fixed`` parameters alone: ``best``
    holds the mean and spread of the metric over the folds, ``trials`` the score of each
    fold. With a grid every combination is cross-validated and the best one wins (as in
    ``grid_search``). The model is refitted on all the data.

    Args:
        data: the training table, as the estimator takes it (features vector and label).
        estimator: the name of the learner component to evaluate.
        fixed: the estimator's parameters, e.g. ``{"max_depth": 3, "max_iter": 50}``.
        grid: optional: values to try per parameter, cross-validating every combination.
        metric: the score: binary classifiers auc_roc, auc_pr, f1, accuracy; regressors rmse, mae, r2.
        folds: the number of folds (rows are assigned at random).
        seed: random seed of the fold assignment.
        model: the estimator refitted on all the data (with the best parameters).
        best: ``metric``, ``greater_is_better``, ``best_score`` (mean over the folds), ``best_std``,
            ``best_params``, ``best_trial``, ``trials`` and ``splits``.
        trials: one row per trial: ``trial`` (int), ``params`` (its grid values as JSON),
            ``param_<key>`` per grid key, ``mean_score`` and ``std_score`` over the splits,
            ``fold_scores`` (array, one score per split), ``seconds`` and ``rank`` (int, 1 = best).
    """
    return _tune(
        ctx,
        "cross_validation",
        data,
        estimator=estimator,
        grid=grid,
        fixed=fixed,
        metric=metric,
        seed=seed,
        folds=folds,
    )


@component(category="model", outputs=_OUTPUTS)
def train_validation_split(
    ctx,
    data: Table,
    *,
    estimator: str,
    fixed: dict[str, Any] | None = None,
    grid: dict[str, list[Any]] | None = None,
    metric: Annotated[str, _METRIC_OPTIONS] = "auc_roc",
    train_ratio: Annotated[float, Interval(0.0, 1.0, closed="neither")] = 0.75,
    seed: int = 42,
):
    """Hold-out validation (Spark's TrainValidationSplit): fit on one random part, score on the rest.

    Cheaper than cross-validation (one fit per combination instead of k) and noisier. Without
    a grid the estimator is evaluated with the ``fixed`` parameters; with a grid every
    combination is tried and the best one wins. The model is refitted on all the data.

    Args:
        data: the training table, as the estimator takes it (features vector and label).
        estimator: the name of the learner component to evaluate.
        fixed: the estimator's parameters held in every trial.
        grid: optional: values to try per parameter.
        metric: the score: binary classifiers auc_roc, auc_pr, f1, accuracy; regressors rmse, mae, r2.
        train_ratio: the share of the rows (drawn at random) to fit on; the rest is the validation part.
        seed: random seed of the split.
        model: the estimator refitted on all the data (with the best parameters).
        best: ``metric``, ``greater_is_better``, ``best_score`` (on the validation part),
            ``best_params``, ``best_trial``, ``trials`` and ``splits`` (1).
        trials: one row per trial: ``trial`` (int), ``params`` (its grid values as JSON),
            ``param_<key>`` per grid key, ``mean_score`` and ``std_score`` over the splits,
            ``fold_scores`` (array, one score per split), ``seconds`` and ``rank`` (int, 1 = best).
    """
    return _tune(
        ctx,
        "train_validation_split",
        data,
        estimator=estimator,
        grid=grid,
        fixed=fixed,
        metric=metric,
        seed=seed,
        train_ratio=train_ratio,
    )
