"""Serving deep models: DeepFM (ONNX and TorchScript) in this project's service vs ``mlflow models serve``.

One run, no Spark (issue 15, section 4):

1. A fresh MLflow server (SQLite, loopback) is started. A DeepFM over FIELDS categorical fields
   (VOCAB values each, the default parameters: embedding 16, deep layers [256, 128]) is built from a
   feature map made directly (no encoder fit), left untrained (the weights do not change latency),
   exported by ``ranking.export.export_network`` (TorchScript and ONNX, each checked within 1e-5)
   and published as the training job publishes a model (``model.pt``, ``feature_map.json``,
   ``training_config.json``, ``metrics.json``, ``history.json``). ``register_ranking_model``
   registers it as NAME v1 (ONNX flavour + feature map + ``mlplat_model.json``); its TorchScript
   file is uploaded with ``upload_model(fmt="torchscript", feature_map=...)`` as NAME_TS v1.
   Requests are raw rows: FIELDS categorical values (1% missing, 1% never seen).
2. In process, per format: the service's own scorer (``serving.model.load_model_dir`` on the
   downloaded version folder); single-row p50/p99 of ``validate + predict`` over CALLS calls after
   a warm-up, the same split out (the model runtime alone on feeds encoded beforehand), and rows/s
   of a 1,024-row request (validated, encoded, scored), repeated.
3. Our HTTP service (``python -m airflow_mlplat.serving``, one process, 127.0.0.1): CONCURRENCY
   client threads (httpx, one keep-alive connection each), single-row requests for SECONDS after a
   warm-up, ONNX version, without and with micro-batching (``--batch-max-rows 32
   --batch-max-wait-ms 2``): p50, p99, req/s, failed requests. Then rows/s of one 1,024-row
   request repeated, ONNX and TorchScript services.
4. ``mlflow models serve -m models:/NAME/1 --env-manager local`` (its onnx pyfunc, one worker),
   the same client and rows. Its onnx pyfunc takes a feed of tensors, not raw fields, so each row
   is sent as ``{"inputs": {field: [index]}}``, encoded beforehand by the same feature map (the
   encoding is not counted against it; our service encodes raw fields itself).
5. A Markdown table, the ratios, and the issue's targets with PASS/MISS: ONNX in-process single-row
   p99 < 1 ms; HTTP p99 < 5 ms; throughput >= 3x ``mlflow models serve``; zero failed requests.

Everything started here is stopped by PID; temporary folders are removed.

    python bench/serving_deep.py [--seconds 10] [--concurrency 4] [--output result.json]
    python bench/serving_deep.py --quick      # a smoke run: 1.5 s phases, few calls
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
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

NAME = "bench-serving-deepfm"
NAME_TS = "bench-serving-deepfm-ts"
BATCH_ROWS = 1024
MS = 1000.0
JSON_HEADERS = {"content-type": "application/json"}


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# -- the model ---------------------------------------------------------------------------------


def field_names(fields: int) -> list[str]:
    return [f"c{i:02d}" for i in range(fields)]


def make_feature_map(fields: int, vocab: int):
    from airflow_mlplat.ranking.feature_map import FeatureMap, FieldSpec

    specs = tuple(
        FieldSpec(name=name, kind="categorical", vocabulary=tuple(f"{name}_{j}" for j in range(vocab)))
        for name in field_names(fields)
    )
    return FeatureMap(fields=specs, labels=("label",))


def make_rows(count: int, fields: int, vocab: int, seed: int) -> list[dict[str, Any]]:
    """Raw request rows: a known value per field, 1% missing (null), 1% never seen."""
    rng = np.random.default_rng(seed)
    names = field_names(fields)
    index = rng.integers(0, vocab, size=(count, fields))
    draw = rng.random(size=(count, fields))
    rows = []
    for r in range(count):
        row: dict[str, Any] = {}
        for f, name in enumerate(names):
            if draw[r, f] < 0.01:
                row[name] = None
            elif draw[r, f] < 0.02:
                row[name] = f"{name}_unseen_{index[r, f]}"
            else:
                row[name] = f"{name}_{index[r, f]}"
        rows.append(row)
    return rows


def publish_model(folder: Path, fields: int, vocab: int, seed: int) -> dict[str, Any]:
    """The folder a ranking training job publishes, for an untrained DeepFM; returns the export check."""
    import torch

    from airflow_mlplat.ranking.export import export_network
    from airflow_mlplat.ranking.models import build_network
    from airflow_mlplat.ranking.params import resolve_params

    feature_map = make_feature_map(fields, vocab)
    params = resolve_params("deepfm", {"seed": seed}, where="bench deepfm")
    torch.manual_seed(params["seed"])
    network = build_network("deepfm", feature_map, params).eval()
    sample_rows = make_rows(256, fields, vocab, seed + 1)
    encoded = feature_map.encode_records(sample_rows)
    sample = {name: encoded[name] for name in network.input_names}
    folder.mkdir(parents=True, exist_ok=True)
    check = export_network(network, sample, folder)
    torch.save({"model": "deepfm", "params": params, "state_dict": network.state_dict()}, folder / "model.pt")
    (folder / "feature_map.json").write_text(feature_map.to_json())
    tasks = list(network.tasks)
    (folder / "training_config.json").write_text(
        json.dumps(
            {
                "model": "deepfm",
                "params": params,
                "tasks": tasks,
                "inputs": {"feature_map": f"bench/serving_deep.py: {fields} categorical fields x {vocab} values"},
                "name": NAME,
            },
            indent=1,
        )
    )
    # Not trained: no epochs, no validation metrics. What is true is said.
    (folder / "history.json").write_text("[]")
    metrics = {
        "model": "deepfm",
        "tasks": tasks,
        "trained": False,
        "epochs_run": 0,
        "note": "untrained weights (latency benchmark)",
        "export_check": check,
    }
    (folder / "metrics.json").write_text(json.dumps(metrics, indent=1))
    return check


def register(folder: Path, uri: str) -> None:
    from airflow_mlplat.modelzoo.upload import upload_model
    from airflow_mlplat.ranking.registration import register_ranking_model

    onnx = register_ranking_model(folder.as_uri(), name=NAME, tracking_uri=uri)
    torchscript = upload_model(
        folder / "model.torchscript.pt",
        name=NAME_TS,
        fmt="torchscript",
        tracking_uri=uri,
        feature_map=folder / "feature_map.json",
    )
    if str(onnx["version"]) != "1" or str(torchscript["version"]) != "1":
        sys.exit(f"expected version 1 of fresh models, got {onnx['version']} and {torchscript['version']}")


# -- in process --------------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q)) if values else float("nan")


def in_process(uri: str, name: str, cache: Path, rows: list[dict], calls: int, batch_repeats: int) -> dict[str, Any]:
    from airflow_mlplat.serving.model import load_model_dir
    from airflow_mlplat.serving.registry import ModelRef, RegistryClient

    registry = RegistryClient(uri)
    info = registry.resolve(ModelRef.parse(f"models:/{name}/1"))
    model = load_model_dir(registry.download(info, cache), name=name, version=info.version, slot="bench")
    for row in rows[: min(500, calls)]:
        model.predict(model.validator.validate_python([row]))
    timings = []
    for i in range(calls):
        row = [rows[i % len(rows)]]
        started = time.perf_counter()
        model.predict(model.validator.validate_python(row))
        timings.append(time.perf_counter() - started)
    # The same calls split: the model runtime alone on feeds encoded beforehand (the rest is
    # validation and the feature map's encoding of the raw row).
    feeds = [model.scorer.feature_map.encode_records([row]) for row in rows[: min(len(rows), 1000)]]
    runtime_timings = []
    for i in range(calls):
        feed = feeds[i % len(feeds)]
        started = time.perf_counter()
        model.scorer.runtime.run(feed)
        runtime_timings.append(time.perf_counter() - started)
    batch = rows[:BATCH_ROWS]
    for _ in range(2):
        model.predict(model.validator.validate_python(batch))
    batch_times = []
    for _ in range(batch_repeats):
        started = time.perf_counter()
        answers = model.predict(model.validator.validate_python(batch))
        batch_times.append(time.perf_counter() - started)
    if len(answers) != len(batch) or not all(0.0 <= a["p_label"] <= 1.0 for a in answers):
        sys.exit(f"{name}: the in-process scorer answered {len(answers)} rows, not {len(batch)} probabilities")
    return {
        "flavor": model.flavor,
        "calls": calls,
        "p50": percentile(timings, 50),
        "p99": percentile(timings, 99),
        "runtime_p50": percentile(runtime_timings, 50),
        "runtime_p99": percentile(runtime_timings, 99),
        "batch_rows_per_s": len(batch) * len(batch_times) / sum(batch_times),
        "batch_p50": percentile(batch_times, 50),
        "batch_repeats": batch_repeats,
    }


# -- HTTP --------------------------------------------------------------------------------------


def load(url: str, path: str, bodies: list[bytes], seconds: float, concurrency: int) -> dict[str, Any]:
    """CONCURRENCY threads, one keep-alive connection each, posting ``bodies`` in turn for ``seconds``."""
    latencies: list[float] = []
    failures: list[str] = []
    stop = threading.Event()

    def worker(offset: int) -> None:
        with httpx.Client(base_url=url, timeout=60, headers=JSON_HEADERS) as http:
            i = offset
            while not stop.is_set():
                i = (i + concurrency) % len(bodies)
                started = time.perf_counter()
                try:
                    response = http.post(path, content=bodies[i])
                    ok, why = response.status_code == 200, f"{response.status_code} {response.text[:200]}"
                except httpx.HTTPError as error:
                    ok, why = False, f"{type(error).__name__}: {error}"
                elapsed = time.perf_counter() - started
                if ok:
                    latencies.append(elapsed)
                else:
                    failures.append(why)

    threads = [threading.Thread(target=worker, args=(w,), daemon=True) for w in range(concurrency)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    time.sleep(seconds)
    stop.set()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    return {
        "p50": percentile(latencies, 50),
        "p99": percentile(latencies, 99),
        "rps": len(latencies) / elapsed,
        "requests": len(latencies),
        "failures": len(failures),
        "failure_samples": sorted(set(failures))[:3],
        "seconds": elapsed,
    }


def batch_load(url: str, path: str, body: bytes, rows: int, repeats: int) -> dict[str, Any]:
    """One client posting one ``rows``-row request ``repeats`` times (after two warm-ups): rows/s."""
    times, failures = [], 0
    with httpx.Client(base_url=url, timeout=120, headers=JSON_HEADERS) as http:
        for i in range(repeats + 2):
            started = time.perf_counter()
            try:
                ok = http.post(path, content=body).status_code == 200
            except httpx.HTTPError:
                ok = False
            elapsed = time.perf_counter() - started
            if i < 2:
                continue
            if ok:
                times.append(elapsed)
            else:
                failures += 1
    return {
        "rows_per_s": rows * len(times) / sum(times) if times else float("nan"),
        "p50": percentile(times, 50),
        "repeats": repeats,
        "failures": failures,
    }


def wait_ready(url: str, path: str, body: bytes, timeout: float, state: ServiceState) -> None:
    last = [""]

    def ready() -> bool:
        try:
            response = httpx.post(f"{url}{path}", content=body, headers=JSON_HEADERS, timeout=120)
            last[0] = f"{response.status_code} {response.text[:300]}"
            return response.status_code == 200
        except httpx.HTTPError as error:
            last[0] = str(error)
            return False

    if not wait_until(ready, timeout=timeout, interval=1.0):
        tail = state.log.read_text(errors="replace")[-2000:] if state.log.exists() else ""
        raise RuntimeError(f"{url}{path} never answered 200 (last: {last[0]}); log:\n{tail}")


class Services:
    """The servers this run starts, each stopped by the PID its state folder records."""

    def __init__(self, root: Path, env: dict[str, str]) -> None:
        self.root, self.env = root, env
        self.states: list[ServiceState] = []

    def start(self, label: str, command: Callable[[int], list[str]], timeout: float) -> tuple[str, ServiceState]:
        port = free_port()
        state = ServiceState(self.root / f"{label}-{port}")
        self.states.append(state)
        start_service(state, command(port), port, env=self.env, timeout=timeout, name=label)
        return f"http://{LOOPBACK}:{port}", state

    def stop_all(self) -> None:
        for state in self.states:
            stop_service(state)


def ours_command(model: str, cache: Path, extra: list[str]) -> Callable[[int], list[str]]:
    def command(port: int) -> list[str]:
        return [
            sys.executable,
            "-m",
            "airflow_mlplat.serving",
            "--model",
            model,
            "--host",
            LOOPBACK,
            "--port",
            str(port),
            "--poll-interval",
            "0",
            "--cache-dir",
            str(cache),
            *extra,
        ]

    return command


def mlflow_serve_command(model: str) -> Callable[[int], list[str]]:
    def command(port: int) -> list[str]:
        return [
            os.path.join(os.path.dirname(sys.executable), "mlflow"),
            "models",
            "serve",
            "-m",
            model,
            "--env-manager",
            "local",
            "-h",
            LOOPBACK,
            "-p",
            str(port),
            "-w",
            "1",
        ]

    return command


# -- report ------------------------------------------------------------------------------------


def fmt_ms(seconds: float) -> str:
    return f"{seconds * MS:.3f}" if np.isfinite(seconds) else "n/a"


def report(result: dict[str, Any], args: argparse.Namespace) -> dict[str, bool]:
    inproc, http, batch = result["in_process"], result["http"], result["http_batch"]
    print()
    print(
        f"DeepFM, {args.fields} categorical fields x {args.vocab} values, untrained; "
        f"{result['machine']}; in process {args.calls} single-row calls, "
        f"HTTP {args.concurrency} client threads x {args.seconds:g} s per phase"
        + (" (--quick: noisy, not the issue's run)" if args.quick else "")
    )
    print()
    print("| what | format | p50 ms | p99 ms | req/s | requests | failed | rows/s at 1,024 |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for fmt in ("onnx", "torchscript"):
        r = inproc[fmt]
        print(
            f"| in process, validate + predict | {fmt} | {fmt_ms(r['p50'])} | {fmt_ms(r['p99'])} | "
            f"- | {r['calls']} | - | {r['batch_rows_per_s']:,.0f} |"
        )
        print(
            f"| in process, model runtime only (feed encoded beforehand) | {fmt} | {fmt_ms(r['runtime_p50'])} | "
            f"{fmt_ms(r['runtime_p99'])} | - | {r['calls']} | - | - |"
        )
    labels = {
        "ours": "airflow-mlplat service",
        "ours_batching": (
            f"airflow-mlplat service, micro-batching {args.batch_max_rows} rows / {args.batch_max_wait_ms:g} ms"
        ),
        "mlflow": "mlflow models serve (onnx pyfunc, 1 worker)",
    }
    batch_of = {"ours": batch["ours_onnx"], "mlflow": batch["mlflow"]}
    for key, label in labels.items():
        r = http[key]
        rows_s = f"{batch_of[key]['rows_per_s']:,.0f}" if key in batch_of else "-"
        print(
            f"| {label} | onnx | {fmt_ms(r['p50'])} | {fmt_ms(r['p99'])} | {r['rps']:.0f} | "
            f"{r['requests']} | {r['failures']} | {rows_s} |"
        )
    ts = batch["ours_torchscript"]
    print(
        f"| airflow-mlplat service (1,024-row requests only) | torchscript | - | - | - | - | "
        f"{ts['failures']} | {ts['rows_per_s']:,.0f} |"
    )
    print()
    mlflow_rps = http["mlflow"]["rps"]
    for key in ("ours", "ours_batching"):
        print(
            f"- {labels[key]} vs mlflow models serve: throughput {http[key]['rps'] / mlflow_rps:.1f}x, "
            f"latency mlflow models serve / ours: p50 {http['mlflow']['p50'] / http[key]['p50']:.1f}x, "
            f"p99 {http['mlflow']['p99'] / http[key]['p99']:.1f}x"
        )
    print(
        f"- 1,024-row requests over HTTP, ONNX: ours / mlflow models serve "
        f"{batch['ours_onnx']['rows_per_s'] / batch['mlflow']['rows_per_s']:.1f}x rows/s"
    )
    for key in ("ours", "ours_batching", "mlflow"):
        if http[key]["failure_samples"]:
            print(f"- failures of {labels[key]}: {http[key]['failure_samples']}")
    ours_failed = sum(http[k]["failures"] for k in ("ours", "ours_batching")) + sum(
        batch[k]["failures"] for k in ("ours_onnx", "ours_torchscript")
    )
    onnx_p99 = inproc["onnx"]["p99"]
    targets = {
        f"ONNX in-process single-row p99 < 1 ms ({fmt_ms(onnx_p99)} ms)": onnx_p99 < 0.001,
        f"HTTP p99 < 5 ms, no batching ({fmt_ms(http['ours']['p99'])} ms)": http["ours"]["p99"] < 0.005,
        f"HTTP p99 < 5 ms, micro-batching ({fmt_ms(http['ours_batching']['p99'])} ms)": http["ours_batching"]["p99"]
        < 0.005,
        f"throughput >= 3x mlflow models serve, no batching ({http['ours']['rps']:.0f} vs {mlflow_rps:.0f} req/s, "
        f"{http['ours']['rps'] / mlflow_rps:.1f}x)": http["ours"]["rps"] >= 3 * mlflow_rps,
        f"throughput >= 3x mlflow models serve, micro-batching ({http['ours_batching']['rps']:.0f} vs "
        f"{mlflow_rps:.0f} req/s, {http['ours_batching']['rps'] / mlflow_rps:.1f}x)": http["ours_batching"]["rps"]
        >= 3 * mlflow_rps,
        f"zero failed requests to our service ({ours_failed} failed; mlflow models serve: "
        f"{http['mlflow']['failures'] + batch['mlflow']['failures']})": ours_failed == 0,
    }
    print()
    print("Targets:")
    for text, ok in targets.items():
        print(f"- {'PASS' if ok else 'MISS'}: {text}")
    return targets


# -- main --------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="seconds per HTTP single-row phase")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of warm-up load before each phase")
    parser.add_argument("--concurrency", type=int, default=4, help="client threads")
    parser.add_argument("--calls", type=int, default=20_000, help="in-process single-row calls per format")
    parser.add_argument("--batch-repeats", type=int, default=30, help="1,024-row requests per measurement")
    parser.add_argument("--fields", type=int, default=20)
    parser.add_argument("--vocab", type=int, default=1000, help="values per field")
    parser.add_argument("--batch-max-rows", type=int, default=32)
    parser.add_argument("--batch-max-wait-ms", type=float, default=2.0)
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--quick", action="store_true", help="smoke run: 1.5 s phases, 500 calls, 3 batch repeats")
    parser.add_argument("--output", type=Path, help="also write the figures as JSON here")
    args = parser.parse_args()
    if args.quick:
        args.seconds, args.warmup, args.calls, args.batch_repeats = 1.5, 0.5, 500, 3

    # SIGTERM (make, a CI timeout) unwinds through the finally blocks: every server is stopped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    bin_dir = os.path.dirname(sys.executable)
    result: dict[str, Any] = {
        "args": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs",
    }
    with tempfile.TemporaryDirectory(prefix="bench-serving-deep-") as scratch:
        root = Path(scratch)
        log(f"starting MLflow server (scratch {root})")
        uri = start_mlflow(root / "services")
        env = {
            **os.environ,
            "PATH": bin_dir + os.pathsep + os.environ.get("PATH", ""),
            "PYTHONPATH": str(ROOT),
            "MLFLOW_TRACKING_URI": uri,
        }
        services = Services(root / "servers", env)
        try:
            log(f"building, exporting and registering DeepFM ({args.fields} fields x {args.vocab} values) at {uri}")
            result["export_check"] = publish_model(root / "published", args.fields, args.vocab, args.seed)
            with contextlib.redirect_stdout(sys.stderr):  # MLflow prints run links: stdout keeps the table
                register(root / "published", uri)
            from airflow_mlplat.ranking.feature_map import FeatureMap

            feature_map = FeatureMap.from_json((root / "published" / "feature_map.json").read_text())
            rows = make_rows(max(2000, BATCH_ROWS), args.fields, args.vocab, args.seed + 7)

            result["in_process"] = {}
            for name, fmt in ((NAME, "onnx"), (NAME_TS, "torchscript")):
                log(f"in process: {fmt}, {args.calls} single-row calls, {args.batch_repeats} x {BATCH_ROWS} rows")
                measured = in_process(uri, name, root / "cache-inproc", rows, args.calls, args.batch_repeats)
                if measured["flavor"] != fmt:
                    sys.exit(f"{name} v1 loaded as {measured['flavor']}, expected {fmt}")
                result["in_process"][fmt] = measured

            single = [json.dumps(row).encode() for row in rows]
            batch_body = json.dumps({"rows": rows[:BATCH_ROWS]}).encode()
            encoded = feature_map.encode_records(rows)
            names = feature_map.names
            tensors = [
                json.dumps({"inputs": {n: [int(encoded[n][i])] for n in names}}).encode() for i in range(len(rows))
            ]
            tensor_batch = json.dumps({"inputs": {n: encoded[n][:BATCH_ROWS].tolist() for n in names}}).encode()

            result["http"], result["http_batch"] = {}, {}
            phases = (
                ("ours", f"models:/{NAME}/1", []),
                (
                    "ours_batching",
                    f"models:/{NAME}/1",
                    ["--batch-max-rows", str(args.batch_max_rows), "--batch-max-wait-ms", str(args.batch_max_wait_ms)],
                ),
                ("ours_torchscript", f"models:/{NAME_TS}/1", []),
            )
            for key, model, extra in phases:
                log(f"our service: {key} ({model} {' '.join(extra)})")
                url, state = services.start(
                    "prediction-service", ours_command(model, root / f"cache-{key}", extra), timeout=120
                )
                wait_ready(url, "/predict", single[0], 120, state)
                if key == "ours_torchscript":
                    result["http_batch"][key] = batch_load(url, "/predict", batch_body, BATCH_ROWS, args.batch_repeats)
                else:
                    load(url, "/predict", single, args.warmup, args.concurrency)
                    result["http"][key] = load(url, "/predict", single, args.seconds, args.concurrency)
                    if key == "ours":
                        result["http_batch"]["ours_onnx"] = batch_load(
                            url, "/predict", batch_body, BATCH_ROWS, args.batch_repeats
                        )
                stop_service(state)

            log(f"mlflow models serve -m models:/{NAME}/1 --env-manager local")
            url, state = services.start("mlflow-models-serve", mlflow_serve_command(f"models:/{NAME}/1"), timeout=300)
            wait_ready(url, "/invocations", tensors[0], 300, state)
            load(url, "/invocations", tensors, args.warmup, args.concurrency)
            result["http"]["mlflow"] = load(url, "/invocations", tensors, args.seconds, args.concurrency)
            result["http_batch"]["mlflow"] = batch_load(
                url, "/invocations", tensor_batch, BATCH_ROWS, args.batch_repeats
            )
            stop_service(state)
        finally:
            services.stop_all()
            stop_mlflow(root / "services")
    targets = report(result, args)
    result["targets"] = targets
    if args.output:
        args.output.write_text(json.dumps(result, indent=1, default=float))
        log(f"wrote {args.output}")


if __name__ == "__main__":
    main()
