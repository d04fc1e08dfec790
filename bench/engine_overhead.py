"""Engine overhead: the purchase-intent pipeline through the engine vs the same steps by hand.

Both run as fresh processes (JVM start included) on the same generated data with the same
Spark settings, alternated, RUNS times each. The pipeline's plots are switched off, since the
hand-written baseline draws none: this measures the engine, not matplotlib. The last line is
the median of the per-pair ratios engine / hand-written (1.00 = no overhead).

    python bench/engine_overhead.py [--rows 200000] [--runs 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PIPELINE = ROOT / "dags" / "pipelines" / "purchase_intent_gbdt.json"
ENGINE = [sys.executable, "-m", "airflow_mlplat.engine"]


def timed(cmd: list[str]) -> tuple[float, str]:
    started = time.perf_counter()
    result = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    seconds = time.perf_counter() - started
    if result.returncode:
        sys.exit(f"failed: {' '.join(cmd)}\n{result.stderr[-3000:]}")
    return seconds, result.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="mlplat-bench-"))
    data = work / "behaviour"
    generator = work / "generate.json"
    generator.write_text(
        json.dumps(
            {
                "name": "generate",
                "nodes": [{"id": "g", "component": "synthetic_purchase_intent", "params": {"rows": args.rows}}],
                "outputs": {"data": {"from": "g.data", "path": str(data)}},
            }
        )
    )
    timed([*ENGINE, "run", str(generator), "--out", str(work / "generate")])
    print(f"data: {args.rows} rows at {data}", flush=True)

    pipeline = json.loads(PIPELINE.read_text())
    # Both sides read the same parquet files (the DAG's pipeline reads a Hive partition instead).
    reader = next(node for node in pipeline["nodes"] if node["id"] == "behaviour")
    reader.update(component="read_table", params={"path": str(data), "format": "parquet"})
    for name in ("input_table", "partition_filter"):
        pipeline["params"].pop(name)
    params = json.dumps({})
    for node in pipeline["nodes"]:
        if node["component"] in ("binary_classification_evaluation", "feature_importance"):
            node.setdefault("params", {})["plots"] = False
    pipeline_path = work / "purchase_intent_gbdt.json"
    pipeline_path.write_text(json.dumps(pipeline))
    ratios, engine_times, hand_times = [], [], []
    for run in range(1, args.runs + 1):
        # Alternate which goes first so drift on a noisy machine does not favour one side.
        order = ["engine", "hand"] if run % 2 else ["hand", "engine"]
        seconds = {}
        for side in order:
            out = work / f"{side}-{run}"
            if side == "engine":
                cmd = [*ENGINE, "run", str(pipeline_path), "--out", str(out), "--params", params]
            else:
                cmd = [sys.executable, str(ROOT / "bench" / "handwritten_purchase_intent.py"), str(data), str(out)]
            seconds[side], _ = timed(cmd)
        engine_times.append(seconds["engine"])
        hand_times.append(seconds["hand"])
        ratios.append(seconds["engine"] / seconds["hand"])
        print(
            f"run {run}: engine {seconds['engine']:.1f}s  hand-written {seconds['hand']:.1f}s  ratio {ratios[-1]:.3f}",
            flush=True,
        )
    engine_auc = json.loads((work / "engine-1" / "outputs" / "metrics").read_text())["auc_roc"]
    hand_auc = json.loads((work / "hand-1" / "outputs" / "metrics").read_text())["auc_roc"]
    print(f"test AUC: engine {engine_auc:.4f}  hand-written {hand_auc:.4f}")
    print(f"median engine {statistics.median(engine_times):.1f}s  hand-written {statistics.median(hand_times):.1f}s")
    print(f"median ratio engine/hand-written: {statistics.median(ratios):.3f}")


if __name__ == "__main__":
    main()
