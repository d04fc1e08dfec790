"""DeepFM for TensorFlow, shared by the ``tensorflow-ps`` and ``tensorflow-multiworker`` examples.

Written with ``tf.Module``/``tf.Variable`` and a hand-written Adagrad, not Keras: Keras 3 does not
support ``ParameterServerStrategy``, and one low-level model serves both strategies.

What the two entry points (``tf_ps.py``, ``tf_multiworker.py``) share:

- ``Training``: what both do around their steps: the model and optimizer variables under the
  strategy's scope, checkpoints (resumed on start), the bookkeeping of an epoch (loss history,
  TensorBoard, checkpoint), the final metrics and the SavedModel export; ``report_metrics`` ends a
  run. The launcher's ``MLPLAT_*`` variables come from ``ctr_data.Contract``.
- ``DeepFM`` (Guo et al., 2017) on Criteo-format data read by ``ctr_data.load_criteo``: first-order
  terms (a weight per categorical value plus a linear layer on the dense features), the FM
  second-order interaction of the field embeddings and an MLP, summed into one logit. Initial values
  come from a seeded numpy RNG, so every process builds the same model.
- ``make_train_step``: one step over a distributed iterator; per-replica gradients are summed
  across all replicas (``strategy.reduce``) and applied in cross-replica context, which works for
  both strategies (plain ps variables; mirrored variables updated with the same value everywhere).
- ``Checkpoints``: each checkpoint a directory ``MLPLAT_CHECKPOINT_DIR/step-NNNNNN`` (TF checkpoint
  ``ckpt`` plus ``state.json`` with the epoch and the loss history), written under a name starting
  with ``.`` and renamed with ``os.replace``; a run resumes from the newest.
- ``export_saved_model``: copies the trained values into a plain ``ExportModule`` outside any
  strategy (local variables: the SavedModel holds no ps variable and loads without a cluster; under
  MultiWorkerMirroredStrategy its functions' ``config_proto`` attribute still records the worker's
  collective settings, which a plain ``tf.saved_model.load`` ignores) and saves it to ``MLPLAT_MODEL_DIR``
  with a ``serve`` signature: ``dense`` float32 ``[None, 13]`` and ``sparse`` int64 ``[None, 26]``
  (``ctr_data`` ids) -> ``{"probabilities": float32 [None]}``; ``assets.extra/mlplat_model.json``
  holds the model config (``buckets`` is needed to encode inputs). The platform, not the script,
  copies ``MLPLAT_MODEL_DIR`` to the job's output URL.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import socket
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from airflow_mlplat.launcher.examples import ctr_data  # noqa: E402

N_DENSE = len(ctr_data.DENSE)
N_FIELDS = len(ctr_data.SPARSE)
CHECKPOINT_PREFIX = "step-"
MODEL_CONFIG_FILE = "mlplat_model.json"
#: Rows of the data the exported model scores, for checking the SavedModel against the trained one.
PREDICTION_ROWS = 8
_CHECKPOINT_NAME = re.compile(r"^step-(\d+)$")


@dataclass(frozen=True)
class ModelConfig:
    buckets: int = 100
    dim: int = 4
    hidden: tuple[int, ...] = (32, 16)
    seed: int = 7
    n_dense: int = N_DENSE
    n_fields: int = N_FIELDS

    @property
    def vocab(self) -> int:
        return self.n_fields * self.buckets

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["hidden"] = list(self.hidden)
        return out


def limit_threads(threads: int = 1) -> None:
    """One op thread: several TF processes share a small machine. Call before any TF op runs."""
    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(threads)


def server_config() -> tf.compat.v1.ConfigProto:
    """Thread limits of a ``tf.distribute.Server`` (it does not use the eager context's setting).

    One intra-op thread, but two inter-op threads: with one, a worker running a step function that
    reads ps variables deadlocks (seen with TF 2.21: the coordinator's first ``join`` never returns).
    """
    return tf.compat.v1.ConfigProto(intra_op_parallelism_threads=1, inter_op_parallelism_threads=2)


def wait_for_addresses(addresses: Iterable[str], timeout: float = 120.0) -> None:
    """Wait until every ``host:port`` accepts TCP connections: replicas start in any order."""
    deadline = time.monotonic() + timeout
    for address in addresses:
        host, port = address.rsplit(":", 1)
        while True:
            try:
                with socket.create_connection((host, int(port)), timeout=2.0):
                    break
            except OSError as err:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{address} did not accept connections within {timeout:.0f}s: {err}") from err
                time.sleep(0.2)


def initial_values(config: ModelConfig) -> list[np.ndarray]:
    """The initial parameters, in ``DeepFM.params`` order, from a seeded RNG (same in every process)."""
    rng = np.random.default_rng(config.seed)
    values = [
        np.zeros((config.vocab, 1), np.float32),  # first_order
        (rng.normal(0.0, 0.01, (config.n_dense, 1))).astype(np.float32),  # dense_w
        np.zeros((1,), np.float32),  # bias
        (rng.normal(0.0, 0.01, (config.vocab, config.dim))).astype(np.float32),  # embedding
    ]
    width = config.n_fields * config.dim + config.n_dense
    for size in config.hidden:
        limit = np.sqrt(6.0 / (width + size))  # Glorot uniform
        values.append(rng.uniform(-limit, limit, (width, size)).astype(np.float32))
        values.append(np.zeros((size,), np.float32))
        width = size
    # A near-zero output layer: the first logits are ~0 (loss ~ln 2) although dense inputs reach ~13.
    values.append(rng.normal(0.0, 0.01, (width, 1)).astype(np.float32))
    values.append(np.zeros((1,), np.float32))
    return values


def param_names(config: ModelConfig) -> list[str]:
    names = ["first_order", "dense_w", "bias", "embedding"]
    for layer in range(len(config.hidden) + 1):
        names += [f"mlp{layer}_w", f"mlp{layer}_b"]
    return names


class DeepFM(tf.Module):
    """Logits ``[n]`` from ``dense`` float32 ``[n, 13]`` and ``sparse`` int64 ``[n, 26]`` ids.

    Variables are created where the caller is: under ``ParameterServerStrategy.scope()`` they land
    on the ps tasks (round robin), under ``MultiWorkerMirroredStrategy.scope()`` they are mirrored.
    """

    def __init__(self, config: ModelConfig, values: Sequence[np.ndarray] | None = None) -> None:
        super().__init__(name="deepfm")
        self.config = config
        values = initial_values(config) if values is None else values
        self.params = [tf.Variable(v, name=n) for n, v in zip(param_names(config), values, strict=True)]

    def __call__(self, dense: tf.Tensor, sparse: tf.Tensor) -> tf.Tensor:
        first_order, dense_w, bias, embedding = self.params[:4]
        first = (
            tf.reduce_sum(tf.gather(first_order, sparse), axis=[1, 2])
            + tf.squeeze(tf.matmul(dense, dense_w), axis=1)
            + bias
        )
        emb = tf.gather(embedding, sparse)  # [n, fields, dim]
        fm = 0.5 * tf.reduce_sum(tf.square(tf.reduce_sum(emb, axis=1)) - tf.reduce_sum(tf.square(emb), axis=1), axis=1)
        x = tf.concat([tf.reshape(emb, [-1, self.config.n_fields * self.config.dim]), dense], axis=1)
        layers = self.params[4:]
        for i in range(0, len(layers), 2):
            x = tf.matmul(x, layers[i]) + layers[i + 1]
            if i + 2 < len(layers):
                x = tf.nn.relu(x)
        return first + fm + tf.squeeze(x, axis=1)

    def values(self) -> list[np.ndarray]:
        return [v.numpy() for v in self.params]


class Adagrad(tf.Module):
    """Adagrad (Duchi et al., 2011), the classic parameter-server optimizer; accumulators are created
    where the caller is, like the model's variables.

    Each step's update is ``lr * g / sqrt(acc)`` with ``acc`` read after adding this step's ``g**2``,
    so no coordinate moves more than ``lr`` per step even when asynchronous ps workers race (Adam's
    separate moment variables diverged there: a worker could pair a new ``m`` with an old ``v``).
    """

    def __init__(self, params: Sequence[tf.Variable], lr: float = 0.05, initial_accumulator: float = 0.1):
        super().__init__(name="adagrad")
        self.lr = lr
        self.iterations = tf.Variable(0, dtype=tf.int64, trainable=False, name="iterations")
        self.accumulators = [
            tf.Variable(tf.fill(p.shape, initial_accumulator), trainable=False, name=f"accumulator_{i}")
            for i, p in enumerate(params)
        ]

    def apply(self, grads: Sequence[tf.Tensor], params: Sequence[tf.Variable]) -> None:
        self.iterations.assign_add(1)
        for g, p, acc in zip(grads, params, self.accumulators, strict=True):
            total = acc.assign_add(tf.square(g))
            p.assign_sub(self.lr * g * tf.math.rsqrt(total))


def make_dataset(
    dense: np.ndarray, sparse: np.ndarray, labels: np.ndarray, batch_size: int, seed: int | None
) -> tf.data.Dataset:
    """Shuffled every pass, repeated forever, fixed-size batches: callers count steps themselves."""
    data = tf.data.Dataset.from_tensor_slices((dense, sparse, labels))
    return data.shuffle(len(labels), seed=seed, reshuffle_each_iteration=True).repeat().batch(batch_size, True)


def make_train_step(
    strategy: tf.distribute.Strategy, model: DeepFM, optimizer: Adagrad, global_batch: int
) -> Callable[[Any], tf.Tensor]:
    """A ``tf.function`` running one step on ``next(iterator)``; returns the global batch's mean loss."""

    def replica_step(dense: tf.Tensor, sparse: tf.Tensor, labels: tf.Tensor) -> tuple[list[tf.Tensor], tf.Tensor]:
        with tf.GradientTape() as tape:
            logits = model(dense, sparse)
            per_example = tf.nn.sigmoid_cross_entropy_with_logits(labels=labels, logits=logits)
            loss = tf.reduce_sum(per_example) / global_batch
        # Embedding gradients arrive as IndexedSlices; the tables are small, dense is simpler to reduce.
        grads = [tf.convert_to_tensor(g) for g in tape.gradient(loss, model.params)]
        return grads, loss

    @tf.function
    def train_step(iterator: Any) -> tf.Tensor:
        grads, loss = strategy.run(replica_step, args=next(iterator))
        summed = [strategy.reduce(tf.distribute.ReduceOp.SUM, g, axis=None) for g in grads]
        optimizer.apply(summed, model.params)
        return strategy.reduce(tf.distribute.ReduceOp.SUM, loss, axis=None)

    return train_step


class ExportModule(tf.Module):
    """What is saved: a plain copy of the model and a ``serve`` signature returning probabilities."""

    def __init__(self, config: ModelConfig, values: Sequence[np.ndarray]) -> None:
        super().__init__(name="deepfm_export")
        self.model = DeepFM(config, values)

    @tf.function(
        input_signature=[
            tf.TensorSpec([None, N_DENSE], tf.float32, name="dense"),
            tf.TensorSpec([None, N_FIELDS], tf.int64, name="sparse"),
        ]
    )
    def serve(self, dense: tf.Tensor, sparse: tf.Tensor) -> dict[str, tf.Tensor]:
        return {"probabilities": tf.sigmoid(self.model(dense, sparse))}


def export_saved_model(
    model_dir: str, config: ModelConfig, values: Sequence[np.ndarray], sample: tuple[np.ndarray, np.ndarray]
) -> list[float]:
    """Save ``values`` as a SavedModel in ``model_dir``; returns its probabilities on ``sample``.

    Call outside any ``strategy.scope()``: the copy's variables are local, so loading the SavedModel
    needs no cluster.
    """
    module = ExportModule(config, values)
    Path(model_dir).mkdir(parents=True, exist_ok=True)
    tf.saved_model.save(module, model_dir, signatures={"serving_default": module.serve})
    extra = Path(model_dir) / "assets.extra"
    extra.mkdir(exist_ok=True)
    (extra / MODEL_CONFIG_FILE).write_text(json.dumps(config.to_dict(), indent=1))
    probabilities = module.serve(tf.constant(sample[0]), tf.constant(sample[1]))["probabilities"]
    return [float(p) for p in probabilities.numpy()]


def digest(values: Sequence[np.ndarray]) -> str:
    """SHA-256 of the parameter values, in order: equal on replicas that hold the same weights."""
    h = hashlib.sha256()
    for value in values:
        h.update(np.ascontiguousarray(value).tobytes())
    return h.hexdigest()


@dataclass
class TrainingState:
    """What a checkpoint stores besides the variables."""

    epoch: int = 0
    loss_history: list[float] = field(default_factory=list)
    resumed_from: str | None = None


class Checkpoints:
    """Checkpoint directories ``step-NNNNNN`` directly under ``root`` (``MLPLAT_CHECKPOINT_DIR``)."""

    def __init__(self, root: str | None, checkpoint: tf.train.Checkpoint, replica: str, keep: int = 3) -> None:
        self.root = Path(root) if root else None
        self.checkpoint = checkpoint
        self.keep = keep
        # A fixed temporary name per replica and process: the saver's tf.function is retraced for
        # every new path, and pods of one job may all be PID 1 on the shared volume.
        self.scratch = f".writing.{replica}.{os.getpid()}"

    def latest(self) -> Path | None:
        if self.root is None or not self.root.is_dir():
            return None
        found = sorted(
            (int(m.group(1)), p) for p in self.root.iterdir() if (m := _CHECKPOINT_NAME.match(p.name)) and p.is_dir()
        )
        return found[-1][1] if found else None

    def restore(self) -> TrainingState:
        """Load the newest checkpoint into the variables; a fresh state when there is none."""
        latest = self.latest()
        if latest is None:
            return TrainingState()
        self.checkpoint.read(str(latest / "ckpt")).assert_existing_objects_matched()
        state = json.loads((latest / "state.json").read_text())
        return TrainingState(epoch=state["epoch"], loss_history=state["loss_history"], resumed_from=latest.name)

    def save(self, step: int, state: TrainingState, publish: bool = True) -> None:
        """Write a checkpoint of ``step``; ``publish=False`` writes to a private local directory and deletes
        it (MultiWorkerMirroredStrategy: every worker takes part in a save, one publishes it)."""
        if self.root is None:
            return
        self.root.mkdir(parents=True, exist_ok=True)
        final = self.root / f"{CHECKPOINT_PREFIX}{step:06d}"
        tmp = (self.root if publish else Path(tempfile.gettempdir())) / self.scratch
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
        try:
            # With variables on several ps tasks TF traces a new save function on every write and warns
            # about "retracing" each time; that is TF's own cost, not something a caller can avoid.
            logger = tf.get_logger()
            level = logger.level
            logger.setLevel("ERROR")
            try:
                self.checkpoint.write(str(tmp / "ckpt"))
            finally:
                logger.setLevel(level)
            (tmp / "state.json").write_text(
                json.dumps({"epoch": state.epoch, "loss_history": state.loss_history, "step": step})
            )
            if not publish:
                return
            if final.exists():  # the same step again after a restart: the new one replaces it
                shutil.rmtree(final)
            os.replace(tmp, final)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        self._prune()

    def _prune(self) -> None:
        assert self.root is not None
        found = sorted((int(m.group(1)), p) for p in self.root.iterdir() if (m := _CHECKPOINT_NAME.match(p.name)))
        for _, old in found[: -self.keep]:
            shutil.rmtree(old, ignore_errors=True)


def summary_writer(contract: ctr_data.Contract) -> tf.summary.SummaryWriter | None:
    """A writer under ``MLPLAT_TENSORBOARD_DIR/ROLE-INDEX``, or None when TensorBoard is off."""
    if not contract.tensorboard_dir:
        return None
    return tf.summary.create_file_writer(os.path.join(contract.tensorboard_dir, contract.replica))


def log_losses(writer: tf.summary.SummaryWriter | None, first_step: int, losses: Sequence[float], epoch: int) -> None:
    """Scalar ``loss`` per step and ``epoch_loss`` (the mean) per epoch."""
    if writer is None:
        return
    with writer.as_default():
        for i, loss in enumerate(losses):
            tf.summary.scalar("loss", loss, step=first_step + i)
        tf.summary.scalar("epoch_loss", float(np.mean(losses)), step=epoch)
    writer.flush()


def load_data(path: str | None, buckets: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return ctr_data.load_criteo(path or ctr_data.default_data_path(), buckets)


class Training:
    """One replica's training state around its strategy's steps, shared by both strategies.

    Built under the caller's strategy: the model config from the command line (``--buckets``,
    ``--dim``, ``--seed``, ``--lr``, ``--data``), the data, the model and optimizer variables
    (created in ``strategy.scope()``), the checkpoints, restored from the newest, and the
    TensorBoard writer. ``who`` starts every line it prints.
    """

    def __init__(
        self, strategy: tf.distribute.Strategy, args: argparse.Namespace, contract: ctr_data.Contract, who: str
    ) -> None:
        self.contract, self.who = contract, who
        self.config = ModelConfig(buckets=args.buckets, dim=args.dim, seed=args.seed)
        self.dense, self.sparse, self.labels = load_data(args.data, self.config.buckets)
        with strategy.scope():
            self.model = DeepFM(self.config)
            self.optimizer = Adagrad(self.model.params, lr=args.lr)
        self.checkpoints = Checkpoints(
            contract.checkpoint_dir, tf.train.Checkpoint(model=self.model, optimizer=self.optimizer), contract.replica
        )
        self.state = self.checkpoints.restore()
        if self.state.resumed_from:
            print(f"{who}: resumed from {self.state.resumed_from} (epoch {self.state.epoch})", flush=True)
        self.writer = summary_writer(contract)

    @property
    def steps(self) -> int:
        """The optimizer's step count, the restored steps included."""
        return int(self.optimizer.iterations.numpy())

    def end_epoch(self, epoch: int, first_step: int, losses: Sequence[float], publish: bool = True) -> None:
        """Record the epoch's mean loss, log the step ``losses`` (the first is ``first_step``) and write a
        checkpoint (``publish=False``: see ``Checkpoints.save``)."""
        self.state.epoch = epoch + 1
        self.state.loss_history.append(float(np.mean(losses)))
        log_losses(self.writer, first_step, losses, epoch)
        step = self.steps
        self.checkpoints.save(step, self.state, publish=publish)
        print(f"{self.who}: epoch {epoch} loss {self.state.loss_history[-1]:.5f} step {step}", flush=True)

    def metrics(self, epochs: int, digest: str, **details: Any) -> dict[str, Any]:
        """The final metrics: losses, steps, epochs and rows, then the strategy's ``details``, then the
        parameters' ``digest``, the checkpoint resumed from and the model config."""
        history = self.state.loss_history
        return {
            "loss_history": history,
            "loss_first_epoch": history[0] if history else None,
            "loss_last_epoch": history[-1] if history else None,
            "steps": self.steps,
            "epochs": epochs,
            "rows": len(self.labels),
            **details,
            "digest": digest,
            "resumed_from": self.state.resumed_from,
            "model_config": self.config.to_dict(),
        }

    def export(self, metrics: dict[str, Any], values: Sequence[np.ndarray]) -> None:
        """Save ``values`` as a SavedModel to ``MLPLAT_MODEL_DIR`` (nothing when it is not set) and add the
        saved model's ``predictions`` on the first ``prediction_rows`` rows of the data to ``metrics``."""
        model_dir = self.contract.model_dir
        if not model_dir:
            return
        shown = min(PREDICTION_ROWS, len(self.labels))
        metrics["predictions"] = export_saved_model(
            model_dir, self.config, values, (self.dense[:shown], self.sparse[:shown])
        )
        metrics["prediction_rows"] = shown
        print(f"{self.who}: saved the model to {model_dir}", flush=True)


def report_metrics(contract: ctr_data.Contract, metrics: dict[str, Any], who: str) -> None:
    """The exporting replica writes ``metrics`` to ``MLPLAT_METRICS_FILE``; every replica logs its loss change."""
    if contract.export:
        ctr_data.write_metrics(contract, metrics)
    print(f"{who}: done, loss {metrics['loss_first_epoch']} -> {metrics['loss_last_epoch']}", flush=True)
