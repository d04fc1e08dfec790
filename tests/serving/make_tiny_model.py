"""Writes ``tests/serving/data/tiny_model``: a small MLflow Spark model the in-process service tests score.

Run it again (``python -m tests.serving.make_tiny_model``, under ``flock /tmp/mlplat-jvm.lock``) only
when Spark's save format changes; the tests read the files without Spark. The pipeline covers a
long, a double and a string input (indexed with ``handleInvalid="keep"``) and a logistic regression.
"""

from __future__ import annotations

import shutil
from pathlib import Path

TARGET = Path(__file__).parent / "data" / "tiny_model"
MLMODEL = """flavors:
  spark:
    model_data: sparkml
signature:
  inputs: '[{"type": "long", "name": "n", "required": true}, {"type": "double", "name": "x", "required": true},
    {"type": "string", "name": "s", "required": true}]'
  outputs: '[{"type": "double", "name": "prediction", "required": true}]'
"""


def main() -> None:
    from pyspark.ml import Pipeline
    from pyspark.ml.classification import LogisticRegression
    from pyspark.ml.feature import Imputer, StringIndexer, VectorAssembler

    from airflow_mlplat.engine.session import get_session

    spark = get_session("tiny-model", {"spark.master": "local[1]", "spark.ui.enabled": "false"})
    rows = [(i, (i % 7) / 3.0, "abc"[i % 3], float((i * 5 + i % 3) % 2)) for i in range(60)]
    frame = spark.createDataFrame(rows, "n long, x double, s string, label double")
    model = Pipeline(
        stages=[
            Imputer(inputCols=["x"], outputCols=["x_i"]),
            StringIndexer(inputCol="s", outputCol="s_i", handleInvalid="keep"),
            VectorAssembler(inputCols=["n", "x_i", "s_i"], outputCol="features", handleInvalid="keep"),
            LogisticRegression(maxIter=5),
        ]
    ).fit(frame)
    if TARGET.exists():
        shutil.rmtree(TARGET)
    model.write().save(str(TARGET / "sparkml"))
    (TARGET / "MLmodel").write_text(MLMODEL)
    for crc in TARGET.rglob("*.crc"):
        crc.unlink()
    for marker in TARGET.rglob("_SUCCESS"):
        marker.unlink()
    spark.stop()


if __name__ == "__main__":
    main()
