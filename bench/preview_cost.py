"""What table previews cost: the purchase-intent pipeline with and without ``"preview": false``.

The pipeline (``dags/pipelines/purchase_intent_gbdt.json``, reading the same parquet files instead
of its Hive partition, no plots) runs in one SparkSession, alternating previews on and off, RUNS
times each, on a small and a medium table. For each size it prints the median wall time with and
without previews, their ratio, and the Spark jobs the run started (counted per node from Spark's
status tracker): the extra jobs per table output, and how each output got its profile (folded into
the cache fill or the output write, or a job of its own).

    python bench/preview_cost.py [--sizes 20000 1000000] [--runs 3] [--max-iter 10]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PIPELINE = ROOT / "dags" / "pipelines" / "purchase_intent_gbdt.json"


def pipeline_on(data: str, preview: bool, max_iter: int) -> dict:
    doc = json.loads(PIPELINE.read_text())
    reader = next(node for node in doc["nodes"] if node["id"] == "behaviour")
    reader.update(component="read_table", params={"path": data, "format": "parquet"})
    for name in ("input_table", "partition_filter"):
        doc["params"].pop(name)
    doc["params"]["max_iter"]["default"] = max_iter
    for node in doc["nodes"]:
        if node["component"] in ("binary_classification_evaluation", "feature_importance"):
            node.setdefault("params", {})["plots"] = False
    doc.pop("register")
    doc["preview"] = preview
    return doc


def run_once(spark, doc: dict, out: Path) -> tuple[float, int, dict]:
    from airflow_mlplat.engine.runner import run_pipeline
    from airflow_mlplat.pipeline import validate_pipeline

    tracker = spark.sparkContext.statusTracker()
    node_ids = [node["id"] for node in doc["nodes"]]
    before = {node: set(tracker.getJobIdsForGroup(node)) for node in node_ids}
    started = time.perf_counter()
    report = run_pipeline(validate_pipeline(doc), str(out), spark=spark)
    seconds = time.perf_counter() - started
    jobs = sum(len(set(tracker.getJobIdsForGroup(node)) - before[node]) for node in node_ids)
    return seconds, jobs, report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[20_000, 1_000_000])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--max-iter", type=int, default=10)
    args = parser.parse_args()

    from airflow_mlplat.components.datasets import synthetic_purchase_intent
    from airflow_mlplat.engine.context import ComponentContext
    from airflow_mlplat.engine.session import get_session

    conf = {"spark.master": "local[2]", "spark.sql.shuffle.partitions": "4", "spark.ui.retainedJobs": "100000"}
    spark = get_session("mlplat-bench-preview", conf)
    spark.sparkContext.setLogLevel("ERROR")
    work = Path(tempfile.mkdtemp(prefix="mlplat-bench-preview-"))
    for rows in args.sizes:
        data = str(work / f"behaviour-{rows}")
        ctx = ComponentContext(spark=spark, node_id="generate", artifacts_dir=str(work))
        synthetic_purchase_intent(ctx, rows=rows, seed=3, partitions=4).write.parquet(data)
        run_once(spark, pipeline_on(data, True, args.max_iter), work / f"warm-{rows}")  # JIT, caches: not measured
        times: dict[bool, list[float]] = {True: [], False: []}
        jobs: dict[bool, list[int]] = {True: [], False: []}
        report = {}
        for run in range(1, args.runs + 1):
            for preview in (True, False) if run % 2 else (False, True):
                doc = pipeline_on(data, preview, args.max_iter)
                seconds, count, got = run_once(spark, doc, work / f"{rows}-{run}-{preview}")
                times[preview].append(seconds)
                jobs[preview].append(count)
                if preview:
                    report = got
            print(f"{rows} rows, run {run}: previews {times[True][-1]:.1f}s  none {times[False][-1]:.1f}s", flush=True)
        urls = [url for node in report["nodes"].values() for url in node["previews"].values()]
        previews = [json.loads(Path(url).read_text()) for url in urls]
        outputs = len(previews)
        on, off = statistics.median(times[True]), statistics.median(times[False])
        extra_jobs = statistics.median(jobs[True]) - statistics.median(jobs[False])
        passes = sum("profile" in p["seconds"] and p["profiled_in"] == "own job" for p in previews)
        limits = sum("rows" in p["seconds"] for p in previews)
        print(
            f"{rows} rows: median {on:.2f}s with previews, {off:.2f}s without: ratio {on / off:.3f}, "
            f"+{on - off:.2f}s for {outputs} table outputs ({(on - off) / outputs:+.2f}s each); "
            f"own aggregation passes {passes}, limits {limits}; Spark jobs {statistics.median(jobs[True]):.0f} "
            f"vs {statistics.median(jobs[False]):.0f} ({extra_jobs / outputs:.2f} extra per table output, target "
            f"<= 1: {'met' if extra_jobs <= outputs else 'missed'})",
            flush=True,
        )
        for node_id, node in report["nodes"].items():
            for port, url in node["previews"].items():
                preview = json.loads(Path(url).read_text())
                seconds = ", ".join(f"{job} {value:.2f}s" for job, value in preview["seconds"].items()) or "none"
                print(
                    f"    {node_id}.{port}: {preview['rows_total']} rows, profiled in {preview['profiled_in']}; "
                    f"own jobs: {seconds}"
                )
            for port, error in node["preview_errors"].items():
                print(f"    {node_id}.{port}: preview failed: {error}")
    spark.stop()


if __name__ == "__main__":
    main()
