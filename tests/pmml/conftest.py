"""PMML tests need the optional AGPL extra (pyspark2pmml, jpmml-evaluator) and Java."""

from __future__ import annotations

import pytest

pytest.importorskip("pyspark2pmml")
pytest.importorskip("jpmml_evaluator")


@pytest.fixture(scope="module")
def purchase(spark):
    """Small purchase-intent data, cast to doubles (with missing values), split 85/15."""
    from airflow_mlplat.components.datasets import PURCHASE_INTENT_FEATURES, synthetic_purchase_intent
    from airflow_mlplat.components.processing import cast_columns
    from airflow_mlplat.engine.context import ComponentContext

    ctx = ComponentContext(spark=spark, node_id="data", artifacts_dir="/tmp/unused")
    raw = synthetic_purchase_intent(ctx, rows=3000, seed=5, partitions=2, missing_rate=0.05)
    data = cast_columns(ctx, raw, columns=list(PURCHASE_INTENT_FEATURES), to_type="double")
    train, test = data.randomSplit([0.85, 0.15], seed=1)
    return train.cache(), test.cache(), list(PURCHASE_INTENT_FEATURES)


@pytest.fixture(scope="module")
def gbdt_model(purchase):
    """The servable purchase-intent model: imputer + assembler + GBDT, one PipelineModel."""
    from pyspark.ml import Pipeline
    from pyspark.ml.classification import GBTClassifier
    from pyspark.ml.feature import Imputer, VectorAssembler

    train, _, features = purchase
    stages = [
        Imputer(inputCols=features, outputCols=features),
        VectorAssembler(inputCols=features, outputCol="features"),
        GBTClassifier(maxIter=5, maxDepth=3, seed=1),
    ]
    return Pipeline(stages=stages).fit(train)
