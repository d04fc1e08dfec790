"""DeepFM trained with ``tf.distribute.MultiWorkerMirroredStrategy`` (synchronous, CPU collectives).

Every worker of a ``tensorflow-multiworker`` TrainingJob runs this command::

    python -m airflow_mlplat.launcher.examples.tf_multiworker --epochs 8

The cluster comes from ``TF_CONFIG`` only (``{"cluster": {"worker": [...]}, "task": {"type":
"worker", "index": i}}``), which the strategy reads itself. Every worker reads the whole data
(``--data``, default ``MLPLAT_INPUT_DIR/criteo_sample.txt``) and keeps its own shard (rows
``i, i + n, ...``); an epoch is the same number of steps on every worker, each step all-reducing
the gradients (ring collectives), so all workers hold the same weights after every step.

After each epoch every worker takes part in a checkpoint: worker 0 publishes it under
``MLPLAT_CHECKPOINT_DIR``, the others write to a private directory and delete it (the
MultiWorkerMirroredStrategy rule: all workers save). On start every worker resumes from the newest
checkpoint there. With ``MLPLAT_TENSORBOARD_DIR`` set each worker writes its step losses
(``loss``) and the epoch mean (``epoch_loss``) under ``MLPLAT_TENSORBOARD_DIR/worker-I``.

At the end each worker writes ``MLPLAT_DATA_DIR/ranks/worker-I.json``: ``digest`` (SHA-256 of its
variable values; equal on every worker), ``loss_history`` and ``cluster_env`` (the value of each
TensorFlow cluster variable it was given, None when unset). The exporting worker
(``MLPLAT_EXPORT=1``, worker 0) saves a SavedModel to ``MLPLAT_MODEL_DIR``
(``tf_ranking.export_saved_model``: a plain copy outside the strategy, so no collective is involved
and the other workers need not save) and writes ``loss_history``, ``steps``, ``digest`` and
``predictions`` to ``MLPLAT_METRICS_FILE``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from airflow_mlplat.launcher.examples import ctr_data  # noqa: E402
from airflow_mlplat.launcher.examples import tf_ranking as tfr  # noqa: E402

PREDICTION_ROWS = 8
#: Every cluster variable a TensorFlow replica may get from the launcher (``tensorflow-ps`` uses the rest).
CLUSTER_VARIABLES = ("TF_CONFIG", "PS_HOSTS", "WORKER_HOSTS", "CHIEF_HOSTS", "JOB_NAME", "TASK_INDEX")


def read_tf_config() -> tuple[list[str], int]:
    """``(worker addresses, this worker's index)`` from ``TF_CONFIG``."""
    raw = os.environ.get("TF_CONFIG")
    if not raw:
        raise SystemExit("tf_multiworker: TF_CONFIG is not set (set by a tensorflow-multiworker TrainingJob)")
    config = json.loads(raw)
    workers = config.get("cluster", {}).get("worker") or []
    task = config.get("task", {})
    if task.get("type") != "worker" or not 0 <= int(task.get("index", -1)) < len(workers):
        raise SystemExit(f"tf_multiworker: TF_CONFIG task {task} is not a worker of {workers}")
    return workers, int(task["index"])


def cluster_env() -> dict[str, str | None]:
    """The cluster variables this worker was given (TF_CONFIG only, for this framework), for the record."""
    return {name: os.environ.get(name) for name in CLUSTER_VARIABLES}


def train(args: argparse.Namespace, contract: tfr.Contract) -> dict:
    started = time.monotonic()
    workers, index = read_tf_config()
    strategy = tf.distribute.MultiWorkerMirroredStrategy(
        communication_options=tf.distribute.experimental.CommunicationOptions(
            implementation=tf.distribute.experimental.CommunicationImplementation.RING
        )
    )
    config = tfr.ModelConfig(buckets=args.buckets, dim=args.dim, seed=args.seed)
    dense, sparse, labels = tfr.load_data(args.data, config.buckets)
    with strategy.scope():
        model = tfr.DeepFM(config)
        optimizer = tfr.Adagrad(model.params, lr=args.lr)
    checkpoints = tfr.Checkpoints(
        contract.checkpoint_dir, tf.train.Checkpoint(model=model, optimizer=optimizer), contract.replica
    )
    state = checkpoints.restore()
    if state.resumed_from:
        print(f"{contract.replica}: resumed from {state.resumed_from} (epoch {state.epoch})", flush=True)

    count = strategy.num_replicas_in_sync
    # Every worker keeps the same number of rows (the shortest shard's), so all run the same steps.
    rows = min(len(ctr_data.shard(len(labels), i, count)) for i in range(count))
    mine = ctr_data.shard(len(labels), index, count)[:rows]
    steps_per_epoch = max(1, rows // args.batch_size)

    def dataset_fn(context: tf.distribute.InputContext) -> tf.data.Dataset:
        batch = context.get_per_replica_batch_size(args.batch_size * count)
        return tfr.make_dataset(dense[mine], sparse[mine], labels[mine], batch, seed=args.seed + index)

    iterator = iter(strategy.distribute_datasets_from_function(dataset_fn))
    train_step = tfr.make_train_step(strategy, model, optimizer, args.batch_size * count)
    writer = tfr.summary_writer(contract)
    for epoch in range(state.epoch, args.epochs):
        first_step = int(optimizer.iterations.numpy())
        losses = [float(train_step(iterator)) for _ in range(steps_per_epoch)]
        state.epoch = epoch + 1
        state.loss_history.append(float(np.mean(losses)))
        tfr.log_losses(writer, first_step, losses, epoch)
        step = int(optimizer.iterations.numpy())
        checkpoints.save(step, state, publish=index == 0)
        print(f"{contract.replica}: epoch {epoch} loss {state.loss_history[-1]:.5f} step {step}", flush=True)

    values = model.values()
    digest = tfr.digest(values)
    rank_file = Path(contract.data_dir) / "ranks" / f"{contract.replica}.json"
    ctr_data.write_json_atomically(
        rank_file,
        json.dumps(
            {"digest": digest, "loss_history": state.loss_history, "cluster_env": cluster_env()},
        ),
    )
    metrics = {
        "loss_history": state.loss_history,
        "loss_first_epoch": state.loss_history[0] if state.loss_history else None,
        "loss_last_epoch": state.loss_history[-1] if state.loss_history else None,
        "steps": int(optimizer.iterations.numpy()),
        "epochs": args.epochs,
        "rows": len(labels),
        "rows_per_worker": rows,
        "global_batch_size": args.batch_size * count,
        "num_workers": len(workers),
        "replicas_in_sync": count,
        "digest": digest,
        "resumed_from": state.resumed_from,
        "model_config": config.to_dict(),
    }
    if contract.export and contract.model_dir:
        shown = min(PREDICTION_ROWS, len(labels))
        metrics["predictions"] = tfr.export_saved_model(
            contract.model_dir, config, values, (dense[:shown], sparse[:shown])
        )
        metrics["prediction_rows"] = shown
        print(f"{contract.replica}: saved the model to {contract.model_dir}", flush=True)
    metrics["seconds"] = round(time.monotonic() - started, 2)
    return metrics


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Train DeepFM with TF MultiWorkerMirroredStrategy.")
    parser.add_argument("--data", default=None, help="Criteo CSV (default: MLPLAT_INPUT_DIR/criteo_sample.txt)")
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--batch-size", type=int, default=25, help="per worker")
    parser.add_argument("--lr", type=float, default=0.1)
    parser.add_argument("--buckets", type=int, default=100)
    parser.add_argument("--dim", type=int, default=4)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)

    read_tf_config()  # a clear error before TF starts a server
    tfr.limit_threads()
    contract = tfr.Contract.from_env()
    metrics = train(args, contract)
    if contract.export:
        tfr.write_metrics(contract, metrics)
    print(f"{contract.replica}: done, loss {metrics['loss_first_epoch']} -> {metrics['loss_last_epoch']}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
