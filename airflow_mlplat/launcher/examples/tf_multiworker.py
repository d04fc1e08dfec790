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

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import tensorflow as tf  # noqa: E402

from airflow_mlplat.launcher.examples import ctr_data  # noqa: E402
from airflow_mlplat.launcher.examples import tf_ranking as tfr  # noqa: E402

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


def train(args: argparse.Namespace, contract: ctr_data.Contract) -> dict:
    started = time.monotonic()
    workers, index = read_tf_config()
    strategy = tf.distribute.MultiWorkerMirroredStrategy(
        communication_options=tf.distribute.experimental.CommunicationOptions(
            implementation=tf.distribute.experimental.CommunicationImplementation.RING
        )
    )
    training = tfr.Training(strategy, args, contract, contract.replica)
    dense, sparse, labels = training.dense, training.sparse, training.labels

    count = strategy.num_replicas_in_sync
    # Every worker keeps the same number of rows (the shortest shard's), so all run the same steps.
    rows = min(len(ctr_data.shard(len(labels), i, count)) for i in range(count))
    mine = ctr_data.shard(len(labels), index, count)[:rows]
    steps_per_epoch = max(1, rows // args.batch_size)

    def dataset_fn(context: tf.distribute.InputContext) -> tf.data.Dataset:
        batch = context.get_per_replica_batch_size(args.batch_size * count)
        return tfr.make_dataset(dense[mine], sparse[mine], labels[mine], batch, seed=args.seed + index)

    iterator = iter(strategy.distribute_datasets_from_function(dataset_fn))
    train_step = tfr.make_train_step(strategy, training.model, training.optimizer, args.batch_size * count)
    for epoch in range(training.state.epoch, args.epochs):
        first_step = training.steps
        losses = [float(train_step(iterator)) for _ in range(steps_per_epoch)]
        training.end_epoch(epoch, first_step, losses, publish=index == 0)

    values = training.model.values()
    digest = tfr.digest(values)
    record = {"digest": digest, "loss_history": training.state.loss_history, "cluster_env": cluster_env()}
    ctr_data.write_rank_record(contract, contract.replica, record)
    metrics = training.metrics(
        args.epochs,
        digest,
        rows_per_worker=rows,
        global_batch_size=args.batch_size * count,
        num_workers=len(workers),
        replicas_in_sync=count,
    )
    if contract.export:
        training.export(metrics, values)
    metrics["seconds"] = round(time.monotonic() - started, 2)
    return metrics


def main(argv: list[str] | None = None) -> int:
    parser = ctr_data.training_parser(
        "Train DeepFM with TF MultiWorkerMirroredStrategy.", epochs=8, batch_size=25, lr=0.1, batch_help="per worker"
    )
    args = parser.parse_args(argv)

    read_tf_config()  # a clear error before TF starts a server
    tfr.limit_threads()
    contract = ctr_data.Contract.from_env()
    metrics = train(args, contract)
    tfr.report_metrics(contract, metrics, contract.replica)
    return 0


if __name__ == "__main__":
    sys.exit(main())
