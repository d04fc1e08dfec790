"""The local backend's controller: runs the pods of ``manifests.json`` as processes and watches them.

``python -m airflow_mlplat.launcher.backends.local_controller STATE_DIR`` (started by
``LocalBackend.submit``). Each ps Deployment and worker Job becomes one replica: its init
containers, then its main container, each a process with the container's command, env (on top
of the controller's own env, which supplies PATH and the like) and working directory, in its own
process group, killed by the kernel if this controller dies. ``python``/``python3`` as a
command's first word means this interpreter.

Rules (the same as the Kubernetes backend's): a worker that fails, a ps that exits early, the
job's deadline or SIGTERM stop every replica and fail the job; when every worker succeeded the
ps replicas are stopped and the job succeeds with worker-0's metrics file as its metrics.
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

from airflow_mlplat.launcher.backends.base import FAILED, RUNNING, SUCCEEDED, JobStatus
from airflow_mlplat.launcher.backends.local import (
    INHERITED_ENV_FILE,
    MANIFESTS_FILE,
    STATUS_FILE,
    read_json,
    stop_group,
    write_json,
)
from airflow_mlplat.launcher.labels import LABEL_INDEX, LABEL_ROLE, MAIN_CONTAINER

POLL = 0.2
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except OSError:  # not Linux: the controller's own cleanup still applies
        pass


class Replica:
    """One pod: a queue of container commands (init steps, then main) run one after another."""

    def __init__(self, name: str, role: str, index: int, pod_spec: dict[str, Any], state_dir: Path) -> None:
        self.name, self.role, self.index = name, role, index
        self.dir = state_dir / "pods" / name
        self.dir.mkdir(parents=True, exist_ok=True)
        self.steps = [*pod_spec.get("initContainers", []), *pod_spec["containers"]]
        self.proc: subprocess.Popen | None = None
        self.pids: list[int] = []
        self.step = -1
        self.state = "pending"
        self.exit_code: int | None = None

    def start_next(self, base_env: dict[str, str]) -> None:
        self.step += 1
        container = self.steps[self.step]
        env = dict(base_env)
        env.update({e["name"]: e.get("value", "") for e in container.get("env", [])})
        command = list(container["command"])
        if command[0] in ("python", "python3"):
            command[0] = sys.executable
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

    def poll(self, base_env: dict[str, str]) -> None:
        """Advance: start the next step when one finished; record the main container's exit."""
        if self.proc is None:
            self.start_next(base_env)
            return
        code = self.proc.poll()
        if code is None:
            return
        if code == 0 and self.step + 1 < len(self.steps):
            self.start_next(base_env)
            return
        self.exit_code = code
        self.state = "succeeded" if code == 0 else "failed"
        self.proc = None

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
        }


def load_replicas(state_dir: Path) -> list[Replica]:
    replicas = []
    for doc in json.loads((state_dir / MANIFESTS_FILE).read_text()):
        if doc["kind"] not in ("Deployment", "Job"):
            continue
        lbls = doc["spec"]["template"]["metadata"]["labels"]
        role = lbls.get(LABEL_ROLE)
        if role not in ("ps", "worker"):
            continue  # TensorBoard is not started locally (see the README)
        index = int(lbls[LABEL_INDEX])
        replicas.append(Replica(f"{role}-{index}", role, index, doc["spec"]["template"]["spec"], state_dir))
    return replicas


class Controller:
    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir
        self.handle = read_json(state_dir / "handle.json")
        self.replicas = load_replicas(state_dir)
        self.base_env = read_json(state_dir / INHERITED_ENV_FILE)
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
        workers = [r for r in self.replicas if r.role == "worker"]
        ps = [r for r in self.replicas if r.role == "ps"]
        deadline = float(self.handle["deadline"])
        try:
            while True:
                if self.killed:
                    return self.fail("killed")
                if time.time() > deadline:
                    timeout = json.loads((self.state_dir / "spec.json").read_text())["timeout"]
                    return self.fail(f"timed out after {timeout} s")
                for replica in self.replicas:
                    if not replica.finished:
                        replica.poll(self.base_env)
                failed = next((r for r in workers if r.state == "failed"), None)
                if failed is not None:
                    return self.fail(f"{failed.name} exited with code {failed.exit_code}", failed)
                early = next((r for r in ps if r.finished), None)
                if early is not None:
                    message = f"{early.name} exited with code {early.exit_code} before the workers finished"
                    return self.fail(message, early)
                if all(r.state == "succeeded" for r in workers):
                    self.stop(ps)
                    metrics = self._metrics()
                    message = f"all {len(workers)} workers succeeded" + ("; ps stopped" if ps else "")
                    self.write(SUCCEEDED, message, metrics)
                    return 0
                self.write(RUNNING)
                time.sleep(POLL)
        except BaseException as err:
            self.fail(f"local controller error: {err!r}")
            raise

    def fail(self, message: str, culprit: Replica | None = None) -> int:
        self.stop(self.replicas)
        if culprit is not None:
            tail = (culprit.dir / "log").read_text(errors="replace").splitlines()[-20:]
            message += "; log tail:\n" + "\n".join(tail)
        self.write(FAILED, message)
        return 1

    def _metrics(self) -> dict[str, Any] | None:
        path = self.state_dir / "pods" / "worker-0" / "termination-log"
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
