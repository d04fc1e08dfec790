"""Classification components: fit a Spark ML classifier on a table with a features vector and a label."""

from __future__ import annotations

from typing import Annotated

from airflow_mlplat.components._common import check_training_table, fit_logged, require_columns
from airflow_mlplat.components.registry import component
from airflow_mlplat.components.spec import Interval, Model, Options, Table


@component(category="classification", outputs={"model": Model})
def logistic_regression(
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
    threshold: Annotated[float, Interval(0.0, 1.0)] = 0.5,
    family: Annotated[str, Options("auto", "binomial", "multinomial")] = "auto",
    weight_col: str | None = None,
):
    """Logistic regression (binary or multinomial), Spark's LogisticRegression.

    Args:
        data: training table with a features vector column and a numeric label (0, 1, ...).
        features_col: the features vector column.
        label_col: the label column.
        max_iter: the most optimiser iterations.
        reg_param: regularisation strength.
        elastic_net_param: the L1 share of the regularisation (0 = L2 only, 1 = L1 only).
        fit_intercept: fit an intercept term.
        standardization: standardise the features before fitting (coefficients are reported unscaled).
        threshold: binary classification: predict 1 when P(1) exceeds it.
        family: the label distribution; auto picks binomial for two classes.
        weight_col: an optional column of row weights.
        model: the fitted LogisticRegressionModel.
    """
    from pyspark.ml.classification import LogisticRegression

    features, label = check_training_table(
        ctx, data, component="logistic_regression", features_col=features_col, label_col=label_col
    )
    estimator = LogisticRegression(
        featuresCol=features,
        labelCol=label,
        maxIter=max_iter,
        regParam=reg_param,
        elasticNetParam=elastic_net_param,
        fitIntercept=fit_intercept,
        standardization=standardization,
        threshold=threshold,
        family=family,
    )
    if weight_col:
        (weights,) = require_columns(data, [weight_col], component="logistic_regression", param="weight_col")
        estimator.setWeightCol(weights)
    return fit_logged(ctx, estimator, data, label_col=label)


@component(category="classification", outputs={"model": Model})
def gbdt_classifier(
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
    seed: int = 42,
):
    """Gradient-boosted decision trees for binary classification (Spark's GBTClassifier).

    Args:
        data: training table with a features vector column and a 0/1 label.
        features_col: the features vector column.
        label_col: the label column (0 or 1).
        max_iter: number of boosting rounds (trees).
        max_depth: the depth of each tree.
        step_size: the learning rate (shrinkage) of each tree.
        subsampling_rate: the share of rows each tree is trained on.
        min_instances_per_node: the fewest rows a leaf may hold.
        max_bins: the most bins continuous features are discretised into.
        seed: random seed (for subsampling).
        model: the fitted GBTClassificationModel.
    """
    from pyspark.ml.classification import GBTClassifier

    features, label = check_training_table(
        ctx, data, component="gbdt_classifier", features_col=features_col, label_col=label_col
    )
    estimator = GBTClassifier(
        featuresCol=features,
        labelCol=label,
        maxIter=max_iter,
        maxDepth=max_depth,
        stepSize=step_size,
        subsamplingRate=subsampling_rate,
        minInstancesPerNode=min_instances_per_node,
        maxBins=max_bins,
        seed=seed,
    )
    return fit_logged(ctx, estimator, data, label_col=label)


@component(category="classification", outputs={"model": Model})
def random_forest_classifier(
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
    """Random forest classifier (Spark's RandomForestClassifier), binary or multiclass.

    Args:
        data: training table with a features vector column and a numeric label (0, 1, ...).
        features_col: the features vector column.
        label_col: the label column.
        num_trees: number of trees.
        max_depth: the depth of each tree.
        subsampling_rate: the share of rows each tree is trained on.
        feature_subset_strategy: how many features each split considers (auto = sqrt for classification).
        min_instances_per_node: the fewest rows a leaf may hold.
        max_bins: the most bins continuous features are discretised into.
        seed: random seed (bootstrap and feature sampling).
        model: the fitted RandomForestClassificationModel.
    """
    from pyspark.ml.classification import RandomForestClassifier

    features, label = check_training_table(
        ctx, data, component="random_forest_classifier", features_col=features_col, label_col=label_col
    )
    estimator = RandomForestClassifier(
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
