"""A streaming FTRL snapshot as an MLflow Spark-flavour model folder, written without Spark.

The folder has exactly the stages of the ten-minute loop's FTRL model (``pipelines/realtime_retrain_ftrl.json``)
and the same files Spark ML writes for them, so everything that reads the loop's versions reads these too:

``MLmodel`` (flavours ``spark`` + ``python_function``, signature: the six raw features) and ``sparkml/``, a
``PipelineModel`` of

0. ``ImputerModel`` (strategy mean; its surrogates, the running means of the values seen, in ``data/`` Parquet),
1. ``VectorAssembler`` -> ``features``,
2. ``OnlineStandardScalerModel`` -> ``scaled_features`` (the running moments in ``state.npz``),
3. ``FtrlModel`` (the FTRL state in ``state.npz``),

plus ``snapshot.json`` (the snapshot's info) beside ``MLmodel``. The serving's numpy scorer
(``serving.spark_scorer``), ``realtime.evaluate`` and the prediction service load it unchanged, and its
predictions are the job's own for the same state (``StreamingLearner.predict``).

Needs pyarrow and PyYAML (the platform's environment), not pyspark.
"""

from __future__ import annotations

import hashlib
import io
import json
import platform
import time
import uuid
from collections.abc import Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from airflow_mlplat.online import STATE_FILE
from airflow_mlplat.online.progressive import StreamingLearner
from airflow_mlplat.realtime.events import FEATURES

SPARK_DATA = "sparkml"
ONLINE_MODELS = "airflow_mlplat.components._online_models"


def _spark_version() -> str:
    try:
        return metadata.version("pyspark")
    except metadata.PackageNotFoundError:
        return "4.2.1"


def _write_metadata(folder: Path, document: Mapping[str, Any]) -> None:
    target = folder / "metadata"
    target.mkdir(parents=True)
    (target / "part-00000").write_text(json.dumps(document, separators=(",", ":")) + "\n")
    (target / "_SUCCESS").write_bytes(b"")


def _write_state(folder: Path, arrays: Mapping[str, np.ndarray]) -> None:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    (folder / STATE_FILE).write_bytes(buffer.getvalue())


def _write_surrogates(folder: Path, surrogates: np.ndarray) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pa.schema([pa.field(name, pa.float64(), nullable=False) for name in FEATURES])
    table = pa.Table.from_pylist([{name: float(v) for name, v in zip(FEATURES, surrogates, strict=True)}], schema)
    data = folder / "data"
    data.mkdir(parents=True)
    pq.write_table(table, data / "part-00000.parquet")
    (data / "_SUCCESS").write_bytes(b"")


def write_spark_model(info: Mapping[str, Any], arrays: Mapping[str, np.ndarray], folder: str | Path) -> Path:
    """Write the snapshot ``(info, arrays)`` (:func:`snapshots.read_snapshot`) as a model folder at ``folder``.

    :raises ValueError: the snapshot's features are not the behaviour events' six, or its arrays do not fit.
    """
    if list(info.get("features") or []) != list(FEATURES):
        raise ValueError(f"snapshot {info.get('name')}: features {info.get('features')} are not {list(FEATURES)}")
    learner = StreamingLearner.from_arrays(arrays)
    root = Path(folder)
    root.mkdir(parents=True, exist_ok=False)
    spark_version = _spark_version()
    now_ms = int(time.time() * 1000)
    seed = hashlib.sha256(str(info.get("name", uuid.uuid4().hex)).encode()).hexdigest()
    uids = [
        f"{kind}_{seed[i * 12 : (i + 1) * 12]}"
        for i, kind in enumerate(("Imputer", "VectorAssembler", "OnlineStandardScalerModel", "FtrlModel"))
    ]
    columns = list(FEATURES)

    def stage_doc(class_name: str, uid: str, params: dict[str, Any], defaults: dict[str, Any]) -> dict[str, Any]:
        return {
            "class": class_name,
            "timestamp": now_ms,
            "sparkVersion": spark_version,
            "uid": uid,
            "paramMap": params,
            "defaultParamMap": defaults,
        }

    pipeline = root / SPARK_DATA
    _write_metadata(
        pipeline,
        stage_doc(
            "pyspark.ml.pipeline.PipelineModel",
            f"PipelineModel_{seed[48:60]}",
            {"stageUids": uids, "language": "Python"},
            {},
        ),
    )
    stages = pipeline / "stages"
    imputer = stages / f"0_{uids[0]}"
    _write_metadata(
        imputer,
        stage_doc(
            "org.apache.spark.ml.feature.ImputerModel",
            uids[0],
            {"inputCols": columns, "outputCols": columns, "relativeError": 0.001, "strategy": "mean"},
            {
                "missingValue": "NaN",
                "outputCol": f"{uids[0]}__output",
                "relativeError": 0.001,
                "strategy": "mean",
            },
        ),
    )
    _write_surrogates(imputer, learner.surrogates())
    _write_metadata(
        stages / f"1_{uids[1]}",
        stage_doc(
            "org.apache.spark.ml.feature.VectorAssembler",
            uids[1],
            {"handleInvalid": "keep", "inputCols": columns, "outputCol": "features"},
            {"handleInvalid": "error", "outputCol": f"{uids[1]}__output"},
        ),
    )
    scaler = stages / f"2_{uids[2]}"
    scaler_params = {"featuresCol": "features", "outputCol": "scaled_features", "withMean": True, "withStd": True}
    _write_metadata(
        scaler, stage_doc(f"{ONLINE_MODELS}.OnlineStandardScalerModel", uids[2], scaler_params, dict(scaler_params))
    )
    _write_state(scaler, learner.moments.to_arrays())
    ftrl = stages / f"3_{uids[3]}"
    _write_metadata(
        ftrl,
        stage_doc(
            f"{ONLINE_MODELS}.FtrlModel",
            uids[3],
            {"featuresCol": "scaled_features", "threshold": 0.5},
            {
                "featuresCol": "features",
                "predictionCol": "prediction",
                "probabilityCol": "probability",
                "rawPredictionCol": "rawPrediction",
                "threshold": 0.5,
            },
        ),
    )
    _write_state(ftrl, learner.ftrl.to_arrays())
    _write_mlmodel(root, spark_version)
    (root / "snapshot.json").write_text(json.dumps(dict(info), indent=1))
    return root


def _write_mlmodel(root: Path, spark_version: str) -> None:
    import yaml

    inputs = [{"type": "double", "name": name, "required": True} for name in FEATURES]
    try:
        mlflow_version = metadata.version("mlflow")
    except metadata.PackageNotFoundError:
        mlflow_version = "3"
    document = {
        "artifact_path": "model",
        "flavors": {
            "python_function": {
                "data": SPARK_DATA,
                "loader_module": "mlflow.spark",
                "python_version": platform.python_version(),
            },
            "spark": {
                "code": None,
                "model_class": "pyspark.ml.pipeline.PipelineModel",
                "model_data": SPARK_DATA,
                "pyspark_version": spark_version,
            },
        },
        "mlflow_version": mlflow_version,
        "model_uuid": uuid.uuid4().hex,
        "signature": {
            "inputs": json.dumps(inputs),
            "outputs": json.dumps([{"type": "double", "name": "prediction", "required": True}]),
            "params": None,
        },
        "utc_time_created": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime()),
    }
    (root / "MLmodel").write_text(yaml.safe_dump(document, sort_keys=False))
    (root / "requirements.txt").write_text(f"pyspark=={spark_version}\nmlflow=={mlflow_version}\n")
