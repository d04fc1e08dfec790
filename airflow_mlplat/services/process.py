"""Start a server as a background process, wait until it listens, stop it by PID.

Each server gets a state directory holding ``pid``, ``port`` and ``log``, so a later command
(``make hive-down``) or another process (a pytest session) can find and stop it. Servers run in
their own process group: stopping one ends everything it spawned.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

LOOPBACK = "127.0.0.1"


class ServiceError(RuntimeError):
    """A local server did not start, or is not reachable."""


def free_port() -> int:
    """A TCP port that is free on the loopback interface right now."""
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return sock.getsockname()[1]


def port_open(port: int, host: str = LOOPBACK, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child still "exists"; reap it if it is ours.
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
        return done == 0
    except ChildProcessError:
        return True


@dataclass(frozen=True)
class ServiceState:
    """Where one server keeps its pid, port and log."""

    directory: Path

    @property
    def log(self) -> Path:
        return self.directory / "log"

    def read(self, name: str) -> int | None:
        try:
            return int((self.directory / name).read_text().strip())
        except (FileNotFoundError, ValueError):
            return None

    @property
    def pid(self) -> int | None:
        return self.read("pid")

    @property
    def port(self) -> int | None:
        return self.read("port")

    def running(self) -> bool:
        pid, port = self.pid, self.port
        return pid is not None and port is not None and pid_alive(pid) and port_open(port)


def start_service(
    state: ServiceState,
    command: Sequence[str],
    port: int,
    *,
    env: Mapping[str, str] | None = None,
    cwd: str | os.PathLike | None = None,
    timeout: float = 120.0,
    name: str = "server",
) -> int:
    """Start ``command`` in its own process group and wait until ``port`` accepts connections.

    Returns the PID. On a failed start the process is stopped and the end of its log is raised.
    """
    state.directory.mkdir(parents=True, exist_ok=True)
    with open(state.log, "ab") as log:
        proc = subprocess.Popen(
            list(command),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=dict(env) if env is not None else None,
            cwd=cwd,
            start_new_session=True,
        )
    (state.directory / "pid").write_text(str(proc.pid))
    (state.directory / "port").write_text(str(port))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        if port_open(port):
            return proc.pid
        time.sleep(0.25)
    stop_service(state)
    tail = state.log.read_text(errors="replace")[-3000:] if state.log.exists() else ""
    if proc.returncode is not None:
        reason = f"exited with code {proc.returncode}"
    else:
        reason = f"was not listening after {timeout:.0f} s"
    raise ServiceError(f"{name} on {LOOPBACK}:{port} {reason}; log {state.log}:\n{tail}")


def stop_service(state: ServiceState, grace: float = 15.0) -> bool:
    """Stop the server (and its process group) recorded in ``state``. True when one was running."""
    pid = state.pid
    for name in ("pid", "port"):
        (state.directory / name).unlink(missing_ok=True)
    if pid is None or not pid_alive(pid):
        return False
    _signal_group(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and pid_alive(pid):
        time.sleep(0.1)
    if pid_alive(pid):
        _signal_group(pid, signal.SIGKILL)
        while pid_alive(pid):
            time.sleep(0.05)
    return True


def _signal_group(pid: int, sig: int) -> None:
    try:
        os.killpg(pid, sig)
    except ProcessLookupError:
        pass
    except PermissionError:
        os.kill(pid, sig)


def wait_until(predicate, timeout: float, interval: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()
