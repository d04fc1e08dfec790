"""DeepFM trained with TF 2 ``ParameterServerStrategy`` and a ``ClusterCoordinator`` (on CPU too).

Every replica of a ``tensorflow-ps`` TrainingJob runs this command::

    python -m airflow_mlplat.launcher.examples.tf_ps --epochs 8

The cluster comes from the reference platform's variables, not ``TF_CONFIG``: ``PS_HOSTS``,
``WORKER_HOSTS``, ``CHIEF_HOSTS`` (comma-separated ``host:port``), ``JOB_NAME`` (ps|worker|chief)
and ``TASK_INDEX``. Roles:

- ``ps`` and ``worker``: start a ``tf.distribute.Server`` (grpc) for their task and serve until
  stopped; they never exit by themselves (the launcher stops them once the chief succeeded).
- ``chief`` (the coordinator; ``MLPLAT_EXPORT=1``): waits for every ps and worker address, builds
  the strategy, creates the model and optimizer variables under its scope (round robin over the ps
  tasks), and schedules steps on the workers over per-worker datasets (each worker iterates over all
  rows, shuffled differently; an epoch is ``ceil(rows / batch)`` steps, whichever worker runs them;
  the data is read by the chief and shipped in the dataset function). After each epoch it writes a
  checkpoint under ``MLPLAT_CHECKPOINT_DIR`` (resuming from the newest on start) and, when
  ``MLPLAT_TENSORBOARD_DIR`` is set, the step losses (``loss``) and the epoch's mean
  (``epoch_loss``) under ``MLPLAT_TENSORBOARD_DIR/chief-0``. At the end it exports a SavedModel to
  ``MLPLAT_MODEL_DIR`` (see ``tf_ranking.export_saved_model``) and writes to
  ``MLPLAT_METRICS_FILE``: ``loss_history`` (per epoch), ``steps``, ``steps_by_worker`` (this run's
  steps, by the worker that ran them), ``variable_devices`` (name and device of every variable),
  ``digest``, and ``predictions`` (the exported model's probabilities on the first
  ``prediction_rows`` rows of the data, for checking the SavedModel), then exits 0.

Data: ``--data``, default ``MLPLAT_INPUT_DIR/criteo_sample.txt`` (``ctr_data``).
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from collections.abc import Mapping

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# Failed RPCs to a task surface at once instead of being retried forever (the TF PS tutorial's setting).
os.environ.setdefault("GRPC_FAIL_FAST", "use_caller")

import tensorflow as tf  # noqa: E402

from airflow_mlplat.launcher.examples import ctr_data  # noqa: E402
from airflow_mlplat.launcher.examples import tf_ranking as tfr  # noqa: E402

REQUIRED = ("PS_HOSTS", "WORKER_HOSTS", "CHIEF_HOSTS", "JOB_NAME", "TASK_INDEX")


def _hosts(value: str) -> list[str]:
    return [h.strip() for h in value.split(",") if h.strip()]


def cluster_from_env(env: Mapping[str, str]) -> tuple[tf.train.ClusterSpec, str, int]:
    """``(cluster, job_name, task_index)`` from the variables in ``REQUIRED``; exits naming any that is missing."""
    missing = [name for name in REQUIRED if not env.get(name)]
    if missing:
        raise SystemExit(f"tf_ps: missing environment variable(s) {missing} (set by a tensorflow-ps TrainingJob)")
    job_name, task_index = env["JOB_NAME"], int(env["TASK_INDEX"])
    cluster = {
        "ps": _hosts(env["PS_HOSTS"]),
        "worker": _hosts(env["WORKER_HOSTS"]),
        "chief": _hosts(env["CHIEF_HOSTS"]),
    }
    if job_name not in cluster or not 0 <= task_index < len(cluster[job_name]):
        raise SystemExit(f"tf_ps: JOB_NAME={job_name} TASK_INDEX={task_index} is not a task of {cluster}")
    return tf.train.ClusterSpec(cluster), job_name, task_index


def serve(cluster: tf.train.ClusterSpec, job_name: str, task_index: int) -> None:
    server = tf.distribute.Server(
        cluster, job_name=job_name, task_index=task_index, protocol="grpc", config=tfr.server_config(), start=True
    )
    print(
        f"{job_name}-{task_index}: serving {cluster.task_address(job_name, task_index)} ({server.target})", flush=True
    )
    server.join()


def train(args: argparse.Namespace, cluster: tf.train.ClusterSpec, contract: ctr_data.Contract) -> dict:
    started = time.monotonic()
    tasks = cluster.job_tasks("ps") + cluster.job_tasks("worker")
    tfr.wait_for_addresses(tasks, timeout=args.connect_timeout)
    resolver = tf.distribute.cluster_resolver.SimpleClusterResolver(
        cluster, task_type="chief", task_id=0, rpc_layer="grpc"
    )
    strategy = tf.distribute.experimental.ParameterServerStrategy(resolver)
    coordinator = tf.distribute.coordinator.ClusterCoordinator(strategy)
    training = tfr.Training(strategy, args, contract, "chief")
    model, optimizer = training.model, training.optimizer
    dense, sparse, labels = training.dense, training.sparse, training.labels

    # One replica per CPU worker: a worker's batch is the global batch.
    train_step = tfr.make_train_step(strategy, model, optimizer, args.batch_size)

    @tf.function
    def scheduled_step(iterator: tf.distribute.DistributedIterator) -> tuple[tf.Tensor, tf.Tensor]:
        """A step and the index of the worker that ran it (the coordinator picks any free worker)."""
        return train_step(iterator), tf.distribute.coordinator.experimental_get_current_worker_index()

    per_worker = coordinator.create_per_worker_dataset(
        lambda: tfr.make_dataset(dense, sparse, labels, args.batch_size, seed=None)
    )
    iterator = iter(per_worker)
    steps_per_epoch = math.ceil(len(labels) / args.batch_size)
    steps_by_worker = [0] * len(cluster.job_tasks("worker"))
    for epoch in range(training.state.epoch, args.epochs):
        first_step = training.steps
        results = [coordinator.schedule(scheduled_step, args=(iterator,)) for _ in range(steps_per_epoch)]
        coordinator.join()
        fetched = [r.fetch() for r in results]
        for _, worker in fetched:
            steps_by_worker[int(worker)] += 1
        training.end_epoch(epoch, first_step, [float(loss) for loss, _ in fetched])

    variables = [*model.params, *optimizer.accumulators, optimizer.iterations]
    values = model.values()
    metrics = training.metrics(
        args.epochs,
        tfr.digest(values),
        batch_size=args.batch_size,
        num_ps=len(cluster.job_tasks("ps")),
        num_workers=len(cluster.job_tasks("worker")),
        steps_by_worker=steps_by_worker,
        variable_devices=[{"name": v.name, "device": v.device} for v in variables],
    )
    training.export(metrics, values)
    metrics["seconds"] = round(time.monotonic() - started, 2)
    return metrics


def main(argv: list[str] | None = None) -> int:
    parser = ctr_data.training_parser("Train DeepFM with TF ParameterServerStrategy.", epochs=8, batch_size=25, lr=0.1)
    parser.add_argument("--connect-timeout", type=float, default=120.0, help="seconds to wait for ps and workers")
    args = parser.parse_args(argv)

    cluster, job_name, task_index = cluster_from_env(os.environ)
    tfr.limit_threads()
    if job_name != "chief":
        serve(cluster, job_name, task_index)
        return 0
    contract = ctr_data.Contract.from_env()
    metrics = train(args, cluster, contract)
    tfr.report_metrics(contract, metrics, "chief")
    return 0


if __name__ == "__main__":
    sys.exit(main())
