"""Model snapshots of the streaming FTRL job: written atomically, listed and read by name.

A snapshot is a folder ``ROOT/snapshot-<written at, epoch ms, 13 digits>-<events learnt, 10 digits>/``:

- ``state.npz``: the learner's arrays (``StreamingLearner.to_arrays``: FTRL ``z``/``n``/``meta``, the
  scaler's moments, the imputer's sums, the metric window's rows), numbers only, read with
  ``allow_pickle=False``;
- ``snapshot.json``: what it is (``format``, ``features``, hyper-parameters, ``source``) and its
  progressive metrics (``auc_roc``, ``log_loss``, ``rows``, ``events``, ``window``, the event-time
  range, ``written_at``).

The folder is written under a hidden name (``.tmp-...``) and renamed into place: a directory rename is
atomic on a POSIX filesystem, so a reader either sees no snapshot or a complete one, and a writer killed
half-way leaves only a hidden folder that listings skip (and :func:`remove_partial` clears). Names sort
by write time. Standard library and numpy only: the Flink job's virtualenv imports it.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import time
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import numpy as np

FORMAT = "mlplat-streaming-ftrl/1"
STATE_FILE = "state.npz"
INFO_FILE = "snapshot.json"
PARTIAL_PREFIX = ".tmp-"
_NAME = re.compile(r"^snapshot-(\d{13})-(\d{10})$")


class SnapshotError(ValueError):
    """A snapshot location or folder cannot be used; the message names it."""


def local_root(location: str | os.PathLike[str], *, what: str = "snapshot_dir") -> Path:
    """The local folder of ``location`` (a path or a ``file://`` URL).

    :raises SnapshotError: another scheme (the writer renames folders, which only a local filesystem
        does atomically here), or an empty location.
    """
    text = str(location).strip()
    if not text:
        raise SnapshotError(f"{what} must be a folder path or file:// URL, got an empty value")
    parsed = urlparse(text)
    if len(parsed.scheme) > 1 and parsed.scheme != "file":
        raise SnapshotError(
            f"{what} {text!r}: snapshots are written atomically by renaming a folder, which this build does "
            "on the local filesystem only: use a path or a file:// URL (a mounted volume in production)"
        )
    if parsed.scheme == "file":
        if parsed.netloc not in ("", "localhost"):
            raise SnapshotError(f"{what} {text!r}: a file:// URL must not name a host")
        return Path(unquote(parsed.path))
    return Path(text)


def snapshot_name(written_at_ms: int, events: int) -> str:
    return f"snapshot-{int(written_at_ms):013d}-{int(events):010d}"


def write_snapshot(
    root: str | os.PathLike[str],
    arrays: Mapping[str, np.ndarray],
    info: Mapping[str, Any],
    *,
    written_at_ms: int | None = None,
) -> Path:
    """Write one snapshot under ``root`` atomically; returns its folder.

    ``info`` must hold ``events``; ``format`` and ``written_at_ms`` are added. Files are flushed to
    disk before the rename, the parent folder after it.
    """
    folder = local_root(root)
    folder.mkdir(parents=True, exist_ok=True)
    written = int(time.time() * 1000) if written_at_ms is None else int(written_at_ms)
    name = snapshot_name(written, int(info["events"]))
    final = folder / name
    if final.exists():  # two snapshots of one state in the same millisecond: the first one stands
        return final
    scratch = folder / f"{PARTIAL_PREFIX}{name}-{uuid.uuid4().hex[:8]}"
    scratch.mkdir()
    try:
        buffer = io.BytesIO()
        np.savez(buffer, **{key: np.asarray(value, dtype=np.float64) for key, value in arrays.items()})
        _write_synced(scratch / STATE_FILE, buffer.getvalue())
        document = {**info, "format": FORMAT, "name": name, "written_at_ms": written}
        _write_synced(scratch / INFO_FILE, json.dumps(document, indent=1, allow_nan=False).encode())
        os.rename(scratch, final)
    except BaseException:
        shutil.rmtree(scratch, ignore_errors=True)
        raise
    _sync_directory(folder)
    return final


def _write_synced(path: Path, data: bytes) -> None:
    with open(path, "wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())


def _sync_directory(folder: Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def list_snapshots(root: str | os.PathLike[str]) -> list[Path]:
    """The complete snapshots under ``root``, oldest first (partial ``.tmp-`` folders are never listed)."""
    folder = local_root(root)
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if _NAME.match(p.name) and p.is_dir())


def latest_snapshot(root: str | os.PathLike[str], *, after: str = "") -> Path | None:
    """The newest snapshot under ``root`` (whose name sorts after ``after`` when given), or None."""
    found = [p for p in list_snapshots(root) if p.name > after]
    return found[-1] if found else None


def remove_partial(root: str | os.PathLike[str]) -> list[str]:
    """Delete the hidden folders writers killed half-way left behind; returns their names."""
    folder = local_root(root)
    removed = []
    for path in folder.glob(f"{PARTIAL_PREFIX}*") if folder.is_dir() else ():
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path.name)
    return removed


def read_snapshot(folder: str | os.PathLike[str]) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """``(info, arrays)`` of one snapshot folder.

    :raises SnapshotError: not a snapshot of this format, or its files cannot be read.
    """
    path = local_root(folder, what="snapshot")
    try:
        info = json.loads((path / INFO_FILE).read_text())
        with np.load(path / STATE_FILE, allow_pickle=False) as stored:
            arrays = {key: stored[key] for key in stored.files}
    except (OSError, ValueError) as error:
        raise SnapshotError(f"snapshot {path}: cannot be read ({error})") from error
    if info.get("format") != FORMAT:
        raise SnapshotError(f"snapshot {path}: format {info.get('format')!r}, expected {FORMAT!r}")
    return info, arrays
