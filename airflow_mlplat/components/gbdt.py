"""The fast GBDT path: LightGBM on the driver when the training table fits there, xgboost.spark otherwise.

Spark's own GBT is exact but slow (a 50-tree, depth-5 model on 1M rows takes ~2 minutes on
two cores where LightGBM takes seconds). Most purchase-intent-sized tables fit a driver's
memory many times over, so ``fast_gbdt_classifier`` and ``fast_gbdt_regressor`` count the
rows, estimate the table's size on the driver (rows x (features + label) x 8 bytes) and:

- when it fits ``max_driver_bytes`` (and Spark's ``spark.driver.maxResultSize``, which caps
  any collect), collect the features and the label to the driver as Arrow (``toArrow``),
  and train LightGBM natively on all the driver's cores;
- otherwise train xgboost.spark (``hist`` trees) on the executors.

Both paths take the same tree semantics from the same parameters (``gbdt_classifier``'s
names): ``max_iter`` rounds of trees at most ``max_depth`` deep (LightGBM: ``num_leaves =
2**max_depth``), learning rate ``step_size``, row subsampling, histogram bins and seed. The
chosen path and why (rows, estimated bytes, budgets) go into ``ctx.details``, which the run
report shows under the node. Either way the output is a Spark ML Model with
``featureImportances``, scored on the executors by ``predict`` and saved like any other.
"""

from __future__ import annotations

import os
import re
import time
from typing import Annotated, Any

from airflow_mlplat.components._common import check_training_table, fit_logged, label_stats, quote, vector_size
from airflow_mlplat.components.registry import component
from airflow_mlplat.components.spec import Interval, Model, Options, Table

#: The default driver budget for the training table (2 GiB).
DEFAULT_MAX_DRIVER_BYTES = 2 * 1024**3
#: LightGBM's largest ``num_leaves``.
_MAX_LEAVES = 131_072
#: The share of ``spark.driver.maxResultSize`` the collect may use: Arrow batches carry
#: validity buffers, padding and schemas on top of the 8 bytes per value of the estimate.
_RESULT_SIZE_HEADROOM = 0.9
_BYTE_SUFFIXES = {"": 1, "b": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4, "p": 1024**5}


def _parse_bytes(text: str) -> int:
    """Spark's byte strings (``1g``, ``512m``, ``1024``, ``2gb``) as bytes; a bare number is bytes."""
    match = re.fullmatch(r"\s*(\d+)\s*([kmgtp]?)b?\s*", text.lower())
    if not match:
        raise ValueError(f"not a byte size: {text!r}")
    return int(match.group(1)) * _BYTE_SUFFIXES[match.group(2)]


def _human(size: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")


def _driver_cores(spark: Any) -> int:
    configured = spark.sparkContext.getConf().get("spark.driver.cores")
    if configured and configured.isdigit() and int(configured) > 0:
        return int(configured)
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def _choose_path(
    ctx: Any, *, component: str, rows: int, num_features: int, train_on: str, max_driver_bytes: int
) -> tuple[str, dict[str, Any]]:
    """("driver" or "spark", the details to report) for a table of ``rows`` x ``num_features``."""
    estimated = rows * (num_features + 1) * 8
    limit_text = ctx.spark.sparkContext.getConf().get("spark.driver.maxResultSize", "1g")
    max_result = _parse_bytes(limit_text)
    result_budget = int(max_result * _RESULT_SIZE_HEADROOM) if max_result > 0 else None
    size = f"{rows:,} rows x ({num_features} features + label) x 8 B = {_human(estimated)}"
    over_driver = estimated > max_driver_bytes
    over_result = result_budget is not None and estimated > result_budget
    result_text = (
        f"{_RESULT_SIZE_HEADROOM:.0%} of spark.driver.maxResultSize {limit_text} ({_human(result_budget)})"
        if result_budget is not None
        else "spark.driver.maxResultSize (unlimited)"
    )
    if train_on == "driver":
        if over_result:
            raise ValueError(
                f"{component}: params.train_on is 'driver', but the training table ({size}) exceeds {result_text}; "
                "raise spark.driver.maxResultSize in the pipeline's spark_conf or use train_on='auto'"
            )
        path, reason = "driver", f"train_on='driver' ({size})"
    elif train_on == "spark":
        path, reason = "spark", f"train_on='spark' ({size})"
    elif over_driver:
        path, reason = "spark", f"{size} exceeds max_driver_bytes {_human(max_driver_bytes)}"
    elif over_result:
        path = "spark"
        reason = f"{size} exceeds {result_text}; raise it in the pipeline's spark_conf to train on the driver"
    else:
        path = "driver"
        reason = f"{size} fits max_driver_bytes {_human(max_driver_bytes)} and {result_text}"
    details = {
        "training_path": "lightgbm on the driver" if path == "driver" else "xgboost.spark on the executors",
        "reason": reason,
        "rows": rows,
        "features": num_features,
        "estimated_bytes": estimated,
        "max_driver_bytes": max_driver_bytes,
        "max_result_bytes": max_result,
    }
    return path, details


def _collect_to_driver(ctx: Any, data: Any, features: str, label: str, num_features: int) -> tuple[Any, Any]:
    """The features as an Arrow table (one float64 column each) and the labels, collected through Arrow.

    Spark streams each partition's Arrow batches to the driver as its task finishes (all tasks
    run in one job); LightGBM reads the Arrow columns directly, so there is no pandas or numpy
    copy of the table on the driver.
    """
    from pyspark.ml.functions import vector_to_array
    from pyspark.sql import functions as F

    started = time.perf_counter()
    arrays = data.select(
        vector_to_array(F.col(quote(features)), "float64").alias("x"),
        F.col(quote(label)).cast("double").alias("y"),
    )
    table = arrays.select(*[F.col("x")[i].alias(f"f{i}") for i in range(num_features)], "y").toArrow()
    labels = table.column("y")
    table = table.drop_columns(["y"])
    ctx.log.info(
        "%s: collected %d rows x %d features (%s) to the driver in %.1f s",
        ctx.node_id,
        table.num_rows,
        num_features,
        _human(table.nbytes + labels.nbytes),
        time.perf_counter() - started,
    )
    return table, labels


def _train_lightgbm(ctx: Any, table: Any, labels: Any, params: dict[str, Any], rounds: int) -> str:
    import lightgbm

    started = time.perf_counter()
    dataset = lightgbm.Dataset(table, label=labels, free_raw_data=True)
    booster = lightgbm.train(params, dataset, num_boost_round=rounds)
    ctx.log.info(
        "%s: trained LightGBM (%d rounds, %d threads) in %.1f s",
        ctx.node_id,
        rounds,
        params["num_threads"],
        time.perf_counter() - started,
    )
    return booster.model_to_string()


def _fit_fast_gbdt(
    ctx: Any,
    data: Any,
    *,
    component: str,
    classifier: bool,
    features_col: str,
    label_col: str,
    max_iter: int,
    max_depth: int,
    step_size: float,
    subsampling_rate: float,
    min_instances_per_node: int,
    max_bins: int,
    seed: int,
    train_on: str,
    max_driver_bytes: int,
    num_threads: int,
    num_workers: int,
    loss_type: str = "squared",
) -> Any:
    features, label = check_training_table(
        ctx, data, component=component, features_col=features_col, label_col=label_col
    )
    num_features = vector_size(data, features, component=component, param="features_col")
    rows, classes = label_stats(data, label, component=component, classes=classifier)
    path, details = _choose_path(
        ctx,
        component=component,
        rows=rows,
        num_features=num_features,
        train_on=train_on,
        max_driver_bytes=max_driver_bytes,
    )
    ctx.log.info("%s: training on the %s: %s", ctx.node_id, path, details["reason"])

    if path == "spark":
        from airflow_mlplat.components._xgboost_models import XGBoostClassifier, XGBoostRegressor

        common = {
            "features_col": features,
            "label_col": label,
            "num_workers": num_workers,
            "tree_method": "hist",
            "n_estimators": max_iter,
            "max_depth": max_depth,
            "learning_rate": step_size,
            "subsample": subsampling_rate,
            "max_bin": max_bins,
            "random_state": seed,
        }
        if classifier:
            estimator = XGBoostClassifier(**common)
        else:
            objective = "reg:squarederror" if loss_type == "squared" else "reg:absoluteerror"
            estimator = XGBoostRegressor(objective=objective, **common)
        details["num_workers"] = num_workers
        ctx.details.update(details)
        return fit_logged(ctx, estimator, data, label_col=label)

    import lightgbm  # noqa: F401 (imported before the clock starts: its first import takes seconds)

    from airflow_mlplat.components._lightgbm_models import LightGBMClassificationModel, LightGBMRegressionModel

    threads = num_threads or _driver_cores(ctx.spark)
    if classifier:
        objective: dict[str, Any] = {"objective": "binary"} if classes == 2 else {"objective": "multiclass"}
        if classes > 2:
            objective["num_class"] = classes
    else:
        objective = {"objective": "regression" if loss_type == "squared" else "regression_l1"}
    params = {
        **objective,
        "num_leaves": min(2**max_depth, _MAX_LEAVES),
        "max_depth": max_depth,
        "learning_rate": step_size,
        "min_data_in_leaf": min_instances_per_node,
        "bagging_fraction": subsampling_rate,
        "bagging_freq": 1 if subsampling_rate < 1.0 else 0,
        "max_bin": max_bins,
        "seed": seed,
        "deterministic": True,
        "force_row_wise": True,
        "num_threads": threads,
        "verbosity": -1,
    }
    collect_started = time.perf_counter()
    table, labels = _collect_to_driver(ctx, data, features, label, num_features)
    train_started = time.perf_counter()
    model_text = _train_lightgbm(ctx, table, labels, params, max_iter)
    del table, labels
    details.update(
        {
            "num_threads": threads,
            "collect_seconds": round(train_started - collect_started, 3),
            "train_seconds": round(time.perf_counter() - train_started, 3),
        }
    )
    ctx.details.update(details)
    model_class = LightGBMClassificationModel if classifier else LightGBMRegressionModel
    model = model_class(model_text)
    return model.setFeaturesCol(features)


@component(category="classification", outputs={"model": Model})
def fast_gbdt_classifier(
    ctx,
    data: Table,
    *,
    features_col: str = "features",
    label_col: str = "label",
    max_iter: Annotated[int, Interval(1, None)] = 20,
    max_depth: Annotated[int, Interval(1, 30)] = 5,
    step_size: Annotated[float, Interval(0.0, 1.0, closed="right")] = 0.1,
    subsampling_rate: Annotated[float, Interval(0.0, 1.0, closed="right")] = 1.0,
    min_instances_per_node: Annotated[int, Interval(1, None)] = 1,
    max_bins: Annotated[int, Interval(2, None)] = 255,
    seed: int = 42,
    train_on: Annotated[str, Options("auto", "driver", "spark")] = "auto",
    max_driver_bytes: Annotated[int, Interval(0, None)] = DEFAULT_MAX_DRIVER_BYTES,
    num_threads: Annotated[int, Interval(0, None)] = 0,
    num_workers: Annotated[int, Interval(1, None)] = 1,
):
    """Gradient-boosted trees classifier that trains LightGBM on the driver when the table fits, else xgboost.spark.

    A drop-in for ``gbdt_classifier`` (same parameter names and tree semantics), many times
    faster: see the module docstring for how the path is chosen. Binary labels give
    ``probability`` ``[1 - p, p]``; labels 0..k-1 give a k-class softmax model. The chosen path
    and its reason appear in the run report under the node.

    Args:
        data: training table with a features vector column and a class-index label (0, 1, ...).
        features_col: the features vector column.
        label_col: the label column (0, 1, ...).
        max_iter: number of boosting rounds (trees, per class for more than two classes).
        max_depth: the most levels of each tree (LightGBM: num_leaves = 2**max_depth, capped at 131072).
        step_size: the learning rate (shrinkage) of each tree.
        subsampling_rate: the share of rows each tree is trained on.
        min_instances_per_node: the fewest rows a leaf may hold (LightGBM's min_data_in_leaf;
            XGBoost has no row minimum and keeps its hessian minimum min_child_weight=1).
        max_bins: the most histogram bins per feature.
        seed: random seed (subsampling); LightGBM also runs in deterministic mode.
        train_on: auto (the driver when the table fits, else Spark), driver (LightGBM always) or
            spark (xgboost.spark always).
        max_driver_bytes: the largest estimated training table (rows x (features + 1) x 8 bytes)
            trained on the driver; the driver's peak is about twice this (Arrow table plus matrix).
        num_threads: LightGBM threads on the driver; 0: spark.driver.cores when set, else every core the driver may use.
        num_workers: xgboost.spark path: the number of Spark tasks that train together.
        model: the fitted model: a LightGBMClassificationModel or an XGBoostClassificationModel.
    """
    return _fit_fast_gbdt(
        ctx,
        data,
        component="fast_gbdt_classifier",
        classifier=True,
        features_col=features_col,
        label_col=label_col,
        max_iter=max_iter,
        max_depth=max_depth,
        step_size=step_size,
        subsampling_rate=subsampling_rate,
        min_instances_per_node=min_instances_per_node,
        max_bins=max_bins,
        seed=seed,
        train_on=train_on,
        max_driver_bytes=max_driver_bytes,
        num_threads=num_threads,
        num_workers=num_workers,
    )


@component(category="regression", outputs={"model": Model})
def fast_gbdt_regressor(
    ctx,
    data: Table,
    *,
    features_col: str = "features",
    label_col: str = "label",
    max_iter: Annotated[int, Interval(1, None)] = 20,
    max_depth: Annotated[int, Interval(1, 30)] = 5,
    step_size: Annotated[float, Interval(0.0, 1.0, closed="right")] = 0.1,
    subsampling_rate: Annotated[float, Interval(0.0, 1.0, closed="right")] = 1.0,
    min_instances_per_node: Annotated[int, Interval(1, None)] = 1,
    max_bins: Annotated[int, Interval(2, None)] = 255,
    loss_type: Annotated[str, Options("squared", "absolute")] = "squared",
    seed: int = 42,
    train_on: Annotated[str, Options("auto", "driver", "spark")] = "auto",
    max_driver_bytes: Annotated[int, Interval(0, None)] = DEFAULT_MAX_DRIVER_BYTES,
    num_threads: Annotated[int, Interval(0, None)] = 0,
    num_workers: Annotated[int, Interval(1, None)] = 1,
):
    """Gradient-boosted trees regressor that trains LightGBM on the driver when the table fits, else xgboost.spark.

    A drop-in for ``gbdt_regressor`` (same parameter names and tree semantics): see the module
    docstring for how the path is chosen. The chosen path and its reason appear in the run
    report under the node.

    Args:
        data: training table with a features vector column and a numeric label.
        features_col: the features vector column.
        label_col: the label column.
        max_iter: number of boosting rounds (trees).
        max_depth: the most levels of each tree (LightGBM: num_leaves = 2**max_depth, capped at 131072).
        step_size: the learning rate (shrinkage) of each tree.
        subsampling_rate: the share of rows each tree is trained on.
        min_instances_per_node: the fewest rows a leaf may hold (LightGBM's min_data_in_leaf;
            XGBoost has no row minimum and keeps its hessian minimum min_child_weight=1).
        max_bins: the most histogram bins per feature.
        loss_type: the loss minimised: squared error or absolute error.
        seed: random seed (subsampling); LightGBM also runs in deterministic mode.
        train_on: auto (the driver when the table fits, else Spark), driver (LightGBM always) or
            spark (xgboost.spark always).
        max_driver_bytes: the largest estimated training table (rows x (features + 1) x 8 bytes)
            trained on the driver; the driver's peak is about twice this (Arrow table plus matrix).
        num_threads: LightGBM threads on the driver; 0: spark.driver.cores when set, else every core the driver may use.
        num_workers: xgboost.spark path: the number of Spark tasks that train together.
        model: the fitted model: a LightGBMRegressionModel or an XGBoostRegressionModel.
    """
    return _fit_fast_gbdt(
        ctx,
        data,
        component="fast_gbdt_regressor",
        classifier=False,
        features_col=features_col,
        label_col=label_col,
        max_iter=max_iter,
        max_depth=max_depth,
        step_size=step_size,
        subsampling_rate=subsampling_rate,
        min_instances_per_node=min_instances_per_node,
        max_bins=max_bins,
        loss_type=loss_type,
        seed=seed,
        train_on=train_on,
        max_driver_bytes=max_driver_bytes,
        num_threads=num_threads,
        num_workers=num_workers,
    )
