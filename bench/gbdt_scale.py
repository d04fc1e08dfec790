"""GBDT at purchase-intent scale: Spark GBT vs xgboost.spark vs the fast path vs single-node LightGBM.

For each size the purchase-intent table is generated once with ``synthetic_purchase_intent``
(parquet, reused by later runs), then prepared once with the pipeline's own components:
``cast`` (cast_columns + fill_missing, the 8 behaviour features to doubles) and ``split``
(random_split 85/15, seed 42), each written to parquet, so every engine trains and tests on
the very same rows. Each engine then runs in a fresh process (its own JVM) through the stages

    train       read the training split, vector_assembler, fit (gbdt_classifier /
                xgboost_classifier / fast_gbdt_classifier)
    evaluate    read the test split, vector_assembler, predict, binary_classification_evaluation
    importance  feature_importance on the training split

at the same number of trees, depth and learning rate. The reference line is LightGBM alone on
one node: pandas reads the same train/test parquet (``load``), then LightGBM trains with the
fast path's own parameters, scores the test split and reports gain importances.

Peak memory is the resident set of the engine's whole process tree (Python driver, the JVM it
starts, and Spark's Python workers), sampled every 0.1 s with psutil, per stage and overall.
The table ends with the ratios fast path / LightGBM and Spark GBT / fast path. At small sizes
fixed costs dominate the Spark engines' stages (first imports of lightgbm/xgboost, Spark's
Python workers starting for the scoring UDFs); the fast path's node details split its train
stage into the collect and LightGBM itself.

    python bench/gbdt_scale.py                                  # 1M and 16.5M rows, every engine
    python bench/gbdt_scale.py --rows 200000 --small 50000      # a quick check
    python bench/gbdt_scale.py --sizes small --skip spark_gbt   # 1M rows, no Spark GBT
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
#: Where ``airflow_mlplat`` is imported from: this checkout, or (``fast_head``) an exported revision.
PACKAGE_ROOT = os.environ.get("MLPLAT_BENCH_PACKAGE_ROOT", str(ROOT))
if PACKAGE_ROOT not in sys.path:
    sys.path.insert(0, PACKAGE_ROOT)

from airflow_mlplat.components.datasets import PURCHASE_INTENT_FEATURES  # noqa: E402 (after sys.path)

FEATURES = list(PURCHASE_INTENT_FEATURES)
ENGINES = ("spark_gbt", "xgboost", "fast", "fast_head", "lightgbm")
LABELS = {
    "spark_gbt": "Spark GBT",
    "xgboost": "xgboost.spark",
    "fast": "fast path",
    "fast_head": "fast path (before)",
    "lightgbm": "LightGBM (1 node)",
}
STAGES = ("load", "train", "evaluate", "importance")
LEARNING_RATE = 0.1
SEED = 42
SPLIT_RATIO = 0.85


# --- measuring ----------------------------------------------------------------------------


class TreeMemorySampler:
    """Samples the RSS of this process and all its descendants; keeps the peak per stage and overall."""

    def __init__(self, interval: float = 0.1) -> None:
        import psutil

        self._process = psutil.Process(os.getpid())
        self._interval = interval
        self._stage: str | None = None
        self.peaks: dict[str, int] = {}
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)

    def tree_rss(self) -> int:
        import psutil

        total = 0
        for process in [self._process, *self._process.children(recursive=True)]:
            try:
                total += process.memory_info().rss
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue
        return total

    def _sample(self) -> None:
        rss = self.tree_rss()
        self.peak = max(self.peak, rss)
        if self._stage is not None:
            self.peaks[self._stage] = max(self.peaks.get(self._stage, 0), rss)

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            self._sample()

    def start(self) -> TreeMemorySampler:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()

    @contextmanager
    def stage(self, name: str, seconds: dict[str, float]):
        self._stage = name
        self._sample()
        started = time.perf_counter()
        try:
            yield
        finally:
            seconds[name] = time.perf_counter() - started
            self._sample()
            self._stage = None


# --- the worker processes -----------------------------------------------------------------


def _spark(args: argparse.Namespace, app: str) -> Any:
    from airflow_mlplat.engine.session import get_session

    # Spark's Python workers (the pandas UDFs of predict and xgboost) need this interpreter's packages.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)

    return get_session(
        app,
        {
            "spark.master": args.master,
            "spark.driver.memory": args.driver_memory,
            "spark.driver.maxResultSize": args.max_result_size,
            "spark.sql.shuffle.partitions": str(args.shuffle_partitions),
        },
    )


def _ctx(spark: Any, work: Path, node: str) -> Any:
    from airflow_mlplat.engine.context import ComponentContext

    return ComponentContext(spark=spark, node_id=node, artifacts_dir=str(work / "artifacts"))


def _call(ctx: Any, name: str, inputs: dict[str, Any], **params: Any) -> dict[str, Any]:
    from airflow_mlplat.components import get_component
    from airflow_mlplat.engine.runner import call_component

    return call_component(get_component(name), ctx, inputs, params)


def _prepare(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    """Generate (once), cast and split the table; time and measure the cast and split stages."""
    spark = _spark(args, "gbdt-scale:prepare")
    sampler = TreeMemorySampler().start()
    seconds: dict[str, float] = {}
    raw = work / "raw"
    if not (raw / "_SUCCESS").exists():
        with sampler.stage("generate", seconds):
            partitions = max(4, args.rows_now // 500_000)
            table = _call(
                _ctx(spark, work, "generate"),
                "synthetic_purchase_intent",
                {},
                rows=args.rows_now,
                partitions=partitions,
            )["data"]
            table.write.mode("overwrite").parquet(str(raw))
    with sampler.stage("cast", seconds):
        ctx = _ctx(spark, work, "cast")
        data = spark.read.parquet(str(raw))
        data = _call(ctx, "cast_columns", {"data": data}, columns=FEATURES, to_type="double")["data"]
        data = _call(ctx, "fill_missing", {"data": data}, columns=FEATURES, strategy="constant", value="0")["data"]
        data.select(*FEATURES, "label").write.mode("overwrite").parquet(str(work / "cast"))
    with sampler.stage("split", seconds):
        data = spark.read.parquet(str(work / "cast"))
        parts = _call(_ctx(spark, work, "split"), "random_split", {"data": data}, ratio=SPLIT_RATIO, seed=SEED)
        parts["train"].write.mode("overwrite").parquet(str(work / "train"))
        parts["test"].write.mode("overwrite").parquet(str(work / "test"))
    train_rows = spark.read.parquet(str(work / "train")).count()
    test_rows = spark.read.parquet(str(work / "test")).count()
    sampler.stop()
    spark.stop()
    return {"seconds": seconds, "peaks": sampler.peaks, "peak": sampler.peak, "train": train_rows, "test": test_rows}


def _spark_engine(args: argparse.Namespace, work: Path, engine: str) -> dict[str, Any]:
    spark = _spark(args, f"gbdt-scale:{engine}")
    spark.range(1).count()  # start the JVM before the clock
    sampler = TreeMemorySampler().start()
    seconds: dict[str, float] = {}
    details: dict[str, Any] = {}

    def assembled(split: str, ctx: Any) -> Any:
        data = spark.read.parquet(str(work / split))
        return _call(ctx, "vector_assembler", {"data": data}, input_cols=FEATURES, output_col="features")["data"]

    with sampler.stage("train", seconds):
        ctx = _ctx(spark, work, "train")
        train = assembled("train", ctx)
        if engine == "spark_gbt":
            model = _call(
                ctx,
                "gbdt_classifier",
                {"data": train},
                max_iter=args.trees,
                max_depth=args.depth,
                step_size=LEARNING_RATE,
            )["model"]
        elif engine == "xgboost":
            model = _call(
                ctx,
                "xgboost_classifier",
                {"data": train},
                n_estimators=args.trees,
                max_depth=args.depth,
                learning_rate=LEARNING_RATE,
                num_workers=args.xgb_workers,
            )["model"]
        else:
            model = _call(
                ctx,
                "fast_gbdt_classifier",
                {"data": train},
                max_iter=args.trees,
                max_depth=args.depth,
                step_size=LEARNING_RATE,
            )["model"]
        details = dict(ctx.details)
    with sampler.stage("evaluate", seconds):
        ctx = _ctx(spark, work, "evaluate")
        scored = _call(ctx, "predict", {"model": model, "data": assembled("test", ctx)})["data"]
        metrics = _call(ctx, "binary_classification_evaluation", {"data": scored})["metrics"]
    with sampler.stage("importance", seconds):
        ctx = _ctx(spark, work, "importance")
        importance = _call(ctx, "feature_importance", {"model": model, "data": assembled("train", ctx)})["importance"]
        top = [(row.feature, round(row.importance, 4)) for row in importance.orderBy("rank").limit(3).collect()]
    sampler.stop()
    spark.stop()
    return {
        "seconds": seconds,
        "peaks": sampler.peaks,
        "peak": sampler.peak,
        "auc": metrics["auc_roc"],
        "top_features": top,
        "details": details,
    }


def _auc(labels: Any, scores: Any) -> float:
    """Area under the ROC curve by the rank-sum formula (ties get average ranks)."""
    from scipy.stats import rankdata

    positives = labels == 1
    n_pos, n_neg = int(positives.sum()), int((~positives).sum())
    ranks = rankdata(scores)
    return float((ranks[positives].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def _lightgbm(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    import lightgbm
    import numpy as np
    import pandas as pd

    sampler = TreeMemorySampler().start()
    seconds: dict[str, float] = {}
    threads = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    with sampler.stage("load", seconds):
        train = pd.read_parquet(work / "train", columns=[*FEATURES, "label"])
        test = pd.read_parquet(work / "test", columns=[*FEATURES, "label"])
        x_train = np.asfortranarray(train[FEATURES].to_numpy(dtype=np.float64))
        y_train = train["label"].to_numpy(dtype=np.float64)
        x_test = test[FEATURES].to_numpy(dtype=np.float64)
        y_test = test["label"].to_numpy()
        del train, test
    with sampler.stage("train", seconds):
        # The fast path's own LightGBM parameters (gbdt.py), so the ratio measures only Spark's share.
        params = {
            "objective": "binary",
            "num_leaves": 2**args.depth,
            "max_depth": args.depth,
            "learning_rate": LEARNING_RATE,
            "min_data_in_leaf": 1,
            "max_bin": 255,
            "seed": SEED,
            "deterministic": True,
            "force_row_wise": True,
            "num_threads": threads,
            "verbosity": -1,
        }
        booster = lightgbm.train(params, lightgbm.Dataset(x_train, label=y_train), num_boost_round=args.trees)
    with sampler.stage("evaluate", seconds):
        auc = _auc(y_test, booster.predict(x_test, num_threads=threads))
    with sampler.stage("importance", seconds):
        gains = booster.feature_importance(importance_type="gain")
        weights = gains / gains.sum()
        top = sorted(zip(FEATURES, weights.tolist(), strict=True), key=lambda item: -item[1])[:3]
    sampler.stop()
    return {
        "seconds": seconds,
        "peaks": sampler.peaks,
        "peak": sampler.peak,
        "auc": auc,
        "top_features": [(name, round(w, 4)) for name, w in top],
        "details": {"num_threads": threads},
    }


def _worker(args: argparse.Namespace) -> None:
    work = Path(args.work)
    if args.worker == "prepare":
        result = _prepare(args, work)
    elif args.worker == "lightgbm":
        result = _lightgbm(args, work)
    else:
        result = _spark_engine(args, work, args.worker)
    import airflow_mlplat

    result["package"] = str(Path(airflow_mlplat.__file__).parent)
    Path(args.result).write_text(json.dumps(result, default=str))


# --- the driver ---------------------------------------------------------------------------


def _run_worker(args: argparse.Namespace, role: str, work: Path, rows: int) -> dict[str, Any] | None:
    result = work / f"result-{role}.json"
    result.unlink(missing_ok=True)
    command = [
        sys.executable,
        __file__,
        "--worker",
        role,
        "--work",
        str(work),
        "--result",
        str(result),
        "--rows-now",
        str(rows),
        *_shared_flags(args),
    ]
    env = None
    if role == "fast_head":
        # The fast path as committed at git revision --before: an exported copy of the package goes first.
        head = Path(args.work) / f"before-{args.before}"
        if not (head / "airflow_mlplat").is_dir():
            head.mkdir(parents=True, exist_ok=True)
            archive = subprocess.run(
                ["git", "archive", args.before, "airflow_mlplat"], cwd=ROOT, capture_output=True, check=True
            )
            subprocess.run(["tar", "-x", "-C", str(head)], input=archive.stdout, check=True)
        env = {
            **os.environ,
            "MLPLAT_BENCH_PACKAGE_ROOT": str(head),  # the driver's import path
            "PYTHONPATH": os.pathsep.join(filter(None, [str(head), os.environ.get("PYTHONPATH")])),  # the workers'
        }
    print(f"  {role} ...", end="", flush=True)
    started = time.perf_counter()
    completed = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, env=env)
    elapsed = time.perf_counter() - started
    if completed.returncode != 0 or not result.exists():
        print(f" FAILED after {elapsed:.0f} s (exit {completed.returncode})")
        tail = (completed.stderr or completed.stdout)[-3000:]
        print("    " + tail.replace("\n", "\n    "))
        return None
    print(f" {elapsed:.0f} s (process)")
    return json.loads(result.read_text())


def _shared_flags(args: argparse.Namespace) -> list[str]:
    return [
        "--trees",
        str(args.trees),
        "--depth",
        str(args.depth),
        "--master",
        args.master,
        "--driver-memory",
        args.driver_memory,
        "--max-result-size",
        args.max_result_size,
        "--shuffle-partitions",
        str(args.shuffle_partitions),
        "--xgb-workers",
        str(args.xgb_workers),
    ]


def _gib(size: float) -> str:
    return f"{size / 1024**3:.2f}"


def _report(
    rows: int, prep: dict[str, Any], results: dict[str, dict[str, Any] | None], args: argparse.Namespace
) -> None:
    print()
    print(f"== {rows:,} rows ({prep['train']:,} train / {prep['test']:,} test), {args.trees} trees, depth {args.depth}")
    shared = ", ".join(
        f"{stage} {prep['seconds'][stage]:.1f} s" for stage in ("generate", "cast", "split") if stage in prep["seconds"]
    )
    print(f"   shared preparation (once, every engine uses its output): {shared}; peak RSS {_gib(prep['peak'])} GiB")
    header = (
        f"   {'engine':<19}"
        + "".join(f"{s + ' s':>14}" for s in STAGES)
        + f"{'total s':>10}{'peak GiB':>10}{'test AUC':>10}"
    )
    print(header)
    print("   " + "-" * (len(header) - 3))
    for engine in ENGINES:
        if engine not in results:
            continue
        result = results[engine]
        if result is None:
            print(f"   {LABELS[engine]:<19}  failed")
            continue
        cells = "".join(f"{result['seconds'][s]:>14.1f}" if s in result["seconds"] else f"{'-':>14}" for s in STAGES)
        total = sum(result["seconds"].values())
        print(f"   {LABELS[engine]:<19}{cells}{total:>10.1f}{_gib(result['peak']):>10}{result['auc']:>10.4f}")
    print()
    for engine in ENGINES:
        result = results.get(engine)
        if result:
            peaks = ", ".join(f"{stage} {_gib(peak)}" for stage, peak in result["peaks"].items())
            print(f"   {LABELS[engine]}: peak GiB by stage: {peaks}; top features {result['top_features']}")
            print(f"      package: {result['package']}")
            details = result["details"]
            if details.get("reason"):
                print(f"      path: {details['training_path']}: {details['reason']}")
            if "collect_seconds" in details:
                print(
                    f"      of its train stage: collect to the driver {details['collect_seconds']:.1f} s, "
                    f"LightGBM {details['train_seconds']:.1f} s on {details['num_threads']} threads"
                )

    def ratio(a: str, b: str, what: str) -> None:
        ra, rb = results.get(a), results.get(b)
        if not ra or not rb:
            return
        train = ra["seconds"]["train"] / rb["seconds"]["train"]
        total = sum(ra["seconds"].values()) / sum(rb["seconds"].values())
        memory = ra["peak"] / rb["peak"]
        print(f"   {what}: train {train:.2f}x, total {total:.2f}x, peak memory {memory:.2f}x")

    print()
    ratio("fast", "lightgbm", "fast path / LightGBM (1 node)")
    ratio("fast_head", "lightgbm", "fast path (before) / LightGBM (1 node)")
    ratio("fast_head", "fast", "fast path (before) / fast path")
    fast, single = results.get("fast"), results.get("lightgbm")
    if fast and single:
        train = fast["seconds"]["train"] / single["seconds"]["train"]
        total = sum(fast["seconds"].values()) / sum(single["seconds"].values())
        print(
            f"   targets (issue 18): fast path / LightGBM train {train:.2f} "
            f"(<= 1.5: {'met' if train <= 1.5 else 'missed'}), "
            f"total {total:.2f} (<= 2: {'met' if total <= 2 else 'missed'})"
        )
    ratio("spark_gbt", "fast", "Spark GBT / fast path")
    ratio("xgboost", "fast", "xgboost.spark / fast path")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=16_500_000, help="rows of the large size")
    parser.add_argument("--small", type=int, default=1_000_000, help="rows of the small size")
    parser.add_argument("--sizes", default="small,large", help="which sizes to run: small, large or both")
    parser.add_argument("--trees", type=int, default=50)
    parser.add_argument("--depth", type=int, default=5)
    parser.add_argument(
        "--before", metavar="REV", help="also run the fast path as committed at git revision REV (fast_head)"
    )
    parser.add_argument("--skip", default="", help=f"comma-separated engines to leave out: {', '.join(ENGINES)}")
    parser.add_argument("--work", default="/tmp/mlplat-bench-gbdt", help="data and results folder (data is reused)")
    parser.add_argument("--master", default=os.environ.get("MLPLAT_SPARK_MASTER", "local[*]"))
    parser.add_argument("--driver-memory", default="8g", help="spark.driver.memory (local mode: the whole JVM)")
    parser.add_argument(
        "--max-result-size", default="4g", help="spark.driver.maxResultSize (caps the fast path's collect)"
    )
    parser.add_argument("--shuffle-partitions", type=int, default=8)
    parser.add_argument("--xgb-workers", type=int, default=os.cpu_count() or 1, help="xgboost.spark num_workers")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--result", help=argparse.SUPPRESS)
    parser.add_argument("--rows-now", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        _worker(args)
        return

    skip = {name.strip() for name in args.skip.split(",") if name.strip()}
    if not args.before:
        skip.add("fast_head")
    unknown = skip - set(ENGINES)
    if unknown:
        parser.error(f"--skip: unknown engine(s) {sorted(unknown)}; choose from {', '.join(ENGINES)}")
    wanted = {name.strip() for name in args.sizes.split(",") if name.strip()}
    if not wanted or wanted - {"small", "large"}:
        parser.error("--sizes takes small, large or small,large")
    sizes = [rows for name, rows in (("small", args.small), ("large", args.rows)) if name in wanted]
    print(
        f"GBDT scale: sizes {', '.join(f'{r:,}' for r in sizes)} rows; {args.trees} trees, depth {args.depth}, "
        f"learning rate {LEARNING_RATE}; master {args.master}, driver memory {args.driver_memory}, "
        f"maxResultSize {args.max_result_size}, xgboost workers {args.xgb_workers}; engines: "
        f"{', '.join(LABELS[e] for e in ENGINES if e not in skip)}"
    )
    for rows in sizes:
        work = Path(args.work) / f"rows_{rows}"
        work.mkdir(parents=True, exist_ok=True)
        print(f"\n{rows:,} rows in {work}")
        prep = _run_worker(args, "prepare", work, rows)
        if prep is None:
            sys.exit(1)
        results = {engine: _run_worker(args, engine, work, rows) for engine in ENGINES if engine not in skip}
        _report(rows, prep, results, args)


if __name__ == "__main__":
    main()
