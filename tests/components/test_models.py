from __future__ import annotations

import logging

import pytest
from pyspark.ml import Pipeline
from pyspark.ml.classification import GBTClassificationModel, RandomForestClassificationModel
from pyspark.ml.feature import VectorAssembler
from pyspark.ml.linalg import Vectors
from pyspark.ml.regression import GBTRegressionModel, LinearRegressionModel, RandomForestRegressionModel

from airflow_mlplat.components.classification import gbdt_classifier, logistic_regression, random_forest_classifier
from airflow_mlplat.components.datasets import PURCHASE_INTENT_FEATURES, synthetic_purchase_intent
from airflow_mlplat.components.evaluation import binary_classification_evaluation, regression_evaluation
from airflow_mlplat.components.features import vector_assembler
from airflow_mlplat.components.model import feature_importance, predict
from airflow_mlplat.components.processing import cast_columns, random_split
from airflow_mlplat.components.regression import gbdt_regressor, linear_regression, random_forest_regressor


@pytest.fixture(scope="module")
def purchase_split(spark):
    """The reference workload in small: generate, cast strings to doubles, assemble, split 85/15."""
    from airflow_mlplat.engine.context import ComponentContext

    ctx = ComponentContext(spark=spark, node_id="prepare", artifacts_dir="unused")
    data = synthetic_purchase_intent(ctx, rows=4000, seed=7, partitions=2)
    data = cast_columns(ctx, data, columns=list(PURCHASE_INTENT_FEATURES), to_type="double")
    data = vector_assembler(ctx, data, input_cols=list(PURCHASE_INTENT_FEATURES))
    parts = random_split(ctx, data, ratio=0.85, seed=1, stratify_by="label")
    train, test = parts["train"].cache(), parts["test"].cache()
    yield train, test
    train.unpersist()
    test.unpersist()


def test_gbdt_classifier_learns_purchase_intent(ctx, purchase_split, caplog):
    train, test = purchase_split
    with caplog.at_level(logging.INFO, logger="airflow_mlplat.engine"):
        model = gbdt_classifier(ctx, train, max_iter=8, max_depth=3, max_bins=16)
    assert isinstance(model, GBTClassificationModel) and model.getNumTrees == 8
    assert any("fitting GBTClassifier" in m for m in caplog.messages)
    assert any("fitted GBTClassifier in" in m for m in caplog.messages)
    scored = predict(ctx, model, test)
    assert {"prediction", "probability", "score"} <= set(scored.columns)
    row = scored.select("probability", "score").first()
    assert row.score == pytest.approx(row.probability[1])
    metrics = binary_classification_evaluation(ctx, scored)
    assert 0.7 < metrics["auc_roc"] < 0.97
    assert metrics["rows"] == test.count()

    importance = feature_importance(ctx, model, train)
    assert importance.dtypes == [("feature", "string"), ("importance", "double"), ("rank", "int")]
    rows = importance.collect()
    assert {r.feature for r in rows} == set(PURCHASE_INTENT_FEATURES)
    assert sum(r.importance for r in rows) == pytest.approx(1.0)
    assert [r.rank for r in rows] == list(range(1, len(PURCHASE_INTENT_FEATURES) + 1))
    assert [r.importance for r in rows] == sorted((r.importance for r in rows), reverse=True)


@pytest.fixture
def separable(spark):
    rows = [(Vectors.dense([float(x), float(x % 3)]), 1 if x >= 10 else 0) for x in range(20)]
    return spark.createDataFrame(rows, ["features", "label"])


def test_logistic_regression_and_random_forest_classifier(ctx, separable):
    lr = logistic_regression(ctx, separable, max_iter=50)
    lr_metrics = binary_classification_evaluation(ctx, predict(ctx, lr, separable))
    assert lr_metrics["auc_roc"] == 1.0 and lr_metrics["accuracy"] == 1.0
    forest = random_forest_classifier(ctx, separable, num_trees=5, max_depth=3, seed=3)
    assert isinstance(forest, RandomForestClassificationModel) and forest.getNumTrees == 5
    rf_metrics = binary_classification_evaluation(ctx, predict(ctx, forest, separable))
    assert rf_metrics["accuracy"] >= 0.9
    importance = feature_importance(ctx, forest, separable).collect()
    assert [r.feature for r in importance][0] == "features_0"  # no ml_attr metadata: positional names
    with pytest.raises(ValueError, match=r"feature_importance: input 'model' \(LogisticRegressionModel\) has no"):
        feature_importance(ctx, lr, separable)


def test_learners_check_their_columns(ctx, spark, separable):
    with pytest.raises(ValueError, match=r"gbdt_classifier: params\.label_col names column 'bought'"):
        gbdt_classifier(ctx, separable, label_col="bought")
    with pytest.raises(ValueError, match=r"params\.features_col column 'label' must be a vector column"):
        logistic_regression(ctx, separable, features_col="label")
    text_label = spark.createDataFrame([(Vectors.dense([1.0]), "yes")], ["features", "label"])
    with pytest.raises(ValueError, match=r"params\.label_col column 'label' must be numeric, but it is string"):
        random_forest_classifier(ctx, text_label)
    with pytest.raises(ValueError, match=r"predict: input 'data' has no column 'features'"):
        predict(ctx, logistic_regression(ctx, separable, max_iter=5), separable.withColumnRenamed("features", "f"))


@pytest.fixture
def linear(spark):
    rows = [(float(a), float(b), 2.0 * a - 3.0 * b + 1.0) for a in range(6) for b in range(4)]
    frame = spark.createDataFrame(rows, "a double, b double, label double")
    return VectorAssembler(inputCols=["a", "b"], outputCol="features").transform(frame)


def test_linear_regression_recovers_coefficients(ctx, linear):
    model = linear_regression(ctx, linear)
    assert isinstance(model, LinearRegressionModel)
    assert model.coefficients.toArray().tolist() == pytest.approx([2.0, -3.0])
    assert model.intercept == pytest.approx(1.0)
    metrics = regression_evaluation(ctx, predict(ctx, model, linear))
    assert metrics["rmse"] == pytest.approx(0.0, abs=1e-6) and metrics["r2"] == pytest.approx(1.0)
    assert "score" not in predict(ctx, model, linear).columns


def test_tree_regressors(ctx, linear):
    gbt = gbdt_regressor(ctx, linear, max_iter=10, max_depth=3, step_size=0.5)
    assert isinstance(gbt, GBTRegressionModel)
    assert regression_evaluation(ctx, predict(ctx, gbt, linear))["r2"] > 0.9
    forest = random_forest_regressor(ctx, linear, num_trees=10, max_depth=4, feature_subset_strategy="all")
    assert isinstance(forest, RandomForestRegressionModel)
    assert regression_evaluation(ctx, predict(ctx, forest, linear))["r2"] > 0.8
    importance = {r.feature: r.importance for r in feature_importance(ctx, forest, linear).collect()}
    assert set(importance) == {"a", "b"} and sum(importance.values()) == pytest.approx(1.0)


def test_predict_and_feature_importance_through_a_pipeline_model(ctx, spark):
    frame = spark.createDataFrame([(float(x), 1 if x >= 10 else 0) for x in range(20)], "x double, label int")
    assembler = VectorAssembler(inputCols=["x"], outputCol="features")
    fitted = Pipeline(stages=[assembler, gbdt_classifier_estimator()]).fit(frame)
    scored = predict(ctx, fitted, frame)
    assert "score" in scored.columns
    importance = feature_importance(ctx, fitted, assembler.transform(frame)).collect()
    assert [(r.feature, r.importance) for r in importance] == [("x", 1.0)]
    with pytest.raises(ValueError, match=r"must be a fitted Spark ML model"):
        predict(ctx, {"not": "a model"}, frame)


def gbdt_classifier_estimator():
    from pyspark.ml.classification import GBTClassifier

    return GBTClassifier(maxIter=3, maxDepth=2)
