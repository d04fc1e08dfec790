"""The ``TrainingJob`` spec: what a user asks for, validated before anything is created.

A job is a framework plus ``ps`` parameter servers and ``workers`` workers; the launcher turns it
into Kubernetes objects (``manifests.py``) or local processes (``backends/local.py``).
``ClusterProfile`` holds what the platform operator configures once per cluster (GPU node
labels, the shared-GPU resource, storage classes, TensorBoard image, ingress domain).

Every check of ``validate`` runs without a cluster; all problems are reported together in one
:class:`TrainingJobSpecError` naming the job and the field.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

FRAMEWORKS = ("tensorflow-ps", "tensorflow-multiworker", "pytorch", "paddle-ps", "paddle-collective")
#: Frameworks with parameter servers; the others must have ``ps=0``.
PS_FRAMEWORKS = frozenset({"tensorflow-ps", "paddle-ps"})
#: Frameworks whose training runs on a coordinator replica (``chief-0``) added by the launcher.
CHIEF_FRAMEWORKS = frozenset({"tensorflow-ps"})
#: Output URL schemes worker-0 can export to (fsspec protocols; hdfs in production).
OUTPUT_SCHEMES = frozenset({"hdfs", "webhdfs", "viewfs", "file", "s3", "s3a", "gs", "abfs", "oss"})
SOURCE_SCHEMES = OUTPUT_SCHEMES | {"http", "https"}

# Service names are RFC 1035 labels (a letter first), stricter than DNS-1123; job names become
# the prefix of every object name, so they follow the stricter rule.
_DNS_LABEL = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_QUANTITY = re.compile(r"^([+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))([eE][-+]?[0-9]+|m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$")
_MAX_NAME = 63


class TrainingJobSpecError(ValueError):
    """A training job spec is invalid; ``problems`` lists every ``field: message``."""

    def __init__(self, job: str, problems: Sequence[str]) -> None:
        self.job = job
        self.problems = list(problems)
        where = f"TrainingJob {job!r}"
        if len(self.problems) == 1:
            message = f"{where}: {self.problems[0]}"
        else:
            message = f"{where} is invalid ({len(self.problems)} problems):\n  " + "\n  ".join(self.problems)
        super().__init__(message)


@dataclass(frozen=True)
class Resources:
    """CPU, memory and GPUs of one replica. ``gpu`` below 1 asks for a share of one GPU."""

    cpu: str = "1"
    memory: str = "2Gi"
    gpu: float = 0

    @property
    def shared_gpu(self) -> bool:
        return 0 < self.gpu < 1

    @property
    def whole_gpus(self) -> int:
        return int(self.gpu) if self.gpu >= 1 else 0


@dataclass(frozen=True)
class DataVolume:
    """The job's PersistentVolumeClaim, mounted by every replica at ``mount_path``.

    One replica gets a ReadWriteOnce claim from ``storage_class`` (block storage, Ceph RBD on the
    reference platform); several get ReadWriteMany from ``shared_storage_class`` (CephFS).
    ``keep``: keep the claim (and its data) when the job fails or is killed.
    """

    size: str = "10Gi"
    storage_class: str | None = None
    shared_storage_class: str | None = None
    mount_path: str = "/mnt/mlplat/data"
    keep: bool = False


@dataclass(frozen=True)
class SharedGpu:
    """How a GPU request below 1 is expressed (fractional GPU sharing).

    ``mode="time-slicing"``: one unit of ``resource`` (NVIDIA device plugin time-slicing with
    ``renameByDefault``: ``nvidia.com/gpu.shared``). ``mode="memory"``: ``ceil(gpu *
    memory_per_gpu)`` units of a GPU-memory resource such as ``aliyun.com/gpu-mem`` (GiB).
    """

    mode: str = "time-slicing"
    resource: str = "nvidia.com/gpu.shared"
    memory_per_gpu: int = 16

    def limits(self, gpu: float) -> dict[str, str]:
        if self.mode == "memory":
            return {self.resource: str(max(1, math.ceil(gpu * self.memory_per_gpu)))}
        return {self.resource: "1"}


#: GPU type -> (node label, value): the labels NVIDIA GPU feature discovery puts on nodes.
DEFAULT_GPU_TYPES: Mapping[str, tuple[str, str]] = {
    "t4": ("nvidia.com/gpu.product", "Tesla-T4"),
    "v100": ("nvidia.com/gpu.product", "Tesla-V100-SXM2-32GB"),
    "a10": ("nvidia.com/gpu.product", "NVIDIA-A10"),
    "a100": ("nvidia.com/gpu.product", "NVIDIA-A100-SXM4-80GB"),
    "h100": ("nvidia.com/gpu.product", "NVIDIA-H100-80GB-HBM3"),
}


#: The images the Makefile builds a local runtime for (``make tf``, ``make paddle``; torch is in ``.venv``).
DEFAULT_LOCAL_RUNTIMES: Mapping[str, str] = {
    "tensorflow/tensorflow": ".venv-tf/bin/python",
    "paddlepaddle/paddle": ".venv-paddle/bin/python",
    "pytorch/pytorch": "platform",
    "python": "platform",
}


@dataclass(frozen=True)
class ClusterProfile:
    """Per-cluster settings the platform operator sets once (not per job)."""

    gpu_types: Mapping[str, tuple[str, str]] = field(default_factory=lambda: dict(DEFAULT_GPU_TYPES))
    gpu_resource: str = "nvidia.com/gpu"
    #: Node label holding a node's GPU count (GPU feature discovery); multi-GPU pods need a node with enough.
    gpu_count_label: str = "nvidia.com/gpu.count"
    shared_gpu: SharedGpu = field(default_factory=SharedGpu)
    storage_class: str = "ceph-rbd"
    shared_storage_class: str = "cephfs"
    tensorboard_image: str = "tensorflow/tensorflow:2.21.0"
    ingress_domain: str | None = None
    ingress_class: str | None = None
    #: Image of the init step that stages data and scripts; default: the job's image.
    init_image: str | None = None
    #: Local backend: image (or repository without tag) -> the interpreter that stands in for it.
    #: Relative paths are under the project root (``$MLPLAT_RUNTIMES_ROOT`` to move them);
    #: ``platform`` is the interpreter the platform itself runs on.
    local_runtimes: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_LOCAL_RUNTIMES))
    #: Local backend: what the machine lends to jobs, ``{"cpu": "2", "memory": "8Gi", "gpus": {"t4": 1}}``.
    #: A job that does not fit next to the running ones waits in ``queued``, first in, first out.
    #: None: no limit.
    local_capacity: Mapping[str, Any] | None = None

    @classmethod
    def from_dict(cls, value: Mapping[str, Any] | None) -> ClusterProfile:
        data = dict(value or {})
        if isinstance(data.get("shared_gpu"), Mapping):
            data["shared_gpu"] = SharedGpu(**data["shared_gpu"])
        if "gpu_types" in data:
            data["gpu_types"] = {k: tuple(v) for k, v in data["gpu_types"].items()}
        unknown = set(data) - {f.name for f in dataclasses.fields(cls)}
        if unknown:
            raise ValueError(f"ClusterProfile: unknown field(s) {sorted(unknown)}")
        return cls(**data)

    def to_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["gpu_types"] = {k: list(v) for k, v in self.gpu_types.items()}
        return out


@dataclass(frozen=True)
class TrainingJob:
    """A distributed training job.

    :param name: DNS label (lowercase letters, digits, ``-``, a letter first); prefixes every object.
    :param framework: one of ``FRAMEWORKS``.
    :param image: the container image of ps and workers.
    :param command: the command every replica runs (its role comes from the env).
    :param ps: parameter servers (>= 1 for ``tensorflow-ps`` and ``paddle-ps``, else 0).
    :param workers: workers (>= 1). Worker 0 is the chief: it exports the model.
    :param ps_resources: ``Resources`` (or a dict) of each ps.
    :param worker_resources: ``Resources`` (or a dict) of each worker.
    :param gpu_type: a key of the cluster profile's ``gpu_types`` (pods go to nodes with that label).
    :param data_volume: ``DataVolume`` (or dict) shared by the replicas; None: no claim.
    :param output_path: URL worker-0 exports the result to (``hdfs://...`` in production).
    :param tensorboard: start TensorBoard (Deployment, Service, Ingress) on the data volume.
    :param env: extra environment variables (must not shadow the launcher's own).
    :param timeout: seconds before the job is stopped and removed.
    :param data_source: URL of training data the init step stages into the data volume.
    :param code_source: URL of scripts the init step stages next to the data.
    :param backoff_limit: times a failed worker (or chief) is restarted before the job fails; it
        resumes from ``MLPLAT_CHECKPOINT_DIR``. 0 (default): fail fast, since a restarted worker
        cannot rejoin a running collective (PyTorch DDP, Paddle collective, MultiWorkerMirrored).
    :param pending_timeout: seconds a replica may stay unschedulable or unable to pull its image
        before the job fails, naming the reason.
    """

    name: str
    framework: str
    image: str
    command: tuple[str, ...]
    ps: int = 0
    workers: int = 1
    ps_resources: Resources = field(default_factory=Resources)
    worker_resources: Resources = field(default_factory=Resources)
    gpu_type: str | None = None
    data_volume: DataVolume | None = field(default_factory=DataVolume)
    output_path: str | None = None
    tensorboard: bool = False
    env: Mapping[str, str] = field(default_factory=dict)
    timeout: float = 24 * 3600.0
    data_source: str | None = None
    code_source: str | None = None
    backoff_limit: int = 0
    pending_timeout: float = 600.0

    @classmethod
    def from_dict(cls, value: Mapping[str, Any] | TrainingJob) -> TrainingJob:
        """Build a job from a dict (JSON, XCom, a DAG file); nested parts may be dicts."""
        if isinstance(value, TrainingJob):
            return value
        if not isinstance(value, Mapping):
            raise TrainingJobSpecError("?", [f"a job must be a dict or TrainingJob, got {type(value).__name__}"])
        data = dict(value)
        name = str(data.get("name", "?"))
        known = {f.name for f in dataclasses.fields(cls)}
        problems = [f"{key}: unknown field (known: {', '.join(sorted(known))})" for key in data if key not in known]
        missing = [f"{key}: required" for key in ("name", "framework", "image", "command") if key not in data]
        if problems or missing:
            raise TrainingJobSpecError(name, missing + problems)
        for key, kind in (("ps_resources", Resources), ("worker_resources", Resources), ("data_volume", DataVolume)):
            if isinstance(data.get(key), Mapping):
                try:
                    data[key] = kind(**data[key])
                except TypeError as err:
                    raise TrainingJobSpecError(name, [f"{key}: {err}"]) from None
        if isinstance(data.get("command"), (list, tuple)):
            data["command"] = tuple(data["command"])
        if isinstance(data.get("env"), Mapping):
            data["env"] = dict(data["env"])
        return cls(**data)

    def to_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["command"] = list(self.command)
        out["env"] = dict(self.env)
        return out

    def replicas(self) -> list[tuple[str, int]]:
        """``(role, index)`` of every replica: ps first, then the chief (``tensorflow-ps``), then workers."""
        chief = [("chief", 0)] if self.framework in CHIEF_FRAMEWORKS else []
        return [("ps", i) for i in range(self.ps)] + chief + [("worker", i) for i in range(self.workers)]

    @property
    def exporter(self) -> tuple[str, int]:
        """The replica that writes the model and metrics: the chief where there is one, else worker 0."""
        return ("chief", 0) if self.framework in CHIEF_FRAMEWORKS else ("worker", 0)

    @property
    def finishing_roles(self) -> frozenset[str]:
        """Roles whose success ends the job; every other replica serves until it is stopped.

        ``tensorflow-ps`` (TF 2 ``ParameterServerStrategy``): the chief trains, workers and ps are
        ``tf.distribute.Server`` processes that never exit by themselves.
        """
        return frozenset({"chief"}) if self.framework in CHIEF_FRAMEWORKS else frozenset({"worker"})

    def resources(self, role: str) -> Resources:
        return self.ps_resources if role == "ps" else self.worker_resources

    @property
    def distributed(self) -> bool:
        """More than one pod mounts the data volume (ReadWriteMany needed)."""
        return len(self.replicas()) + (1 if self.tensorboard else 0) > 1

    def validate(self, profile: ClusterProfile | None = None) -> TrainingJob:
        """Check every field; return self, or raise ``TrainingJobSpecError`` listing every problem."""
        from airflow_mlplat.launcher.env import RESERVED_ENV

        profile = profile or ClusterProfile()
        problems: list[str] = []
        add = problems.append
        if not isinstance(self.name, str) or not _DNS_LABEL.match(self.name):
            add(f"name must be a DNS label (lowercase letters, digits and '-', a letter first), got {self.name!r}")
        elif isinstance(self.workers, int) and len(longest_object_name(self)) > _MAX_NAME:
            add(f"name is too long: object name {longest_object_name(self)!r} would exceed {_MAX_NAME} characters")
        if self.framework not in FRAMEWORKS:
            add(f"framework must be one of {', '.join(FRAMEWORKS)}, got {self.framework!r}")
        if not isinstance(self.image, str) or not self.image.strip() or any(c.isspace() for c in self.image):
            add(f"image must be a non-empty image reference, got {self.image!r}")
        if not self.command or not all(isinstance(part, str) and part for part in self.command):
            add(f"command must be a non-empty list of non-empty strings, got {list(self.command or ())!r}")
        if not _is_int(self.workers) or self.workers < 1:
            add(f"workers must be an integer >= 1, got {self.workers!r}")
        if not _is_int(self.ps) or self.ps < 0:
            add(f"ps must be an integer >= 0, got {self.ps!r}")
        elif self.framework in PS_FRAMEWORKS and self.ps < 1:
            add(f"ps must be >= 1 for {self.framework} (it uses parameter servers), got {self.ps}")
        elif self.framework in FRAMEWORKS and self.framework not in PS_FRAMEWORKS and self.ps != 0:
            add(f"ps must be 0 for {self.framework} (it has no parameter servers), got {self.ps}")
        for role in ("ps", "worker"):
            problems.extend(_resource_problems(f"{role}_resources", self.resources(role)))
        any_gpu = any(
            isinstance(self.resources(role).gpu, (int, float)) and self.resources(role).gpu > 0
            for role, count in (("ps", self.ps), ("worker", self.workers))
            if _is_int(count) and count > 0
        )
        problems.extend(
            gpu_type_problems(self.gpu_type, profile, asks_for_gpu=any_gpu, unasked="no role requests a GPU")
        )
        if self.data_volume is not None:
            if not isinstance(self.data_volume, DataVolume):
                add(f"data_volume must be a DataVolume or dict, got {type(self.data_volume).__name__}")
            else:
                if not _valid_quantity(self.data_volume.size):
                    add(f"data_volume.size must be a Kubernetes quantity such as '10Gi', got {self.data_volume.size!r}")
                if not str(self.data_volume.mount_path).startswith("/"):
                    add(f"data_volume.mount_path must be absolute, got {self.data_volume.mount_path!r}")
        elif self.tensorboard:
            add("tensorboard needs a data_volume (TensorBoard reads the logs the workers write there)")
        for key, url, schemes in (
            ("output_path", self.output_path, OUTPUT_SCHEMES),
            ("data_source", self.data_source, SOURCE_SCHEMES),
            ("code_source", self.code_source, SOURCE_SCHEMES),
        ):
            if url is not None and urlparse(str(url)).scheme not in schemes:
                add(f"{key} must be a URL with a scheme among {', '.join(sorted(schemes))}, got {url!r}")
        if not isinstance(self.env, Mapping):
            add(f"env must be a mapping of names to strings, got {type(self.env).__name__}")
        else:
            for key, value in self.env.items():
                if not isinstance(key, str) or not _ENV_NAME.match(key):
                    add(f"env: {key!r} is not a valid environment variable name")
                elif key in RESERVED_ENV or key.startswith(("MLPLAT_", "PADDLE_")):
                    add(f"env: {key} is set by the launcher and cannot be overridden")
                if not isinstance(value, str):
                    add(f"env.{key} must be a string, got {value!r}")
        if isinstance(self.timeout, bool) or not isinstance(self.timeout, (int, float)) or not self.timeout > 0:
            add(f"timeout must be a number of seconds > 0, got {self.timeout!r}")
        if not _is_int(self.backoff_limit) or self.backoff_limit < 0:
            add(f"backoff_limit must be an integer >= 0, got {self.backoff_limit!r}")
        if (
            isinstance(self.pending_timeout, bool)
            or not isinstance(self.pending_timeout, (int, float))
            or not self.pending_timeout > 0
        ):
            add(f"pending_timeout must be a number of seconds > 0, got {self.pending_timeout!r}")
        if not isinstance(self.tensorboard, bool):
            add(f"tensorboard must be true or false, got {self.tensorboard!r}")
        if problems:
            raise TrainingJobSpecError(str(self.name), problems)
        return self


def longest_object_name(job: TrainingJob) -> str:
    """The longest object name the job creates (every name must fit a 63-character label)."""
    candidates = [f"{job.name}-worker-{max(job.workers - 1, 0)}", f"{job.name}-tensorboard"]
    if _is_int(job.ps) and job.ps > 0:
        candidates.append(f"{job.name}-ps-{job.ps - 1}")
    return max(candidates, key=len)


def parse_quantity(value: Any) -> float:
    """A Kubernetes quantity as a number (``500m`` -> 0.5, ``2Gi`` -> 2147483648); ValueError if it is not one."""
    match = _QUANTITY.match(str(value)) if _valid_quantity(value) else None
    if match is None:
        raise ValueError(f"not a Kubernetes quantity: {value!r}")
    number, suffix = float(match.group(1)), match.group(2) or ""
    if suffix[:1] in ("e", "E"):
        return number * 10 ** int(suffix[1:])
    return number * _SUFFIXES[suffix]


_SUFFIXES = {
    "": 1.0, "m": 1e-3, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "P": 1e15, "E": 1e18,
    "Ki": 2.0**10, "Mi": 2.0**20, "Gi": 2.0**30, "Ti": 2.0**40, "Pi": 2.0**50, "Ei": 2.0**60,
}  # fmt: skip


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _valid_quantity(value: Any) -> bool:
    return isinstance(value, (str, int, float)) and not isinstance(value, bool) and bool(_QUANTITY.match(str(value)))


def _resource_problems(key: str, res: Any) -> list[str]:
    if not isinstance(res, Resources):
        return [f"{key} must be Resources or a dict, got {type(res).__name__}"]
    problems = []
    if not _valid_quantity(res.cpu) or float(_QUANTITY.match(str(res.cpu)).group(1) or 0) <= 0:
        problems.append(f"{key}.cpu must be a positive Kubernetes quantity such as '2' or '500m', got {res.cpu!r}")
    if not _valid_quantity(res.memory):
        problems.append(f"{key}.memory must be a Kubernetes quantity such as '4Gi', got {res.memory!r}")
    return problems + gpu_problems(f"{key}.gpu", res.gpu)


def gpu_problems(key: str, gpu: Any) -> list[str]:
    """What is wrong with a GPU request ``gpu`` (a whole number of GPUs, or a share below 1) named ``key``."""
    if isinstance(gpu, bool) or not isinstance(gpu, (int, float)) or gpu < 0 or math.isnan(gpu):
        return [f"{key} must be a number >= 0, got {gpu!r}"]
    if gpu > 1 and gpu != int(gpu):
        return [f"{key} must be a whole number of GPUs or a share below 1, got {gpu!r}"]
    return []


def gpu_type_problems(
    gpu_type: str | None, profile: ClusterProfile, *, asks_for_gpu: bool, unasked: str = "no GPU is asked for"
) -> list[str]:
    """What is wrong with ``gpu_type``: unknown to the profile's node labels, or set while no GPU is asked for."""
    if gpu_type is None:
        return []
    if gpu_type not in profile.gpu_types:
        known = ", ".join(sorted(profile.gpu_types)) or "none configured"
        return [f"gpu_type {gpu_type!r} maps to no node label (known GPU types: {known})"]
    if not asks_for_gpu:
        return [f"gpu_type {gpu_type!r} is set but {unasked}"]
    return []
