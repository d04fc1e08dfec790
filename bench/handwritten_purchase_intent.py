"""The purchase-intent pipeline written by hand in PySpark: the baseline of engine_overhead.py.

Same steps, same Spark settings and same outputs as dags/pipelines/purchase_intent_gbdt.json
run through the engine: read parquet, cast 8 columns to double, 85/15 split, mean imputation and
GBT fitted on the 85% as one PipelineModel, predict, binary metrics (AUC-ROC, AUC-PR, KS, confusion matrix), feature
importance; writes the model, the importance table and the metrics.

    python bench/handwritten_purchase_intent.py INPUT_PARQUET OUT_DIR
"""

from __future__ import annotations

import json
import os
import sys
import time

from pyspark.ml import PipelineModel
from pyspark.ml.classification import GBTClassifier
from pyspark.ml.evaluation import BinaryClassificationEvaluator
from pyspark.ml.feature import Imputer, VectorAssembler
from pyspark.ml.functions import vector_to_array
from pyspark.sql import SparkSession, Window
from pyspark.sql import functions as F

from airflow_mlplat.components.datasets import PURCHASE_INTENT_FEATURES
from airflow_mlplat.engine.session import LOCAL_DEFAULTS

FEATURES = list(PURCHASE_INTENT_FEATURES)


class _Steps:
    """Seconds per step, named like the engine's nodes, written to OUT_DIR/steps.json for engine_overhead.py.

    Spark is lazy: a step's time is the work its own actions trigger, as in the engine's report.
    """

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._last = time.perf_counter()

    def done(self, name: str) -> None:
        now = time.perf_counter()
        self.seconds[name] = round(now - self._last, 3)
        self._last = now


def main(input_path: str, out_dir: str) -> None:
    steps = _Steps()
    builder = SparkSession.builder.appName("handwritten:purchase_intent").master(
        os.environ.get("MLPLAT_SPARK_MASTER", "local[*]")
    )
    for key, value in LOCAL_DEFAULTS.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    steps.done("(session)")

    df = spark.read.parquet(input_path)
    steps.done("behaviour")
    df = df.select(*[F.expr(f"try_cast(`{c}` as double)").alias(c) if c in FEATURES else F.col(c) for c in df.columns])
    steps.done("cast")
    train, test = df.randomSplit([0.85, 0.15], seed=42)
    steps.done("split")
    imputer = Imputer(inputCols=FEATURES, outputCols=FEATURES, strategy="mean").fit(train)
    steps.done("fill")
    assembler = VectorAssembler(inputCols=FEATURES, outputCol="features", handleInvalid="keep")
    train = assembler.transform(imputer.transform(train)).cache()
    steps.done("assemble")
    gbt = GBTClassifier(featuresCol="features", labelCol="label", maxIter=20, maxDepth=5, stepSize=0.1, seed=42).fit(
        train
    )
    steps.done("gbdt")
    model = PipelineModel([imputer, assembler, gbt])  # one servable model from the raw columns
    model.write().overwrite().save(f"{out_dir}/outputs/model")
    steps.done("model")

    scored = model.transform(test).withColumn("score", vector_to_array("probability")[1])
    scored = scored.select(
        F.col("label").cast("double").alias("label"), "score", (F.col("prediction") == 1.0).alias("p")
    )
    scored = scored.cache()
    pos, neg = F.col("label") == 1.0, F.col("label") == 0.0
    c = scored.agg(
        F.count(F.lit(1)).alias("rows"),
        F.sum(F.when(pos & F.col("p"), 1).otherwise(0)).alias("tp"),
        F.sum(F.when(neg & F.col("p"), 1).otherwise(0)).alias("fp"),
        F.sum(F.when(neg & ~F.col("p"), 1).otherwise(0)).alias("tn"),
        F.sum(F.when(pos & ~F.col("p"), 1).otherwise(0)).alias("fn"),
    ).first()
    evaluator = BinaryClassificationEvaluator(rawPredictionCol="score", labelCol="label")
    auc_roc = evaluator.setMetricName("areaUnderROC").evaluate(scored)
    auc_pr = evaluator.setMetricName("areaUnderPR").evaluate(scored)
    positives, negatives = c["tp"] + c["fn"], c["fp"] + c["tn"]
    by_score = scored.groupBy("score").agg(
        F.sum(F.when(pos, 1).otherwise(0)).alias("pos"), F.sum(F.when(neg, 1).otherwise(0)).alias("neg")
    )
    window = Window.orderBy(F.col("score").desc()).rowsBetween(Window.unboundedPreceding, Window.currentRow)
    ks = (
        by_score.select(
            F.abs(F.sum("pos").over(window) / positives - F.sum("neg").over(window) / negatives).alias("gap")
        )
        .agg(F.max("gap"))
        .first()[0]
    )
    metrics = {"auc_roc": auc_roc, "auc_pr": auc_pr, "ks": ks, **{k: c[k] for k in ("rows", "tp", "fp", "tn", "fn")}}
    os.makedirs(f"{out_dir}/outputs", exist_ok=True)
    with open(f"{out_dir}/outputs/metrics", "w") as handle:
        json.dump(metrics, handle)
    steps.done("predict+evaluate")

    attrs = train.schema["features"].metadata["ml_attr"]["attrs"]
    names = {a["idx"]: a["name"] for group in attrs.values() for a in group}
    weights = gbt.featureImportances.toArray()
    rows = sorted(((names[i], float(w)) for i, w in enumerate(weights)), key=lambda r: -r[1])
    spark.createDataFrame(
        [(n, w, rank) for rank, (n, w) in enumerate(rows, 1)], "feature string, importance double, rank int"
    ).write.mode("overwrite").parquet(f"{out_dir}/outputs/feature_importance")
    steps.done("importance")
    with open(f"{out_dir}/steps.json", "w") as handle:
        json.dump(steps.seconds, handle)
    print(json.dumps(metrics))
    spark.stop()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
