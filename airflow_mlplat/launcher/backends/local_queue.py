"""The local backend's queue: jobs wait until the machine's lent capacity fits them, first in, first out.

The cluster profile's ``local_capacity`` (``{"cpu": "2", "memory": "8Gi", "gpus": {"t4": 1}}``,
a missing key meaning no limit on it) is what the machine lends to training jobs. A job asks for
the sum of its replicas' requests. ``submit`` writes a ticket under ``STATE_ROOT/.queue/``; the
job's controller admits it when every earlier ticket is admitted and it fits next to them, and
removes the ticket when the job ends. Admission holds an exclusive ``flock``, so two controllers
never both take the last core. A ticket whose controller is gone is dropped.
"""

from __future__ import annotations

import fcntl
import json
import math
import os
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from airflow_mlplat.launcher.spec import TrainingJob, parse_quantity
from airflow_mlplat.services.process import pid_alive

QUEUE_DIR = ".queue"
#: A ticket without a running controller is kept this long (the controller is still starting).
STARTUP_GRACE = 60.0


class CapacityError(ValueError):
    """A job asks for more than the whole capacity: it would wait forever."""


def job_request(job: TrainingJob) -> dict[str, Any]:
    """What ``job`` needs: cores, bytes of memory and GPUs by type (``any`` without a ``gpu_type``)."""
    cpu = memory = 0.0
    gpus: dict[str, int] = {}
    for role, _ in job.replicas():
        res = job.resources(role)
        cpu += parse_quantity(res.cpu)
        memory += parse_quantity(res.memory)
        if res.gpu > 0:
            kind = job.gpu_type or "any"
            gpus[kind] = gpus.get(kind, 0) + math.ceil(res.gpu)
    return {"cpu": cpu, "memory": memory, "gpus": gpus}


def _capacity(capacity: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"gpus": {k: int(v) for k, v in dict(capacity.get("gpus") or {}).items()}}
    for key in ("cpu", "memory"):
        if capacity.get(key) is not None:
            out[key] = parse_quantity(capacity[key])
    return out


def _shortfall(need: dict[str, Any], used: dict[str, Any], capacity: dict[str, Any]) -> list[str]:
    """What does not fit: ``cpu 3 > 2 free`` and the like (empty when it fits)."""
    short = []
    for key in ("cpu", "memory"):
        if key in capacity and need[key] > capacity[key] - used[key] + 1e-9:
            short.append(f"{key} {_fmt(key, need[key])} > {_fmt(key, capacity[key] - used[key])} free")
    for kind, count in need["gpus"].items():
        total = capacity["gpus"].get(kind, sum(capacity["gpus"].values()) if kind == "any" else 0)
        free = total - used["gpus"].get(kind, 0)
        if count > free:
            short.append(f"gpu {kind} {count} > {free} free")
    return short


def _fmt(key: str, value: float) -> str:
    return f"{value / 2**30:.2f}Gi" if key == "memory" else f"{value:g}"


def _add(total: dict[str, Any], need: dict[str, Any]) -> None:
    total["cpu"] += need["cpu"]
    total["memory"] += need["memory"]
    for kind, count in need["gpus"].items():
        total["gpus"][kind] = total["gpus"].get(kind, 0) + count


class LocalQueue:
    """The tickets of the jobs under one state root."""

    def __init__(self, state_root: str | os.PathLike[str], capacity: Mapping[str, Any]) -> None:
        self.state_root = Path(state_root)
        self.dir = self.state_root / QUEUE_DIR
        self.capacity = _capacity(capacity)

    def check_fits(self, job: TrainingJob) -> None:
        """Raise ``CapacityError`` when ``job`` alone exceeds the capacity."""
        short = _shortfall(job_request(job), {"cpu": 0.0, "memory": 0.0, "gpus": {}}, self.capacity)
        if short:
            raise CapacityError(
                f"training job {job.name!r} needs more than the local capacity ({'; '.join(short)}): "
                "it would wait forever; lower its replicas' resources or raise local_capacity"
            )

    def enqueue(self, job: TrainingJob) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        self.release(job.name)
        ticket = {"job": job.name, "request": job_request(job), "admitted": False, "created": time.time()}
        path = self.dir / f"{time.time_ns():020d}-{job.name}.json"
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(json.dumps(ticket))
        os.replace(tmp, path)

    def release(self, name: str) -> None:
        for path in self._tickets_of(name):
            path.unlink(missing_ok=True)

    def try_admit(self, name: str) -> tuple[bool, str]:
        """Admit job ``name`` if its turn has come and it fits; else say why it waits."""
        with self._locked():
            used: dict[str, Any] = {"cpu": 0.0, "memory": 0.0, "gpus": {}}
            ahead = 0
            for path, ticket in self._live_tickets():
                if ticket["job"] == name:
                    if ahead:
                        return False, f"queued: {ahead} job(s) ahead of it"
                    short = _shortfall(ticket["request"], used, self.capacity)
                    if short:
                        return False, "queued: waiting for resources (" + "; ".join(short) + ")"
                    ticket["admitted"] = True
                    path.write_text(json.dumps(ticket))
                    return True, "admitted"
                if ticket["admitted"]:
                    _add(used, ticket["request"])
                else:
                    ahead += 1
            return False, f"no queue ticket for {name!r} (was it removed?)"

    def _tickets_of(self, name: str) -> list[Path]:
        return [p for p in self.dir.glob("*.json") if p.name.split("-", 1)[-1] == f"{name}.json"]

    def _live_tickets(self) -> Iterator[tuple[Path, dict[str, Any]]]:
        for path in sorted(self.dir.glob("*.json")):
            try:
                ticket = json.loads(path.read_text())
            except (FileNotFoundError, ValueError):
                continue
            if self._stale(ticket):
                path.unlink(missing_ok=True)
                continue
            yield path, ticket

    def _stale(self, ticket: dict[str, Any]) -> bool:
        try:
            pid = int((self.state_root / ticket["job"] / "controller.pid").read_text())
        except (FileNotFoundError, ValueError):
            return time.time() - float(ticket.get("created", 0)) > STARTUP_GRACE
        return not pid_alive(pid)

    @contextmanager
    def _locked(self) -> Iterator[None]:
        self.dir.mkdir(parents=True, exist_ok=True)
        with open(self.dir / "lock", "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
