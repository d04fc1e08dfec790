"""What every framework's example script shares: Criteo-format CTR data and the launcher's contract.

Only the standard library and numpy, so TensorFlow's, Paddle's and PyTorch's runtimes all read
the data, the ``MLPLAT_*`` environment and the command line the same way, and write their
records the same way. Columns: ``label``, dense ``I1..I13`` (blank = missing), categorical
``C1..C26``. Dense values become ``sign(x) * log1p(|x|)`` (0 when missing or not a number);
a categorical value is hashed with crc32 (the same in every process, unlike ``hash()``) into
``buckets`` slots of its field, offset so that every field has its own slots.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

DENSE = [f"I{i}" for i in range(1, 14)]
SPARSE = [f"C{i}" for i in range(1, 27)]
SAMPLE_NAME = "criteo_sample.txt"


def default_data_path() -> str:
    """``MLPLAT_INPUT_DIR/criteo_sample.txt``: where the launcher's init step stages the data."""
    return os.path.join(os.environ.get("MLPLAT_INPUT_DIR", "."), SAMPLE_NAME)


def _dense_value(raw: str) -> float:
    try:
        x = float(raw)
    except ValueError:
        return 0.0
    return math.copysign(math.log1p(abs(x)), x) if math.isfinite(x) else 0.0


def load_criteo(path: str | os.PathLike[str], buckets: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(dense float32 [n, 13], sparse int64 ids [n, 26], labels float32 [n])``.

    Raises ``ValueError`` naming the file and line for a row without a 0/1 label.
    """
    dense, sparse, labels = [], [], []
    with open(path, newline="") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in ["label", *DENSE, *SPARSE] if c not in (reader.fieldnames or [])]
        if missing:
            raise ValueError(f"{path}: missing columns {missing}")
        for line, row in enumerate(reader, start=2):
            label = (row["label"] or "").strip()
            if label not in ("0", "1", "0.0", "1.0"):
                raise ValueError(f"{path}:{line}: label must be 0 or 1, got {label!r}")
            labels.append(float(label))
            dense.append([_dense_value((row[name] or "").strip()) for name in DENSE])
            ids = [zlib.crc32(f"{name}={row[name]}".encode()) % buckets for name in SPARSE]
            sparse.append([field * buckets + slot for field, slot in enumerate(ids)])
    if not labels:
        raise ValueError(f"{path}: no rows")
    return (
        np.asarray(dense, dtype=np.float32),
        np.asarray(sparse, dtype=np.int64),
        np.asarray(labels, dtype=np.float32),
    )


def shard(n: int, index: int, count: int) -> np.ndarray:
    """Row indices of shard ``index`` of ``count`` (strided, so every shard sees both labels)."""
    return np.arange(index, n, count)


def write_json_atomically(path: str | os.PathLike[str], text: str) -> None:
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    tmp.write_text(text)
    os.replace(tmp, target)


@dataclass(frozen=True)
class Contract:
    """The launcher's per-replica environment (see ``airflow_mlplat.launcher.env``)."""

    role: str
    index: int
    job_name: str
    input_dir: str
    data_dir: str
    export: bool
    metrics_file: str | None
    model_dir: str | None
    checkpoint_dir: str | None
    tensorboard_dir: str | None

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Contract:
        env = dict(os.environ if environ is None else environ)
        return cls(
            role=env.get("MLPLAT_ROLE", "worker"),
            index=int(env.get("MLPLAT_INDEX", "0")),
            job_name=env.get("MLPLAT_JOB_NAME", "local"),
            input_dir=env.get("MLPLAT_INPUT_DIR", "."),
            data_dir=env.get("MLPLAT_DATA_DIR", "."),
            export=env.get("MLPLAT_EXPORT") == "1",
            metrics_file=env.get("MLPLAT_METRICS_FILE") or None,
            model_dir=env.get("MLPLAT_MODEL_DIR") or None,
            checkpoint_dir=env.get("MLPLAT_CHECKPOINT_DIR") or None,
            tensorboard_dir=env.get("MLPLAT_TENSORBOARD_DIR") or None,
        )

    @property
    def replica(self) -> str:
        return f"{self.role}-{self.index}"


def write_rank_record(contract: Contract, name: str, record: dict[str, Any]) -> None:
    """``record`` as ``MLPLAT_DATA_DIR/ranks/NAME.json``: what one replica did, for the others to compare."""
    write_json_atomically(Path(contract.data_dir) / "ranks" / f"{name}.json", json.dumps(record))


def write_metrics(contract: Contract, metrics: dict[str, Any]) -> None:
    """``metrics`` as JSON to ``MLPLAT_METRICS_FILE``, if it is set.

    Written in place, not renamed over: on Kubernetes it is the container's termination log, a
    file mounted into the container, which a rename cannot replace (EBUSY). It is read once the
    replica has exited.
    """
    if contract.metrics_file:
        path = Path(contract.metrics_file)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(metrics))


def training_parser(
    description: str, *, epochs: int, batch_size: int, lr: float, batch_help: str | None = None
) -> argparse.ArgumentParser:
    """The options every example takes (``--data``, ``--epochs``, ``--batch-size``, ``--lr``, ``--buckets``,
    ``--dim``, ``--seed``), with the script's own defaults; the script adds its own options."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--data", default=None, help=f"Criteo CSV (default: MLPLAT_INPUT_DIR/{SAMPLE_NAME})")
    parser.add_argument("--epochs", type=int, default=epochs)
    parser.add_argument("--batch-size", type=int, default=batch_size, help=batch_help)
    parser.add_argument("--lr", type=float, default=lr)
    parser.add_argument("--buckets", type=int, default=100)
    parser.add_argument("--dim", type=int, default=4)
    parser.add_argument("--seed", type=int, default=7)
    return parser
