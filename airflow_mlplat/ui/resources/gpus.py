"""GPUs by type: this machine's through ``nvidia-smi``, a cluster's through the device plugin's node resources.

``nvidia-smi`` lists each GPU (name, memory, utilisation) and the processes using it; the page
puts those processes' GPU memory on the replicas and services they belong to. On Kubernetes the
device plugin advertises ``nvidia.com/gpu`` in each node's capacity and allocatable resources;
the node's ``nvidia.com/gpu.product`` label (GPU feature discovery) names the type.
"""

from __future__ import annotations

import shutil
import subprocess
from typing import Any

from airflow_mlplat.ui.resources.sources import ERROR, OFF, REQUEST_TIMEOUT, UNREACHABLE, SourceUnavailable

GPU_QUERY = "index,uuid,name,memory.total,memory.used,utilization.gpu"
APPS_QUERY = "gpu_uuid,pid,used_memory"
MIB = 2**20


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None  # "[N/A]", "[Not Supported]"


def parse_gpus(csv: str) -> list[dict[str, Any]]:
    """Rows of ``nvidia-smi --query-gpu=GPU_QUERY --format=csv,noheader,nounits``."""
    gpus = []
    for line in csv.splitlines():
        if not line.strip():
            continue
        index, uuid, name, total, used, utilization = (part.strip() for part in line.split(",", 5))
        total_mib, used_mib = _number(total), _number(used)
        gpus.append(
            {
                "source": "nvidia-smi",
                "index": int(index),
                "uuid": uuid,
                "type": name,
                "memory_total_bytes": int(total_mib * MIB) if total_mib is not None else None,
                "memory_used_bytes": int(used_mib * MIB) if used_mib is not None else None,
                "utilization_percent": _number(utilization),
                "processes": [],
            }
        )
    return gpus


def parse_apps(csv: str) -> list[dict[str, Any]]:
    """Rows of ``nvidia-smi --query-compute-apps=APPS_QUERY --format=csv,noheader,nounits``."""
    apps = []
    for line in csv.splitlines():
        if not line.strip():
            continue
        uuid, pid, used = (part.strip() for part in line.split(",", 2))
        used_mib = _number(used)
        apps.append(
            {"uuid": uuid, "pid": int(pid), "memory_bytes": int(used_mib * MIB) if used_mib is not None else None}
        )
    return apps


def _smi(binary: str, query: str) -> str:
    try:
        done = subprocess.run(
            [binary, query, "--format=csv,noheader,nounits"], capture_output=True, text=True, timeout=REQUEST_TIMEOUT
        )
    except subprocess.TimeoutExpired:
        raise SourceUnavailable(UNREACHABLE, f"nvidia-smi did not answer within {REQUEST_TIMEOUT:g} s") from None
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or [""]
        raise SourceUnavailable(ERROR, f"nvidia-smi {query} exited with code {done.returncode}: {tail[0]}")
    return done.stdout


def local_gpus(binary: str | None = None) -> list[dict[str, Any]]:
    """This machine's GPUs, each with the processes using it; ``OFF`` when there is no ``nvidia-smi``."""
    binary = binary or shutil.which("nvidia-smi")
    if binary is None:
        raise SourceUnavailable(OFF, "no nvidia-smi on this machine (the API server's): no local GPUs to report")
    gpus = parse_gpus(_smi(binary, f"--query-gpu={GPU_QUERY}"))
    by_uuid = {gpu["uuid"]: gpu for gpu in gpus}
    for app in parse_apps(_smi(binary, f"--query-compute-apps={APPS_QUERY}")):
        gpu = by_uuid.get(app["uuid"])
        if gpu is not None:
            gpu["processes"].append({"pid": app["pid"], "memory_bytes": app["memory_bytes"]})
    return gpus


def kubernetes_gpus(
    reader: Any, gpu_resource: str = "nvidia.com/gpu", type_label: str = "nvidia.com/gpu.product"
) -> list[dict[str, Any]]:
    """One row per node whose device plugin advertises ``gpu_resource``: its type, capacity and allocatable count."""
    from airflow_mlplat.ui.resources.kube import quantity

    rows = []
    for node in reader.items("/api/v1/nodes"):
        status = node.get("status") or {}
        capacity = (status.get("capacity") or {}).get(gpu_resource)
        if capacity is None:
            continue
        meta = node.get("metadata") or {}
        rows.append(
            {
                "source": "kubernetes",
                "node": meta.get("name"),
                "type": (meta.get("labels") or {}).get(type_label) or "unlabelled",
                "capacity": int(quantity(capacity)),
                "allocatable": int(quantity((status.get("allocatable") or {}).get(gpu_resource, 0))),
            }
        )
    return rows


def attach_to_processes(gpus: list[dict[str, Any]], rows: list[dict[str, Any]]) -> None:
    """Put each GPU process on the row (replica or service) whose process tree holds its pid."""
    owners = {pid: row for row in rows for pid in row.get("pids") or []}
    for gpu in gpus:
        for process in gpu.get("processes", []):
            row = owners.get(process["pid"])
            if row is not None:
                row.setdefault("gpus", []).append(
                    {"index": gpu["index"], "type": gpu["type"], "memory_bytes": process["memory_bytes"]}
                )
