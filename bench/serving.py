"""Serving: this project's prediction service vs ``mlflow models serve`` on the same registered model.

One Spark pipeline (Imputer, VectorAssembler, 50-tree depth-5 GBT on 8 features) is registered
in a fresh MLflow server on loopback. Both servers serve ``models:/NAME@champion`` on 127.0.0.1
(``mlflow models serve --env-manager local``, the Spark flavour, one worker); the same client
(CONCURRENCY threads, one httpx connection each, single-row requests, same rows) loads each
for SECONDS after a warm-up. Prints p50/p99 latency and throughput of each and the ratios,
plus the in-process single-row latency of the file scorer. Run under the Spark lock:

    flock /tmp/mlplat-spark.lock python bench/serving.py [--seconds 15] [--concurrency 4]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from airflow_mlplat.services.mlflow_server import start_mlflow, stop_mlflow  # noqa: E402
from airflow_mlplat.services.process import (  # noqa: E402
    LOOPBACK,
    ServiceState,
    free_port,
    start_service,
    stop_service,
    wait_until,
)

FEATURES = ["duration", "freqs_rank", "visits", "price_views", "compare_clicks", "visit_days", "dealer_calls", "age"]
NAME = "bench-serving-gbt"


def make_rows(count: int, seed: int) -> list[dict]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(count, len(FEATURES)))
    label = (x[:, 0] + 0.8 * x[:, 1] - 0.5 * x[:, 4] + rng.normal(scale=0.7, size=count) > 0).astype(float)
    return [
        {**{f: float(v) for f, v in zip(FEATURES, row, strict=True)}, "label": float(y)}
        for row, y in zip(x, label, strict=True)
    ]


def register_model(tracking_uri: str, train_rows: int) -> None:
    import mlflow
    import mlflow.spark
    from mlflow import MlflowClient
    from mlflow.models import ModelSignature
    from mlflow.types import ColSpec, Schema
    from pyspark.ml import Pipeline
    from pyspark.ml.classification import GBTClassifier
    from pyspark.ml.feature import Imputer, VectorAssembler

    from airflow_mlplat.engine.session import get_session

    spark = get_session(
        "bench-serving", {"spark.master": "local[2]", "spark.sql.shuffle.partitions": "4", "spark.ui.enabled": "false"}
    )
    rows = make_rows(train_rows, 0)
    df = spark.createDataFrame(
        [tuple(r[c] for c in [*FEATURES, "label"]) for r in rows],
        ", ".join(f"{c} double" for c in [*FEATURES, "label"]),
    )
    stages = [
        Imputer(inputCols=FEATURES, outputCols=[f"{f}_i" for f in FEATURES]),
        VectorAssembler(inputCols=[f"{f}_i" for f in FEATURES], outputCol="features"),
        GBTClassifier(maxIter=50, maxDepth=5, seed=1),
    ]
    model = Pipeline(stages=stages).fit(df)
    signature = ModelSignature(
        inputs=Schema([ColSpec("double", f) for f in FEATURES]), outputs=Schema([ColSpec("double", "prediction")])
    )
    mlflow.set_tracking_uri(tracking_uri)
    with mlflow.start_run():
        info = mlflow.spark.log_model(model, artifact_path="model", signature=signature, registered_model_name=NAME)
    MlflowClient().set_registered_model_alias(NAME, "champion", info.registered_model_version)
    spark.stop()


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


def in_process(tracking_uri: str, cache: Path, rows: list[dict], calls: int) -> dict[str, float]:
    from airflow_mlplat.serving.model import load_model_dir
    from airflow_mlplat.serving.registry import ModelRef, RegistryClient

    registry = RegistryClient(tracking_uri)
    info = registry.resolve(ModelRef.parse(f"models:/{NAME}@champion"))
    model = load_model_dir(registry.download(info, cache), name=NAME, version=info.version, slot="champion")
    for row in rows[:200]:
        model.predict([row])
    timings = []
    for i in range(calls):
        row = [rows[i % len(rows)]]
        started = time.perf_counter()
        model.predict(model.validator.validate_python(row))
        timings.append(time.perf_counter() - started)
    batch = rows[:1000]
    started = time.perf_counter()
    model.predict(batch)
    per_row_batch = (time.perf_counter() - started) / len(batch)
    return {"p50": percentile(timings, 50), "p99": percentile(timings, 99), "batch_per_row": per_row_batch}


def load(url: str, path: str, payload, rows: list[dict], seconds: float, concurrency: int) -> dict[str, float]:
    latencies: list[float] = []
    failures: list[str] = []
    stop = threading.Event()

    def worker(offset: int) -> None:
        with httpx.Client(base_url=url, timeout=60) as http:
            i = offset
            while not stop.is_set():
                i = (i + concurrency) % len(rows)
                started = time.perf_counter()
                try:
                    response = http.post(path, json=payload(rows[i]))
                    ok = response.status_code == 200
                except httpx.HTTPError as error:
                    ok, response = False, error
                elapsed = time.perf_counter() - started
                if ok:
                    latencies.append(elapsed)
                else:
                    failures.append(str(getattr(response, "text", response))[:200])

    threads = [threading.Thread(target=worker, args=(w,)) for w in range(concurrency)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    time.sleep(seconds)
    stop.set()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if not latencies:
        sys.exit(f"no successful request to {url}: {failures[:3]}")
    return {
        "p50": percentile(latencies, 50),
        "p99": percentile(latencies, 99),
        "rps": len(latencies) / elapsed,
        "requests": len(latencies),
        "failures": len(failures),
    }


def wait_ready(url: str, path: str, body, timeout: float) -> None:
    def ready() -> bool:
        try:
            return httpx.post(f"{url}{path}", json=body, timeout=120).status_code == 200
        except httpx.HTTPError:
            return False

    if not wait_until(ready, timeout=timeout, interval=1.0):
        sys.exit(f"{url}{path} never answered 200")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--train-rows", type=int, default=20_000)
    parser.add_argument("--calls", type=int, default=20_000, help="in-process single-row calls")
    args = parser.parse_args()
    bin_dir = os.path.dirname(sys.executable)
    env = {
        **os.environ,
        "PATH": bin_dir + os.pathsep + os.environ.get("PATH", ""),
        "PYSPARK_PYTHON": sys.executable,
        "PYTHONPATH": str(ROOT),
    }
    os.environ.update({k: env[k] for k in ("PATH", "PYSPARK_PYTHON")})
    with tempfile.TemporaryDirectory(prefix="bench-serving-") as scratch:
        root = Path(scratch)
        uri = start_mlflow(root / "services")
        env["MLFLOW_TRACKING_URI"] = uri
        ours_state, theirs_state = ServiceState(root / "ours"), ServiceState(root / "mlflow-serve")
        try:
            print(f"registering a 50-tree GBT pipeline ({args.train_rows} rows, {len(FEATURES)} features) at {uri}")
            register_model(uri, args.train_rows)
            rows = [{f: r[f] for f in FEATURES} for r in make_rows(2000, 1)]

            inproc = in_process(uri, root / "cache", rows, args.calls)

            port = free_port()
            start_service(
                ours_state,
                [
                    sys.executable,
                    "-m",
                    "airflow_mlplat.serving",
                    "--model",
                    f"models:/{NAME}@champion",
                    "--port",
                    str(port),
                    "--poll-interval",
                    "0",
                    "--cache-dir",
                    str(root / "cache2"),
                ],
                port,
                env=env,
                timeout=120,
                name="prediction service",
            )
            ours_url = f"http://{LOOPBACK}:{port}"
            wait_ready(ours_url, "/predict", rows[0], 120)
            load(ours_url, "/predict", lambda r: r, rows, 2.0, args.concurrency)  # warm-up
            ours = load(ours_url, "/predict", lambda r: r, rows, args.seconds, args.concurrency)
            stop_service(ours_state)

            port = free_port()
            start_service(
                theirs_state,
                [
                    os.path.join(bin_dir, "mlflow"),
                    "models",
                    "serve",
                    "-m",
                    f"models:/{NAME}@champion",
                    "--env-manager",
                    "local",
                    "--host",
                    LOOPBACK,
                    "-p",
                    str(port),
                    "-w",
                    "1",
                ],
                port,
                env=env,
                timeout=300,
                name="mlflow models serve",
            )
            theirs_url = f"http://{LOOPBACK}:{port}"
            wait_ready(theirs_url, "/invocations", {"dataframe_records": [rows[0]]}, 300)

            def records(r):
                return {"dataframe_records": [r]}

            load(theirs_url, "/invocations", records, rows, 5.0, args.concurrency)  # warm-up
            theirs = load(theirs_url, "/invocations", records, rows, args.seconds, args.concurrency)
        finally:
            stop_service(ours_state)
            stop_service(theirs_state)
            stop_mlflow(root / "services")

    ms = 1000.0
    print(
        f"\nin-process single-row (file scorer, signature check included), {args.calls} calls: "
        f"p50 {inproc['p50'] * ms:.3f} ms, p99 {inproc['p99'] * ms:.3f} ms; "
        f"batch of 1000: {inproc['batch_per_row'] * 1e6:.1f} us/row"
    )
    print(f"HTTP, {args.concurrency} client threads, single-row requests, {args.seconds:.0f} s each:")
    print(f"  {'server':28s} {'p50 ms':>8s} {'p99 ms':>8s} {'req/s':>9s} {'requests':>9s} {'failed':>7s}")
    for label, result in (("airflow-mlplat serving", ours), ("mlflow models serve (spark)", theirs)):
        print(
            f"  {label:28s} {result['p50'] * ms:8.2f} {result['p99'] * ms:8.2f} {result['rps']:9.1f} "
            f"{result['requests']:9d} {result['failures']:7d}"
        )
    print(
        f"ratios mlflow serve / ours: p50 {theirs['p50'] / ours['p50']:.1f}x, p99 {theirs['p99'] / ours['p99']:.1f}x;"
        f" throughput ours / mlflow serve {ours['rps'] / theirs['rps']:.1f}x"
    )
    checks = {
        "in-process p99 < 2 ms": inproc["p99"] < 0.002,
        "HTTP p99 < 10 ms": ours["p99"] < 0.010,
        "throughput >= 3x mlflow models serve": ours["rps"] >= 3 * theirs["rps"],
    }
    print("targets: " + ", ".join(f"{k}: {'met' if v else 'MISSED'}" for k, v in checks.items()))


if __name__ == "__main__":
    main()
