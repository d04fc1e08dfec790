"""Criteo-format CTR data as numpy arrays, the same in every framework's example script.

Only the standard library and numpy, so TensorFlow's, Paddle's and PyTorch's runtimes all read
the data the same way. Columns: ``label``, dense ``I1..I13`` (blank = missing), categorical
``C1..C26``. Dense values become ``sign(x) * log1p(|x|)`` (0 when missing or not a number);
a categorical value is hashed with crc32 (the same in every process, unlike ``hash()``) into
``buckets`` slots of its field, offset so that every field has its own slots.
"""

from __future__ import annotations

import csv
import math
import os
import zlib
from pathlib import Path

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
