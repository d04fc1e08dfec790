"""DeepFM in PaddlePaddle, shared by the ``paddle-ps`` and ``paddle-collective`` example scripts.

One ``paddle.nn.Layer`` serves both modes: called under ``paddle.enable_static()`` it builds a
static-graph program (what fleet's parameter-server mode compiles), in dynamic mode it is an
ordinary layer for ``paddle.DataParallel``. The model is the one of ``deepfm.py`` (Guo et al.,
2017): first-order terms (a weight per categorical value plus a linear layer on the dense
features), the FM second-order interaction of the field embeddings, and an MLP on the
concatenated embeddings and dense features, summed into one logit.

Also here, since both scripts need them: thread limits (2 cores are shared by every replica on a
developer machine), the checkpoint layout under ``MLPLAT_CHECKPOINT_DIR`` (directories named
``step-NNNNNN``, written under a name starting with ``.`` and renamed with ``os.replace``), the
end of a run on the exporting replica (:func:`export_results`), and small file helpers.
Importing this module imports Paddle, after :func:`limit_threads` (which only fills in what the
environment does not set).
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from airflow_mlplat.launcher.examples import ctr_data


def limit_threads() -> None:
    """One compute thread per process unless the environment says otherwise; before Paddle starts."""
    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "CPU_NUM"):
        os.environ.setdefault(name, "1")


limit_threads()

import paddle  # noqa: E402  (after the thread limits, which Paddle reads when it loads)
from paddle import nn  # noqa: E402

N_DENSE = 13
N_FIELDS = 26
CHECKPOINT_PATTERN = re.compile(r"^step-(\d{6,})$")


class DeepFM(nn.Layer):
    """``forward(dense [n, 13] float32, sparse [n, 26] int64) -> logits [n]``.

    ``sparse`` ids are already offset per field (``ctr_data.load_criteo``), so one table of
    ``n_fields * buckets`` rows holds every field.
    """

    def __init__(
        self,
        buckets: int,
        dim: int = 4,
        hidden: tuple[int, ...] = (32, 16),
        n_dense: int = N_DENSE,
        n_fields: int = N_FIELDS,
    ) -> None:
        super().__init__()
        vocab = n_fields * buckets
        self.n_fields, self.dim = n_fields, dim
        self.first_order = nn.Embedding(
            vocab, 1, weight_attr=paddle.ParamAttr(initializer=nn.initializer.Constant(0.0))
        )
        self.embedding = nn.Embedding(
            vocab, dim, weight_attr=paddle.ParamAttr(initializer=nn.initializer.Normal(std=0.01))
        )
        self.dense_linear = nn.Linear(n_dense, 1)
        layers: list[nn.Layer] = []
        width = n_fields * dim + n_dense
        for size in hidden:
            layers += [nn.Linear(width, size), nn.ReLU()]
            width = size
        layers.append(nn.Linear(width, 1))
        self.mlp = nn.Sequential(*layers)

    def forward(self, dense: paddle.Tensor, sparse: paddle.Tensor) -> paddle.Tensor:
        first = paddle.sum(self.first_order(sparse), axis=[1, 2]) + paddle.squeeze(self.dense_linear(dense), axis=1)
        emb = self.embedding(sparse)  # [n, fields, dim]
        fm = 0.5 * paddle.sum(paddle.square(paddle.sum(emb, axis=1)) - paddle.sum(paddle.square(emb), axis=1), axis=1)
        flat = paddle.reshape(emb, [-1, self.n_fields * self.dim])
        deep = paddle.squeeze(self.mlp(paddle.concat([flat, dense], axis=1)), axis=1)
        return first + fm + deep


def bce_loss(logits: paddle.Tensor, labels: paddle.Tensor) -> paddle.Tensor:
    """Mean binary cross-entropy of ``logits [n]`` against 0/1 ``labels [n]``."""
    return paddle.mean(nn.functional.binary_cross_entropy_with_logits(logits, labels))


def batches(rows: np.ndarray, batch_size: int, seed: int, epoch: int) -> Iterator[np.ndarray]:
    """``rows`` shuffled the same way in every process for a given (seed, epoch), in batches."""
    order = np.random.default_rng([seed, epoch]).permutation(rows)
    for start in range(0, len(order), batch_size):
        yield order[start : start + batch_size]


# --- checkpoints -------------------------------------------------------------------------------


def checkpoint_root() -> Path | None:
    value = os.environ.get("MLPLAT_CHECKPOINT_DIR")
    return Path(value) if value else None


def latest_checkpoint(root: Path | None) -> Path | None:
    """The complete checkpoint with the highest step under ``root`` (names starting with ``.`` are unfinished)."""
    if root is None or not root.is_dir():
        return None
    found = [(int(m.group(1)), p) for p in root.iterdir() if (m := CHECKPOINT_PATTERN.match(p.name)) and p.is_dir()]
    return max(found)[1] if found else None


def write_checkpoint(root: Path, step: int, fill: Callable[[Path], None]) -> Path:
    """``fill(tmp_dir)`` writes the files, then ``tmp_dir`` is renamed to ``root/step-NNNNNN`` at once."""
    root.mkdir(parents=True, exist_ok=True)
    final = root / f"step-{step:06d}"
    tmp = root / f".{final.name}.{os.getpid()}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    fill(tmp)
    if final.exists():  # a retried attempt reached the same step: the newer one wins
        shutil.rmtree(final)
    os.replace(tmp, final)
    return final


def read_json(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())


def env_int(name: str, default: int | None = None) -> int:
    value = os.environ.get(name)
    if value is None:
        if default is None:
            raise KeyError(f"environment variable {name} is required")
        return default
    return int(value)


def export_results(contract: ctr_data.Contract, metrics: dict[str, Any], save_model: Callable[[Path], None]) -> None:
    """On the exporting replica (``MLPLAT_EXPORT=1``) only: ``save_model(MLPLAT_MODEL_DIR)`` when that is
    set, then ``metrics`` to ``MLPLAT_METRICS_FILE``."""
    if not contract.export:
        return
    if contract.model_dir:
        save_model(Path(contract.model_dir))
    ctr_data.write_metrics(contract, metrics)
