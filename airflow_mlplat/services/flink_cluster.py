"""A Flink standalone session cluster on 127.0.0.1: one JobManager and one TaskManager from ``.venv-flink``.

The apache-flink wheel carries Flink's ``bin/`` and ``lib/``; this writes a configuration of its own
(loopback bind addresses, free ports, small memory) into the state folder and starts both daemons in
the foreground, each in its own process group, so they are stopped by PID. Jobs reach it through
``flink run -m 127.0.0.1:PORT`` and its REST API, as they would a production session cluster.
"""

from __future__ import annotations

import json
import os
import urllib.request
from pathlib import Path
from typing import Any

from airflow_mlplat.services.process import (
    LOOPBACK,
    ServiceError,
    ServiceState,
    free_port,
    start_service,
    stop_service,
    wait_until,
)


def _nested(flat: dict[str, Any]) -> dict[str, Any]:
    tree: dict[str, Any] = {}
    for key, value in flat.items():
        node = tree
        *parents, leaf = key.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return tree


class LocalFlinkCluster:
    """Start, find and stop the cluster whose state (conf, pids, logs) lives under ``root``."""

    def __init__(self, root: str | os.PathLike, *, task_slots: int = 2) -> None:
        self.root = Path(root)
        self.task_slots = task_slots
        self.jobmanager = ServiceState(self.root / "jobmanager")
        self.taskmanager = ServiceState(self.root / "taskmanager")

    @property
    def conf_dir(self) -> Path:
        return self.root / "conf"

    def rest_url(self) -> str | None:
        port = self.jobmanager.port
        return f"http://{LOOPBACK}:{port}" if port and self.jobmanager.running() else None

    def _write_conf(self, rest_port: int) -> None:
        import yaml

        from airflow_mlplat.realtime.flink_env import flink_home

        shipped = yaml.safe_load((flink_home() / "conf" / "config.yaml").read_text())
        settings = {
            "jobmanager.bind-host": LOOPBACK,
            "jobmanager.rpc.address": LOOPBACK,
            "jobmanager.rpc.port": free_port(),
            "jobmanager.memory.process.size": "1024m",
            "taskmanager.bind-host": LOOPBACK,
            "taskmanager.host": LOOPBACK,
            "taskmanager.numberOfTaskSlots": self.task_slots,
            "taskmanager.memory.process.size": "1280m",
            "rest.address": LOOPBACK,
            "rest.bind-address": LOOPBACK,
            "rest.port": rest_port,
            "blob.server.port": free_port(),
            "parallelism.default": 1,
            "env.java.opts.all": shipped["env"]["java"]["opts"]["all"],  # Java 17's --add-opens
        }
        self.conf_dir.mkdir(parents=True, exist_ok=True)
        for name in ("log4j.properties", "log4j-console.properties", "log4j-cli.properties"):
            (self.conf_dir / name).write_bytes((flink_home() / "conf" / name).read_bytes())
        (self.conf_dir / "config.yaml").write_text(yaml.safe_dump(_nested(settings)))

    def environment(self) -> dict[str, str]:
        from airflow_mlplat.realtime.flink_env import flink_home

        return {**os.environ, "FLINK_HOME": str(flink_home()), "FLINK_CONF_DIR": str(self.conf_dir)}

    def start(self, timeout: float = 120.0) -> str:
        """Start both daemons (or find them running); returns the REST URL once a TaskManager registered."""
        from airflow_mlplat.realtime.flink_env import flink_home

        running = self.rest_url()
        if running:
            return running
        self.stop()
        rest_port = free_port()
        self._write_conf(rest_port)
        bin_dir = flink_home() / "bin"
        env = self.environment()
        # Both wait on the REST port: the TaskManager listens on no fixed port of its own, and is up
        # once the JobManager lists it (below).
        for state, script, name in (
            (self.jobmanager, "jobmanager.sh", "Flink JobManager"),
            (self.taskmanager, "taskmanager.sh", "Flink TaskManager"),
        ):
            start_service(
                state,
                [str(bin_dir / script), "start-foreground"],
                rest_port,
                env={**env, "FLINK_LOG_DIR": str(state.directory)},
                timeout=timeout,
                name=name,
            )
        url = f"http://{LOOPBACK}:{rest_port}"
        if not wait_until(lambda: self._taskmanagers(url) > 0, timeout, interval=0.5):
            self.stop()
            raise ServiceError(f"no Flink TaskManager registered with {url} in {timeout:.0f} s; logs under {self.root}")
        return url

    @staticmethod
    def _taskmanagers(url: str) -> int:
        try:
            with urllib.request.urlopen(f"{url}/taskmanagers", timeout=2) as response:
                return len(json.load(response).get("taskmanagers", []))
        except OSError:
            return 0

    def stop(self) -> None:
        stop_service(self.taskmanager)
        stop_service(self.jobmanager)
