"""Training jobs by state, each replica with its CPU and memory.

Local backend: every job directory under the launcher's state root (``default_state_root()``:
``$MLPLAT_LAUNCHER_ROOT``, else ``$MLPLAT_RUN_ROOT/launcher``, else ``$AIRFLOW_HOME/mlplat-runs/launcher``)
that holds a ``handle.json``; its state is the backend's own ``status`` (queued jobs included: the
controller writes ``queued`` while the local queue holds the job back), its replicas' processes are
read with psutil. A job stays listed until ``finish`` or ``kill`` removes its directory.

Kubernetes: the pods labelled ``mlplat.io/job``, grouped by job; usage from the metrics API.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from airflow_mlplat.ui.resources.sampling import HISTORY, History, Pair, pair_readings

#: The order jobs are listed in: what runs first, then what waits, then what ended.
STATE_ORDER = ("running", "queued", "pending", "unknown", "failed", "succeeded")
#: Replica states with a live process to read (and ``init:STEP``).
_LIVE = ("running",)


def short(message: str, limit: int = 300) -> str:
    """The first line of a status message: a failure's log tail stays in the job's log, not on the page."""
    first = (message or "").split("\n", 1)[0]
    first = first.split("; log tail:", 1)[0].removesuffix("; log:")
    return first if len(first) <= limit else first[: limit - 1] + "…"


def local_jobs(state_root: str | Path, history: History = HISTORY) -> list[dict[str, Any]]:
    """The jobs under ``state_root``, running ones first, with their replicas' usage."""
    from airflow_mlplat.launcher.backends.local import LocalBackend, read_json
    from airflow_mlplat.launcher.backends.local_queue import job_request
    from airflow_mlplat.launcher.spec import TrainingJob
    from airflow_mlplat.ui.resources.processes import read_tree

    root = Path(state_root)
    if not root.is_dir():
        return []
    jobs: list[dict[str, Any]] = []
    readers = {}
    for state_dir in sorted(root.iterdir()):
        if state_dir.name.startswith(".") or not state_dir.is_dir():
            continue
        try:
            handle = read_json(state_dir / "handle.json")
            spec = read_json(state_dir / "spec.json")
        except (OSError, ValueError):
            continue  # being written or removed right now: the next poll sees it
        if not handle or not spec:
            continue
        try:
            job = TrainingJob.from_dict(spec)
            status = LocalBackend(**handle.get("options", {})).status(handle)
            request = job_request(job)
        except Exception as error:  # noqa: BLE001 - one unreadable job must not hide the others
            jobs.append(_unreadable(state_dir, error))
            continue
        replicas = []
        for name, info in sorted(status.replicas.items()):
            replica = {
                "name": name,
                "role": info.get("role"),
                "state": info.get("state"),
                "restarts": info.get("restarts", 0),
                "pid": info.get("pid"),
                "cpu_percent": None,
                "memory_bytes": None,
                "pids": [],
                "gpus": [],
            }
            pid = info.get("pid")
            if pid and not status.done and (replica["state"] in _LIVE or str(replica["state"]).startswith("init:")):
                readers[("replica", str(state_dir), name, pid)] = lambda pid=pid: read_tree(pid)
            replicas.append(replica)
        jobs.append(
            {
                "name": job.name,
                "backend": "local",
                "framework": job.framework,
                "state": status.phase,
                "message": short(status.message),
                "submitted": _mtime(state_dir / "handle.json"),
                "requested": {"cpu": request["cpu"], "memory_bytes": int(request["memory"]), "gpus": request["gpus"]},
                "replicas": replicas,
                "_dir": str(state_dir),
            }
        )
    _add_usage(jobs, pair_readings(readers, history) if readers else {})
    return sorted(jobs, key=_order)


def _unreadable(state_dir: Path, error: Exception) -> dict[str, Any]:
    return {
        "name": state_dir.name,
        "backend": "local",
        "framework": None,
        "state": "unknown",
        "message": short(f"cannot read the job's state: {type(error).__name__}: {error}"),
        "submitted": _mtime(state_dir / "handle.json"),
        "requested": None,
        "replicas": [],
        "_dir": str(state_dir),
    }


def _add_usage(jobs: list[dict[str, Any]], pairs: dict[Any, Pair | BaseException]) -> None:
    from airflow_mlplat.ui.resources.processes import usage

    for job in jobs:
        state_dir = job.pop("_dir")
        for replica in job["replicas"]:
            got = pairs.get(("replica", state_dir, replica["name"], replica["pid"]))
            if isinstance(got, Pair):
                replica.update(usage(got))
            elif got is not None:
                replica["note"] = str(got)
        _total(job)


def _total(job: dict[str, Any]) -> None:
    read = [r for r in job["replicas"] if r["cpu_percent"] is not None]
    job["cpu_percent"] = round(sum(r["cpu_percent"] for r in read), 1) if read else None
    job["memory_bytes"] = sum(r["memory_bytes"] for r in read) if read else None


def _order(job: dict[str, Any]) -> tuple[int, str]:
    state = job["state"]
    return (STATE_ORDER.index(state) if state in STATE_ORDER else len(STATE_ORDER), job["name"])


def _mtime(path: Path) -> float | None:
    try:
        return path.stat().st_mtime
    except OSError:
        return None


def kubernetes_jobs(
    reader: Any, namespaces: list[str], usage: dict[str, dict[str, dict[str, float]]]
) -> list[dict[str, Any]]:
    """The jobs whose pods carry ``mlplat.io/job`` in ``namespaces``; ``usage``: per namespace, the
    metrics API's figures per pod (empty when it is absent).

    A job's state comes from its pods: failed when one failed, running when one runs, queued while
    all are pending, succeeded when all succeeded (the backend's finer rules need its handle).
    """
    from airflow_mlplat.launcher.labels import LABEL_INDEX, LABEL_JOB, LABEL_ROLE
    from airflow_mlplat.ui.resources.kube import pod_requests

    jobs: dict[tuple[str, str], dict[str, Any]] = {}
    for namespace in namespaces:
        for pod in reader.items(f"/api/v1/namespaces/{namespace}/pods", LABEL_JOB):
            meta = pod.get("metadata") or {}
            labels = meta.get("labels") or {}
            name = labels.get(LABEL_JOB, "")
            job = jobs.setdefault(
                (namespace, name),
                {"name": name, "backend": "kubernetes", "namespace": namespace, "replicas": [], "framework": None},
            )
            phase = (pod.get("status") or {}).get("phase", "Unknown")
            requested = pod_requests(pod)
            node_selector = (pod.get("spec") or {}).get("nodeSelector") or {}
            figures = usage.get(namespace, {}).get(meta.get("name", ""), {})
            job["replicas"].append(
                {
                    "name": f"{labels.get(LABEL_ROLE, '?')}-{labels.get(LABEL_INDEX, '?')}",
                    "pod": meta.get("name"),
                    "role": labels.get(LABEL_ROLE),
                    "state": phase.lower(),
                    "node": (pod.get("spec") or {}).get("nodeName"),
                    "requested": requested,
                    "gpu_type": node_selector.get("nvidia.com/gpu.product"),
                    "cpu_percent": figures.get("cpu_percent"),
                    "memory_bytes": figures.get("memory_bytes"),
                    "gpus": [],
                }
            )
    out = []
    for job in jobs.values():
        phases = [r["state"] for r in job["replicas"]]
        if "failed" in phases:
            state = "failed"
        elif "running" in phases:
            state = "running"
        elif phases and all(p == "succeeded" for p in phases):
            state = "succeeded"
        elif "pending" in phases:
            state = "queued"
        else:
            state = "unknown"
        counts = ", ".join(f"{phases.count(p)} {p}" for p in sorted(set(phases)))
        job.update(state=state, message=f"pods: {counts}")
        job["requested"] = {
            "cpu": sum(r["requested"]["cpu"] for r in job["replicas"]),
            "memory_bytes": sum(r["requested"]["memory_bytes"] for r in job["replicas"]),
            "gpus": _gpus_by_type(job["replicas"]),
        }
        _total(job)
        out.append(job)
    return sorted(out, key=_order)


def _gpus_by_type(replicas: list[dict[str, Any]]) -> dict[str, float]:
    out: dict[str, float] = {}
    for replica in replicas:
        count = replica["requested"]["gpus"]
        if count:
            kind = replica.get("gpu_type") or "any"
            out[kind] = out.get(kind, 0) + count
    return out
