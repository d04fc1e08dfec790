"""DeepFM trained data-parallel with Paddle's collective mode (``paddle.DataParallel``, gloo on CPU).

Run it as every worker's command of a ``paddle-collective`` TrainingJob::

    python -m airflow_mlplat.launcher.examples.paddle_collective --epochs 6

Environment contract (set by the launcher; nothing else is read):

- ``PADDLE_TRAINER_ID``, ``PADDLE_TRAINERS_NUM``, ``PADDLE_TRAINER_ENDPOINTS``,
  ``PADDLE_CURRENT_ENDPOINT``: what ``paddle.distributed.init_parallel_env`` reads. The process
  group's TCP store listens on the first trainer endpoint (Paddle's own fallback when neither
  ``MASTER_ADDR``/``MASTER_PORT`` nor ``PADDLE_MASTER`` is set). On a CPU-only build Paddle also
  needs ``PADDLE_DISTRI_BACKEND=gloo``: with its default ``auto`` ``init_parallel_env`` takes a
  legacy path that creates no process group, and ``paddle.DataParallel`` then fails ("Call
  paddle.distributed.init_parallel_env first"). The script sets it itself unless already set.
- ``MLPLAT_INPUT_DIR``: the staged data (``criteo_sample.txt``); ``MLPLAT_DATA_DIR``: the job's
  shared volume; ``MLPLAT_CHECKPOINT_DIR`` (optional): shared checkpoints; ``MLPLAT_EXPORT`` ("1"
  on worker-0), ``MLPLAT_MODEL_DIR``, ``MLPLAT_METRICS_FILE``.

What it does: each rank trains on its strided shard of the rows (same number of batches on every
rank, so the all-reduces line up); after every epoch it logs the all-reduced mean training loss,
and worker-0 writes a checkpoint ``MLPLAT_CHECKPOINT_DIR/step-NNNNNN`` (model, optimizer, loss
history); a restarted job resumes from the newest one. At the end every rank writes
``MLPLAT_DATA_DIR/ranks/worker-I.json`` (a SHA-256 of its parameters and its loss history), and
worker-0 saves the model into ``MLPLAT_MODEL_DIR`` (``paddle.jit.save`` inference program
``deepfm.*``, plus ``model.pdparams`` and ``config.json``; the platform copies that directory to
the job's output) and writes its final metrics to ``MLPLAT_METRICS_FILE``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
from pathlib import Path
from typing import Any

# Before Paddle loads: one compute thread per process (every replica of a local job shares the same cores).
for _name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "CPU_NUM"):
    os.environ.setdefault(_name, "1")

import numpy as np  # noqa: E402
import paddle  # noqa: E402
import paddle.distributed as dist  # noqa: E402

from airflow_mlplat.launcher.examples import ctr_data, paddle_ranking  # noqa: E402
from airflow_mlplat.launcher.examples.paddle_ranking import (  # noqa: E402
    DeepFM,
    batches,
    bce_loss,
    checkpoint_root,
    env_int,
    latest_checkpoint,
    read_json,
    write_checkpoint,
)


def parameter_digest(model: paddle.nn.Layer) -> str:
    digest = hashlib.sha256()
    for name, tensor in sorted(model.state_dict().items()):
        digest.update(name.encode())
        digest.update(tensor.numpy().tobytes())
    return digest.hexdigest()


def save_model(model_dir: Path, model: DeepFM, config: dict[str, Any]) -> None:
    model_dir.mkdir(parents=True, exist_ok=True)
    model.eval()
    spec = [
        paddle.static.InputSpec([None, len(ctr_data.DENSE)], "float32", "dense"),
        paddle.static.InputSpec([None, len(ctr_data.SPARSE)], "int64", "sparse"),
    ]
    paddle.jit.save(model, str(model_dir / "deepfm"), input_spec=spec)
    paddle.save(model.state_dict(), str(model_dir / "model.pdparams"))
    (model_dir / "config.json").write_text(json.dumps(config))


def train(args: argparse.Namespace) -> dict[str, Any]:
    rank, world = env_int("PADDLE_TRAINER_ID"), env_int("PADDLE_TRAINERS_NUM")
    if not paddle.is_compiled_with_cuda():
        os.environ.setdefault("PADDLE_DISTRI_BACKEND", "gloo")
    paddle.set_device("cpu")
    paddle.seed(args.seed)
    dist.init_parallel_env()
    if dist.get_world_size() != world or dist.get_rank() != rank:
        raise RuntimeError(f"init_parallel_env gave rank {dist.get_rank()}/{dist.get_world_size()}, env {rank}/{world}")

    dense, sparse, labels = ctr_data.load_criteo(args.data, args.buckets)
    rows = ctr_data.shard(len(labels), rank, world)
    config = {"buckets": args.buckets, "dim": args.dim}
    model = DeepFM(**config)
    optimizer = paddle.optimizer.Adam(learning_rate=args.lr, parameters=model.parameters())

    history: list[float] = []
    start_epoch, step = 0, 0
    resumed = latest_checkpoint(checkpoint_root())
    if resumed is not None:
        state = read_json(resumed / "state.json")
        model.set_state_dict(paddle.load(str(resumed / "model.pdparams")))
        optimizer.set_state_dict(paddle.load(str(resumed / "optimizer.pdopt")))
        start_epoch, step, history = state["epoch"], state["step"], list(state["loss_history"])
        print(f"worker {rank} resumed from {resumed} at epoch {start_epoch}", flush=True)

    # DataParallel broadcasts rank 0's parameters, so every rank starts from the same model.
    parallel = paddle.DataParallel(model)
    # Every rank runs the same number of batches, or the gradient all-reduces would not pair up.
    per_rank = min(len(ctr_data.shard(len(labels), r, world)) for r in range(world))
    rows = rows[:per_rank]
    for epoch in range(start_epoch, args.epochs):
        parallel.train()
        total = np.zeros(2, dtype=np.float64)
        for batch in batches(rows, args.batch_size, args.seed + rank, epoch):
            loss = bce_loss(
                parallel(paddle.to_tensor(dense[batch]), paddle.to_tensor(sparse[batch])),
                paddle.to_tensor(labels[batch]),
            )
            loss.backward()
            optimizer.step()
            optimizer.clear_grad()
            total += (float(loss) * len(batch), len(batch))
            step += 1
        summed = paddle.to_tensor(total.astype("float32"))
        dist.all_reduce(summed)
        history.append(float(summed[0]) / float(summed[1]))
        print(f"worker {rank} epoch {epoch} loss {history[-1]:.5f}", flush=True)
        root = checkpoint_root()
        if rank == 0 and root is not None:
            state = {"epoch": epoch + 1, "step": step, "loss_history": history}

            def fill(tmp: Path, state: dict[str, Any] = state) -> None:
                paddle.save(model.state_dict(), str(tmp / "model.pdparams"))
                paddle.save(optimizer.state_dict(), str(tmp / "optimizer.pdopt"))
                (tmp / "state.json").write_text(json.dumps(state))

            write_checkpoint(root, step, fill)

    digest = parameter_digest(model)
    contract = ctr_data.Contract.from_env()
    ctr_data.write_rank_record(
        contract, f"worker-{rank}", {"rank": rank, "digest": digest, "loss_history": history, "steps": step}
    )
    metrics: dict[str, Any] = {
        "loss_history": history,
        "loss_first_epoch": history[0] if history else None,
        "loss_last_epoch": history[-1] if history else None,
        "epochs": args.epochs,
        "rows": int(len(labels)),
        "world_size": world,
        "backend": os.environ.get("PADDLE_DISTRI_BACKEND", "auto"),
        "digest": digest,
        "resumed_from": resumed.name if resumed is not None else None,
        "paddle_version": paddle.__version__,
    }
    paddle_ranking.export_results(contract, metrics, lambda model_dir: save_model(model_dir, model, config))
    # No rank leaves (and tears down gloo) before worker-0 has saved the model.
    dist.barrier()
    return metrics


def main(argv: list[str] | None = None) -> int:
    parser = ctr_data.training_parser(
        "Train DeepFM with paddle.DataParallel (gloo on CPU).", epochs=6, batch_size=25, lr=0.01
    )
    args = parser.parse_args(argv)
    if args.data is None:
        args.data = ctr_data.default_data_path()
    train(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
