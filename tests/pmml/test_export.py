"""PMML export with verification: Spark and the exported document must score alike, and a wrong file must fail."""

from __future__ import annotations

import re

import pytest

from airflow_mlplat.pmml import PmmlExportError, PmmlVerificationError, check_exportable, export_pmml, verify_pmml


def test_purchase_intent_model_exports_and_verifies(spark, purchase, gbdt_model):
    _, test, features = purchase
    document = export_pmml(gbdt_model, test)
    assert "<PMML" in document and 'name="label"' in document  # the label stays in the schema
    result = verify_pmml(document, gbdt_model, test, rows=500)
    assert result.rows == min(500, test.count())
    assert result.fields == ["probability(0)", "probability(1)"]
    assert result.max_abs_diff <= 1e-6
    # every raw feature is a PMML input
    for column in features:
        assert f'name="{column}"' in document


def test_logistic_regression_with_categorical_feature(spark, purchase):
    from pyspark.ml import Pipeline
    from pyspark.ml.classification import LogisticRegression
    from pyspark.ml.feature import Imputer, OneHotEncoder, StandardScaler, StringIndexer, VectorAssembler

    train, test, features = purchase
    stages = [
        Imputer(inputCols=features, outputCols=features),
        StringIndexer(inputCol="city_tier", outputCol="city_index", handleInvalid="keep"),
        OneHotEncoder(inputCols=["city_index"], outputCols=["city_vec"]),
        VectorAssembler(inputCols=features, outputCol="numeric"),
        StandardScaler(inputCol="numeric", outputCol="scaled", withMean=True),
        VectorAssembler(inputCols=["scaled", "city_vec"], outputCol="features"),
        LogisticRegression(maxIter=30, regParam=0.01),
    ]
    model = Pipeline(stages=stages).fit(train)
    result = verify_pmml(export_pmml(model, test), model, test, rows=300)
    assert result.max_abs_diff <= 1e-6 and result.rows > 100


def test_random_forest(spark, purchase):
    from pyspark.ml import Pipeline
    from pyspark.ml.classification import RandomForestClassifier
    from pyspark.ml.feature import Imputer, VectorAssembler

    train, test, features = purchase
    stages = [
        Imputer(inputCols=features, outputCols=features, strategy="median"),
        VectorAssembler(inputCols=features, outputCol="features"),
        RandomForestClassifier(numTrees=8, maxDepth=4, seed=2),
    ]
    model = Pipeline(stages=stages).fit(train)
    result = verify_pmml(export_pmml(model, test), model, test, rows=300)
    assert result.max_abs_diff <= 1e-6


def test_a_wrong_split_threshold_fails_verification(spark, purchase, gbdt_model, tmp_path):
    _, test, _ = purchase
    document = export_pmml(gbdt_model, test)
    # Move the first tree's root split far away: every row then takes the same branch there.
    match = re.search(r'(<SimplePredicate field="[^"]+" operator="lessOrEqual" value=")([^"]+)(")', document)
    assert match is not None
    tampered = document[: match.start(2)] + "-1.0E9" + document[match.end(2) :]
    path = tmp_path / "wrong.pmml"
    path.write_text(tampered)
    with pytest.raises(PmmlVerificationError) as info:
        verify_pmml(path, gbdt_model, test, rows=500)
    message = str(info.value)
    assert re.search(r"first at row \d+, field probability\([01]\): Spark [0-9.e-]+, PMML [0-9.e-]+", message)
    assert "> tolerance 1e-06" in message and "duration=" in message


def test_a_wrong_leaf_score_fails_verification(spark, purchase, gbdt_model):
    _, test, _ = purchase
    document = export_pmml(gbdt_model, test)
    match = re.search(r'<Node score="([^"]+)"', document)
    assert match is not None
    wrong = str(float(match.group(1)) + 0.5)
    tampered = document[: match.start(1)] + wrong + document[match.end(1) :]
    with pytest.raises(PmmlVerificationError, match=r"disagrees with the Spark model on \d+ of \d+ held-out row"):
        verify_pmml(tampered, gbdt_model, test, rows=500)


def test_a_scaled_string_index_is_refused(spark, purchase):
    from pyspark.ml import Pipeline
    from pyspark.ml.classification import LogisticRegression
    from pyspark.ml.feature import StandardScaler, StringIndexer, VectorAssembler

    train, _, _ = purchase
    stages = [
        StringIndexer(inputCol="city_tier", outputCol="city_index"),
        VectorAssembler(inputCols=["city_index", "page_views"], outputCol="raw", handleInvalid="keep"),
        StandardScaler(inputCol="raw", outputCol="features"),
        LogisticRegression(maxIter=5),
    ]
    model = Pipeline(stages=stages).fit(train.na.fill(0.0))
    with pytest.raises(
        PmmlExportError,
        match=r"stage 2 \(StandardScalerModel\) scales column\(s\) \['raw'\] made by "
        r"stage 0 \(StringIndexerModel\)",
    ):
        check_exportable(model)
