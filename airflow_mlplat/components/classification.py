"""Classification components: fit a Spark ML classifier on a table with a features vector and a label."""

from __future__ import annotations

from typing import Annotated, Any

from airflow_mlplat.components._common import (
    check_training_table,
    fit_logged,
    label_stats,
    require_columns,
    require_numeric,
    vector_size,
)
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


def _weights(estimator: Any, data: Any, weight_col: str | None, *, component: str) -> None:
    """Set ``estimator``'s weight column when ``weight_col`` is given (checked to exist and be numeric)."""
    if weight_col:
        (weights,) = require_columns(data, [weight_col], component=component, param="weight_col")
        require_numeric(data, weights, component=component, param="weight_col")
        estimator.setWeightCol(weights)


@component(category="classification", outputs={"model": Model})
def linear_svc(
    ctx,
    data: Table,
    *,
    features_col: str = "features",
    label_col: str = "label",
    max_iter: Annotated[int, Interval(1, None)] = 100,
    reg_param: Annotated[float, Interval(0.0, None)] = 0.0,
    fit_intercept: bool = True,
    standardization: bool = True,
    threshold: float = 0.0,
    weight_col: str | None = None,
):
    """Linear support vector machine for binary classification (hinge loss; Spark's LinearSVC).

    The model has ``rawPrediction`` (the margin) and ``prediction``, but no probability.

    Args:
        data: training table with a features vector column and a 0/1 label.
        features_col: the features vector column.
        label_col: the label column (0 or 1).
        max_iter: the most optimiser (OWL-QN) iterations.
        reg_param: L2 regularisation strength.
        fit_intercept: fit an intercept term.
        standardization: standardise the features before fitting (coefficients are reported unscaled).
        threshold: predict 1 when the margin exceeds it.
        weight_col: an optional column of row weights.
        model: the fitted LinearSVCModel.
    """
    from pyspark.ml.classification import LinearSVC

    features, label = check_training_table(
        ctx, data, component="linear_svc", features_col=features_col, label_col=label_col
    )
    estimator = LinearSVC(
        featuresCol=features,
        labelCol=label,
        maxIter=max_iter,
        regParam=reg_param,
        fitIntercept=fit_intercept,
        standardization=standardization,
        threshold=threshold,
    )
    _weights(estimator, data, weight_col, component="linear_svc")
    return fit_logged(ctx, estimator, data, label_col=label)


_NAIVE_BAYES_DATA_ERRORS = ("nonnegative", "non-negative", "0 or 1", "binary", "negative")


@component(category="classification", outputs={"model": Model})
def naive_bayes(
    ctx,
    data: Table,
    *,
    features_col: str = "features",
    label_col: str = "label",
    model_type: Annotated[str, Options("multinomial", "complement", "bernoulli", "gaussian")] = "multinomial",
    smoothing: Annotated[float, Interval(0.0, None)] = 1.0,
    weight_col: str | None = None,
):
    """Naive Bayes classifier, binary or multiclass (Spark's NaiveBayes).

    ``multinomial`` and ``complement`` suit counts (e.g. term frequencies; features must be
    non-negative), ``bernoulli`` 0/1 features, ``gaussian`` continuous features.

    Args:
        data: training table with a features vector column and a numeric label (0, 1, ...).
        features_col: the features vector column.
        label_col: the label column.
        model_type: the features' distribution given the class.
        smoothing: additive (Laplace) smoothing of the counts (multinomial, complement, bernoulli).
        weight_col: an optional column of row weights.
        model: the fitted NaiveBayesModel.
    """
    from pyspark.ml.classification import NaiveBayes

    features, label = check_training_table(
        ctx, data, component="naive_bayes", features_col=features_col, label_col=label_col
    )
    estimator = NaiveBayes(featuresCol=features, labelCol=label, modelType=model_type, smoothing=smoothing)
    _weights(estimator, data, weight_col, component="naive_bayes")
    try:
        return fit_logged(ctx, estimator, data, label_col=label)
    except Exception as exc:
        message = str(exc)
        if model_type != "gaussian" and any(text in message.lower() for text in _NAIVE_BAYES_DATA_ERRORS):
            wanted = "0/1 values" if model_type == "bernoulli" else "non-negative values"
            raise ValueError(
                f"naive_bayes: params.features_col column {features!r} must hold {wanted} "
                f"for model_type {model_type!r} (use 'gaussian' for other data)"
            ) from exc
        raise


@component(category="classification", outputs={"model": Model})
def decision_tree_classifier(
    ctx,
    data: Table,
    *,
    features_col: str = "features",
    label_col: str = "label",
    max_depth: Annotated[int, Interval(0, 30)] = 5,
    max_bins: Annotated[int, Interval(2, None)] = 32,
    min_instances_per_node: Annotated[int, Interval(1, None)] = 1,
    min_info_gain: Annotated[float, Interval(0.0, None)] = 0.0,
    impurity: Annotated[str, Options("gini", "entropy")] = "gini",
    seed: int = 42,
):
    """A single decision tree classifier, binary or multiclass (Spark's DecisionTreeClassifier).

    Args:
        data: training table with a features vector column and a numeric label (0, 1, ...).
        features_col: the features vector column.
        label_col: the label column.
        max_depth: the depth of the tree.
        max_bins: the most bins continuous features are discretised into.
        min_instances_per_node: the fewest rows a leaf may hold.
        min_info_gain: the least information gain a split must bring.
        impurity: the split criterion.
        seed: random seed.
        model: the fitted DecisionTreeClassificationModel.
    """
    from pyspark.ml.classification import DecisionTreeClassifier

    features, label = check_training_table(
        ctx, data, component="decision_tree_classifier", features_col=features_col, label_col=label_col
    )
    estimator = DecisionTreeClassifier(
        featuresCol=features,
        labelCol=label,
        maxDepth=max_depth,
        maxBins=max_bins,
        minInstancesPerNode=min_instances_per_node,
        minInfoGain=min_info_gain,
        impurity=impurity,
        seed=seed,
    )
    return fit_logged(ctx, estimator, data, label_col=label)


@component(category="classification", outputs={"model": Model})
def xgboost_classifier(
    ctx,
    data: Table,
    *,
    features_col: str = "features",
    label_col: str = "label",
    n_estimators: Annotated[int, Interval(1, None)] = 100,
    max_depth: Annotated[int, Interval(0, None)] = 6,
    learning_rate: Annotated[float, Interval(0.0, 1.0, closed="right")] = 0.3,
    subsample: Annotated[float, Interval(0.0, 1.0, closed="right")] = 1.0,
    colsample_bytree: Annotated[float, Interval(0.0, 1.0, closed="right")] = 1.0,
    min_child_weight: Annotated[float, Interval(0.0, None)] = 1.0,
    reg_lambda: Annotated[float, Interval(0.0, None)] = 1.0,
    reg_alpha: Annotated[float, Interval(0.0, None)] = 0.0,
    scale_pos_weight: Annotated[float, Interval(0.0, None, closed="neither")] = 1.0,
    max_bin: Annotated[int, Interval(2, None)] = 256,
    num_workers: Annotated[int, Interval(1, None)] = 1,
    seed: int = 42,
    weight_col: str | None = None,
):
    """XGBoost gradient-boosted trees classifier trained on Spark (xgboost.spark, ``hist`` trees).

    Binary labels give a logistic model, labels 0..k-1 a softmax one. The model has Spark's
    ``rawPrediction``/``probability``/``prediction`` columns and ``featureImportances``
    (total gain, normalised), so ``predict`` and ``feature_importance`` work on it.

    Args:
        data: training table with a features vector column and a class-index label (0, 1, ...).
        features_col: the features vector column.
        label_col: the label column.
        n_estimators: number of boosting rounds.
        max_depth: the most levels of each tree (0: no limit).
        learning_rate: the shrinkage of each tree (eta).
        subsample: the share of rows each tree is trained on.
        colsample_bytree: the share of features each tree may use.
        min_child_weight: the least hessian sum a leaf must hold.
        reg_lambda: L2 regularisation of the leaf weights.
        reg_alpha: L1 regularisation of the leaf weights.
        scale_pos_weight: binary: the weight of positive rows relative to negative ones (for imbalanced labels).
        max_bin: the most histogram bins per feature.
        num_workers: the number of Spark tasks that train together (each uses spark.task.cpus threads).
        seed: random seed.
        weight_col: an optional column of row weights.
        model: the fitted XGBoostClassificationModel (an xgboost.spark SparkXGBClassifierModel).
    """
    from airflow_mlplat.components._xgboost_models import XGBoostClassifier

    name = "xgboost_classifier"
    features, label = check_training_table(ctx, data, component=name, features_col=features_col, label_col=label_col)
    label_stats(data, label, component=name, classes=True)
    estimator = XGBoostClassifier(
        features_col=features,
        label_col=label,
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
        scale_pos_weight=scale_pos_weight,
        max_bin=max_bin,
        random_state=seed,
    )
    _weights(estimator, data, weight_col, component=name)
    return fit_logged(ctx, estimator, data, label_col=label)


@component(category="classification", outputs={"model": Model})
def xgboost_random_forest_classifier(
    ctx,
    data: Table,
    *,
    features_col: str = "features",
    label_col: str = "label",
    num_trees: Annotated[int, Interval(1, None)] = 100,
    max_depth: Annotated[int, Interval(0, None)] = 6,
    subsample: Annotated[float, Interval(0.0, 1.0, closed="neither")] = 0.8,
    colsample_bynode: Annotated[float, Interval(0.0, 1.0, closed="right")] = 0.8,
    min_child_weight: Annotated[float, Interval(0.0, None)] = 1.0,
    max_bin: Annotated[int, Interval(2, None)] = 256,
    num_workers: Annotated[int, Interval(1, None)] = 1,
    seed: int = 42,
):
    """Random forest classifier built by XGBoost on Spark (xgboost.spark ``hist`` trees, one round of parallel trees).

    XGBoost's random-forest mode: ``num_trees`` trees grown side by side in a single boosting
    round (learning rate 1), each on a row sample and choosing each split from a feature
    sample. Usually much faster than ``random_forest_classifier`` on large tables; the model
    has ``featureImportances`` like the other tree models.

    Args:
        data: training table with a features vector column and a class-index label (0, 1, ...).
        features_col: the features vector column.
        label_col: the label column.
        num_trees: number of trees in the forest.
        max_depth: the most levels of each tree (0: no limit).
        subsample: the share of rows each tree is trained on (below 1, or the trees are all alike).
        colsample_bynode: the share of features each split may choose from.
        min_child_weight: the least hessian sum a leaf must hold.
        max_bin: the most histogram bins per feature.
        num_workers: the number of Spark tasks that train together (each uses spark.task.cpus threads).
        seed: random seed (row and feature sampling).
        model: the fitted XGBoostClassificationModel (an xgboost.spark SparkXGBClassifierModel).
    """
    from airflow_mlplat.components._xgboost_models import XGBoostClassifier

    name = "xgboost_random_forest_classifier"
    features, label = check_training_table(ctx, data, component=name, features_col=features_col, label_col=label_col)
    label_stats(data, label, component=name, classes=True)
    estimator = XGBoostClassifier(
        features_col=features,
        label_col=label,
        num_workers=num_workers,
        tree_method="hist",
        n_estimators=1,
        num_parallel_tree=num_trees,
        learning_rate=1.0,
        max_depth=max_depth,
        subsample=subsample,
        colsample_bynode=colsample_bynode,
        min_child_weight=min_child_weight,
        max_bin=max_bin,
        random_state=seed,
    )
    return fit_logged(ctx, estimator, data, label_col=label)


@component(category="classification", outputs={"model": Model})
def mlp_classifier(
    ctx,
    data: Table,
    *,
    features_col: str = "features",
    label_col: str = "label",
    hidden_layers: list[int] | None = None,
    max_iter: Annotated[int, Interval(1, None)] = 100,
    solver: Annotated[str, Options("l-bfgs", "gd")] = "l-bfgs",
    step_size: Annotated[float, Interval(0.0, None, closed="neither")] = 0.03,
    block_size: Annotated[int, Interval(1, None)] = 128,
    tol: Annotated[float, Interval(0.0, None)] = 1e-6,
    seed: int = 42,
):
    """Multilayer perceptron (feed-forward neural network) classifier (Spark's MultilayerPerceptronClassifier).

    The layers are: as many inputs as the features vector has elements, the hidden layers
    (sigmoid units), and one softmax output per class (the largest label + 1).

    Args:
        data: training table with a features vector column and a class-index label (0, 1, ...).
        features_col: the features vector column.
        label_col: the label column.
        hidden_layers: the sizes of the hidden layers, e.g. [16, 8]; unset: one hidden layer as wide as the input.
        max_iter: the most optimiser iterations.
        solver: the optimiser: l-bfgs or (mini-batch) gradient descent.
        step_size: the learning rate of gradient descent (gd only).
        block_size: rows stacked into one matrix for the computation.
        tol: the convergence tolerance.
        seed: random seed (initial weights).
        model: the fitted MultilayerPerceptronClassificationModel.
    """
    from pyspark.ml.classification import MultilayerPerceptronClassifier

    name = "mlp_classifier"
    features, label = check_training_table(ctx, data, component=name, features_col=features_col, label_col=label_col)
    inputs = vector_size(data, features, component=name, param="features_col")
    if hidden_layers is not None and any(size < 1 for size in hidden_layers):
        raise ValueError(f"{name}: params.hidden_layers must hold sizes >= 1, got {hidden_layers!r}")
    hidden = list(hidden_layers) if hidden_layers is not None else [inputs]
    _, classes = label_stats(data, label, component=name, classes=True)
    layers = [inputs, *hidden, classes]
    ctx.log.info("%s: layers %s", ctx.node_id, layers)
    estimator = MultilayerPerceptronClassifier(
        featuresCol=features,
        labelCol=label,
        layers=layers,
        maxIter=max_iter,
        solver=solver,
        stepSize=step_size,
        blockSize=block_size,
        tol=tol,
        seed=seed,
    )
    return fit_logged(ctx, estimator, data, label_col=label)


@component(category="classification", outputs={"model": Model})
def fm_classifier(
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
    """Factorization machine for binary classification (Spark's FMClassifier): linear terms plus pairwise interactions.

    Each feature gets a ``factor_size``-dimensional latent vector; the interaction of two
    features is the dot product of their vectors, which suits sparse one-hot features (user,
    item, context) as in recommendation ranking.

    Args:
        data: training table with a features vector column and a 0/1 label.
        features_col: the features vector column.
        label_col: the label column (0 or 1).
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
        model: the fitted FMClassificationModel.
    """
    from pyspark.ml.classification import FMClassifier

    features, label = check_training_table(
        ctx, data, component="fm_classifier", features_col=features_col, label_col=label_col
    )
    estimator = FMClassifier(
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


@component(category="classification", outputs={"model": Model})
def one_vs_rest(
    ctx,
    data: Table,
    *,
    features_col: str = "features",
    label_col: str = "label",
    base_learner: Annotated[str, Options("logistic_regression", "linear_svc", "gbdt")] = "logistic_regression",
    max_iter: Annotated[int, Interval(1, None)] = 100,
    reg_param: Annotated[float, Interval(0.0, None)] = 0.0,
    num_rounds: Annotated[int, Interval(1, None)] = 20,
    max_depth: Annotated[int, Interval(0, 30)] = 5,
    step_size: Annotated[float, Interval(0.0, 1.0, closed="right")] = 0.1,
    parallelism: Annotated[int, Interval(1, None)] = 1,
    seed: int = 42,
):
    """Multiclass classification with one binary classifier per class (Spark's OneVsRest).

    Class ``k``'s classifier learns "``k`` against the rest"; a row gets the class whose
    classifier is most confident. Makes binary-only learners (linear SVM, GBDT) multiclass.

    Args:
        data: training table with a features vector column and a class-index label (0, 1, ...).
        features_col: the features vector column.
        label_col: the label column.
        base_learner: the binary classifier fitted per class.
        max_iter: logistic_regression and linear_svc: the most optimiser iterations.
        reg_param: logistic_regression and linear_svc: L2 regularisation strength.
        num_rounds: gbdt: boosting rounds (trees) per class.
        max_depth: gbdt: the depth of each tree.
        step_size: gbdt: the learning rate of each tree.
        parallelism: how many per-class classifiers are fitted at the same time.
        seed: gbdt: random seed.
        model: the fitted OneVsRestModel.
    """
    from pyspark.ml.classification import GBTClassifier, LinearSVC, LogisticRegression, OneVsRest

    features, label = check_training_table(
        ctx, data, component="one_vs_rest", features_col=features_col, label_col=label_col
    )
    if base_learner == "logistic_regression":
        base: Any = LogisticRegression(maxIter=max_iter, regParam=reg_param, family="binomial")
    elif base_learner == "linear_svc":
        base = LinearSVC(maxIter=max_iter, regParam=reg_param)
    else:
        base = GBTClassifier(maxIter=num_rounds, maxDepth=max_depth, stepSize=step_size, seed=seed)
    estimator = OneVsRest(classifier=base, featuresCol=features, labelCol=label, parallelism=parallelism)
    return fit_logged(ctx, estimator, data, label_col=label)
