"""The environment contract: which variables each replica of each framework gets.

Both backends read this one module: the Kubernetes manifests put these variables into each
container, and the local backend starts each process with exactly the env of its manifest.
Only the addresses and paths differ, and they come from the ``Placement``.

Names, by framework:

- ``tensorflow-ps``: ``PS_HOSTS``, ``WORKER_HOSTS``, ``JOB_NAME`` (ps|worker|chief), ``TASK_INDEX`` (the
  reference platform's contract) plus ``CHIEF_HOSTS`` and ``TF_CONFIG``. TF 2's
  ``ParameterServerStrategy`` needs a coordinator, so the launcher adds one ``chief`` replica: it
  trains and exports; ps and workers serve (``tf.distribute.Server``) until they are stopped.
- ``tensorflow-multiworker``: ``TF_CONFIG`` only (``MultiWorkerMirroredStrategy`` reads it).
- ``pytorch``: ``MASTER_ADDR``, ``MASTER_PORT``, ``WORLD_SIZE``, ``RANK``, as Kubeflow's PyTorchJob
  sets them for ``init_process_group(init_method="env://")``; worker-0 is the master.
- ``paddle-ps``: what ``paddle.distributed.fleet.PaddleCloudRoleMaker(is_collective=False)`` reads:
  ``TRAINING_ROLE`` (TRAINER|PSERVER), ``PADDLE_PSERVERS_IP_PORT_LIST``, ``PADDLE_TRAINER_ENDPOINTS``,
  ``PADDLE_TRAINERS_NUM``, ``PADDLE_TRAINER_ID`` (trainers), ``POD_IP`` and ``PADDLE_PORT`` (every
  replica: a pserver's ``POD_IP:PADDLE_PORT`` must be one entry of ``PADDLE_PSERVERS_IP_PORT_LIST``,
  so ``POD_IP`` holds the same host name as the list rather than the pod's IP; the role maker
  also requires them of trainers).
  Source: Paddle's PaddleCloudRoleMaker docs
  (https://paddlepaddle.org.cn/documentation/api/paddle/distributed/fleet/PaddleCloudRoleMaker_cn.html)
  and ``_ps_env`` in python/paddle/distributed/fleet/base/role_maker.py.
- ``paddle-collective``: ``PADDLE_TRAINER_ID``, ``PADDLE_TRAINERS_NUM``, ``PADDLE_TRAINER_ENDPOINTS``,
  ``PADDLE_CURRENT_ENDPOINT`` (``paddle.distributed.ParallelEnv`` and ``_collective_env``:
  https://paddlepaddle.org.cn/documentation/docs/zh/api/paddle/distributed/ParallelEnv_cn.html).

Every replica also gets ``MLPLAT_*`` variables: job name, role, index, data dir, output path,
whether it exports (the chief, else worker-0), where to write final metrics, the TensorBoard log
dir, ``MLPLAT_CHECKPOINT_DIR`` (shared: each checkpoint a directory under it, written under a name
starting with ``.`` and renamed, so the newest complete one can be exported or resumed from) and
``MLPLAT_MODEL_DIR`` (this replica's own; the platform copies the exporting replica's to the
job's output URL once the job succeeded).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from airflow_mlplat.launcher.spec import TrainingJob

#: The port each role listens on in a pod (a fixed port is fine: every replica has its own Service).
DEFAULT_PORTS = {
    "tensorflow-ps": 2222,
    "tensorflow-multiworker": 2222,
    "pytorch": 23456,  # Kubeflow PyTorchJob's default master port
    "paddle-ps": 36001,
    "paddle-collective": 36001,
}

RESERVED_ENV = frozenset(
    {
        "PS_HOSTS",
        "WORKER_HOSTS",
        "CHIEF_HOSTS",
        "JOB_NAME",
        "TASK_INDEX",
        "TF_CONFIG",
        "MASTER_ADDR",
        "MASTER_PORT",
        "WORLD_SIZE",
        "RANK",
        "TRAINING_ROLE",
        "POD_IP",
        "PYTHONUNBUFFERED",
    }
)


@dataclass(frozen=True)
class Placement:
    """Where replicas listen and where their files go: DNS names in a cluster, 127.0.0.1 locally.

    ``hosts[(role, index)]`` is the host name of that replica, ``ports[(role, index)]`` its port.
    ``metrics_files`` maps a replica to the file it writes final metrics to (default
    ``/dev/termination-log``: Kubernetes returns it as the container's termination message).
    """

    hosts: dict[tuple[str, int], str]
    ports: dict[tuple[str, int], int]
    data_dir: str
    work_dir: str
    metrics_files: dict[tuple[str, int], str] = field(default_factory=dict)

    def address(self, role: str, index: int) -> str:
        return f"{self.hosts[(role, index)]}:{self.ports[(role, index)]}"

    def metrics_file(self, role: str, index: int) -> str:
        return self.metrics_files.get((role, index), "/dev/termination-log")

    @property
    def tensorboard_dir(self) -> str:
        return f"{self.data_dir.rstrip('/')}/tensorboard"

    @property
    def input_dir(self) -> str:
        return f"{self.data_dir.rstrip('/')}/input"

    @property
    def checkpoint_dir(self) -> str:
        return f"{self.data_dir.rstrip('/')}/checkpoints"

    def model_dir(self, role: str, index: int) -> str:
        return f"{self.data_dir.rstrip('/')}/model/{role}-{index}"


def replica_name(job: TrainingJob, role: str, index: int) -> str:
    """The object name of one replica: its Service, and its Job or Deployment."""
    return f"{job.name}-{role}-{index}"


def kubernetes_placement(job: TrainingJob, namespace: str) -> Placement:
    """Each replica reachable through its own headless Service: ``NAME-ROLE-I.NAMESPACE.svc``."""
    port = DEFAULT_PORTS[job.framework]
    hosts = {(role, i): f"{replica_name(job, role, i)}.{namespace}.svc" for role, i in job.replicas()}
    mount = job.data_volume.mount_path if job.data_volume else "/mnt/mlplat/data"
    return Placement(
        hosts=hosts,
        ports={key: port for key in hosts},
        data_dir=mount,
        work_dir="/mnt/mlplat/work",
    )


def role_env(job: TrainingJob, placement: Placement, role: str, index: int) -> dict[str, str]:
    """The environment of replica ``(role, index)``, in a stable order; the user's ``env`` last."""
    ps = [placement.address("ps", i) for i in range(job.ps)]
    workers = [placement.address("worker", i) for i in range(job.workers)]
    env: dict[str, str] = {"PYTHONUNBUFFERED": "1"}
    fw = job.framework
    if fw == "tensorflow-ps":
        chief = [placement.address("chief", 0)]
        env.update(
            PS_HOSTS=",".join(ps),
            WORKER_HOSTS=",".join(workers),
            CHIEF_HOSTS=",".join(chief),
            JOB_NAME=role,
            TASK_INDEX=str(index),
            TF_CONFIG=_tf_config({"chief": chief, "ps": ps, "worker": workers}, role, index),
        )
    elif fw == "tensorflow-multiworker":
        env["TF_CONFIG"] = _tf_config({"worker": workers}, role, index)
    elif fw == "pytorch":
        env.update(
            MASTER_ADDR=placement.hosts[("worker", 0)],
            MASTER_PORT=str(placement.ports[("worker", 0)]),
            WORLD_SIZE=str(job.workers),
            RANK=str(index),
        )
    elif fw == "paddle-ps":
        env.update(
            TRAINING_ROLE="PSERVER" if role == "ps" else "TRAINER",
            PADDLE_PSERVERS_IP_PORT_LIST=",".join(ps),
            PADDLE_TRAINER_ENDPOINTS=",".join(workers),
            PADDLE_TRAINERS_NUM=str(job.workers),
        )
        # Paddle's role maker reads its own host and port from POD_IP/PADDLE_PORT on trainers too.
        env.update(POD_IP=placement.hosts[(role, index)], PADDLE_PORT=str(placement.ports[(role, index)]))
        if role != "ps":
            env["PADDLE_TRAINER_ID"] = str(index)
    elif fw == "paddle-collective":
        env.update(
            PADDLE_TRAINER_ID=str(index),
            PADDLE_TRAINERS_NUM=str(job.workers),
            PADDLE_TRAINER_ENDPOINTS=",".join(workers),
            PADDLE_CURRENT_ENDPOINT=placement.address(role, index),
        )
    else:  # validate() rejects it first; this guards direct calls
        raise ValueError(f"TrainingJob {job.name!r}: unknown framework {fw!r}")
    env.update(
        MLPLAT_JOB_NAME=job.name,
        MLPLAT_FRAMEWORK=fw,
        MLPLAT_ROLE=role,
        MLPLAT_INDEX=str(index),
        MLPLAT_NUM_PS=str(job.ps),
        MLPLAT_NUM_WORKERS=str(job.workers),
        MLPLAT_DATA_DIR=placement.data_dir,
        MLPLAT_INPUT_DIR=placement.input_dir,
        MLPLAT_EXPORT="1" if (role, index) == job.exporter else "0",
        MLPLAT_METRICS_FILE=placement.metrics_file(role, index),
        MLPLAT_CHECKPOINT_DIR=placement.checkpoint_dir,
        MLPLAT_MODEL_DIR=placement.model_dir(role, index),
    )
    if job.output_path:
        env["MLPLAT_OUTPUT_PATH"] = job.output_path
    if job.tensorboard:
        env["MLPLAT_TENSORBOARD_DIR"] = placement.tensorboard_dir
    env.update({k: str(v) for k, v in job.env.items()})
    return env


def _tf_config(cluster: dict[str, list[str]], role: str, index: int) -> str:
    return json.dumps({"cluster": cluster, "task": {"type": role, "index": index}}, separators=(",", ":"))
