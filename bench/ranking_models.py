"""Ranking models on synthetic clicks with a known truth: LR, LightGBM and the five deep models, one run.

Data: ``synthetic_ctr`` (1,000,000 rows, 20 categorical fields with power-law cardinalities from
1,000 items down to 50 values, two
numbers, a behaviour sequence, two labels and their true probabilities), split 90/10 with
``random_split``; 5% of the 90 is held out as the deep models' validation table (early
stopping). ``ctr_feature_encoder`` is fitted on the training rows and applied to all three.

Models, each scored on the same test rows:

- ``LR``: Spark's ``logistic_regression`` on ``one_hot_encoder`` of the 20 encoded categorical
  fields plus the two numbers (no behaviour sequence: LR has no pooling);
- ``LightGBM``: ``fast_gbdt_classifier`` (LightGBM on the driver) on the 20 indices, the two
  numbers and the behaviour sequence's length;
- ``wide_deep``, ``deepfm``, ``dcn``, ``din``, ``mmoe``: ``ranking.train`` through the launcher's
  local backend with 2 DDP workers (one thread each), the same shared parameters;
- ``deepfm (label2 only)``: a single-task DeepFM on ``label2``, the baseline of MMoE's second task.

Printed per model: test AUC, log loss, train seconds (the fit; for the deep models the
training epochs without the per-epoch validation), samples per second (training rows processed
per train second, every epoch counted) and AUC / oracle AUC, where the oracle AUC is the AUC of
the true probabilities on the test rows.

Then the issue's targets, each PASS or MISS with its figures:

- DeepFM and DCN >= 0.995 of the oracle AUC, and above LightGBM's AUC;
- DIN beats DeepFM on the sequence-dependent part: for test rows ``i`` the behaviour sequence is
  swapped for row ``i + 1``'s, everything else kept; the true model says whether that raises or
  lowers the click probability (only its attention term changes). Measured: the share of rows
  whose model score moves the same way (pairwise accuracy; pairs whose true change is below
  0.01 in logit are left out) and the correlation of the model's and the true logit changes;
- MMoE's second task beats the single-task model on ``label2`` (test AUC).

    python bench/ranking_models.py                                   # the issue's run
    python bench/ranking_models.py --rows 60000 --epochs 2 --quick   # a quick check
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DEEP_MODELS = ("wide_deep", "deepfm", "dcn", "din", "mmoe")
SEED = 42


def _log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def _generator(args: argparse.Namespace) -> Any:
    from airflow_mlplat.ranking.synthetic import SyntheticCtr

    return SyntheticCtr(
        fields=args.fields, max_cardinality=args.max_cardinality, max_history=args.max_history, seed=SEED
    )


def prepare(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    """Generate, split and encode with the Spark components; train and score LR and LightGBM."""
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    from airflow_mlplat.components import get_component
    from airflow_mlplat.components.spec import PortKind
    from airflow_mlplat.engine.context import ComponentContext
    from airflow_mlplat.engine.runner import call_component
    from airflow_mlplat.engine.session import get_session
    from airflow_mlplat.engine.storage import save_port
    from airflow_mlplat.ranking.metrics import auc, log_loss

    spark = get_session(
        "bench-ranking",
        {
            "spark.master": "local[2]",
            "spark.driver.memory": "6g",
            "spark.driver.maxResultSize": "2g",
            "spark.sql.shuffle.partitions": "8",
        },
    )
    ctx = ComponentContext(spark=spark, node_id="bench", artifacts_dir=str(work / "artifacts"))

    def run(name: str, inputs: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
        ctx.node_id = name
        return call_component(get_component(name), ctx, inputs, params)

    generator = _generator(args)
    out: dict[str, Any] = {"timings": {}}
    started = time.perf_counter()
    raw = run(
        "synthetic_ctr",
        {},
        {
            "rows": args.rows,
            "fields": args.fields,
            "max_cardinality": args.max_cardinality,
            "max_history": args.max_history,
            "seed": SEED,
            "partitions": 8,
        },
    )["data"]
    save_port(spark, PortKind.TABLE, raw, str(work / "raw"))
    raw = spark.read.parquet(str(work / "raw"))
    out["timings"]["generate"] = time.perf_counter() - started
    _log(f"generated {args.rows:,} rows in {out['timings']['generate']:.1f} s")

    split = run("random_split", {"data": raw}, {"ratio": 0.9, "seed": SEED})
    inner = run("random_split", {"data": split["train"]}, {"ratio": 0.95, "seed": SEED + 1})
    started = time.perf_counter()
    categorical = generator.categorical
    encoded = run(
        "ctr_feature_encoder",
        {"data": inner["train"]},
        {
            "categorical_cols": categorical,
            "numeric_cols": ["n1", "n2"],
            "sequence_cols": ["hist_items"],
            "share_vocabulary": {"hist_items": "item"},
            "label_cols": ["label", "label2"],
            "passthrough_cols": ["id", "true_ctr", "true_cvr"],
            "min_count": args.min_count,
            "max_sequence_length": args.max_history,
        },
    )
    encoder = encoded["model"]
    save_port(spark, PortKind.MODEL, encoder, str(work / "encoder"))
    for name, table in (
        ("train", encoded["data"]),
        ("validation", encoder.transform(inner["test"])),
        ("test", encoder.transform(split["test"])),
    ):
        save_port(spark, PortKind.TABLE, table.repartition(8), str(work / name))
    out["timings"]["encode"] = time.perf_counter() - started
    counts = {name: spark.read.parquet(str(work / name)).count() for name in ("train", "validation", "test")}
    out["rows"] = counts
    out["vocab_sizes"] = {spec.name: spec.vocab_size for spec in encoder.featureMap.fields}
    _log(f"encoded in {out['timings']['encode']:.1f} s: {counts}")

    train = spark.read.parquet(str(work / "train"))
    test = spark.read.parquet(str(work / "test"))
    results: dict[str, dict[str, Any]] = {}

    def score(name: str, model: Any, table: Any, features: list[tuple[str, dict[str, Any]]]) -> None:
        for component, params in features:
            table = run(component, {"data": table}, params)["data"]
        scored = run("predict", {"model": model, "data": table}, {"score_col": "score"})["data"]
        frame = scored.select("label", "score").toPandas()
        results[name]["test_auc"] = auc(frame["label"].to_numpy(), frame["score"].to_numpy())
        results[name]["test_logloss"] = log_loss(frame["label"].to_numpy(), frame["score"].to_numpy())

    # LR on one-hot categorical indices plus the numbers.
    if "lr" not in args.skip:
        one_hot = run("one_hot_encoder", {"data": train}, {"input_cols": categorical, "handle_invalid": "keep"})
        assemble = {"input_cols": [f"{c}_vec" for c in categorical] + ["n1", "n2"], "output_col": "features"}
        lr_train = run("vector_assembler", {"data": one_hot["data"]}, assemble)["data"].cache()
        lr_train.count()
        started = time.perf_counter()
        lr = run(
            "logistic_regression",
            {"data": lr_train},
            {"max_iter": args.lr_iterations, "reg_param": 1e-5, "standardization": False},
        )["model"]
        seconds = time.perf_counter() - started
        lr_train.unpersist()
        results["LR"] = {"train_seconds": seconds, "samples_per_second": counts["train"] / seconds}
        test_one_hot = run("predict", {"model": one_hot["model"], "data": test}, {"score_col": ""})["data"]
        score("LR", lr, test_one_hot, [("vector_assembler", assemble)])
        _log(f"LR: {results['LR']}")

    # LightGBM (the fast GBDT path) on the indices, the numbers and the history length.
    if "lightgbm" not in args.skip:
        from pyspark.sql import functions as F

        def with_length(table: Any) -> Any:
            return table.withColumn("hist_length", F.size(F.filter("hist_items", lambda x: x != 0)).cast("double"))

        assemble = {"input_cols": [*categorical, "n1", "n2", "hist_length"], "output_col": "features"}
        gbdt_train = run("vector_assembler", {"data": with_length(train)}, assemble)["data"].cache()
        gbdt_train.count()
        started = time.perf_counter()
        gbdt = run(
            "fast_gbdt_classifier",
            {"data": gbdt_train},
            {"max_iter": args.gbdt_rounds, "max_depth": 8, "step_size": 0.1, "train_on": "driver"},
        )["model"]
        seconds = time.perf_counter() - started
        gbdt_train.unpersist()
        results["LightGBM"] = {"train_seconds": seconds, "samples_per_second": counts["train"] / seconds}
        score("LightGBM", gbdt, with_length(test), [("vector_assembler", assemble)])
        _log(f"LightGBM: {results['LightGBM']}")
    out["spark_models"] = results
    spark.stop()
    return out


def train_deep(args: argparse.Namespace, work: Path, name: str, model: str, params: dict[str, Any]) -> dict[str, Any]:
    """One deep model through the launcher (local backend, 2 DDP workers); its metrics and test predictions."""
    import pyarrow.parquet as pq

    from airflow_mlplat.operators.distributed_training import DistributedTrainingOperator
    from airflow_mlplat.ranking.job import ranking_job

    output = work / "models" / name
    shutil.rmtree(output, ignore_errors=True)
    job = ranking_job(
        name=f"bench-{name}",
        model=model,
        params=params,
        train=str(work / "train"),
        validation=str(work / "validation"),
        test=str(work / "test"),
        feature_map=str(work / "encoder"),
        extra=["id", "true_ctr", "true_cvr"],
        output_path=output.as_uri(),
        launcher={"workers": args.workers, "cpu": "1", "memory": "6Gi", "timeout": 6 * 3600.0},
    )
    task = DistributedTrainingOperator(
        task_id=name, job=job, backend="local", state_root=str(work / "launcher"), deferrable=False, poll_interval=2.0
    )
    started = time.perf_counter()
    task.execute({})
    wall = time.perf_counter() - started
    metrics = json.loads((output / "metrics.json").read_text())
    metrics["job_wall_seconds"] = wall
    predictions = pq.read_table(output / "test_predictions.parquet").to_pandas()
    return {"metrics": metrics, "predictions": predictions, "output": output}


def sequence_swap(args: argparse.Namespace, work: Path, output: Path, limit: int) -> dict[str, float]:
    """How well a model follows the true effect of swapping each test row's behaviour sequence (see the docstring)."""
    import numpy as np
    import onnxruntime

    from airflow_mlplat.ranking.data import EncodedTable
    from airflow_mlplat.ranking.feature_map import FeatureMap

    feature_map = FeatureMap.load(str(output / "feature_map.json"))
    table = EncodedTable(str(work / "test"), feature_map, labels=["label"], extra=["id"])
    rows = next(table.batches(limit, shuffle=False, steps=None))
    session = onnxruntime.InferenceSession(str(output / "model.onnx"), providers=["CPUExecutionProvider"])
    names = [i.name for i in session.get_inputs()]

    def logit(feed: dict[str, Any]) -> Any:
        p = session.run(None, {n: feed[n] for n in names})[0][:, 0].astype(np.float64)
        p = np.clip(p, 1e-7, 1 - 1e-7)
        return np.log(p / (1 - p))

    swapped = dict(rows)
    swapped["hist_items"] = np.roll(rows["hist_items"], -1, axis=0)
    model_change = logit(swapped) - logit(rows)
    generator = _generator(args)
    ids = rows["id"].astype(np.int64)
    draws = generator.indices(ids)
    own = generator.logits(draws)["sequence"]
    moved = dict(draws)
    moved["history"] = np.roll(draws["history"], -1, axis=0)
    moved["lengths"] = np.roll(draws["lengths"], -1, axis=0)
    true_change = generator.logits(moved)["sequence"] - own
    keep = np.abs(true_change) > 0.01
    agree = np.sign(model_change[keep]) == np.sign(true_change[keep])
    return {
        "pairs": int(keep.sum()),
        "pairwise_accuracy": float(agree.mean()),
        "correlation": float(np.corrcoef(model_change, true_change)[0, 1]),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--fields", type=int, default=20)
    parser.add_argument("--max-cardinality", type=int, default=1000)
    parser.add_argument("--max-history", type=int, default=20)
    parser.add_argument("--min-count", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--patience", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=2048)
    parser.add_argument("--learning-rate", type=float, default=0.005)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--lr-iterations", type=int, default=50)
    parser.add_argument("--gbdt-rounds", type=int, default=300)
    parser.add_argument("--skip", nargs="*", default=[], help="models to leave out (lr, lightgbm, wide_deep, ...)")
    parser.add_argument("--workdir", default="/tmp/mlplat-bench-ranking")
    parser.add_argument(
        "--reuse", action="store_true", help="reuse the prepared tables and Spark results of a previous run"
    )
    parser.add_argument("--quick", action="store_true", help="small layers (a quick check of the script)")
    parser.add_argument("--json", default=None, help="also write every figure to this JSON file")
    args = parser.parse_args(argv)

    from airflow_mlplat.ranking.metrics import auc

    work = Path(args.workdir)
    prepared_file = work / "prepared.json"
    if args.reuse and prepared_file.exists():
        prepared = json.loads(prepared_file.read_text())
        _log(f"reusing {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        prepared = prepare(args, work)
        prepared_file.write_text(json.dumps(prepared, indent=1))

    shared = {
        "embedding_dim": 8 if args.quick else 16,
        "hidden_units": [32, 16] if args.quick else [256, 128],
        "dropout": 0.0,
        "learning_rate": args.learning_rate,
        "lr_decay": "exponential",
        "lr_decay_factor": 0.8,
        "batch_size": args.batch_size,
        "epochs": args.epochs,
        "early_stopping_patience": args.patience,
        "embedding_l2": 1e-6,
        "seed": SEED,
    }
    own = {
        "wide_deep": {},
        "deepfm": {},
        "dcn": {"cross_layers": 3},
        "din": {"attention_units": [64, 16]},
        "mmoe": {"num_experts": 4, "tasks": ["label", "label2"], "tower_units": [64]},
    }
    runs = [(m, m, {**shared, **own[m]}) for m in DEEP_MODELS if m not in args.skip]
    if "mmoe" not in args.skip:
        runs.append(("deepfm_label2", "deepfm", {**shared, "label": "label2"}))
    deep: dict[str, Any] = {}
    for name, model, params in runs:
        _log(f"training {name} with {args.workers} workers")
        deep[name] = train_deep(args, work, name, model, params)
        m = deep[name]["metrics"]
        _log(
            f"{name}: epochs {m['epochs_run']} (best {m['best_epoch']}), train {m['train_seconds']:.1f} s, "
            f"test AUC {m.get('test_auc_label', m.get('test_auc_label2'))}"
        )

    # The oracle AUC: the true probabilities of the test rows against their labels.
    import pyarrow.parquet as pq

    test = pq.read_table(str(work / "test"), columns=["label", "label2", "true_ctr", "true_cvr"]).to_pandas()
    oracle = {
        "label": auc(test["label"].to_numpy(), test["true_ctr"].to_numpy()),
        "label2": auc(test["label2"].to_numpy(), test["true_cvr"].to_numpy()),
    }

    table: list[dict[str, Any]] = []
    for name, result in prepared.get("spark_models", {}).items():
        table.append({"model": name, "task": "label", **result})
    for name, result in deep.items():
        m = result["metrics"]
        for task in m["tasks"]:
            table.append(
                {
                    "model": name if len(m["tasks"]) == 1 else f"{name} ({task})",
                    "task": task,
                    "test_auc": m[f"test_auc_{task}"],
                    "test_logloss": m[f"test_logloss_{task}"],
                    "train_seconds": m["train_seconds"],
                    "samples_per_second": m["samples_per_second"],
                    "epochs": f"{m['epochs_run']} (best {m['best_epoch']})",
                }
            )
    for row in table:
        row["oracle_ratio"] = row["test_auc"] / oracle[row["task"]]

    print()
    print(
        f"== {args.rows:,} rows, {args.fields} fields; train {prepared['rows']['train']:,} / validation "
        f"{prepared['rows']['validation']:,} / test {prepared['rows']['test']:,}; {args.workers} DDP workers"
    )
    print(
        "   oracle AUC (true probabilities on the test rows): "
        f"label {oracle['label']:.4f}, label2 {oracle['label2']:.4f}"
    )
    print()
    print("| model | task | test AUC | log loss | train s | samples/s | AUC / oracle | epochs |")
    print("|---|---|---|---|---|---|---|---|")
    for row in table:
        print(
            f"| {row['model']} | {row['task']} | {row['test_auc']:.4f} | {row['test_logloss']:.4f} | "
            f"{row['train_seconds']:.1f} | {row['samples_per_second']:,.0f} | {row['oracle_ratio']:.4f} | "
            f"{row.get('epochs', '')} |"
        )

    checks: list[tuple[str, bool, str]] = []
    by = {row["model"]: row for row in table}
    lightgbm = by.get("LightGBM", {}).get("test_auc")
    for name in ("deepfm", "dcn"):
        if name in by:
            ratio = by[name]["oracle_ratio"]
            checks.append((f"{name} >= 0.995 of the oracle AUC", ratio >= 0.995, f"{ratio:.4f}"))
            if lightgbm is not None:
                checks.append(
                    (
                        f"{name} AUC above LightGBM's",
                        by[name]["test_auc"] > lightgbm,
                        f"{by[name]['test_auc']:.4f} vs {lightgbm:.4f}",
                    )
                )
    swaps = {}
    for name in ("deepfm", "din"):
        if name in deep:
            swaps[name] = sequence_swap(args, work, deep[name]["output"], min(50_000, prepared["rows"]["test"]))
    if len(swaps) == 2:
        print()
        for name, figures in swaps.items():
            print(
                f"   sequence swap, {name}: pairwise accuracy {figures['pairwise_accuracy']:.4f} "
                f"over {figures['pairs']:,} rows, "
                f"correlation with the true change {figures['correlation']:.4f}"
            )
        checks.append(
            (
                "DIN beats DeepFM on the sequence-dependent part (sequence-swap pairwise accuracy)",
                swaps["din"]["pairwise_accuracy"] > swaps["deepfm"]["pairwise_accuracy"],
                f"{swaps['din']['pairwise_accuracy']:.4f} vs {swaps['deepfm']['pairwise_accuracy']:.4f}",
            )
        )
    if "mmoe" in deep and "deepfm_label2" in deep:
        multi = deep["mmoe"]["metrics"]["test_auc_label2"]
        single = deep["deepfm_label2"]["metrics"]["test_auc_label2"]
        checks.append(
            ("MMoE's label2 beats the single-task DeepFM on label2", multi > single, f"{multi:.4f} vs {single:.4f}")
        )
    print()
    for text, passed, figures in checks:
        print(f"   {'PASS' if passed else 'MISS'}  {text}: {figures}")
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {
                    "args": vars(args),
                    "prepared": prepared,
                    "oracle": oracle,
                    "table": table,
                    "sequence_swap": swaps,
                    "checks": [{"target": t, "passed": p, "figures": f} for t, p, f in checks],
                    "deep_metrics": {k: v["metrics"] for k, v in deep.items()},
                },
                indent=1,
                default=float,
            )
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
