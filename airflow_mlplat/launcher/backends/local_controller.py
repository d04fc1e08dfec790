"""The local backend's controller: runs the pods of ``manifests.json`` as processes and watches them.

``python -m airflow_mlplat.launcher.backends.local_controller STATE_DIR`` (started by
``LocalBackend.submit``). Each ps Deployment and chief or worker Job becomes one replica: its init
containers, then its main container, each a process with the container's command, env (on top
of the runtime's base env: ``runtimes.replica_base_env``) and working directory, in its own
process group, killed by the kernel if this controller dies. ``python``/``python3`` as a
command's first word is the interpreter of the image's local runtime.

Rules (the same as the Kubernetes backend's):
- with a capacity, the job waits in ``queued`` until ``LocalQueue`` admits it;
- a chief or worker whose main container fails is restarted in place up to ``backoff_limit``
  times (``restartPolicy: OnFailure``), after 1, 2, 4... s (at most ``MAX_BACKOFF``);
- a Job replica that fails beyond that, a ps that exits, the deadline or SIGTERM stop every
  replica and fail the job;
- once every replica of the finishing roles (workers, or the chief) succeeded, the others (ps,
  TensorFlow's serving workers, TensorBoard) are stopped and the job succeeds with the exporting
  replica's metrics file as its metrics.
``status.json`` is rewritten atomically on every change.
"""

from __future__ import annotations

import ctypes
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from airflow_mlplat.launcher.backends.base import FAILED, QUEUED, RUNNING, SUCCEEDED, JobStatus
from airflow_mlplat.launcher.backends.local import (
    MANIFESTS_FILE,
    STATUS_FILE,
    read_json,
    stop_group,
    write_json,
)
from airflow_mlplat.launcher.labels import LABEL_INDEX, LABEL_ROLE, MAIN_CONTAINER
from airflow_mlplat.launcher.runtimes import replica_base_env, resolve
from airflow_mlplat.launcher.spec import ClusterProfile, TrainingJob

POLL = 0.2
#: The first restart waits this long, each next one twice as long (Kubernetes starts at 10 s).
FIRST_BACKOFF = 1.0
MAX_BACKOFF = 60.0
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except OSError:  # not Linux: the controller's own cleanup still applies
        pass


class Replica:
    """One pod: a queue of container commands (init steps, then main) run one after another."""

    def __init__(
        self,
        name: str,
        role: str,
        index: int,
        pod_spec: dict[str, Any],
        state_dir: Path,
        interpreter: str,
        backoff_limit: int = 0,
        init_interpreter: str | None = None,
    ) -> None:
        self.name, self.role, self.index = name, role, index
        self.dir = state_dir / "pods" / name
        self.dir.mkdir(parents=True, exist_ok=True)
        self.init_steps = len(pod_spec.get("initContainers", []))
        self.steps = [*pod_spec.get("initContainers", []), *pod_spec["containers"]]
        self.interpreter = interpreter
        self.init_interpreter = init_interpreter or interpreter
        self.backoff_limit = backoff_limit
        self.proc: subprocess.Popen | None = None
        self.pids: list[int] = []
        self.step = -1
        self.state = "pending"
        self.exit_code: int | None = None
        self.restarts = 0
        self.restart_at: float | None = None

    def start_next(self) -> None:
        self.step += 1
        container = self.steps[self.step]
        interpreter = self.init_interpreter if self.step < self.init_steps else self.interpreter
        env = replica_base_env(interpreter, os.environ)
        env.update({e["name"]: e.get("value", "") for e in container.get("env", [])})
        command = list(container["command"])
        if command[0] in ("python", "python3"):
            command[0] = interpreter
        cwd = container.get("workingDir")
        if cwd:
            Path(cwd).mkdir(parents=True, exist_ok=True)
        with open(self.dir / "log", "ab") as log:
            log.write(f"--- {container['name']}: {' '.join(command)}\n".encode())
            log.flush()
            self.proc = subprocess.Popen(
                command,
                env=env,
                cwd=cwd or None,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                preexec_fn=_die_with_parent,
            )
        self.pids.append(self.proc.pid)
        self.state = "running" if container["name"] == MAIN_CONTAINER else f"init:{container['name']}"

    def poll(self) -> None:
        """Advance: start the next step when one finished, restart a failed main container while
        the backoff limit allows, record the main container's exit."""
        if self.proc is None:
            if self.restart_at is not None:
                if time.time() < self.restart_at:
                    return
                self.restart_at = None
            self.start_next()
            return
        code = self.proc.poll()
        if code is None:
            return
        self.proc = None
        if code == 0 and self.step + 1 < len(self.steps):
            self.start_next()
            return
        main = self.step == len(self.steps) - 1
        if code != 0 and main and self.restarts < self.backoff_limit:
            delay = min(FIRST_BACKOFF * 2**self.restarts, MAX_BACKOFF)
            self.restarts += 1
            note = f"--- exited with code {code}; restart {self.restarts}/{self.backoff_limit} in {delay:g} s\n"
            with open(self.dir / "log", "ab") as log:
                log.write(note.encode())
            self.step -= 1  # the main container again, as the kubelet restarts it in place
            self.restart_at = time.time() + delay
            self.state = "restarting"
            return
        self.exit_code = code
        self.state = "succeeded" if code == 0 else "failed"

    @property
    def finished(self) -> bool:
        return self.state in ("succeeded", "failed", "stopped")

    def stop(self) -> None:
        for pid in self.pids:  # every group this replica ever had, in case a step left children
            stop_group(pid)
        if self.proc is not None:
            self.proc.wait()
            self.proc = None
        if not self.finished:
            self.state = "stopped"

    def to_dict(self) -> dict[str, Any]:
        return {
            "role": self.role,
            "index": self.index,
            "pid": self.pids[-1] if self.pids else None,
            "pids": list(self.pids),
            "state": self.state,
            "exit_code": self.exit_code,
            "restarts": self.restarts,
        }


def load_replicas(state_dir: Path, job: TrainingJob, profile: ClusterProfile) -> list[Replica]:
    replicas = []
    interpreter = resolve(job.image, profile.local_runtimes)
    init_interpreter = resolve(profile.init_image or job.image, profile.local_runtimes)
    for doc in json.loads((state_dir / MANIFESTS_FILE).read_text()):
        if doc["kind"] not in ("Deployment", "Job"):
            continue
        lbls = doc["spec"]["template"]["metadata"]["labels"]
        role = lbls.get(LABEL_ROLE)
        if role not in ("ps", "chief", "worker"):
            continue  # TensorBoard: see tensorboard_replica
        index = int(lbls[LABEL_INDEX])
        pod = doc["spec"]["template"]["spec"]
        limit = doc["spec"].get("backoffLimit", 0) if doc["kind"] == "Job" else 0
        replicas.append(Replica(f"{role}-{index}", role, index, pod, state_dir, interpreter, limit, init_interpreter))
    return replicas


def tensorboard_replica(state_dir: Path, profile: ClusterProfile, url: str) -> Replica:
    """TensorBoard from its image's runtime, on 127.0.0.1 only, over the job's log directory."""
    port = int(url.rstrip("/").rsplit(":", 1)[1])
    logdir = state_dir / "data" / "tensorboard"
    logdir.mkdir(parents=True, exist_ok=True)
    command = ["tensorboard", f"--logdir={logdir}", "--host=127.0.0.1", f"--port={port}", "--reload_interval=1"]
    pod = {"containers": [{"name": "tensorboard", "command": command}]}
    interpreter = resolve(profile.tensorboard_image, profile.local_runtimes)
    return Replica("tensorboard-0", "tensorboard", 0, pod, state_dir, interpreter)


class Controller:
    def __init__(self, state_dir: Path) -> None:
        from airflow_mlplat.launcher.backends.local import LocalBackend

        self.state_dir = state_dir
        self.handle = read_json(state_dir / "handle.json")
        self.job = TrainingJob.from_dict(read_json(state_dir / "spec.json"))
        backend = LocalBackend(**self.handle["options"])
        self.profile = backend.profile
        self.queue = backend.queue()
        self.replicas = load_replicas(state_dir, self.job, self.profile)
        if self.handle.get("tensorboard_url"):
            self.replicas.append(tensorboard_replica(state_dir, self.profile, self.handle["tensorboard_url"]))
        self.killed = False
        self.last: dict[str, Any] | None = None

    def write(self, phase: str, message: str = "", metrics: dict[str, Any] | None = None) -> None:
        status = JobStatus(phase, message, {r.name: r.to_dict() for r in self.replicas}, metrics)
        doc = {"status": status.to_dict(), "controller_pid": os.getpid()}
        if doc != self.last:
            write_json(self.state_dir / STATUS_FILE, doc)
            self.last = doc

    def stop(self, replicas: list[Replica]) -> None:
        for replica in replicas:
            replica.stop()

    def run(self) -> int:
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGINT, self._on_signal)
        finishing = [r for r in self.replicas if r.role in self.job.finishing_roles]
        jobs = [r for r in self.replicas if r.role in ("chief", "worker")]
        ps = [r for r in self.replicas if r.role == "ps"]
        deadline = float(self.handle["deadline"])
        admitted = self.queue is None
        try:
            while True:
                if self.killed:
                    return self.fail("killed")
                if time.time() > deadline:
                    return self.fail(f"timed out after {self.job.timeout} s")
                if not admitted:
                    admitted, why = self.queue.try_admit(self.job.name)
                    if not admitted:
                        self.write(QUEUED, why)
                        time.sleep(POLL * 5)
                        continue
                for replica in self.replicas:
                    if not replica.finished:
                        replica.poll()
                failed = next((r for r in jobs if r.state == "failed"), None)
                if failed is not None:
                    tries = f" after {failed.restarts} restart(s)" if failed.restarts else ""
                    return self.fail(f"{failed.name} exited with code {failed.exit_code}{tries}", failed)
                early = next((r for r in ps if r.finished), None)
                if early is not None:
                    message = f"{early.name} exited with code {early.exit_code} before the workers finished"
                    return self.fail(message, early)
                if all(r.state == "succeeded" for r in finishing):
                    serving = [r for r in self.replicas if r not in finishing]
                    self.stop(serving)
                    stopped = sorted({r.role for r in serving})
                    who = "chief" if finishing[0].role == "chief" else f"all {len(finishing)} workers"
                    message = f"{who} succeeded" + (f"; {', '.join(stopped)} stopped" if stopped else "")
                    self.write(SUCCEEDED, message, self._metrics())
                    return 0
                self.write(RUNNING)
                time.sleep(POLL)
        except BaseException as err:
            self.fail(f"local controller error: {err!r}")
            raise
        finally:
            if self.queue is not None:
                self.queue.release(self.job.name)

    def fail(self, message: str, culprit: Replica | None = None) -> int:
        self.stop(self.replicas)
        if culprit is not None:
            tail = (culprit.dir / "log").read_text(errors="replace").splitlines()[-20:]
            message += "; log tail:\n" + "\n".join(tail)
        self.write(FAILED, message)
        return 1

    def _metrics(self) -> dict[str, Any] | None:
        role, index = self.job.exporter
        path = self.state_dir / "pods" / f"{role}-{index}" / "termination-log"
        try:
            return json.loads(path.read_text())
        except (FileNotFoundError, ValueError):
            return None

    def _on_signal(self, signum: int, frame: Any) -> None:
        self.killed = True


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    return Controller(Path(args[0])).run()


if __name__ == "__main__":
    sys.exit(main())
