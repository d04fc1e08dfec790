"""Do the loop's models track drift? Per-window test AUC on the drifting event generator.

Windows of behaviour events (``airflow_mlplat/realtime/events.py``) are written as the Flink job's
partitions; the label's concept drifts from browsing depth (drift 0) to dealer contact (drift 1) over
``--ramp`` windows, then stays. Every model is tested on window ``t`` before it sees it (the same rows for
every model) and then trained on what it may use:

- ``frozen``: ``spark_lr`` trained on windows 0 and 1, never again;
- ``spark_lr``: ``dags/pipelines/realtime_retrain_training.json`` from scratch on the ``--train-windows``
  windows before ``t``, as ``realtime_retrain`` trains it;
- ``ftrl``: ``dags/pipelines/realtime_retrain_ftrl.json`` on window ``t - 1``, continuing from its previous
  model (ungated: every window is learnt, once);
- ``deepfm``: the loop's ranking model (``realtime.training.MODELS["deepfm"]``) on window ``t - 1``, ungated
  like ``ftrl``: the window is encoded by ``realtime.deep_training`` (bucket boundaries fitted on window 0
  by the first version, then carried in the feature map), and the ``ranking.job`` job runs on the launcher's
  training backend (``realtime.training.run_ranking_job``, local processes by default) warm-started from the
  previous window's exported ``model.torchscript.pt``. The exported folder gets the ``mlplat_model.json``
  registration writes, and window ``t`` is scored by the prediction service's scorer
  (``serving.model.load_model_dir``: ONNX Runtime behind the feature map, on the raw rows), as
  ``realtime.evaluate`` scores a version; there is no MLflow registry in the bench.

The Spark pipelines run through the engine in one local SparkSession, so their seconds per window are the
engine's, without spark-submit's start-up; ``deepfm``'s are the task's (encoding, the launcher job with its
process start-up, the descriptor). Printed: the AUC table, the mean AUC over the last six windows per model as
a ratio to ``spark_lr``'s (the baseline, measured in the same run), the median training seconds, and a PNG
of AUC per window per model.

- ``streaming_ftrl``: the streaming job's learner (``online.progressive.StreamingLearner``, what the Flink job
  runs per event) replayed in this process over every window's events in event-time order: each event is
  scored before it is learnt, so window ``t``'s AUC is that of its progressive scores (the model has learnt
  the events of ``t`` before each one, as a streaming model does). The Flink job itself is not run here;
  ``tests/realtime/test_streaming_ftrl.py`` shows it ends with exactly an uninterrupted replay's state.

    python bench/online_learning.py [--windows 14] [--events 3000] [--ramp 6] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
PIPELINES = ROOT / "dags" / "pipelines"
W = 10
START = datetime(2026, 11, 27, 0, 0)
MODELS = ("frozen", "spark_lr", "ftrl", "deepfm", "streaming_ftrl")


def window(t: int) -> datetime:
    return START + timedelta(minutes=W * t)


def drift_at(t: int, ramp: int) -> float:
    """0 for windows 0-2, then up by 1/ramp a window to 1."""
    return min(1.0, max(0.0, (t - 2) / ramp))


def streaming_aucs(windows: int, events: int, ramp: int) -> dict[int, float]:
    """Per window, the AUC of the streaming FTRL's progressive scores: every event of every window, in event-time
    order (ties by id), scored by the job's own learner before it learns it (the DAG's hyper-parameters)."""
    import numpy as np

    from airflow_mlplat.online.metrics import auc_roc
    from airflow_mlplat.online.progressive import StreamingLearner
    from airflow_mlplat.realtime.events import FEATURES, window_events

    learner = StreamingLearner(len(FEATURES), alpha=0.1, beta=1.0, l1=0.0, l2=0.0)
    aucs = {}
    for t in range(windows):
        batch = window_events(window(t), W, events, seed=17, drift=drift_at(t, ramp))
        batch.sort(key=lambda e: (e["event_time"], e["event_id"]))
        scores, labels = [], []
        for e in batch:
            raw = [np.nan if e[f] is None else float(e[f]) for f in FEATURES]
            scores.append(learner.learn_one(raw, float(e["label"]), e["event_time"].timestamp() * 1000))
            labels.append(float(e["label"]))
        if t >= 2:
            aucs[t] = auc_roc(np.asarray(labels), np.asarray(scores))
    return aucs


def write_windows(base: Path, windows: int, events: int, ramp: int) -> None:
    from airflow_mlplat.realtime.events import window_events, write_window_partition

    for t in range(windows):
        write_window_partition(base, window(t), window_events(window(t), W, events, seed=17, drift=drift_at(t, ramp)))


def train(spark, kind: str, base: Path, windows: list[int], out_dir: Path, previous: Path | None) -> Path:
    """Run the ``kind`` training pipeline on ``windows``; returns the saved model's folder."""
    from airflow_mlplat.engine.runner import run_pipeline
    from airflow_mlplat.pipeline import validate_pipeline
    from airflow_mlplat.realtime.tasks import partition_filter
    from airflow_mlplat.realtime.training import MODELS, continue_from

    document = json.loads((PIPELINES / MODELS[kind].document).read_text())
    document.pop("register")
    if previous is not None:
        continue_from(document, MODELS[kind].warm_start, previous.as_uri())
    params = {"partitions_base": str(base), "partition_filter": partition_filter([window(t) for t in windows])}
    run_pipeline(validate_pipeline(document, params=params), str(out_dir), spark=spark, params=params)
    return out_dir / "outputs" / "model"


def train_deepfm(base: Path, windows: list[int], out_dir: Path, previous: Path | None) -> Path:
    """Train ``deepfm`` on ``windows`` as the loop's ``train`` task does, from ``previous`` (an exported model
    folder) when given; returns the exported folder, with the ``mlplat_model.json`` registration writes."""
    import hashlib

    from airflow_mlplat.ranking.job import ranking_job
    from airflow_mlplat.ranking.registration import ranking_descriptor
    from airflow_mlplat.realtime import deep_training
    from airflow_mlplat.realtime.training import MODELS as TRAINING_MODELS
    from airflow_mlplat.realtime.training import run_ranking_job
    from airflow_mlplat.realtime.windows import partition_path
    from airflow_mlplat.serving.deep import DESCRIPTOR

    spec = TRAINING_MODELS["deepfm"].ranking
    rows = deep_training.read_windows([partition_path(str(base), window(t)) for t in windows])
    encoded = deep_training.encode_windows(rows, out_dir / "data", previous, f"deepfm: the previous model {previous}")
    job = ranking_job(
        name=f"rt-deepfm-{hashlib.sha1(str(out_dir).encode()).hexdigest()[:10]}",
        model=spec["model"],
        params=dict(spec["params"]),
        output_path=(out_dir / "model").as_uri(),
        launcher=spec.get("launcher"),
        **encoded.job_inputs(),
    )
    result = run_ranking_job(job, log=print)
    folder = Path(result["output_path"].removeprefix("file://"))
    config = json.loads((folder / "training_config.json").read_text())
    (folder / DESCRIPTOR).write_text(json.dumps(ranking_descriptor(folder, config), indent=1))
    return folder


def deepfm_auc(model_dir: Path, base: Path, t: int) -> float:
    """Window ``t``'s AUC of the exported model, scored as ``realtime.evaluate`` scores a deep version."""
    import numpy as np

    from airflow_mlplat.realtime.evaluate import LABEL, auc_roc, deep_probability, read_partition
    from airflow_mlplat.realtime.windows import partition_path
    from airflow_mlplat.serving.model import load_model_dir

    data = read_partition(partition_path(str(base), window(t)))
    model = load_model_dir(model_dir, name="deepfm", version=model_dir.parent.name, slot="evaluate")
    scores = deep_probability(model, data, f"deepfm {model_dir}")
    return auc_roc(np.asarray(data.column(LABEL).to_numpy(zero_copy_only=False)), scores)


def test_auc(spark, model_dir: Path, base: Path, t: int) -> float:
    import numpy as np
    from pyspark.ml import PipelineModel
    from pyspark.ml.functions import vector_to_array
    from pyspark.sql import functions as F

    from airflow_mlplat.realtime.evaluate import auc_roc
    from airflow_mlplat.realtime.windows import partition_path

    data = spark.read.parquet(partition_path(str(base), window(t)))
    scored = PipelineModel.load(str(model_dir)).transform(data)
    rows = scored.select(vector_to_array("probability")[1].alias("p"), F.col("label")).toPandas()
    return auc_roc(np.asarray(rows["label"]), np.asarray(rows["p"]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--windows", type=int, default=14, help="windows in all (at least 12 are tested)")
    parser.add_argument("--events", type=int, default=3000, help="events per window")
    parser.add_argument("--ramp", type=int, default=6, help="windows the drift takes from 0 to 1")
    parser.add_argument("--train-windows", type=int, default=2, help="spark_lr's training windows")
    parser.add_argument("--out", type=Path, default=None, help="folder for the PNG and the JSON (default: a temp one)")
    args = parser.parse_args(argv)
    if args.windows < 14:
        parser.error("--windows must be at least 14: two to start from, twelve tested")

    from airflow_mlplat.engine.session import get_session

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)  # the workers need this venv's packages
    home = Path(tempfile.mkdtemp(prefix="mlplat-online-bench-"))
    out = args.out or home
    out.mkdir(parents=True, exist_ok=True)
    base = home / "partitions"
    write_windows(base, args.windows, args.events, args.ramp)
    spark = get_session("online-learning-bench", {"spark.master": "local[2]", "spark.sql.shuffle.partitions": "4"})
    auc: dict[str, dict[int, float]] = {m: {} for m in MODELS}
    auc["streaming_ftrl"] = streaming_aucs(args.windows, args.events, args.ramp)
    seconds: dict[str, list[float]] = {"spark_lr": [], "ftrl": [], "deepfm": []}
    frozen = train(spark, "spark_lr", base, [0, 1], home / "frozen", None)
    ftrl = train(spark, "ftrl", base, [0], home / "ftrl-0", None)
    ftrl = train(spark, "ftrl", base, [1], home / "ftrl-1", ftrl)
    deepfm = train_deepfm(base, [0], home / "deepfm-0", None)
    deepfm = train_deepfm(base, [1], home / "deepfm-1", deepfm)
    for t in range(2, args.windows):
        began = time.perf_counter()
        lr = train(spark, "spark_lr", base, list(range(max(0, t - args.train_windows), t)), home / f"lr-{t}", None)
        if t > 2:
            seconds["spark_lr"].append(time.perf_counter() - began)
        for model, folder in (("frozen", frozen), ("spark_lr", lr), ("ftrl", ftrl)):
            auc[model][t] = test_auc(spark, folder, base, t)
        began = time.perf_counter()
        ftrl = train(spark, "ftrl", base, [t], home / f"ftrl-{t}", ftrl)  # learns window t once tested on it
        seconds["ftrl"].append(time.perf_counter() - began)
        auc["deepfm"][t] = deepfm_auc(deepfm, base, t)
        began = time.perf_counter()
        deepfm = train_deepfm(base, [t], home / f"deepfm-{t}", deepfm)  # the same, from its exported model
        seconds["deepfm"].append(time.perf_counter() - began)
        print(
            f"window {t:2d} drift {drift_at(t, args.ramp):.2f}  " + "  ".join(f"{m} {auc[m][t]:.3f}" for m in MODELS),
            flush=True,
        )
    spark.stop()
    report(auc, seconds, args, out)
    return 0


def report(auc: dict[str, dict[int, float]], seconds: dict[str, list[float]], args, out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tested = sorted(auc["spark_lr"])
    last = tested[-6:]
    mean = {m: statistics.fmean(auc[m][t] for t in last) for m in MODELS}
    print(f"\nper-window test AUC, {len(tested)} windows of {args.events} events, drift over {args.ramp} windows")
    print(f"{'model':<10}{'mean AUC, last 6':>18}{'/ spark_lr':>12}{'train s (median)':>18}")
    for m in MODELS:
        trained = f"{statistics.median(seconds[m]):.2f}" if m in seconds else "-"
        print(f"{m:<10}{mean[m]:>18.4f}{mean[m] / mean['spark_lr']:>12.3f}{trained:>18}")
    figure, axes = plt.subplots(figsize=(8, 4.5))
    for m in MODELS:
        axes.plot(tested, [auc[m][t] for t in tested], marker="o", label=m)
    axes.set_xlabel("window (tested before the model learns it)")
    axes.set_ylabel("test AUC")
    axes.set_title(f"Drift over windows 3-{2 + args.ramp}: AUC per window per model")
    axes.legend()
    axes.grid(alpha=0.3)
    figure.tight_layout()
    figure.savefig(out / "online_learning_auc.png", dpi=110)
    (out / "online_learning.json").write_text(
        json.dumps({"auc": auc, "train_seconds": seconds, "mean_last_6": mean}, indent=2)
    )
    print(f"plot: {out / 'online_learning_auc.png'}")


if __name__ == "__main__":
    sys.exit(main())
