"""Reading an encoded table in batches, sharded across the DDP workers, without loading it whole.

``EncodedTable(url)`` finds the Parquet files of a table at any storage URL the platform takes
(local path, ``file://``, ``hdfs://``, ``webhdfs://``, ``s3a://``; fsspec + pyarrow), or of a Hive
table's partitions resolved through the metastore::

    hive://[METASTORE_HOST[:PORT]]/DB.TABLE[?filter=dt>='2024-01-01']

(without a host: ``$MLPLAT_HIVE_METASTORE_URIS``, e.g. ``thrift://127.0.0.1:9083``). Only the
Parquet footers are read up front; rows come one row group at a time.

Sharding: the table's units (row groups; slices of them when a table has fewer than four per
worker) are shuffled per epoch with a seed every worker shares and dealt to the workers by rows,
so the shards are disjoint and nearly equal. Every worker takes the same number of steps per
epoch (DDP all-reduces at every step): one whose shard is short starts it again, like
``DistributedSampler``'s padding. Rows are shuffled inside each unit.
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

import numpy as np

from airflow_mlplat.ranking.feature_map import FeatureMap, model_input

HIVE_SCHEME = "hive"
METASTORE_ENV = "MLPLAT_HIVE_METASTORE_URIS"
#: Units per worker below which row groups are cut into slices (small tables, tests).
MIN_UNITS_PER_WORKER = 4


class EncodedTableError(ValueError):
    """An encoded table cannot be read as asked (the message names the URL, table or column)."""


@dataclasses.dataclass(frozen=True)
class Unit:
    path: str
    row_group: int
    start: int
    stop: int

    @property
    def rows(self) -> int:
        return self.stop - self.start


def parse_hive_url(url: str) -> tuple[str | None, str, str, str | None]:
    """``hive://HOST:PORT/DB.TABLE?filter=...`` -> (metastore URI or None, db, table, filter or None)."""
    parsed = urlparse(url)
    name = unquote(parsed.path.lstrip("/"))
    if "." not in name or not all(name.split(".", 1)):
        raise EncodedTableError(f"{url!r}: a Hive table URL is hive://[HOST[:PORT]]/DB.TABLE[?filter=...]")
    db, table = name.split(".", 1)
    filters = parse_qs(parsed.query).get("filter")
    metastore = f"thrift://{parsed.netloc}" if parsed.netloc else None
    return metastore, db, table, filters[0] if filters else None


def hive_locations(url: str) -> list[str]:
    """The storage locations of a Hive table (its partitions matching the URL's filter)."""
    from hmsclient import hmsclient

    metastore, db, table, partition_filter = parse_hive_url(url)
    metastore = metastore or os.environ.get(METASTORE_ENV, "").split(",")[0].strip() or None
    if not metastore:
        raise EncodedTableError(f"{url!r} names no metastore host and {METASTORE_ENV} is not set")
    address = urlparse(metastore)
    with hmsclient.HMSClient(host=address.hostname, port=address.port or 9083) as client:
        info = client.get_table(db, table)
        if "parquet" not in (info.sd.inputFormat or "").lower():
            raise EncodedTableError(f"Hive table {db}.{table} is not stored as Parquet ({info.sd.inputFormat})")
        if not info.partitionKeys:
            if partition_filter:
                raise EncodedTableError(f"Hive table {db}.{table} has no partitions to filter")
            return [info.sd.location]
        if partition_filter:
            partitions = client.get_partitions_by_filter(db, table, partition_filter, -1)
        else:
            partitions = client.get_partitions(db, table, -1)
    if not partitions:
        raise EncodedTableError(f"Hive table {db}.{table} has no partition matching {partition_filter!r}")
    return sorted(p.sd.location for p in partitions)


def _fs_url(location: str) -> str:
    # The metastore writes local locations as file:/path (one slash), which fsspec reads as a path.
    if location.startswith("file:") and not location.startswith("file://"):
        return "file://" + location[len("file:") :]
    return location


def parquet_files(url: str) -> list[tuple[Any, str]]:
    """``(filesystem, path)`` of every Parquet data file of the table at ``url``, in a stable order."""
    from airflow_mlplat.storage.urls import filesystem

    locations = hive_locations(url) if urlparse(url).scheme == HIVE_SCHEME else [url]
    files: list[tuple[Any, str]] = []
    for location in locations:
        fs, root = filesystem(_fs_url(location))
        if fs.isfile(root):
            files.append((fs, root))
            continue
        found = sorted(
            path
            for path in fs.find(root)
            if not any(part.startswith(("_", ".")) for part in path[len(root.rstrip("/")) :].split("/") if part)
            and not path.endswith((".crc",))
        )
        files.extend((fs, path) for path in found)
    if not files:
        raise EncodedTableError(f"{url!r}: no Parquet files found")
    return files


class EncodedTable:
    """An encoded table (``ctr_feature_encoder``'s output) to read in batches.

    :param url: the table's storage URL, or ``hive://...`` (see the module docstring).
    :param feature_map: the map it was encoded with (which columns are fields, their kinds).
    :param labels: the label columns to read (default: the map's labels).
    :param extra: further columns to read (e.g. a true probability for evaluation).
    """

    def __init__(
        self, url: str, feature_map: FeatureMap, labels: list[str] | None = None, extra: list[str] | None = None
    ) -> None:
        import pyarrow.parquet as pq

        self.url = url
        self.feature_map = feature_map
        self.labels = list(labels if labels is not None else feature_map.labels)
        self.extra = list(extra or [])
        self.columns = [*feature_map.names, *self.labels, *self.extra]
        self._files: dict[str, tuple[Any, str]] = {}
        self.units: list[Unit] = []
        for fs, path in parquet_files(url):
            with fs.open(path, "rb") as handle:
                parquet = pq.ParquetFile(handle)
                metadata = parquet.metadata
                names = set(parquet.schema_arrow.names)
            missing = [c for c in self.columns if c not in names]
            if missing:
                raise EncodedTableError(f"{url!r}: {path} has no column {missing[0]!r}")
            self._files[path] = (fs, path)
            for group in range(metadata.num_row_groups):
                rows = metadata.row_group(group).num_rows
                if rows:
                    self.units.append(Unit(path, group, 0, rows))
        self.num_rows = sum(u.rows for u in self.units)
        if not self.num_rows:
            raise EncodedTableError(f"{url!r}: the table has no rows")
        self._cache: tuple[tuple[str, int], Any] | None = None

    def shard(self, rank: int, world: int, epoch: int, seed: int, shuffle: bool = True) -> list[Unit]:
        """The units of worker ``rank`` of ``world`` in ``epoch`` (disjoint, nearly equal in rows)."""
        units = self.units
        if len(units) < MIN_UNITS_PER_WORKER * world:
            pieces = MIN_UNITS_PER_WORKER * world
            cut = []
            for unit in units:
                bounds = np.linspace(unit.start, unit.stop, min(pieces, unit.rows) + 1).astype(int)
                cut += [
                    Unit(unit.path, unit.row_group, int(a), int(b))
                    for a, b in zip(bounds, bounds[1:], strict=False)
                    if b > a
                ]
            units = cut
        order = np.random.default_rng([seed, epoch]).permutation(len(units)) if shuffle else np.arange(len(units))
        loads = [0] * world
        mine = []
        for i in order:
            target = min(range(world), key=lambda r: (loads[r], r))
            loads[target] += units[i].rows
            if target == rank:
                mine.append(units[i])
        self._loads = loads
        return mine

    def steps_per_epoch(self, world: int, batch_size: int, epoch: int, seed: int) -> int:
        """Steps every worker takes in ``epoch``: the largest shard's batches."""
        self.shard(0, world, epoch, seed)
        return max(1, math.ceil(max(self._loads) / batch_size))

    def read(self, unit: Unit) -> Any:
        """The unit's rows as a pyarrow Table (the row group is read once and kept for the next slice)."""
        import pyarrow.parquet as pq

        key = (unit.path, unit.row_group)
        if self._cache is None or self._cache[0] != key:
            fs, path = self._files[unit.path]
            with fs.open(path, "rb") as handle:
                table = pq.ParquetFile(handle).read_row_group(unit.row_group, columns=self.columns)
            self._cache = (key, table)
        return self._cache[1].slice(unit.start, unit.rows)

    def arrays(self, table: Any) -> dict[str, np.ndarray]:
        """Model inputs, labels and extra columns of a pyarrow Table as numpy arrays."""
        import pyarrow.compute as pc

        out: dict[str, np.ndarray] = {}
        n = table.num_rows
        for spec in self.feature_map.fields:
            column = table.column(spec.name)
            if spec.kind == "sequence":
                flat = pc.list_flatten(column).to_numpy(zero_copy_only=False)
                if flat.size != n * spec.max_length:
                    raise EncodedTableError(
                        f"{self.url!r}: sequence column {spec.name!r} is not {spec.max_length} long in every row"
                    )
                out[spec.name] = flat.astype(np.int64, copy=False).reshape(n, spec.max_length)
            else:
                out[spec.name] = model_input(spec, column.to_numpy(zero_copy_only=False))
        for name in [*self.labels, *self.extra]:
            out[name] = (
                table.column(name)
                .to_numpy(zero_copy_only=False)
                .astype(np.float64 if name in self.extra else np.float32)
            )
        return out

    def batches(
        self,
        batch_size: int,
        *,
        rank: int = 0,
        world: int = 1,
        epoch: int = 0,
        seed: int = 0,
        shuffle: bool = True,
        steps: int | None = None,
    ) -> Iterator[dict[str, np.ndarray]]:
        """Batches of worker ``rank``: ``steps`` of them (repeating its shard as needed), or one pass
        over the shard when ``steps`` is None (evaluation: every row once, the last batch short)."""
        units = self.shard(rank, world, epoch, seed, shuffle)
        rng = np.random.default_rng([seed, epoch, rank, 1])
        emitted = 0
        carry: dict[str, np.ndarray] | None = None
        rounds = 0
        while True:
            for unit in units:
                arrays = self.arrays(self.read(unit))
                if shuffle:
                    order = rng.permutation(unit.rows)
                    arrays = {k: v[order] for k, v in arrays.items()}
                if carry is not None:
                    arrays = {k: np.concatenate([carry[k], v]) for k, v in arrays.items()}
                    carry = None
                size = len(next(iter(arrays.values())))
                start = 0
                while size - start >= batch_size:
                    yield {k: v[start : start + batch_size] for k, v in arrays.items()}
                    start += batch_size
                    emitted += 1
                    if steps is not None and emitted >= steps:
                        return
                if start < size:
                    carry = {k: v[start:] for k, v in arrays.items()}
            rounds += 1
            if steps is None:
                if carry is not None:
                    yield carry
                return
            if not units or (rounds > 1 and emitted == 0 and carry is None):
                raise EncodedTableError(f"{self.url!r}: worker {rank} has no rows to train on")
