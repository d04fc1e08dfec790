"""Regression components: fit a Spark ML regressor on a table with a features vector and a numeric label."""

from __future__ import annotations

from typing import Annotated

from airflow_mlplat.components._common import check_training_table, fit_logged, require_columns
from airflow_mlplat.components.registry import component
from airflow_mlplat.components.spec import Interval, Model, Options, Table


@component(category="regression", outputs={"model": Model})
def linear_regression(
    ctx,
    data: Table,
    *,
    features_col: str = "features",
    label_col: str = "label",
    max_iter: Annotated[int, Interval(1, None)] = 100,
    reg_param: Annotated[float, Interval(0.0, None)] = 0.0,
    elastic_net_param: Annotated[float, Interval(0.0, 1.0)] = 0.0,
    fit_intercept: bool = True,
    standardization: bool = True,
    solver: Annotated[str, Options("auto", "normal", "l-bfgs")] = "auto",
    weight_col: str | None = None,
):
    """Linear least-squares regression with optional L1/L2 regularisation (Spark's LinearRegression).

    Args:
        data: training table with a features vector column and a numeric label.
        features_col: the features vector column.
        label_col: the label column.
        max_iter: the most optimiser iterations (l-bfgs).
        reg_param: regularisation strength.
        elastic_net_param: the L1 share of the regularisation (0 = ridge, 1 = lasso).
        fit_intercept: fit an intercept term.
        standardization: standardise the features before fitting (coefficients are reported unscaled).
        solver: normal equations, l-bfgs, or auto (normal for up to 4096 features).
        weight_col: an optional column of row weights.
        model: the fitted LinearRegressionModel.
    """
    from pyspark.ml.regression import LinearRegression

    features, label = check_training_table(
        ctx, data, component="linear_regression", features_col=features_col, label_col=label_col
    )
    estimator = LinearRegression(
        featuresCol=features,
        labelCol=label,
        maxIter=max_iter,
        regParam=reg_param,
        elasticNetParam=elastic_net_param,
        fitIntercept=fit_intercept,
        standardization=standardization,
        solver=solver,
    )
    if weight_col:
        (weights,) = require_columns(data, [weight_col], component="linear_regression", param="weight_col")
        estimator.setWeightCol(weights)
    return fit_logged(ctx, estimator, data, label_col=label)


@component(category="regression", outputs={"model": Model})
def gbdt_regressor(
    ctx,
    data: Table,
    *,
    features_col: str = "features",
    label_col: str = "label",
    max_iter: Annotated[int, Interval(1, None)] = 20,
    max_depth: Annotated[int, Interval(0, 30)] = 5,
    step_size: Annotated[float, Interval(0.0, 1.0, closed="right")] = 0.1,
    subsampling_rate: Annotated[float, Interval(0.0, 1.0, closed="right")] = 1.0,
    min_instances_per_node: Annotated[int, Interval(1, None)] = 1,
    max_bins: Annotated[int, Interval(2, None)] = 32,
    loss_type: Annotated[str, Options("squared", "absolute")] = "squared",
    seed: int = 42,
):
    """Gradient-boosted decision trees for regression (Spark's GBTRegressor).

    Args:
        data: training table with a features vector column and a numeric label.
        features_col: the features vector column.
        label_col: the label column.
        max_iter: number of boosting rounds (trees).
        max_depth: the depth of each tree.
        step_size: the learning rate (shrinkage) of each tree.
        subsampling_rate: the share of rows each tree is trained on.
        min_instances_per_node: the fewest rows a leaf may hold.
        max_bins: the most bins continuous features are discretised into.
        loss_type: the loss minimised: squared error or absolute error.
        seed: random seed (for subsampling).
        model: the fitted GBTRegressionModel.
    """
    from pyspark.ml.regression import GBTRegressor

    features, label = check_training_table(
        ctx, data, component="gbdt_regressor", features_col=features_col, label_col=label_col
    )
    estimator = GBTRegressor(
        featuresCol=features,
        labelCol=label,
        maxIter=max_iter,
        maxDepth=max_depth,
        stepSize=step_size,
        subsamplingRate=subsampling_rate,
        minInstancesPerNode=min_instances_per_node,
        maxBins=max_bins,
        lossType=loss_type,
        seed=seed,
    )
    return fit_logged(ctx, estimator, data, label_col=label)


@component(category="regression", outputs={"model": Model})
def random_forest_regressor(
    ctx,
    data: Table,
    *,
    features_col: str = "features",
    label_col: str = "label",
    num_trees: Annotated[int, Interval(1, None)] = 20,
    max_depth: Annotated[int, Interval(0, 30)] = 5,
    subsampling_rate: Annotated[float, Interval(0.0, 1.0, closed="right")] = 1.0,
    feature_subset_strategy: Annotated[str, Options("auto", "all", "onethird", "sqrt", "log2")] = "auto",
    min_instances_per_node: Annotated[int, Interval(1, None)] = 1,
    max_bins: Annotated[int, Interval(2, None)] = 32,
    seed: int = 42,
):
    """Random forest regressor (Spark's RandomForestRegressor).

    Args:
        data: training table with a features vector column and a numeric label.
        features_col: the features vector column.
        label_col: the label column.
        num_trees: number of trees.
        max_depth: the depth of each tree.
        subsampling_rate: the share of rows each tree is trained on.
        feature_subset_strategy: how many features each split considers (auto = onethird for regression).
        min_instances_per_node: the fewest rows a leaf may hold.
        max_bins: the most bins continuous features are discretised into.
        seed: random seed (bootstrap and feature sampling).
        model: the fitted RandomForestRegressionModel.
    """
    from pyspark.ml.regression import RandomForestRegressor

    features, label = check_training_table(
        ctx, data, component="random_forest_regressor", features_col=features_col, label_col=label_col
    )
    estimator = RandomForestRegressor(
        featuresCol=features,
        labelCol=label,
        numTrees=num_trees,
        maxDepth=max_depth,
        subsamplingRate=subsampling_rate,
        featureSubsetStrategy=feature_subset_strategy,
        minInstancesPerNode=min_instances_per_node,
        maxBins=max_bins,
        seed=seed,
    )
    return fit_logged(ctx, estimator, data, label_col=label)
