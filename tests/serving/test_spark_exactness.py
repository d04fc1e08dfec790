"""The file scorer against Spark itself: every supported stage, randomized data, <= 1e-9.

Run under ``flock /tmp/mlplat-spark.lock`` (uses the shared ``spark`` fixture).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from airflow_mlplat.serving.errors import InvalidInputError, UnsupportedModelError
from airflow_mlplat.serving.spark_scorer import SparkFileScorer

TOLERANCE = 1e-9
TYPES = {"x": "double", "y": "double", "z": "double", "n": "long", "s": "string", "t": "string"}


def _rows(seed: int, count: int, *, classes: int = 2, dirty: bool = True) -> list[dict]:
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(count):
        x = float(rng.normal())
        y = None if dirty and rng.random() < 0.1 else float(rng.normal() * 3 + 1)
        z = float(rng.uniform(-5, 5))
        n = int(rng.integers(0, 6)) if not (dirty and rng.random() < 0.05) else None
        s = str(rng.choice(["a", "b", "c", "d"], p=[0.4, 0.3, 0.2, 0.1]))
        t = str(rng.choice(["u", "v", "w"]))
        score = x + 0.5 * (y or 0) - 0.3 * z + (s == "a") - (t == "w") + rng.normal() * 0.5
        label = float(min(classes - 1, max(0, int((score + 2) / 4 * classes)))) if classes > 1 else score
        rows.append({"id": i, "x": x, "y": y, "z": z, "n": n, "s": s, "t": t, "label": label})
    return rows


def _scoring_rows(seed: int) -> list[dict]:
    rows = _rows(seed, 200)
    rng = np.random.default_rng(seed + 1)
    for row in rows[::17]:
        row["s"] = "unseen"  # StringIndexer handleInvalid keep/skip paths
    for row in rows[::23]:
        row["y"] = float("nan")
    for row in rows[::29]:
        row["z"] = float(rng.choice([-5.0, 0.0, 5.0]))  # exact split points
    return rows


def _df(spark, rows):
    schema = "id long, x double, y double, z double, n long, s string, t string, label double"
    return spark.createDataFrame(
        [tuple(r[k] for k in ("id", "x", "y", "z", "n", "s", "t", "label")) for r in rows], schema
    )


def _features(ml, *, keep_nan: bool = True):
    """Imputer, StringIndexer, OneHotEncoder, Bucketizer, VectorAssembler and the three scalers."""
    f = ml.feature
    return [
        f.Imputer(inputCols=["y", "n"], outputCols=["y_i", "n_i"], strategy="mean"),
        f.StringIndexer(
            inputCols=["s", "t"], outputCols=["s_i", "t_i"], handleInvalid="keep", stringOrderType="frequencyDesc"
        ),
        f.OneHotEncoder(inputCols=["s_i", "t_i"], outputCols=["s_oh", "t_oh"]),
        f.Bucketizer(splits=[-math.inf, -2.0, 0.0, 2.0, math.inf], inputCol="z", outputCol="z_b", handleInvalid="keep"),
        f.VectorAssembler(
            inputCols=["x", "y_i", "n_i", "s_oh", "t_oh", "z_b", "z"],
            outputCol="raw",
            handleInvalid="keep" if keep_nan else "error",
        ),
        f.StandardScaler(inputCol="raw", outputCol="std", withMean=True, withStd=True),
        f.MinMaxScaler(inputCol="std", outputCol="mm", min=-1.0, max=2.0),
        f.MaxAbsScaler(inputCol="mm", outputCol="features"),
    ]


def _categorical(ml):
    """String indices straight into the assembler: trees get categorical splits."""
    f = ml.feature
    return [
        f.StringIndexer(
            inputCols=["s", "t"], outputCols=["s_i", "t_i"], handleInvalid="skip", stringOrderType="alphabetAsc"
        ),
        f.Imputer(inputCols=["y"], outputCols=["y_i"], strategy="median"),
        f.VectorAssembler(inputCols=["x", "y_i", "s_i", "t_i", "z"], outputCol="features"),
    ]


def _cases():
    from pyspark import ml
    from pyspark.ml import classification as c
    from pyspark.ml import regression as r

    f = ml.feature
    return {
        "lr_binomial": (_features(ml), c.LogisticRegression(maxIter=20, regParam=0.01), 2),
        "lr_binomial_threshold": (_features(ml), c.LogisticRegression(maxIter=10, threshold=0.3), 2),
        "lr_multinomial": (_features(ml), c.LogisticRegression(maxIter=20, family="multinomial"), 3),
        "dt_classifier": (_features(ml), c.DecisionTreeClassifier(maxDepth=4, seed=1), 3),
        "rf_classifier": (_features(ml), c.RandomForestClassifier(numTrees=7, maxDepth=4, seed=2), 3),
        "gbt_classifier": (_features(ml), c.GBTClassifier(maxIter=8, maxDepth=3, seed=3), 2),
        "linear_regression": (_features(ml), r.LinearRegression(regParam=0.1), 0),
        "dt_regressor": (_features(ml), r.DecisionTreeRegressor(maxDepth=4), 0),
        "rf_regressor": (_features(ml), r.RandomForestRegressor(numTrees=5, maxDepth=3, seed=4), 0),
        "gbt_regressor": (_features(ml), r.GBTRegressor(maxIter=6, maxDepth=3, seed=5), 0),
        "dt_categorical": (_categorical(ml), c.DecisionTreeClassifier(maxDepth=5), 3),
        "rf_categorical": (_categorical(ml), c.RandomForestClassifier(numTrees=5, maxDepth=4, seed=6), 2),
        "gbt_categorical": (_categorical(ml), c.GBTClassifier(maxIter=5, maxDepth=3, seed=7), 2),
        "variants": (
            [
                f.Imputer(inputCol="y", outputCol="y_i", missingValue=float("nan"), strategy="mode"),
                f.StringIndexer(inputCol="s", outputCol="s_i", handleInvalid="keep", stringOrderType="frequencyAsc"),
                f.OneHotEncoder(inputCol="s_i", outputCol="s_oh", dropLast=False, handleInvalid="keep"),
                f.Bucketizer(
                    splitsArray=[[-5.0, -1.0, 1.0, 5.0], [-math.inf, 0.0, math.inf]],
                    inputCols=["z", "x"],
                    outputCols=["z_b", "x_b"],
                    handleInvalid="skip",
                ),
                f.VectorAssembler(inputCols=["x", "y_i", "s_oh", "z_b", "x_b"], outputCol="raw", handleInvalid="skip"),
                f.StandardScaler(inputCol="raw", outputCol="features", withMean=False, withStd=True),
            ],
            c.LogisticRegression(maxIter=10),
            2,
        ),
    }


CASE_NAMES = [
    "lr_binomial",
    "lr_binomial_threshold",
    "lr_multinomial",
    "dt_classifier",
    "rf_classifier",
    "gbt_classifier",
    "linear_regression",
    "dt_regressor",
    "rf_regressor",
    "gbt_regressor",
    "dt_categorical",
    "rf_categorical",
    "gbt_categorical",
    "variants",
]


@pytest.mark.parametrize("case", CASE_NAMES)
def test_file_scorer_matches_spark(spark, tmp_path, case):
    from pyspark.ml import Pipeline

    features, estimator, classes = _cases()[case]
    seed = CASE_NAMES.index(case)
    train = _df(spark, _rows(seed, 300, classes=max(classes, 1), dirty=True))
    model = Pipeline(stages=[*features, estimator]).fit(train)
    path = str(tmp_path / "model")
    model.write().overwrite().save(path)

    rows = _scoring_rows(seed + 100)
    expected = {r["id"]: r for r in model.transform(_df(spark, rows)).collect()}
    scorer = SparkFileScorer.load(path, TYPES)
    got = scorer.predict(rows)

    assert sum(g is not None for g in got) == len(expected), "rows skipped differ from Spark's"
    checked = 0
    for row, prediction in zip(rows, got, strict=True):
        if prediction is None:
            assert row["id"] not in expected
            continue
        spark_row = expected[row["id"]]
        assert prediction["prediction"] == pytest.approx(spark_row["prediction"], abs=TOLERANCE), row
        if "probability" in prediction:
            assert np.allclose(prediction["probability"], spark_row["probability"].toArray(), atol=TOLERANCE, rtol=0)
        checked += 1
    assert checked > 150


def test_unsupported_stage_names_class_and_index(spark, tmp_path):
    from pyspark.ml import Pipeline
    from pyspark.ml.feature import PCA, VectorAssembler

    train = _df(spark, _rows(0, 50, dirty=False))
    stages = [VectorAssembler(inputCols=["x", "z"], outputCol="v"), PCA(k=1, inputCol="v", outputCol="p")]
    Pipeline(stages=stages).fit(train).write().save(str(tmp_path / "m"))
    with pytest.raises(UnsupportedModelError, match=r"stage 1 \(PCAModel.*org\.apache\.spark\.ml\.feature\.PCAModel"):
        SparkFileScorer.load(tmp_path / "m", TYPES)


def test_invalid_value_names_stage_and_column(spark, tmp_path):
    from pyspark import ml
    from pyspark.ml import Pipeline
    from pyspark.ml.classification import LogisticRegression

    train = _df(spark, _rows(1, 100, dirty=False))
    features = [ml.feature.VectorAssembler(inputCols=["x", "z"], outputCol="features")]  # handleInvalid=error
    Pipeline(stages=[*features, LogisticRegression(maxIter=3)]).fit(train).write().save(str(tmp_path / "m"))
    scorer = SparkFileScorer.load(tmp_path / "m", TYPES)
    with pytest.raises(InvalidInputError, match=r"VectorAssembler.*'x' row 1") as info:
        scorer.predict([{"x": 1.0, "z": 0.0}, {"x": None, "z": 0.0}])
    assert info.value.field == "x"
