"""The ``local`` backend: every replica of a job as a process on this machine.

It builds the job's Kubernetes manifests with a local ``Placement`` (every host 127.0.0.1, a free
port per replica, the data volume a directory) and validates them; a controller process
(``local_controller.py``) then starts each pod's init steps and main container from those
manifests, with exactly their env, and applies the lifecycle rules Kubernetes would: a failed
worker restarted up to ``backoff_limit`` times, serving replicas stopped once the finishing ones
(workers, or the chief) succeeded, everything stopped on a failure, timeout or kill.

Each image runs on its local runtime (``runtimes.py``: ``.venv-tf`` for TensorFlow's image,
``.venv-paddle`` for Paddle's), which starts from an allow-listed environment: no Airflow
connection, database URL or key of the submitter reaches a replica or a file.

With ``local_capacity`` in the cluster profile a job waits in ``queued`` until it fits next to the
running ones (``local_queue.py``, first in, first out).

The job's state directory ``STATE_ROOT/NAME/`` holds ``spec.json``, ``handle.json``,
``manifests.json``, ``status.json`` (written by the controller), ``controller.pid``/``controller.log``,
``data/`` (the "PVC"), ``work/`` and ``pods/REPLICA/log``. The controller outlives the task that
submitted it (a deferred operator's worker slot is released), like a cluster does. When the job is
over (``finish``, ``kill``) the directory is removed, except ``data/`` when the job keeps its volume.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from airflow_mlplat.launcher.backends.base import (
    FAILED,
    PENDING,
    JobStatus,
    LauncherError,
    TrainingBackend,
    timed_out,
)
from airflow_mlplat.launcher.spec import TrainingJob
from airflow_mlplat.services.process import LOOPBACK, free_port, pid_alive

STATE_ROOT_ENV = "MLPLAT_LAUNCHER_ROOT"
STATUS_FILE = "status.json"
MANIFESTS_FILE = "manifests.json"
CONTROLLER_PID = "controller.pid"
#: How long ``kill``/``finish`` wait for the controller to stop the replicas before doing it themselves.
CONTROLLER_GRACE = 30.0


def default_state_root() -> str:
    """``$MLPLAT_LAUNCHER_ROOT``, else ``$MLPLAT_RUN_ROOT/launcher``, else ``$AIRFLOW_HOME/mlplat-runs/launcher``."""
    if os.environ.get(STATE_ROOT_ENV):
        return os.environ[STATE_ROOT_ENV]
    if os.environ.get("MLPLAT_RUN_ROOT"):
        return os.path.join(os.environ["MLPLAT_RUN_ROOT"], "launcher")
    home = os.environ.get("AIRFLOW_HOME") or os.path.join(os.path.expanduser("~"), "airflow")
    return os.path.join(home, "mlplat-runs", "launcher")


def write_json(path: Path, value: Any) -> None:
    """Write atomically: readers never see half a file."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(value, indent=1, sort_keys=True))
    os.replace(tmp, path)


def read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        return None


def stop_group(pid: int, grace: float = 5.0) -> None:
    """SIGTERM the process group of ``pid``, SIGKILL it after ``grace`` seconds."""
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(pid, sig)
        except (ProcessLookupError, PermissionError):
            return
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if not pid_alive(pid) and not _group_alive(pid):
                return
            time.sleep(0.05)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    return True


class LocalBackend(TrainingBackend):
    """Run jobs as local processes under ``state_root`` (default ``default_state_root()``).

    ``profile``: ``ClusterProfile`` fields as a dict; the manifests are built with it, as on a
    cluster, and its ``local_runtimes`` and ``local_capacity`` apply here.
    """

    name = "local"

    def __init__(self, state_root: str | os.PathLike[str] | None = None, profile: dict[str, Any] | None = None) -> None:
        from airflow_mlplat.launcher.spec import ClusterProfile

        self.state_root = os.fspath(state_root) if state_root is not None else default_state_root()
        self.profile_options = dict(profile or {})
        self.profile = ClusterProfile.from_dict(profile)

    def handle(self, job: TrainingJob) -> dict[str, Any]:
        handle = {
            "backend": self.name,
            "options": {"state_root": self.state_root, "profile": self.profile_options},
            "job": job.name,
            "state_dir": os.path.join(self.state_root, job.name),
            "deadline": time.time() + float(job.timeout),
            "keep_data": bool(job.data_volume and job.data_volume.keep),
            "output_path": job.output_path,
        }
        if job.tensorboard:
            handle["tensorboard_url"] = f"http://{LOOPBACK}:{free_port()}/"
        return handle

    def attach(self, name: str) -> dict[str, Any]:
        handle = read_json(Path(self.state_root) / name / "handle.json")
        if handle is None:
            raise LauncherError(f"no local training job {name!r} under {self.state_root}")
        return handle

    def queue(self):
        from airflow_mlplat.launcher.backends.local_queue import LocalQueue

        capacity = self.profile.local_capacity
        return None if capacity is None else LocalQueue(self.state_root, capacity)

    # -- submit ---------------------------------------------------------------------------
    def placement(self, job: TrainingJob, state_dir: Path):
        from airflow_mlplat.launcher.env import Placement

        keys = job.replicas()
        return Placement(
            hosts={key: LOOPBACK for key in keys},
            ports={key: free_port() for key in keys},
            data_dir=str(state_dir / "data"),
            work_dir=str(state_dir / "work"),
            metrics_files={(r, i): str(state_dir / "pods" / f"{r}-{i}" / "termination-log") for r, i in keys},
        )

    def check_runtimes(self, job: TrainingJob) -> None:
        """Every image the job needs has a local runtime (before anything is created)."""
        from airflow_mlplat.launcher.runtimes import RuntimeNotFound, resolve

        images = {job.image}
        if job.data_source or job.code_source:
            images.add(self.profile.init_image or job.image)
        if job.tensorboard:
            images.add(self.profile.tensorboard_image)
        for image in sorted(images):
            try:
                resolve(image, self.profile.local_runtimes)
            except RuntimeNotFound as err:
                raise LauncherError(f"training job {job.name!r}: {err}") from None

    def submit(self, job: TrainingJob, handle: dict[str, Any]) -> None:
        from airflow_mlplat.kube.schema import validate_manifests
        from airflow_mlplat.launcher.backends.local_queue import CapacityError
        from airflow_mlplat.launcher.manifests import build_manifests
        from airflow_mlplat.launcher.runtimes import INHERITED_ENV, replica_base_env

        job.validate(self.profile)
        self.check_runtimes(job)
        queue = self.queue()
        if queue is not None:
            try:
                queue.check_fits(job)
            except CapacityError as err:
                raise LauncherError(str(err)) from None
        state_dir = Path(handle["state_dir"])
        if self._controller_alive(state_dir):
            raise LauncherError(f"local job {job.name!r} is already running (state dir {state_dir})")
        self._clear(state_dir, keep_data=bool(handle.get("keep_data")))
        for sub in ("data", "work", "pods"):
            (state_dir / sub).mkdir(parents=True, exist_ok=True)
        os.chmod(state_dir, 0o700)
        placement = self.placement(job, state_dir)
        docs = validate_manifests(
            build_manifests(
                job,
                namespace="local",
                profile=self.profile,
                placement=placement,
                deadline=handle["deadline"],
                ingress=False,
            )
        )
        write_json(state_dir / "spec.json", job.to_dict())
        write_json(state_dir / "handle.json", handle)
        write_json(state_dir / MANIFESTS_FILE, docs)
        if queue is not None:
            queue.enqueue(job)
        # The controller gets only the allow-listed variables (replicas build theirs from it): the
        # submitter's connections and keys are in no file and no child process.
        env = replica_base_env(sys.executable, {k: v for k, v in os.environ.items() if k in INHERITED_ENV})
        with open(state_dir / "controller.log", "ab") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", "airflow_mlplat.launcher.backends.local_controller", str(state_dir)],
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
                start_new_session=True,
            )
        (state_dir / CONTROLLER_PID).write_text(str(proc.pid))
        handle["controller_pid"] = proc.pid

    @staticmethod
    def _clear(state_dir: Path, keep_data: bool) -> None:
        if not state_dir.exists():
            return
        for child in state_dir.iterdir():
            if keep_data and child.name == "data":
                continue
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child)
            else:
                child.unlink()

    # -- watch ----------------------------------------------------------------------------
    def status(self, handle: dict[str, Any]) -> JobStatus:
        state_dir = Path(handle["state_dir"])
        raw = read_json(state_dir / STATUS_FILE)
        alive = self._controller_alive(state_dir)
        if raw is None:
            if alive:
                return JobStatus(PENDING, "local controller starting")
            if not (state_dir / "spec.json").exists():
                return JobStatus(FAILED, f"local job {handle['job']!r} not found (no {state_dir / 'spec.json'})")
            tail = self._tail(state_dir / "controller.log")
            return JobStatus(FAILED, f"local controller exited before starting; log:\n{tail}")
        status = JobStatus.from_dict(raw["status"])
        if not status.done and not alive:
            return JobStatus(
                FAILED,
                f"local controller of {handle['job']!r} died; log:\n{self._tail(state_dir / 'controller.log')}",
                status.replicas,
            )
        if not status.done and timed_out(handle, time.time() - CONTROLLER_GRACE):
            return JobStatus(FAILED, f"timed out (deadline {handle['deadline']:.0f} passed)", status.replicas)
        return status

    def logs(self, handle: dict[str, Any], replica: str = "worker-0", tail: int = 100) -> str:
        return self._tail(Path(handle["state_dir"]) / "pods" / replica / "log", tail)

    @staticmethod
    def _tail(path: Path, lines: int = 40) -> str:
        try:
            return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return ""

    def export_checkpoint(self, handle: dict[str, Any]) -> str:
        from airflow_mlplat.launcher.stage import newest_checkpoint, publish

        if not handle.get("output_path"):
            raise LauncherError(f"training job {handle['job']!r} has no output_path to export a checkpoint to")
        try:
            newest = newest_checkpoint(Path(handle["state_dir"]) / "data" / "checkpoints")
        except FileNotFoundError as err:
            raise LauncherError(f"training job {handle['job']!r}: {err}") from None
        dest = f"{handle['output_path'].rstrip('/')}/checkpoints/{newest.name}"
        publish(newest, dest)
        return dest

    # -- cleanup --------------------------------------------------------------------------
    def finish(self, handle: dict[str, Any], status: JobStatus) -> None:
        state_dir = Path(handle["state_dir"])
        self._wait_controller(state_dir, CONTROLLER_GRACE)
        # The controller applied the rules already; this catches a controller that died midway.
        self._stop_leftovers(state_dir)
        self._remove(handle)

    def kill(self, handle: dict[str, Any]) -> None:
        state_dir = Path(handle["state_dir"])
        if not state_dir.exists():
            return
        pid = self._controller_pid(state_dir)
        if pid is not None and pid_alive(pid):
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            self._wait_controller(state_dir, CONTROLLER_GRACE)
            if pid_alive(pid):
                stop_group(pid, grace=0)
        self._stop_leftovers(state_dir)
        self._remove(handle)

    def _remove(self, handle: dict[str, Any]) -> None:
        """One rule for success, failure and kill: nothing stays but the volume the job asked to keep."""
        state_dir = Path(handle["state_dir"])
        self._clear(state_dir, keep_data=bool(handle.get("keep_data")))
        if not handle.get("keep_data"):
            shutil.rmtree(state_dir, ignore_errors=True)
        queue = self.queue()
        if queue is not None:
            queue.release(handle["job"])

    def _stop_leftovers(self, state_dir: Path) -> None:
        raw = read_json(state_dir / STATUS_FILE)
        if not raw:
            return
        for info in raw["status"]["replicas"].values():
            for pid in info.get("pids", []):
                if pid_alive(pid) or _group_alive(pid):
                    stop_group(pid)

    @staticmethod
    def _controller_pid(state_dir: Path) -> int | None:
        try:
            return int((state_dir / CONTROLLER_PID).read_text())
        except (FileNotFoundError, ValueError):
            return None

    def _controller_alive(self, state_dir: Path) -> bool:
        pid = self._controller_pid(state_dir)
        return pid is not None and pid_alive(pid)

    def _wait_controller(self, state_dir: Path, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while self._controller_alive(state_dir) and time.monotonic() < deadline:
            time.sleep(0.1)
