"""A real Airflow for the browser tests: API server, scheduler (LocalExecutor) and DAG processor.

With ``triggerer=True`` a triggerer runs too: deferrable tasks (a pipeline's deep training step,
``RankingModelOperator``) wait in it. ``extra_env`` adds variables to every process (e.g. an
``AIRFLOW_CONN_MLFLOW_DEFAULT``).

Everything runs on 127.0.0.1 under a temporary AIRFLOW_HOME with SQLite; each process runs in
its own process group, recorded in a ``ServiceState`` directory and stopped by PID.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from airflow_mlplat.services.process import LOOPBACK, ServiceState, free_port, start_service, stop_service

BIN = Path(sys.executable).parent
USER, PASSWORD = "admin", "admin-e2e-pw"


@dataclass
class AirflowCluster:
    home: Path
    dags_folder: Path
    run_root: Path
    spark_conf_dir: Path
    triggerer: bool = False
    extra_env: dict[str, str] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    states: list[ServiceState] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW__")}
        passwords = self.home / "passwords.json"
        passwords.write_text(json.dumps({USER: PASSWORD}))
        env.update(
            AIRFLOW_HOME=str(self.home),
            AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=f"sqlite:///{self.home / 'airflow.db'}",
            AIRFLOW__CORE__DAGS_FOLDER=str(self.dags_folder),
            AIRFLOW__CORE__EXECUTOR="LocalExecutor",
            AIRFLOW__CORE__PARALLELISM="2",
            AIRFLOW__CORE__LOAD_EXAMPLES="False",
            AIRFLOW__CORE__UNIT_TEST_MODE="False",
            AIRFLOW__DATABASE__LOAD_DEFAULT_CONNECTIONS="False",
            AIRFLOW__CORE__AUTH_MANAGER="airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager",
            AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS=f"{USER}:admin",
            AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE=str(passwords),
            AIRFLOW__MLPLAT__PIPELINE_AUTHORS=USER,  # the browser saves pipelines as this user
            AIRFLOW__API_AUTH__JWT_SECRET="mlplat-e2e-secret-" + "0" * 64,
            AIRFLOW__API__SECRET_KEY="mlplat-e2e-secret",
            AIRFLOW__API__HOST=LOOPBACK,
            AIRFLOW__API__PORT=str(self.port),
            AIRFLOW__API__BASE_URL=self.url,
            AIRFLOW__CORE__EXECUTION_API_SERVER_URL=f"{self.url}/execution/",
            AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL="5",
            AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL="600",
            AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC="2",
            AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT=str(free_port()),
            MLPLAT_RUN_ROOT=str(self.run_root),
            SPARK_CONF_DIR=str(self.spark_conf_dir),
            SPARK_LOCAL_IP=LOOPBACK,
            PYSPARK_PYTHON=sys.executable,
            PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        )
        env.update(self.extra_env)
        return env

    def _start(self, name: str, args: list[str], port: int | None) -> None:
        state = ServiceState(self.home / "services" / name)
        self.states.append(state)
        command = [str(BIN / "airflow"), *args]
        if port is not None:
            start_service(state, command, port, env=self.env(), timeout=180, name=f"airflow {name}")
            return
        # No port to wait for: start it in its own group and record its PID the same way.
        state.directory.mkdir(parents=True, exist_ok=True)
        with open(state.log, "ab") as log:
            proc = subprocess.Popen(
                command,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=self.env(),
                start_new_session=True,
            )
        (state.directory / "pid").write_text(str(proc.pid))

    def start(self) -> None:
        subprocess.run(
            [str(BIN / "airflow"), "db", "migrate"], env=self.env(), check=True, capture_output=True, timeout=300
        )
        self._start(
            "api-server", ["api-server", "--host", LOOPBACK, "--port", str(self.port), "--workers", "1"], self.port
        )
        self._start("dag-processor", ["dag-processor"], None)
        self._start("scheduler", ["scheduler", "--skip-serve-logs"], None)
        if self.triggerer:
            self._start("triggerer", ["triggerer", "--skip-serve-logs"], None)

    def stop(self) -> None:
        for state in reversed(self.states):
            stop_service(state)

    def logs(self, tail: int = 4000) -> str:
        parts = [f"--- {s.directory.name} ---\n{s.log.read_text(errors='replace')[-tail:]}" for s in self.states]
        return "\n".join(parts)

    def token(self) -> str:
        request = urllib.request.Request(
            f"{self.url}/auth/token",
            data=json.dumps({"username": USER, "password": PASSWORD}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.load(response)["access_token"]
