"""Submit, watch and cancel Flink jobs: on a Flink cluster (``flink run`` + REST API) or an embedded mini-cluster.

The connection (default ``flink_default``, type ``flink``) names a session cluster's REST endpoint
(``http://HOST:PORT``). When ``flink_default`` is not defined, jobs run on Flink's embedded
mini-cluster: a ``.venv-flink`` process in its own process group, with its REST API on
127.0.0.1, started and stopped by PID (:mod:`airflow_mlplat.services.process`). Either way the
job is then watched and cancelled through the same REST API.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from airflow.providers.common.compat.sdk import AirflowException, BaseHook

from airflow_mlplat.hooks.connections import connection_or_fallback

TERMINAL_STATES = frozenset({"FINISHED", "FAILED", "CANCELED", "SUSPENDED"})
_SUBMITTED = re.compile(r"(?:JobID|mlplat-flink-job-id)\s+([0-9a-f]{32})")


class FlinkJobError(AirflowException):
    """A Flink job could not be submitted, did not reach RUNNING, or failed."""


@dataclass(frozen=True)
class FlinkJob:
    """A submitted job: its id, the REST API that knows it, and (embedded) the state folder of its process."""

    job_id: str
    rest_url: str
    state_dir: str = ""

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


def default_state_root() -> Path:
    return Path(os.environ.get("MLPLAT_FLINK_STATE_DIR") or Path(os.environ.get("AIRFLOW_HOME", ".")) / "flink-jobs")


def latest_checkpoint(checkpoint_dir: str | os.PathLike) -> str | None:
    """The newest completed checkpoint (``<job id>/chk-N`` holding ``_metadata``) under ``checkpoint_dir``.

    Any filesystem the storage layer reaches (a local path, file://, hdfs://, s3a://); the result keeps
    the checkpoint directory's form (a path stays a path, a URL a URL). Newest by ``_metadata``'s
    modification time: a job started without restoring numbers its checkpoints from 1 again.
    """
    from airflow_mlplat.storage.urls import filesystem

    location = str(checkpoint_dir).rstrip("/")
    fs, root = filesystem(location)
    newest, newest_key = None, None
    for meta in fs.glob(f"{root.rstrip('/')}/*/chk-*/_metadata"):
        info = fs.info(meta)
        modified = info.get("mtime") or info.get("last_modified") or info.get("LastModified") or 0
        modified = modified.timestamp() if hasattr(modified, "timestamp") else float(modified)
        chk = meta.rsplit("/", 2)[-2]
        key = (modified, int(chk.split("-")[1]))
        if newest_key is None or key > newest_key:
            newest, newest_key = meta[: -len("/_metadata")], key
    if newest is None:
        return None
    return location + newest[len(root.rstrip("/")) :]


class FlinkHook(BaseHook):
    """Run a PyFlink script as a Flink job and follow it by job id."""

    conn_name_attr = "flink_conn_id"
    default_conn_name = "flink_default"
    conn_type = "flink"
    hook_name = "Apache Flink"

    def __init__(self, flink_conn_id: str = default_conn_name, *, request_timeout: float = 10.0) -> None:
        super().__init__()
        self.flink_conn_id = flink_conn_id
        self.request_timeout = request_timeout

    def cluster_rest_url(self) -> str | None:
        """The cluster's REST URL, or None for the embedded mini-cluster (``flink_default`` undefined)."""
        conn = connection_or_fallback(
            self.flink_conn_id, self.default_conn_name, what="Flink", example="flink://HOST:8081"
        )
        if conn is None:
            return None
        extra = conn.extra_dejson
        if extra.get("rest_url"):
            return str(extra["rest_url"]).rstrip("/")
        if not conn.host:
            raise FlinkJobError(f"Flink connection {self.flink_conn_id!r} has no host (or extra rest_url)")
        scheme = "https" if extra.get("ssl") else "http"
        return f"{scheme}://{conn.host}:{conn.port or 8081}"

    # -- submission -------------------------------------------------------------------------
    def submit(
        self,
        script: str | os.PathLike,
        args: Sequence[str],
        *,
        name: str,
        state_root: Path | None = None,
        start_timeout: float = 180.0,
    ) -> FlinkJob:
        """Submit ``script`` with ``args``; returns once Flink has accepted the job (see :meth:`wait_until_running`)."""
        rest_url = self.cluster_rest_url()
        if rest_url is None:
            return self._submit_embedded(script, args, name=name, state_root=state_root, timeout=start_timeout)
        return self._submit_to_cluster(script, args, rest_url, timeout=start_timeout)

    def _submit_embedded(self, script, args, *, name, state_root, timeout) -> FlinkJob:
        from airflow_mlplat.realtime.flink_env import flink_python
        from airflow_mlplat.services.process import ServiceState, free_port, pid_alive, start_service, wait_until

        state = ServiceState((state_root or default_state_root()) / name)
        running = self.attach(state.directory)
        if running is not None:
            self.log.info("Flink job %s (%s) is already running on %s", running.job_id, name, running.rest_url)
            return running
        job_info = state.directory / "job.json"
        job_info.unlink(missing_ok=True)
        port = free_port()
        command = [str(flink_python()), str(script), *args, "--rest-port", str(port), "--job-info", str(job_info)]
        env = {**os.environ, "FLINK_LOG_DIR": str(state.directory)}
        self.log.info("Starting Flink's mini-cluster for %s (REST 127.0.0.1:%d, log %s)", name, port, state.log)
        pid = start_service(state, command, port, env=env, timeout=timeout, name=f"Flink mini-cluster {name}")
        if not wait_until(lambda: job_info.exists() or not pid_alive(pid), timeout):
            self._stop_embedded(state.directory)
            raise FlinkJobError(f"Flink job {name} was not submitted within {timeout:.0f} s; log {state.log}")
        if not job_info.exists():
            raise FlinkJobError(f"Flink job {name} exited before submission; log {state.log}:\n{self._tail(state.log)}")
        info = json.loads(job_info.read_text())
        return FlinkJob(info["job_id"], info["rest_url"], str(state.directory))

    def _submit_to_cluster(self, script, args, rest_url: str, *, timeout: float) -> FlinkJob:
        from airflow_mlplat.realtime.flink_env import flink_home, flink_python

        home = flink_home()
        address = rest_url.split("://", 1)[1]
        command = [
            str(home / "bin" / "flink"),
            "run",
            "-m",
            address,
            "-d",
            "-pyexec",
            str(flink_python()),
            "-py",
            str(script),
            *args,
            "--no-wait",
        ]
        env = {**os.environ, "FLINK_HOME": str(home), "PYFLINK_CLIENT_EXECUTABLE": str(flink_python())}
        self.log.info("Submitting to the Flink cluster at %s: %s", rest_url, " ".join(command))
        try:
            done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise FlinkJobError(f"flink run against {rest_url} did not return within {timeout:.0f} s") from None
        output = done.stdout + done.stderr
        found = _SUBMITTED.search(output)
        if done.returncode or not found:
            raise FlinkJobError(f"flink run against {rest_url} failed (exit {done.returncode}):\n{output[-3000:]}")
        return FlinkJob(found.group(1), rest_url)

    def attach(self, state_dir: str | os.PathLike) -> FlinkJob | None:
        """The embedded job recorded in ``state_dir`` if its process is up and the job is not finished."""
        from airflow_mlplat.services.process import ServiceState

        state = ServiceState(Path(state_dir))
        info_file = state.directory / "job.json"
        if not state.running() or not info_file.exists():
            return None
        info = json.loads(info_file.read_text())
        job = FlinkJob(info["job_id"], info["rest_url"], str(state.directory))
        try:
            return None if self.state(job) in TERMINAL_STATES else job
        except FlinkJobError:
            return None

    # -- following ---------------------------------------------------------------------------
    def _rest(self, job: FlinkJob, method: str, path: str) -> dict[str, Any]:
        request = urllib.request.Request(f"{job.rest_url}{path}", method=method)
        try:
            with urllib.request.urlopen(request, timeout=self.request_timeout) as response:
                body = response.read()
        except urllib.error.HTTPError as exc:
            raise FlinkJobError(
                f"Flink REST {method} {job.rest_url}{path}: HTTP {exc.code} {exc.read()[:500]!r}"
            ) from exc
        except OSError as exc:
            raise FlinkJobError(f"Flink REST {job.rest_url} is unreachable ({exc})") from exc
        return json.loads(body) if body else {}

    def details(self, job: FlinkJob) -> dict[str, Any]:
        return self._rest(job, "GET", f"/jobs/{job.job_id}")

    def state(self, job: FlinkJob) -> str:
        return str(self.details(job)["state"])

    def is_running(self, job: FlinkJob) -> bool:
        """The job is RUNNING and so is every one of its tasks (not just scheduled)."""
        details = self.details(job)
        if details["state"] in TERMINAL_STATES:
            raise FlinkJobError(f"Flink job {job.job_id} is {details['state']}{self._exception(job)}")
        return details["state"] == "RUNNING" and all(v["status"] == "RUNNING" for v in details.get("vertices", []))

    def wait_until_running(self, job: FlinkJob, timeout: float = 180.0, interval: float = 1.0) -> None:
        from airflow_mlplat.services.process import wait_until

        if not wait_until(lambda: self.is_running(job), timeout, interval):
            state = self.state(job)
            raise FlinkJobError(f"Flink job {job.job_id} is not RUNNING after {timeout:.0f} s (state {state})")

    def wait_until_ended(self, job: FlinkJob, interval: float = 5.0) -> str:
        """Block until the job reaches a terminal state; returns it."""
        while (state := self.state(job)) not in TERMINAL_STATES:
            time.sleep(interval)
        return state

    def checkpoints(self, job: FlinkJob) -> dict[str, Any]:
        """Checkpoint counts and the latest completed one (``/jobs/<id>/checkpoints``)."""
        return self._rest(job, "GET", f"/jobs/{job.job_id}/checkpoints")

    def wait_for_checkpoints(self, job: FlinkJob, count: int, timeout: float = 120.0) -> int:
        """Wait until ``count`` more checkpoints than now have completed; returns the completed total."""
        from airflow_mlplat.services.process import wait_until

        target = self.checkpoints(job)["counts"]["completed"] + count

        def reached() -> bool:
            self.is_running(job)  # raises if the job died meanwhile
            return self.checkpoints(job)["counts"]["completed"] >= target

        if not wait_until(reached, timeout, interval=0.5):
            raise FlinkJobError(f"Flink job {job.job_id}: {count} checkpoint(s) did not complete in {timeout:.0f} s")
        return self.checkpoints(job)["counts"]["completed"]

    def _exception(self, job: FlinkJob) -> str:
        try:
            root = self._rest(job, "GET", f"/jobs/{job.job_id}/exceptions").get("rootException") or ""
        except FlinkJobError:
            return ""
        return f": {root.strip().splitlines()[0]}" if root else ""

    # -- stopping ----------------------------------------------------------------------------
    def cancel(self, job: FlinkJob, timeout: float = 60.0) -> str:
        """Cancel the job (and stop an embedded mini-cluster); returns the job's last known state."""
        last = "UNKNOWN"
        try:
            last = self.state(job)
            if last not in TERMINAL_STATES:
                self._rest(job, "PATCH", f"/jobs/{job.job_id}?mode=cancel")
                deadline = time.monotonic() + timeout
                while time.monotonic() < deadline and (last := self.state(job)) not in TERMINAL_STATES:
                    time.sleep(0.5)
        except FlinkJobError as exc:
            if job.state_dir and not self._embedded_alive(job):
                last = "CANCELED" if last == "RUNNING" else last  # the mini-cluster exits with its job
            else:
                self.log.warning("Cancelling Flink job %s through REST: %s", job.job_id, exc)
        if job.state_dir:
            self._stop_embedded(job.state_dir)
        self.log.info("Flink job %s: %s", job.job_id, last)
        return last

    def kill_embedded(self, job: FlinkJob) -> None:
        """Kill an embedded job's process group at once (SIGKILL): a crash, no cancel, no final checkpoint."""
        import signal

        from airflow_mlplat.services.process import ServiceState, pid_alive

        state = ServiceState(Path(job.state_dir))
        pid = state.pid
        if pid is None:
            raise FlinkJobError(f"no embedded Flink process recorded in {job.state_dir}")
        os.killpg(pid, signal.SIGKILL)
        while pid_alive(pid):
            time.sleep(0.05)

    @staticmethod
    def _embedded_alive(job: FlinkJob) -> bool:
        from airflow_mlplat.services.process import ServiceState, pid_alive

        pid = ServiceState(Path(job.state_dir)).pid
        return pid is not None and pid_alive(pid)

    @staticmethod
    def _stop_embedded(state_dir: str | os.PathLike) -> None:
        from airflow_mlplat.services.process import ServiceState, stop_service

        stop_service(ServiceState(Path(state_dir)))

    @staticmethod
    def _tail(log: Path) -> str:
        return log.read_text(errors="replace")[-3000:] if log.exists() else ""
