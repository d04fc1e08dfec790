"""Regression components: fit a Spark ML regressor on a table with a features vector and a numeric label."""

from __future__ import annotations

from typing import Annotated, Any

from airflow_mlplat.components._common import (
    check_training_table,
    column_type,
    fit_logged,
    is_vector,
    require_columns,
    require_numeric,
    vector_size,
)
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


def _weights(estimator: Any, data: Any, weight_col: str | None, *, component: str) -> None:
    """Set ``estimator``'s weight column when ``weight_col`` is given (checked to exist and be numeric)."""
    if weight_col:
        (weights,) = require_columns(data, [weight_col], component=component, param="weight_col")
        require_numeric(data, weights, component=component, param="weight_col")
        estimator.setWeightCol(weights)


#: The links each GLM family accepts (Spark's GeneralizedLinearRegression); the first is the canonical one.
_GLM_LINKS = {
    "gaussian": ("identity", "log", "inverse"),
    "binomial": ("logit", "probit", "cloglog"),
    "poisson": ("log", "identity", "sqrt"),
    "gamma": ("inverse", "identity", "log"),
}


@component(category="regression", outputs={"model": Model})
def glm_regression(
    ctx,
    data: Table,
    *,
    features_col: str = "features",
    label_col: str = "label",
    family: Annotated[str, Options("gaussian", "binomial", "poisson", "gamma", "tweedie")] = "gaussian",
    link: Annotated[str, Options("canonical", "identity", "log", "inverse", "logit", "probit", "cloglog", "sqrt")] = (
        "canonical"
    ),
    variance_power: Annotated[float, Interval(0.0, None)] = 0.0,
    link_power: float | None = None,
    max_iter: Annotated[int, Interval(1, None)] = 25,
    reg_param: Annotated[float, Interval(0.0, None)] = 0.0,
    fit_intercept: bool = True,
    tol: Annotated[float, Interval(0.0, None)] = 1e-6,
    weight_col: str | None = None,
    offset_col: str | None = None,
):
    """Generalized linear model: an exponential-family label through a link (Spark's GeneralizedLinearRegression).

    Families and their links: gaussian (identity, log, inverse), binomial (logit, probit,
    cloglog), poisson (log, identity, sqrt), gamma (inverse, identity, log); ``canonical``
    picks the first. ``tweedie`` takes ``variance_power`` (0 gaussian, 1 poisson, 2 gamma,
    between 1 and 2 compound Poisson-gamma) and ``link_power`` (0 = log; unset: 1 -
    variance_power) instead of ``link``. Fitted by iteratively reweighted least squares; the
    model's summary has standard errors and p-values.

    Args:
        data: training table with a features vector column and a numeric label.
        features_col: the features vector column.
        label_col: the label column.
        family: the label's distribution.
        link: the link function between the linear predictor and the label's mean (not for tweedie).
        variance_power: tweedie: the power in the variance function (0, or 1 and above).
        link_power: tweedie: the power link function's index (0 is log); unset: 1 - variance_power.
        max_iter: the most IRLS iterations.
        reg_param: L2 regularisation strength.
        fit_intercept: fit an intercept term.
        tol: the convergence tolerance.
        weight_col: an optional column of row weights.
        offset_col: an optional column added to the linear predictor with coefficient 1 (e.g. log exposure).
        model: the fitted GeneralizedLinearRegressionModel.
    """
    from pyspark.ml.regression import GeneralizedLinearRegression

    name = "glm_regression"
    features, label = check_training_table(ctx, data, component=name, features_col=features_col, label_col=label_col)
    settings: dict[str, Any] = {}
    if family == "tweedie":
        if link != "canonical":
            raise ValueError(f"{name}: params.link must stay 'canonical' for family 'tweedie' (set link_power instead)")
        if 0.0 < variance_power < 1.0:
            raise ValueError(
                f"{name}: params.variance_power must be 0 or >= 1 for family 'tweedie', got {variance_power}"
            )
        settings["variancePower"] = variance_power
        if link_power is not None:
            settings["linkPower"] = link_power
    else:
        if link_power is not None:
            raise ValueError(f"{name}: params.link_power applies to family 'tweedie' only, not {family!r}")
        allowed = _GLM_LINKS[family]
        chosen = allowed[0] if link == "canonical" else link
        if chosen not in allowed:
            raise ValueError(
                f"{name}: params.link {link!r} does not go with family {family!r} (it takes {', '.join(allowed)})"
            )
        settings["link"] = chosen
    estimator = GeneralizedLinearRegression(
        featuresCol=features,
        labelCol=label,
        family=family,
        maxIter=max_iter,
        regParam=reg_param,
        fitIntercept=fit_intercept,
        tol=tol,
        **settings,
    )
    _weights(estimator, data, weight_col, component=name)
    if offset_col:
        (offset,) = require_columns(data, [offset_col], component=name, param="offset_col")
        require_numeric(data, offset, component=name, param="offset_col")
        estimator.setOffsetCol(offset)
    return fit_logged(ctx, estimator, data, label_col=label)


@component(category="regression", outputs={"model": Model})
def decision_tree_regressor(
    ctx,
    data: Table,
    *,
    features_col: str = "features",
    label_col: str = "label",
    max_depth: Annotated[int, Interval(0, 30)] = 5,
    max_bins: Annotated[int, Interval(2, None)] = 32,
    min_instances_per_node: Annotated[int, Interval(1, None)] = 1,
    min_info_gain: Annotated[float, Interval(0.0, None)] = 0.0,
    seed: int = 42,
):
    """A single regression tree (Spark's DecisionTreeRegressor, variance impurity).

    Args:
        data: training table with a features vector column and a numeric label.
        features_col: the features vector column.
        label_col: the label column.
        max_depth: the depth of the tree.
        max_bins: the most bins continuous features are discretised into.
        min_instances_per_node: the fewest rows a leaf may hold.
        min_info_gain: the least variance reduction a split must bring.
        seed: random seed.
        model: the fitted DecisionTreeRegressionModel.
    """
    from pyspark.ml.regression import DecisionTreeRegressor

    features, label = check_training_table(
        ctx, data, component="decision_tree_regressor", features_col=features_col, label_col=label_col
    )
    estimator = DecisionTreeRegressor(
        featuresCol=features,
        labelCol=label,
        maxDepth=max_depth,
        maxBins=max_bins,
        minInstancesPerNode=min_instances_per_node,
        minInfoGain=min_info_gain,
        seed=seed,
    )
    return fit_logged(ctx, estimator, data, label_col=label)


@component(category="regression", outputs={"model": Model})
def xgboost_regressor(
    ctx,
    data: Table,
    *,
    features_col: str = "features",
    label_col: str = "label",
    objective: Annotated[
        str,
        Options(
            "reg:squarederror",
            "reg:absoluteerror",
            "reg:pseudohubererror",
            "reg:squaredlogerror",
            "count:poisson",
            "reg:gamma",
            "reg:tweedie",
        ),
    ] = "reg:squarederror",
    n_estimators: Annotated[int, Interval(1, None)] = 100,
    max_depth: Annotated[int, Interval(0, None)] = 6,
    learning_rate: Annotated[float, Interval(0.0, 1.0, closed="right")] = 0.3,
    subsample: Annotated[float, Interval(0.0, 1.0, closed="right")] = 1.0,
    colsample_bytree: Annotated[float, Interval(0.0, 1.0, closed="right")] = 1.0,
    min_child_weight: Annotated[float, Interval(0.0, None)] = 1.0,
    reg_lambda: Annotated[float, Interval(0.0, None)] = 1.0,
    reg_alpha: Annotated[float, Interval(0.0, None)] = 0.0,
    max_bin: Annotated[int, Interval(2, None)] = 256,
    num_workers: Annotated[int, Interval(1, None)] = 1,
    seed: int = 42,
    weight_col: str | None = None,
):
    """XGBoost gradient-boosted trees regressor trained on Spark (xgboost.spark, ``hist`` trees).

    The model adds ``prediction`` and has ``featureImportances`` (total gain, normalised), so
    ``predict`` and ``feature_importance`` work on it.

    Args:
        data: training table with a features vector column and a numeric label.
        features_col: the features vector column.
        label_col: the label column (non-negative for count:poisson and reg:tweedie, positive for reg:gamma).
        objective: the loss: squared, absolute, pseudo-Huber or squared-log error, or a Poisson, gamma
            or Tweedie likelihood (log link).
        n_estimators: number of boosting rounds.
        max_depth: the most levels of each tree (0: no limit).
        learning_rate: the shrinkage of each tree (eta).
        subsample: the share of rows each tree is trained on.
        colsample_bytree: the share of features each tree may use.
        min_child_weight: the least hessian sum a leaf must hold.
        reg_lambda: L2 regularisation of the leaf weights.
        reg_alpha: L1 regularisation of the leaf weights.
        max_bin: the most histogram bins per feature.
        num_workers: the number of Spark tasks that train together (each uses spark.task.cpus threads).
        seed: random seed.
        weight_col: an optional column of row weights.
        model: the fitted XGBoostRegressionModel (an xgboost.spark SparkXGBRegressorModel).
    """
    from airflow_mlplat.components._xgboost_models import XGBoostRegressor

    name = "xgboost_regressor"
    features, label = check_training_table(ctx, data, component=name, features_col=features_col, label_col=label_col)
    estimator = XGBoostRegressor(
        features_col=features,
        label_col=label,
        objective=objective,
        num_workers=num_workers,
        tree_method="hist",
        n_estimators=n_estimators,
        max_depth=max_depth,
        learning_rate=learning_rate,
        subsample=subsample,
        colsample_bytree=colsample_bytree,
        min_child_weight=min_child_weight,
        reg_lambda=reg_lambda,
        reg_alpha=reg_alpha,
        max_bin=max_bin,
        random_state=seed,
    )
    _weights(estimator, data, weight_col, component=name)
    return fit_logged(ctx, estimator, data, label_col=label)


@component(category="regression", outputs={"model": Model})
def isotonic_regression(
    ctx,
    data: Table,
    *,
    features_col: str = "features",
    label_col: str = "label",
    isotonic: bool = True,
    feature_index: Annotated[int, Interval(0, None)] = 0,
    weight_col: str | None = None,
):
    """Isotonic regression: the best monotone (non-decreasing or non-increasing) step function of one feature.

    Fitted with the pool-adjacent-violators algorithm (Spark's IsotonicRegression); predictions
    interpolate linearly between the fitted boundaries. Typical uses: calibrating a
    classifier's scores into probabilities, dose-response curves.

    Args:
        data: training table with a numeric label and a features column: a vector (the element
            at ``feature_index`` is used) or a numeric column.
        features_col: the feature column (vector or numeric).
        label_col: the label column.
        isotonic: fit a non-decreasing function; false fits a non-increasing (antitonic) one.
        feature_index: for a vector features column, the element to use.
        weight_col: an optional column of row weights.
        model: the fitted IsotonicRegressionModel.
    """
    from pyspark.ml.regression import IsotonicRegression

    name = "isotonic_regression"
    (features,) = require_columns(data, [features_col], component=name, param="features_col")
    (label,) = require_columns(data, [label_col], component=name, param="label_col")
    require_numeric(data, label, component=name, param="label_col")
    if is_vector(column_type(data, features)):
        size = vector_size(data, features, component=name, param="features_col")
        if feature_index >= size:
            raise ValueError(
                f"{name}: params.feature_index {feature_index} is out of range for params.features_col "
                f"column {features!r}, a vector of {size} element(s)"
            )
    else:
        require_numeric(data, features, component=name, param="features_col")
    estimator = IsotonicRegression(featuresCol=features, labelCol=label, isotonic=isotonic, featureIndex=feature_index)
    _weights(estimator, data, weight_col, component=name)
    return fit_logged(ctx, estimator, data, label_col=label)


@component(category="regression", outputs={"model": Model})
def fm_regressor(
    ctx,
    data: Table,
    *,
    features_col: str = "features",
    label_col: str = "label",
    factor_size: Annotated[int, Interval(1, None)] = 8,
    fit_intercept: bool = True,
    fit_linear: bool = True,
    reg_param: Annotated[float, Interval(0.0, None)] = 0.0,
    mini_batch_fraction: Annotated[float, Interval(0.0, 1.0, closed="right")] = 1.0,
    init_std: Annotated[float, Interval(0.0, None, closed="neither")] = 0.01,
    max_iter: Annotated[int, Interval(1, None)] = 100,
    step_size: Annotated[float, Interval(0.0, None, closed="neither")] = 1.0,
    tol: Annotated[float, Interval(0.0, None)] = 1e-6,
    solver: Annotated[str, Options("adamW", "gd")] = "adamW",
    seed: int = 42,
):
    """Factorization machine regressor (Spark's FMRegressor): a linear model plus factorised pairwise interactions.

    Each feature gets a ``factor_size``-dimensional latent vector; the interaction of two
    features is the dot product of their vectors (squared-error loss).

    Args:
        data: training table with a features vector column and a numeric label.
        features_col: the features vector column.
        label_col: the label column.
        factor_size: the dimension of the feature factors.
        fit_intercept: fit a global bias term.
        fit_linear: fit the linear (one-way) terms.
        reg_param: L2 regularisation strength.
        mini_batch_fraction: the share of rows each optimiser step uses.
        init_std: the standard deviation of the initial factors.
        max_iter: the most optimiser iterations.
        step_size: the initial learning rate.
        tol: the convergence tolerance.
        solver: the optimiser: adamW or gradient descent.
        seed: random seed (initial factors, mini-batches).
        model: the fitted FMRegressionModel.
    """
    from pyspark.ml.regression import FMRegressor

    features, label = check_training_table(
        ctx, data, component="fm_regressor", features_col=features_col, label_col=label_col
    )
    estimator = FMRegressor(
        featuresCol=features,
        labelCol=label,
        factorSize=factor_size,
        fitIntercept=fit_intercept,
        fitLinear=fit_linear,
        regParam=reg_param,
        miniBatchFraction=mini_batch_fraction,
        initStd=init_std,
        maxIter=max_iter,
        stepSize=step_size,
        tol=tol,
        solver=solver,
        seed=seed,
    )
    return fit_logged(ctx, estimator, data, label_col=label)


@component(category="regression", outputs={"model": Model})
def aft_survival_regression(
    ctx,
    data: Table,
    *,
    features_col: str = "features",
    label_col: str = "label",
    censor_col: str = "censor",
    quantile_probabilities: list[float] | None = None,
    quantiles_col: str | None = None,
    max_iter: Annotated[int, Interval(1, None)] = 100,
    tol: Annotated[float, Interval(0.0, None)] = 1e-6,
    fit_intercept: bool = True,
):
    """Accelerated failure time survival regression, Weibull distribution (Spark's AFTSurvivalRegression).

    Learns how the features stretch or shrink the time until an event (churn, purchase,
    failure) from rows whose event was observed (``censor`` 1) or not yet (0: the label is
    only a lower bound). The model predicts the expected time and, with ``quantiles_col``,
    the time by which each ``quantile_probabilities`` share of such rows has had the event.

    Args:
        data: training table with a features vector column, a positive time label and a censor column.
        features_col: the features vector column.
        label_col: the time-to-event column (positive).
        censor_col: 1 if the event happened at the label's time, 0 if the row was censored then.
        quantile_probabilities: the probabilities (each in (0, 1)) whose time quantiles the model
            predicts; unset: 0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99.
        quantiles_col: the output vector column of those quantiles; unset adds none.
        max_iter: the most optimiser iterations.
        tol: the convergence tolerance.
        fit_intercept: fit an intercept term.
        model: the fitted AFTSurvivalRegressionModel.
    """
    from pyspark.ml.regression import AFTSurvivalRegression

    name = "aft_survival_regression"
    features, label = check_training_table(ctx, data, component=name, features_col=features_col, label_col=label_col)
    (censor,) = require_columns(data, [censor_col], component=name, param="censor_col")
    require_numeric(data, censor, component=name, param="censor_col")
    settings: dict[str, Any] = {}
    if quantile_probabilities is not None:
        if not quantile_probabilities or any(not 0.0 < p < 1.0 for p in quantile_probabilities):
            raise ValueError(
                f"{name}: params.quantile_probabilities must be probabilities strictly between 0 and 1, "
                f"got {quantile_probabilities!r}"
            )
        settings["quantileProbabilities"] = list(quantile_probabilities)
    if quantiles_col:
        settings["quantilesCol"] = quantiles_col
    estimator = AFTSurvivalRegression(
        featuresCol=features,
        labelCol=label,
        censorCol=censor,
        maxIter=max_iter,
        tol=tol,
        fitIntercept=fit_intercept,
        **settings,
    )
    return fit_logged(ctx, estimator, data, label_col=label)
