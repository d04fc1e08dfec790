"""DeepFM (the reference platform's ranking model) trained with PyTorch DistributedDataParallel.

Run it as every worker's command of a ``pytorch`` TrainingJob; it reads the launcher's env
contract (``MASTER_ADDR``, ``MASTER_PORT``, ``WORLD_SIZE``, ``RANK`` for ``env://``, and the
``MLPLAT_*`` paths)::

    python -m airflow_mlplat.launcher.examples.deepfm --data criteo_sample.txt --epochs 8

Data: Criteo-format CSV (``label``, dense ``I1..I13``, categorical ``C1..C26``; blanks are
missing). Dense values become ``sign(x) * log1p(|x|)`` (0 when missing); categorical values are
hashed (crc32, identical in every process) into ``--buckets`` slots per field.

Model (Guo et al., 2017): first-order terms (a weight per categorical value plus a linear layer
on the dense features), the FM second-order interaction of the field embeddings, and an MLP on
the concatenated embeddings and dense features, summed into one logit.

Each rank trains on its ``DistributedSampler`` shard (gloo on CPU); after every epoch it logs the
all-reduced mean training loss. At the end every rank writes ``MLPLAT_DATA_DIR/ranks/rank-R.json``
(a SHA-256 of its parameters and its loss history), and worker-0 (``MLPLAT_EXPORT=1``) writes
``model.pt`` and ``metrics.json`` into ``MLPLAT_MODEL_DIR``, which the platform then copies to the
job's output URL, and writes its final metrics to ``MLPLAT_METRICS_FILE`` (the pod's termination
message).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, TensorDataset
from torch.utils.data.distributed import DistributedSampler

from airflow_mlplat.launcher.examples.ctr_data import (
    DENSE,
    SPARSE,
    Contract,
    default_data_path,
    training_parser,
    write_metrics,
    write_rank_record,
)
from airflow_mlplat.launcher.examples.ctr_data import load_criteo as load_criteo_arrays


def load_criteo(path: str | os.PathLike[str], buckets: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(dense float [n, 13], sparse ids [n, 26] offset per field, labels [n]): ``ctr_data`` as tensors."""
    return tuple(torch.from_numpy(array) for array in load_criteo_arrays(path, buckets))


class DeepFM(nn.Module):
    def __init__(self, n_dense: int, n_fields: int, buckets: int, dim: int = 8, hidden: tuple[int, ...] = (64, 32)):
        super().__init__()
        vocab = n_fields * buckets
        self.first_order = nn.Embedding(vocab, 1)
        self.dense_linear = nn.Linear(n_dense, 1)
        self.embedding = nn.Embedding(vocab, dim)
        nn.init.normal_(self.embedding.weight, std=0.01)
        nn.init.zeros_(self.first_order.weight)
        layers: list[nn.Module] = []
        width = n_fields * dim + n_dense
        for size in hidden:
            layers += [nn.Linear(width, size), nn.ReLU()]
            width = size
        layers.append(nn.Linear(width, 1))
        self.mlp = nn.Sequential(*layers)

    def forward(self, dense: torch.Tensor, sparse: torch.Tensor) -> torch.Tensor:
        first = self.first_order(sparse).sum(dim=(1, 2)) + self.dense_linear(dense).squeeze(1)
        emb = self.embedding(sparse)  # [n, fields, dim]
        fm = 0.5 * (emb.sum(dim=1).pow(2) - emb.pow(2).sum(dim=1)).sum(dim=1)
        deep = self.mlp(torch.cat([emb.flatten(1), dense], dim=1)).squeeze(1)
        return first + fm + deep


def parameter_digest(model: nn.Module) -> str:
    digest = hashlib.sha256()
    for name, tensor in sorted(model.state_dict().items()):
        digest.update(name.encode())
        digest.update(tensor.detach().contiguous().numpy().tobytes())
    return digest.hexdigest()


def save_model(model_dir: str, model: nn.Module, config: dict[str, Any], metrics: dict[str, Any]) -> None:
    """Write ``model.pt`` and ``metrics.json`` into ``model_dir``; the platform exports that directory."""
    root = Path(model_dir)
    root.mkdir(parents=True, exist_ok=True)
    torch.save({"state_dict": model.state_dict(), "config": config}, root / "model.pt")
    (root / "metrics.json").write_text(json.dumps(metrics))


def train(args: argparse.Namespace) -> dict[str, Any]:
    torch.set_num_threads(1)
    torch.manual_seed(args.seed)
    dist.init_process_group("gloo", init_method="env://")
    rank, world = dist.get_rank(), dist.get_world_size()
    try:
        dense, sparse, labels = load_criteo(args.data, args.buckets)
        data = TensorDataset(dense, sparse, labels)
        sampler = DistributedSampler(data, num_replicas=world, rank=rank, shuffle=True, seed=args.seed)
        loader = DataLoader(data, batch_size=args.batch_size, sampler=sampler)
        config = {"n_dense": len(DENSE), "n_fields": len(SPARSE), "buckets": args.buckets, "dim": args.dim}
        model = DistributedDataParallel(DeepFM(**config))
        optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
        loss_fn = nn.BCEWithLogitsLoss()
        history = []
        for epoch in range(args.epochs):
            sampler.set_epoch(epoch)
            total = torch.zeros(2)
            for d, s, y in loader:
                optimizer.zero_grad()
                loss = loss_fn(model(d, s), y)
                loss.backward()
                optimizer.step()
                total += torch.tensor([loss.item() * len(y), len(y)])
            dist.all_reduce(total)
            history.append(float(total[0] / total[1]))
            print(f"rank {rank} epoch {epoch} loss {history[-1]:.5f}", flush=True)
        digest = parameter_digest(model.module)
        metrics = {
            "loss_first_epoch": history[0],
            "loss_last_epoch": history[-1],
            "epochs": args.epochs,
            "rows": len(data),
            "world_size": world,
        }
        contract = Contract.from_env()
        write_rank_record(contract, f"rank-{rank}", {"rank": rank, "digest": digest, "loss": history})
        if contract.export:
            if contract.model_dir:
                save_model(contract.model_dir, model.module, config, metrics)
            write_metrics(contract, metrics)
        dist.barrier()
        return metrics
    finally:
        dist.destroy_process_group()


def main(argv: list[str] | None = None) -> int:
    parser = training_parser("Train DeepFM with DistributedDataParallel (gloo).", epochs=8, batch_size=32, lr=0.01)
    args = parser.parse_args(argv)
    if args.data is None:
        args.data = default_data_path()
    train(args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
