"""The fast GBDT path: which path it takes and why, and that both paths' models behave like Spark models.

A model from either path must score through ``predict``, explain itself through
``feature_importance``, and survive the engine's save/load (``DefaultParamsReader``) scoring
identically.
"""

from __future__ import annotations

import types
from pathlib import Path
from typing import Any

import pytest

from airflow_mlplat.components import get_component
from airflow_mlplat.components.gbdt import _choose_path, _parse_bytes
from airflow_mlplat.components.spec import PortKind
from airflow_mlplat.engine import storage
from airflow_mlplat.engine.runner import call_component


def _run(ctx: Any, name: str, inputs: dict[str, Any], **params: Any) -> dict[str, Any]:
    return call_component(get_component(name), ctx, inputs, params)


def _behaviour(spark: Any) -> Any:
    """300 users: buying depends on visits (strongly) and calls (weakly); ``noise`` is unrelated."""
    from pyspark.ml.feature import VectorAssembler

    rows = []
    for i in range(300):
        visits, calls, noise = float(i % 30), float((i * 7) % 4), float((i * 13) % 11)
        bought = int(visits + 3 * calls + ((i * 17) % 9) - 4 > 24)
        rows.append((visits, calls, noise, bought))
    table = spark.createDataFrame(rows, "visits double, calls double, noise double, label int")
    return VectorAssembler(inputCols=["visits", "calls", "noise"], outputCol="features").transform(table)


def _probabilities(model: Any, data: Any) -> list[list[float]]:
    return [list(row.probability) for row in model.transform(data).orderBy("visits", "calls", "noise").collect()]


def _round_trip(spark: Any, model: Any, tmp_path: Path) -> Any:
    url = str(tmp_path / "model")
    storage.save_port(spark, PortKind.MODEL, model, url)
    return storage.load_port(spark, PortKind.MODEL, url)


def test_driver_path_scores_explains_and_round_trips(spark, ctx, tmp_path):
    import lightgbm

    from airflow_mlplat.components._lightgbm_models import LightGBMClassificationModel

    data = _behaviour(spark)
    model = _run(ctx, "fast_gbdt_classifier", {"data": data}, max_iter=30, max_depth=3)["model"]
    assert isinstance(model, LightGBMClassificationModel)
    assert ctx.details["training_path"] == "lightgbm on the driver"
    assert ctx.details["rows"] == 300 and ctx.details["features"] == 3
    assert ctx.details["estimated_bytes"] == 300 * 4 * 8 and "fits max_driver_bytes" in ctx.details["reason"]
    assert model.booster.num_trees() == 30

    scored = _run(ctx, "predict", {"model": model, "data": data})["data"]
    rows = scored.select("label", "prediction", "probability", "score").collect()
    assert all(row.score == row.probability[1] for row in rows)
    assert sum(row.prediction == row.label for row in rows) / len(rows) > 0.9

    importance = _run(ctx, "feature_importance", {"model": model, "data": data})["importance"]
    ranked = [(row.feature, row.rank) for row in importance.orderBy("rank").collect()]
    assert ranked[0] == ("visits", 1) and ranked[-1] == ("noise", 3)

    loaded = _round_trip(spark, model, tmp_path)
    assert type(loaded) is LightGBMClassificationModel and loaded.uid == model.uid
    assert loaded.getFeaturesCol() == "features" and loaded.numClasses == 2
    assert _probabilities(loaded, data) == _probabilities(model, data)
    assert loaded.featureImportances == model.featureImportances
    # The saved model text is a plain LightGBM model file.
    (text_file,) = (tmp_path / "model" / "model").glob("part-*")
    native = lightgbm.Booster(model_file=str(text_file))
    assert native.num_trees() == 30 and native.model_to_string() == model.booster.model_to_string()


def test_spark_path_when_the_table_exceeds_the_driver_budget(spark, ctx, tmp_path):
    from airflow_mlplat.components._xgboost_models import XGBoostClassificationModel

    data = _behaviour(spark)
    model = _run(ctx, "fast_gbdt_classifier", {"data": data}, max_iter=10, max_depth=3, max_driver_bytes=1000)["model"]
    assert isinstance(model, XGBoostClassificationModel)
    assert ctx.details["training_path"] == "xgboost.spark on the executors"
    assert "exceeds max_driver_bytes" in ctx.details["reason"] and ctx.details["num_workers"] == 1
    assert len(model.get_booster().get_dump()) == 10

    scored = _run(ctx, "predict", {"model": model, "data": data})["data"]
    assert "score" in scored.columns
    importance = _run(ctx, "feature_importance", {"model": model, "data": data})["importance"]
    assert importance.orderBy("rank").first().feature == "visits"

    loaded = _round_trip(spark, model, tmp_path)
    assert type(loaded) is XGBoostClassificationModel and loaded.numClasses == 2
    assert _probabilities(loaded, data) == _probabilities(model, data)


def test_driver_path_multiclass(spark, ctx):
    from pyspark.ml.linalg import Vectors

    rows = [(Vectors.dense([float(i % 3) * 5 + (i % 4) * 0.1, float(i % 7)]), i % 3) for i in range(60)]
    data = spark.createDataFrame(rows, ["features", "label"])
    model = _run(ctx, "fast_gbdt_classifier", {"data": data}, max_iter=10, max_depth=2, step_size=0.5)["model"]
    assert model.numClasses == 3 and model.booster.num_trees() == 30  # one tree per class and round
    for row in model.transform(data).collect():
        assert len(row.probability) == 3 and abs(sum(row.probability) - 1.0) < 1e-9
        assert row.prediction == row.label


def test_regressor_round_trip_on_both_paths(spark, ctx, tmp_path):
    from pyspark.ml.util import DefaultParamsReader
    from pyspark.sql import functions as F

    from airflow_mlplat.components._lightgbm_models import LightGBMRegressionModel
    from airflow_mlplat.components._xgboost_models import XGBoostRegressionModel

    data = _behaviour(spark).withColumn("spend", F.col("visits") * 2 + F.col("calls"))
    for train_on, expected in (("driver", LightGBMRegressionModel), ("spark", XGBoostRegressionModel)):
        model = _run(ctx, "fast_gbdt_regressor", {"data": data}, label_col="spend", max_iter=20, train_on=train_on)[
            "model"
        ]
        assert type(model) is expected
        path = str(tmp_path / train_on)
        model.write().overwrite().save(path)
        loaded = DefaultParamsReader.loadParamsInstance(path, spark.sparkContext)
        assert type(loaded) is expected
        before = [row.prediction for row in model.transform(data).orderBy("visits", "calls", "noise").collect()]
        after = [row.prediction for row in loaded.transform(data).orderBy("visits", "calls", "noise").collect()]
        assert before == after
        truth = [row.spend for row in data.orderBy("visits", "calls", "noise").collect()]
        assert sum(abs(p - t) for p, t in zip(before, truth, strict=True)) / len(truth) < 5.0  # spend spans 0..61
        assert loaded.featureImportances[2] < 0.05  # noise explains nothing


def test_bad_training_tables_name_the_parameter_and_column(spark, ctx):
    from pyspark.ml.linalg import Vectors, VectorUDT
    from pyspark.sql.types import DoubleType, StringType, StructField, StructType

    def table(rows: list[tuple], features: Any, label: str) -> Any:
        schema = StructType([StructField("features", features), StructField(label, DoubleType())])
        return spark.createDataFrame(rows, schema)

    nulls = table([(Vectors.dense([1.0]), 1.0), (Vectors.dense([2.0]), None)], VectorUDT(), "y")
    with pytest.raises(ValueError, match=r"fast_gbdt_classifier: params.label_col column 'y' has 1 null"):
        _run(ctx, "fast_gbdt_classifier", {"data": nulls}, label_col="y")
    fractional = table([(Vectors.dense([1.0]), 0.5)], VectorUDT(), "label")
    with pytest.raises(ValueError, match=r"params.label_col column 'label' must hold class indices"):
        _run(ctx, "fast_gbdt_classifier", {"data": fractional})
    text = table([("1.0", 1.0)], StringType(), "label")
    with pytest.raises(ValueError, match=r"fast_gbdt_regressor: params.features_col column 'features' must be a vec"):
        _run(ctx, "fast_gbdt_regressor", {"data": text})


def _stub_ctx(max_result_size: str | None) -> Any:
    conf = {} if max_result_size is None else {"spark.driver.maxResultSize": max_result_size}
    spark_conf = types.SimpleNamespace(get=lambda key, default=None: conf.get(key, default))
    context = types.SimpleNamespace(getConf=lambda: spark_conf)
    return types.SimpleNamespace(spark=types.SimpleNamespace(sparkContext=context))


def test_path_choice_weighs_rows_against_both_budgets():
    gib = 1024**3
    choose = _choose_path
    # 16.5M rows x 9 columns x 8 B = 1.1 GiB: over the default 1g result limit, under a 4g one.
    path, details = choose(
        _stub_ctx(None), component="c", rows=16_500_000, num_features=8, train_on="auto", max_driver_bytes=2 * gib
    )
    assert path == "spark" and "spark.driver.maxResultSize 1g" in details["reason"]
    assert details["estimated_bytes"] == 16_500_000 * 9 * 8
    path, details = choose(
        _stub_ctx("4g"), component="c", rows=16_500_000, num_features=8, train_on="auto", max_driver_bytes=2 * gib
    )
    assert path == "driver" and details["training_path"] == "lightgbm on the driver"
    path, details = choose(
        _stub_ctx("0"), component="c", rows=16_500_000, num_features=8, train_on="auto", max_driver_bytes=gib
    )
    assert path == "spark" and "exceeds max_driver_bytes 1.0 GiB" in details["reason"]
    path, _ = choose(_stub_ctx("0"), component="c", rows=10, num_features=8, train_on="spark", max_driver_bytes=gib)
    assert path == "spark"
    with pytest.raises(ValueError, match=r"c: params.train_on is 'driver'.*maxResultSize"):
        choose(_stub_ctx("1m"), component="c", rows=1_000_000, num_features=8, train_on="driver", max_driver_bytes=gib)


def test_parse_bytes_reads_spark_byte_strings():
    assert _parse_bytes("1g") == 1024**3
    assert _parse_bytes("512m") == 512 * 1024**2
    assert _parse_bytes("2gb") == 2 * 1024**3
    assert _parse_bytes("1024") == 1024
    assert _parse_bytes("0") == 0
    with pytest.raises(ValueError):
        _parse_bytes("lots")
