"""A long-lived Spark Connect server on 127.0.0.1, from pyspark's own wheel (``spark-connect`` jar).

Short pipelines run on it through ``SparkPipelineOperator(session="connect")`` instead of paying
a fresh spark-submit (JVM, session, imports) each time. ``python -m airflow_mlplat.services
connect up|down|status`` (``make connect-up``) and the tests' fixture start and stop it by PID.
The connection is the apache-spark provider's ``spark_connect`` type: ``sc://127.0.0.1:PORT``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from airflow_mlplat.services.hive import spark_home
from airflow_mlplat.services.process import LOOPBACK, ServiceState, free_port, start_service, stop_service

DEFAULT_PORT = 15002
SERVER_CLASS = "org.apache.spark.sql.connect.service.SparkConnectServer"


def connect_state(root: Path) -> ServiceState:
    return ServiceState(Path(root) / "spark-connect")


def connect_url(state: ServiceState) -> str:
    return f"sc://{LOOPBACK}:{state.port}"


def connection_uri(url: str) -> str:
    """The Airflow connection (``AIRFLOW_CONN_...`` value, type ``spark_connect``) of the server at ``url``."""
    return "spark-connect://" + url.removeprefix("sc://")


def start_spark_connect(
    root: Path,
    port: int | None = None,
    *,
    master: str = "local[*]",
    conf: dict[str, str] | None = None,
    timeout: float = 180.0,
) -> str:
    """Start the server (unless it already runs) and return its ``sc://`` URL.

    Driver, block manager, UI and the gRPC endpoint all listen on 127.0.0.1 only. ``conf`` is
    added as ``--conf`` (e.g. the Hive catalogue of ``LocalHive.spark_conf()``).
    """
    state = connect_state(root)
    if state.running():
        return connect_url(state)
    port = port or free_port()
    state.directory.mkdir(parents=True, exist_ok=True)
    home = spark_home()
    settings = {
        "spark.connect.grpc.binding.address": LOOPBACK,
        "spark.connect.grpc.binding.port": str(port),
        "spark.driver.host": LOOPBACK,
        "spark.driver.bindAddress": LOOPBACK,
        "spark.ui.enabled": "false",
        "spark.sql.shuffle.partitions": "8",
        "spark.sql.session.timeZone": "UTC",
        **(conf or {}),
    }
    command = [str(home / "bin" / "spark-submit"), "--master", master, "--name", "mlplat-spark-connect",
               "--class", SERVER_CLASS]  # fmt: skip
    for key, value in settings.items():
        command += ["--conf", f"{key}={value}"]
    command.append("spark-internal")
    env = {
        **os.environ,
        "SPARK_HOME": str(home),
        "SPARK_LOCAL_IP": LOOPBACK,
        "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""),
        # The server's Python workers (UDFs, mapInPandas) must import this package and its deps.
        "PYSPARK_PYTHON": sys.executable,
    }
    start_service(state, command, port, env=env, cwd=state.directory, timeout=timeout, name="Spark Connect server")
    return connect_url(state)


def stop_spark_connect(root: Path) -> bool:
    return stop_service(connect_state(root))
