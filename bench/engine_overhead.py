"""Engine overhead: the purchase-intent pipeline through the engine vs the same steps by hand.

Both run as fresh processes (JVM start included) on the same generated data with the same
Spark settings, alternated, RUNS times each. The pipeline's plots and table previews are switched
off, since the hand-written baseline makes neither: this measures the engine, not matplotlib. The
last line is the median of the per-pair ratios engine / hand-written (1.00 = no overhead; target
<= 1.05).

Before it, a per-node table: the median seconds of each engine node (from its run report)
beside the hand-written script's step of the same name (its ``steps.json``), and their
difference; ``(outside nodes)`` is each process's wall time not spent in a node or step (JVM
and session start, imports, preflight, the report). Spark is lazy, so a step's time is the
work its own actions trigger, on both sides.

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
TARGET = 1.05


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
    pipeline["preview"] = False  # no table previews either: bench/preview_cost.py measures those
    pipeline_path = work / "purchase_intent_gbdt.json"
    pipeline_path.write_text(json.dumps(pipeline))
    ratios, engine_times, hand_times = [], [], []
    node_seconds: dict[str, dict[str, list[float]]] = {"engine": {}, "hand": {}}
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
        for side, steps in (
            ("engine", _engine_steps(work / f"engine-{run}")),
            ("hand", _hand_steps(work / f"hand-{run}")),
        ):
            steps["(outside nodes)"] = seconds[side] - sum(steps.values())
            for name, value in steps.items():
                node_seconds[side].setdefault(name, []).append(value)
        ratios.append(seconds["engine"] / seconds["hand"])
        print(
            f"run {run}: engine {seconds['engine']:.1f}s  hand-written {seconds['hand']:.1f}s  ratio {ratios[-1]:.3f}",
            flush=True,
        )
    engine_auc = json.loads((work / "engine-1" / "outputs" / "metrics").read_text())["auc_roc"]
    hand_auc = json.loads((work / "hand-1" / "outputs" / "metrics").read_text())["auc_roc"]
    print(f"test AUC: engine {engine_auc:.4f}  hand-written {hand_auc:.4f}")
    print(f"median engine {statistics.median(engine_times):.1f}s  hand-written {statistics.median(hand_times):.1f}s")
    print(f"\n{'node':<20} {'engine s':>9} {'hand s':>9} {'engine - hand':>14}   (medians over {args.runs} runs)")
    for name in [*dict.fromkeys([*node_seconds["engine"], *node_seconds["hand"]])]:
        engine = statistics.median(node_seconds["engine"].get(name, [0.0]))
        hand = statistics.median(node_seconds["hand"].get(name, [0.0]))
        print(f"{name:<20} {engine:9.2f} {hand:9.2f} {engine - hand:+14.2f}")
    median = statistics.median(ratios)
    verdict = "met" if median <= TARGET else "missed"
    print(f"median ratio engine/hand-written: {median:.3f} (target <= {TARGET}: {verdict})")


def _engine_steps(out: Path) -> dict[str, float]:
    """Node seconds from the engine's report, predict and evaluate as one (the script does them together)."""
    nodes = json.loads((out / "report.json").read_text())["nodes"]
    steps = {node_id: float(entry["seconds"] or 0.0) for node_id, entry in nodes.items()}
    steps["predict+evaluate"] = steps.pop("predict", 0.0) + steps.pop("evaluate", 0.0)
    return steps


def _hand_steps(out: Path) -> dict[str, float]:
    return {name: float(value) for name, value in json.loads((out / "steps.json").read_text()).items()}


if __name__ == "__main__":
    main()
