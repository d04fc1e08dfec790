"""DeepFM trained with Paddle fleet in parameter-server mode (static graph, asynchronous updates).

Run it as the command of every replica (ps and worker) of a ``paddle-ps`` TrainingJob::

    python -m airflow_mlplat.launcher.examples.paddle_ps --epochs 6

Environment contract (set by the launcher; nothing else is read):

- What ``fleet.PaddleCloudRoleMaker(is_collective=False)`` reads: ``TRAINING_ROLE``
  (TRAINER|PSERVER), ``PADDLE_PSERVERS_IP_PORT_LIST``, ``PADDLE_TRAINER_ENDPOINTS``,
  ``PADDLE_TRAINERS_NUM``, ``PADDLE_TRAINER_ID`` (trainers), ``POD_IP`` and ``PADDLE_PORT``
  (every replica: the role maker requires them of trainers too).
- ``MLPLAT_INPUT_DIR`` (staged ``criteo_sample.txt``), ``MLPLAT_DATA_DIR`` (shared volume),
  ``MLPLAT_CHECKPOINT_DIR`` (optional, shared), ``MLPLAT_EXPORT`` ("1" on worker-0),
  ``MLPLAT_MODEL_DIR``, ``MLPLAT_METRICS_FILE``.

Paddle requirements: a build with a working parameter server, which means paddlepaddle 3.0.0
(with ``protobuf<7``: its ``DistributedStrategy`` reads ``FieldDescriptor.label``). Paddle 3.1.0
lacks the ``send`` operator, 3.1.1 and later lack ``core.DistFleetWrapper`` as well
(PaddlePaddle/Paddle#73999 removed the parameter server from Paddle's builds); on those the script
fails at once saying so. Fleet's PS passes do not handle PIR programs, so the script sets
``FLAGS_enable_pir_api=0`` before Paddle loads: the exported inference model is in the legacy
format (``.pdmodel``), which a reader loads with ``FLAGS_enable_pir_api=0`` too.

What each role does:

- pserver: ``fleet.init_server()`` (+ ``fleet.run_server()``, which serves until the process is
  stopped: the launcher stops ps replicas once every worker succeeded). Before serving it records
  ``MLPLAT_DATA_DIR/ranks/ps-I.json`` (its role and endpoint as fleet sees them).
- trainers: wait until every pserver accepts connections, ``fleet.init_worker()`` (worker-0
  pushes the initial parameters, from the newest checkpoint if there is one), then train on their
  strided shard with ``exe.train_from_dataset`` (every parameter lives on the servers: the device
  worker pushes each batch's gradients and pulls the parameters asynchronously; a plain
  ``exe.run`` loop would never pull them in this Paddle), and write
  ``MLPLAT_DATA_DIR/ranks/worker-I.json`` (role, steps). After each epoch worker-0 pulls the
  servers' parameters (``fleet.save_dense_params``, which only the first worker may call), logs
  their loss on the whole sample (the ``loss_history`` of its metrics) and writes a checkpoint
  (``MLPLAT_CHECKPOINT_DIR/step-NNNNNN``: those parameters, the epoch and the loss history). At the
  end it pulls them once more and exports an inference model (``paddle.static.save_inference_model``:
  ``MLPLAT_MODEL_DIR/deepfm.pdmodel`` + ``.pdiparams``, inputs ``dense`` [n, 13] float32 and
  ``sparse`` [n, 26] int64, output the click probability [n]) and its metrics
  (``MLPLAT_METRICS_FILE``). Then ``fleet.stop_worker()``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

# Both before Paddle loads: one compute thread per process (every replica of a local job shares the
# same cores); fleet's PS program passes need the legacy IR.
for _name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "CPU_NUM"):
    os.environ.setdefault(_name, "1")
os.environ.setdefault("FLAGS_enable_pir_api", "0")

import numpy as np  # noqa: E402
import paddle  # noqa: E402
import paddle.distributed.fleet as fleet  # noqa: E402

from airflow_mlplat.launcher.examples import ctr_data, paddle_ranking  # noqa: E402
from airflow_mlplat.launcher.examples.paddle_ranking import (  # noqa: E402
    DeepFM,
    bce_loss,
    checkpoint_root,
    env_int,
    latest_checkpoint,
    read_json,
    write_checkpoint,
)

PARAMS_FILE = "dense_params"


class ParameterServerUnavailable(RuntimeError):
    """This Paddle build has no parameter server."""


def require_parameter_server() -> None:
    """Fail at once, saying why, on a Paddle whose parameter server is gone (rather than deep in ``minimize``)."""
    from paddle.base import core, framework

    missing = []
    if not hasattr(core, "DistFleetWrapper"):
        missing.append("paddle.base.core.DistFleetWrapper (the brpc PS client and server)")
    if "send" not in framework.OpProtoHolder.instance().op_proto_map:
        missing.append("the 'send' operator (a trainer program's push to the servers)")
    if missing:
        raise ParameterServerUnavailable(
            f"paddle {paddle.__version__} cannot run fleet's parameter-server mode: it lacks {' and '.join(missing)}. "
            "Paddle's own builds dropped the parameter server after 3.0.0 (PaddlePaddle/Paddle#73999, 'delete params "
            "server', in 3.1.1; 3.1.0 already lacks the 'send' operator): run paddle-ps on paddlepaddle==3.0.0"
        )


def wait_for_servers(endpoints: list[str], timeout: float) -> None:
    """Block until every ``host:port`` accepts a TCP connection (fleet's own wait comes after its first push)."""
    deadline = time.monotonic() + timeout
    for endpoint in endpoints:
        host, port = endpoint.rsplit(":", 1)
        while True:
            try:
                with socket.create_connection((host, int(port)), timeout=2):
                    break
            except OSError as exc:
                if time.monotonic() > deadline:
                    raise TimeoutError(
                        f"parameter server {endpoint} not reachable after {timeout:.0f}s: {exc}"
                    ) from exc
                time.sleep(0.2)


def build(args: argparse.Namespace) -> dict[str, Any]:
    """The static programs: forward (cloned for inference), loss (cloned for evaluation), then fleet's minimize."""
    dense = paddle.static.data("dense", [None, len(ctr_data.DENSE)], "float32")
    sparse = paddle.static.data("sparse", [None, len(ctr_data.SPARSE)], "int64")
    label = paddle.static.data("label", [None], "float32")
    model = DeepFM(buckets=args.buckets, dim=args.dim)
    logits = model(dense, sparse)
    prob = paddle.nn.functional.sigmoid(logits)
    infer_program = paddle.static.default_main_program().clone(for_test=True)
    loss = bce_loss(logits, label)
    eval_program = paddle.static.default_main_program().clone(for_test=True)
    strategy = fleet.DistributedStrategy()
    # Asynchronous: each trainer pushes its gradients and pulls parameters on its own. Fleet's synchronous
    # mode (a_sync=False) crashes a CPU trainer in train_from_dataset (SIGSEGV, Paddle 3.0.0).
    strategy.a_sync = True
    optimizer = fleet.distributed_optimizer(paddle.optimizer.Adam(learning_rate=args.lr), strategy)
    optimizer.minimize(loss)
    return {
        "vars": [dense, sparse, label],
        "prob": prob,
        "loss": loss,
        "infer_program": infer_program,
        "eval_program": eval_program,
    }


def role_record() -> dict[str, Any]:
    """What fleet made of the environment: the evidence that this is parameter-server mode."""
    return {
        "is_server": fleet.is_server(),
        "is_worker": fleet.is_worker(),
        "server_endpoints": fleet.server_endpoints(),
        "server_num": fleet.server_num(),
        "worker_num": fleet.worker_num(),
        "worker_index": fleet.worker_index() if fleet.is_worker() else None,
        "server_index": fleet.server_index() if fleet.is_server() else None,
        # fleet names no public accessor for it; TheOnePSRuntime is the parameter-server runtime
        "runtime": type(fleet.fleet._runtime_handle).__name__,
        "a_sync": True,
        "paddle_version": paddle.__version__,
    }


def serve(record: dict[str, Any], contract: ctr_data.Contract) -> None:
    fleet.init_server()
    record["endpoint"] = f"{os.environ['POD_IP']}:{os.environ['PADDLE_PORT']}"
    ctr_data.write_rank_record(contract, f"ps-{record['server_index']}", record)
    print(f"pserver {record['server_index']} serving on {record['endpoint']}", flush=True)
    fleet.run_server()


def write_slots(path: Path, rows: np.ndarray, dense: np.ndarray, sparse: np.ndarray, labels: np.ndarray) -> None:
    """``rows`` in MultiSlot text (per slot: count, then values), the order of ``build``'s feed vars."""
    with open(path, "w") as out:
        for r in rows:
            out.write(
                f"{dense.shape[1]} {' '.join(f'{v:.7g}' for v in dense[r])} "
                f"{sparse.shape[1]} {' '.join(str(int(v)) for v in sparse[r])} 1 {labels[r]:.1f}\n"
            )


class ServerModel:
    """The servers' current parameters in a scope of its own, for evaluation, checkpoints and export.

    Only the first worker can pull them through fleet's public API (``fleet.save_dense_params``), and a
    scope of its own keeps clear of the one ``train_from_dataset`` runs in.
    """

    def __init__(self, program: Any, graph: dict[str, Any]) -> None:
        self.program, self.graph = program, graph
        self.scope = paddle.static.Scope()
        self.exe = paddle.static.Executor(paddle.CPUPlace())
        with paddle.static.scope_guard(self.scope):
            self.exe.run(paddle.static.default_startup_program())

    def pull(self, target: Path) -> list[str]:
        """The servers' dense parameters into this scope (and the file ``target``); their names."""
        with paddle.static.scope_guard(self.scope):
            fleet.save_dense_params(self.exe, str(target), self.scope, self.program)
        return sorted(p.name for p in self.program.global_block().all_parameters())

    def loss(self, feed: dict[str, np.ndarray]) -> float:
        with paddle.static.scope_guard(self.scope):
            (value,) = self.exe.run(self.graph["eval_program"], feed=feed, fetch_list=[self.graph["loss"].name])
        return float(np.asarray(value).mean())

    def export(self, model_dir: Path) -> None:
        """Pull the servers' parameters once more and save them as the inference model ``model_dir/deepfm``."""
        model_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory() as tmp:
            self.pull(Path(tmp) / PARAMS_FILE)
        dense, sparse, _ = self.graph["vars"]
        with paddle.static.scope_guard(self.scope):
            paddle.static.save_inference_model(
                str(model_dir / "deepfm"),
                [dense, sparse],
                [self.graph["prob"]],
                self.exe,
                program=self.graph["infer_program"],
            )


def train(
    args: argparse.Namespace, graph: dict[str, Any], record: dict[str, Any], contract: ctr_data.Contract
) -> dict[str, Any]:
    rank, world = env_int("PADDLE_TRAINER_ID"), env_int("PADDLE_TRAINERS_NUM")
    exe = paddle.static.Executor(paddle.CPUPlace())
    exe.run(paddle.static.default_startup_program())
    program = graph["loss"].block.program  # the trainer program fleet's passes rewrote

    history: list[float] = []
    start_epoch, step = 0, 0
    resumed = latest_checkpoint(checkpoint_root())
    if resumed is not None:
        state = read_json(resumed / "state.json")
        start_epoch, step, history = state["epoch"], state["step"], list(state["loss_history"])
        if rank == 0:  # init_worker pushes worker-0's values to the servers
            block = program.global_block()
            paddle.static.load_vars(
                exe, "./", program, vars=[block.var(n) for n in state["params"]], filename=str(resumed / PARAMS_FILE)
            )
        print(f"worker {rank} resumed from {resumed} at epoch {start_epoch}", flush=True)

    wait_for_servers(fleet.server_endpoints(), args.server_timeout)
    fleet.init_worker()
    first = rank == 0
    server_model = ServerModel(program, graph) if first else None

    dense, sparse, labels = ctr_data.load_criteo(args.data, args.buckets)
    rows = ctr_data.shard(len(labels), rank, world)
    everything = {"dense": dense, "sparse": sparse, "label": labels}
    scratch = Path(tempfile.mkdtemp(prefix=f"paddle-ps-{rank}-"))
    try:
        shard_file = scratch / "shard.txt"
        for epoch in range(start_epoch, args.epochs):
            write_slots(
                shard_file, np.random.default_rng([args.seed, rank, epoch]).permutation(rows), dense, sparse, labels
            )
            dataset = paddle.distributed.QueueDataset()
            dataset.init(batch_size=args.batch_size, thread_num=1, use_var=graph["vars"], pipe_command="cat")
            dataset.set_filelist([str(shard_file)])
            # The device worker pulls the dense parameters from the servers and pushes every batch's gradients.
            exe.train_from_dataset(program, dataset, print_period=10**9)
            step += -(-len(rows) // args.batch_size)
            if server_model is None:
                print(f"worker {rank} epoch {epoch} done", flush=True)
                continue
            names = server_model.pull(scratch / PARAMS_FILE)
            history.append(server_model.loss(everything))
            print(f"worker {rank} epoch {epoch} loss of the servers' model {history[-1]:.5f}", flush=True)
            root = checkpoint_root()
            if root is not None:
                state = {"epoch": epoch + 1, "step": step, "loss_history": history, "params": names}

                def fill(tmp: Path, state: dict[str, Any] = state) -> None:
                    shutil.copyfile(scratch / PARAMS_FILE, tmp / PARAMS_FILE)
                    (tmp / "state.json").write_text(json.dumps(state))

                write_checkpoint(root, step, fill)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

    record.update(steps=step, rows=int(len(rows)), epochs=args.epochs)
    if first:
        record["loss_history"] = history
    ctr_data.write_rank_record(contract, f"worker-{rank}", record)
    metrics: dict[str, Any] = {
        **record,
        "loss_first_epoch": history[0] if history else None,
        "loss_last_epoch": history[-1] if history else None,
        "rows_total": int(len(labels)),
        "resumed_from": resumed.name if resumed is not None else None,
    }
    if server_model is not None:
        paddle_ranking.export_results(contract, metrics, server_model.export)
    fleet.stop_worker()
    return metrics


def main(argv: list[str] | None = None) -> int:
    parser = ctr_data.training_parser(
        "Train DeepFM with Paddle fleet in parameter-server mode.", epochs=6, batch_size=20, lr=0.01
    )
    parser.add_argument("--server-timeout", type=float, default=300.0, help="seconds a trainer waits for the servers")
    args = parser.parse_args(argv)
    if args.data is None:
        args.data = ctr_data.default_data_path()

    require_parameter_server()
    paddle.enable_static()
    paddle.seed(args.seed)
    fleet.init(fleet.PaddleCloudRoleMaker(is_collective=False))
    graph = build(args)
    record = role_record()
    contract = ctr_data.Contract.from_env()
    if fleet.is_server():
        serve(record, contract)
    else:
        train(args, graph, record, contract)
    return 0


if __name__ == "__main__":
    sys.exit(main())
