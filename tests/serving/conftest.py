"""Registered Spark models on the real MLflow server, and prediction services started as processes."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import httpx
import pytest

from airflow_mlplat.services.process import LOOPBACK, ServiceState, free_port, start_service, stop_service, wait_until

MODEL_NAME = "serving-test-model"
INPUTS = {"x": "double", "y": "double", "z": "double", "s": "string"}


def make_rows(seed: int, count: int) -> list[dict]:
    import numpy as np

    rng = np.random.default_rng(seed)
    rows = []
    for _ in range(count):
        x, z = float(rng.normal()), float(rng.uniform(-3, 3))
        y = None if rng.random() < 0.1 else float(rng.normal())
        s = str(rng.choice(["a", "b", "c"]))
        label = float(x + (y or 0) - 0.5 * z + (s == "a") + rng.normal() * 0.5 > 0)
        rows.append({"x": x, "y": y, "z": z, "s": s, "label": label})
    return rows


def spark_predictions(spark, model, rows) -> list[tuple[float, list[float]]]:
    schema = "x double, y double, z double, s string"
    df = spark.createDataFrame([(r["x"], r["y"], r["z"], r["s"]) for r in rows], schema)
    return [(r["prediction"], r["probability"].toArray().tolist()) for r in model.transform(df).collect()]


@pytest.fixture(scope="session")
def registered(spark, mlflow_server):
    """Two versions of MODEL_NAME (v1 GBT, v2 logistic regression), alias ``champion`` on v1.

    Yields ``{"uri", "name", "rows", "expected": {version: [(prediction, probability)]}}``.
    """
    import mlflow
    import mlflow.spark
    from mlflow import MlflowClient
    from mlflow.models import ModelSignature
    from mlflow.types import ColSpec, Schema
    from pyspark.ml import Pipeline
    from pyspark.ml.classification import GBTClassifier, LogisticRegression
    from pyspark.ml.feature import Imputer, OneHotEncoder, StringIndexer, VectorAssembler

    mlflow.set_tracking_uri(mlflow_server)
    mlflow.set_experiment("serving-tests")
    train = make_rows(0, 400)
    df = spark.createDataFrame(
        [(r["x"], r["y"], r["z"], r["s"], r["label"]) for r in train],
        "x double, y double, z double, s string, label double",
    )
    features = [
        Imputer(inputCols=["y"], outputCols=["y_i"]),
        StringIndexer(inputCol="s", outputCol="s_i", handleInvalid="keep"),
        OneHotEncoder(inputCols=["s_i"], outputCols=["s_oh"]),
        VectorAssembler(inputCols=["x", "y_i", "z", "s_oh"], outputCol="features"),
    ]
    signature = ModelSignature(
        inputs=Schema([ColSpec(t, n) for n, t in INPUTS.items()]), outputs=Schema([ColSpec("double", "prediction")])
    )
    rows = [{k: v for k, v in r.items() if k != "label"} for r in make_rows(1, 60)]
    expected = {}
    client = MlflowClient()
    estimators = ((GBTClassifier(maxIter=20, maxDepth=3, seed=1), 0.81), (LogisticRegression(maxIter=20), 0.79))
    for estimator, auc in estimators:
        model = Pipeline(stages=[*features, estimator]).fit(df)
        with mlflow.start_run():
            mlflow.log_metric("auc", auc)
            info = mlflow.spark.log_model(
                model, artifact_path="model", signature=signature, registered_model_name=MODEL_NAME
            )
        expected[str(info.registered_model_version)] = spark_predictions(spark, model, rows)
    client.set_registered_model_alias(MODEL_NAME, "champion", "1")
    client.set_registered_model_alias(MODEL_NAME, "challenger", "2")
    return {"uri": mlflow_server, "name": MODEL_NAME, "rows": rows, "expected": expected}


class Service:
    def __init__(self, state: ServiceState, port: int) -> None:
        self.state, self.port = state, port
        self.url = f"http://{LOOPBACK}:{port}"

    def stop(self) -> None:
        stop_service(self.state)


@pytest.fixture
def serve(tmp_path):
    """``serve(*model_args, poll=..)`` starts ``python -m airflow_mlplat.serving`` and waits for /healthz."""
    started: list[Service] = []

    def start(*models: str, tracking_uri: str, poll: float = 0.0, extra: tuple[str, ...] = ()) -> Service:
        port = free_port()
        state = ServiceState(tmp_path / f"service-{port}")
        command = [
            sys.executable,
            "-m",
            "airflow_mlplat.serving",
            "--tracking-uri",
            tracking_uri,
            "--port",
            str(port),
            "--poll-interval",
            str(poll),
            "--cache-dir",
            str(tmp_path / "cache"),
            *extra,
        ]
        for model in models:
            command += ["--model", model]
        env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
        start_service(state, command, port, env=env, timeout=60, name="prediction service")
        service = Service(state, port)
        started.append(service)

        def healthy() -> bool:
            try:
                return httpx.get(f"{service.url}/healthz", timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        assert wait_until(healthy, timeout=60), state.log.read_text()[-2000:]
        return service

    yield start
    for service in started:
        service.stop()


def alias_move_under_load(url: str, rows: list[dict], move, restore, *, spread: int = 1):
    """4 clients post ``rows`` to ``url`` while ``move()`` moves the alias to version 2, until version 2
    answers; then ``restore()``. Returns ``(failures, [(row index, answer)])`` in answer order."""
    import threading
    import time

    failures: list[str] = []
    answers: list[tuple[int, dict]] = []
    stop = threading.Event()

    def load(worker: int) -> None:
        with httpx.Client(base_url=url, timeout=10) as http:
            i = worker * spread
            while not stop.is_set():
                i = (i + 1) % len(rows)
                try:
                    response = http.post("/predict", json=rows[i])
                except httpx.HTTPError as error:
                    failures.append(repr(error))
                    continue
                if response.status_code != 200:
                    failures.append(f"{response.status_code} {response.text}")
                else:
                    answers.append((i, response.json()))

    threads = [threading.Thread(target=load, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    try:
        time.sleep(1.0)
        move()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not any(a["version"] == "2" for _, a in answers[-20:]):
            time.sleep(0.1)
        time.sleep(1.0)
    finally:
        stop.set()
        for thread in threads:
            thread.join()
        restore()
    return failures, answers
