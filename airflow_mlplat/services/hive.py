"""A local Hive: a metastore (Hive 2.3 from the pyspark wheel, Derby) and HiveServer2 (Spark Thrift Server).

Both bind 127.0.0.1 and share one warehouse directory. Embedded Derby allows one process at a
time, so each server keeps its own Derby store. ``python -m airflow_mlplat.services hive up|down``
(``make hive-up``) and the tests' session fixture use this module.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

from airflow_mlplat.engine.session import hive_conf
from airflow_mlplat.services.process import LOOPBACK, ServiceState, free_port, start_service, stop_service

DEFAULT_METASTORE_PORT = 9083
DEFAULT_HIVESERVER2_PORT = 10000
_LAUNCHER = Path(__file__).with_name("java") / "LoopbackMetastore.java"
# What Spark's launcher adds for Java 17 (JavaModuleOptions); plain `java` needs it for Hive's classes.
_ADD_OPENS = [
    f"--add-opens={module}=ALL-UNNAMED"
    for module in (
        "java.base/java.lang", "java.base/java.lang.invoke", "java.base/java.lang.reflect", "java.base/java.io",
        "java.base/java.net", "java.base/java.nio", "java.base/java.util", "java.base/java.util.concurrent",
        "java.base/java.util.concurrent.atomic", "java.base/jdk.internal.ref", "java.base/sun.nio.ch",
        "java.base/sun.nio.cs", "java.base/sun.security.action", "java.base/sun.util.calendar",
    )
]  # fmt: skip


@dataclass(frozen=True)
class LocalHive:
    """Where a local Hive keeps its state, and the addresses of its two servers."""

    root: Path

    @property
    def metastore(self) -> ServiceState:
        return ServiceState(self.root / "hive-metastore")

    @property
    def hiveserver2(self) -> ServiceState:
        return ServiceState(self.root / "hiveserver2")

    @property
    def warehouse(self) -> Path:
        return (self.root / "warehouse").resolve()

    @property
    def metastore_uri(self) -> str:
        return f"thrift://{LOOPBACK}:{self.metastore.port}"

    def spark_conf(self) -> dict[str, str]:
        """What a SparkSession needs to use this metastore and warehouse."""
        return hive_conf(self.metastore_uri, self.warehouse.as_uri())


def spark_home() -> Path:
    import pyspark  # the wheel carries Spark's jars and scripts

    return Path(pyspark.__file__).resolve().parent


def _java() -> str:
    java_home = os.environ.get("JAVA_HOME")
    return str(Path(java_home) / "bin" / "java") if java_home else "java"


def start_metastore(hive: LocalHive, port: int | None = None, timeout: float = 180.0) -> str:
    """Start the metastore unless it runs; return its thrift URI."""
    state = hive.metastore
    if state.running():
        return hive.metastore_uri
    port = port or free_port()
    state.directory.mkdir(parents=True, exist_ok=True)
    hive.warehouse.mkdir(parents=True, exist_ok=True)
    derby = state.directory.resolve() / "metastore_db"
    command = [
        _java(), "-Xmx512m", *_ADD_OPENS,
        f"-Dderby.system.home={state.directory.resolve()}",
        "-cp", str(spark_home() / "jars" / "*"),
        str(_LAUNCHER), LOOPBACK, str(port), str(derby), hive.warehouse.as_uri(),
    ]  # fmt: skip
    start_service(state, command, port, cwd=state.directory, timeout=timeout, name="Hive metastore")
    return hive.metastore_uri


def start_hiveserver2(hive: LocalHive, port: int | None = None, timeout: float = 240.0) -> int:
    """Start the Spark Thrift Server (HiveServer2 protocol, auth NONE) on the metastore; return its port."""
    state = hive.hiveserver2
    if state.running():
        return state.port
    if not hive.metastore.running():
        raise RuntimeError(f"start the metastore before HiveServer2 (state {hive.metastore.directory})")
    port = port or free_port()
    state.directory.mkdir(parents=True, exist_ok=True)
    home = spark_home()
    own = state.directory.resolve()
    conf = {
        **hive.spark_conf(),
        "spark.ui.enabled": "false",
        "spark.driver.host": LOOPBACK,
        "spark.driver.bindAddress": LOOPBACK,
        "spark.driver.memory": "768m",
        "spark.sql.shuffle.partitions": "4",
        "spark.hadoop.javax.jdo.option.ConnectionURL": f"jdbc:derby:;databaseName={own}/db;create=true",
        "spark.driver.extraJavaOptions": f"-Dderby.system.home={own}",
    }
    command = [str(home / "bin" / "spark-submit"), "--master", "local[2]", "--name", "mlplat-hiveserver2",
               "--class", "org.apache.spark.sql.hive.thriftserver.HiveThriftServer2"]  # fmt: skip
    for key, value in conf.items():
        command += ["--conf", f"{key}={value}"]
    for key, value in {
        "hive.server2.thrift.bind.host": LOOPBACK,
        "hive.server2.thrift.port": str(port),
        "hive.server2.authentication": "NONE",
        "hive.server2.transport.mode": "binary",
    }.items():
        command += ["--hiveconf", f"{key}={value}"]
    command.append("spark-internal")
    env = {
        **os.environ,
        "SPARK_HOME": str(home),
        "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""),
        "PYSPARK_PYTHON": sys.executable,
    }
    start_service(state, command, port, env=env, cwd=state.directory, timeout=timeout, name="HiveServer2")
    return port


def start_hive(hive: LocalHive, metastore_port: int | None = None, hiveserver2_port: int | None = None) -> LocalHive:
    start_metastore(hive, metastore_port)
    start_hiveserver2(hive, hiveserver2_port)
    return hive


def stop_hive(hive: LocalHive) -> list[str]:
    """Stop both servers (HiveServer2 first); return the names of those that were running."""
    stopped = []
    if stop_service(hive.hiveserver2):
        stopped.append("HiveServer2")
    if stop_service(hive.metastore):
        stopped.append("metastore")
    return stopped


def connection_uris(hive: LocalHive) -> dict[str, str]:
    """Airflow connections (URI form) for this Hive: the metastore and HiveServer2."""
    from urllib.parse import quote

    warehouse = quote(hive.warehouse.as_uri(), safe="")
    return {
        "metastore_default": f"hive-metastore://{LOOPBACK}:{hive.metastore.port}/?auth_mechanism=NOSASL"
        f"&warehouse_dir={warehouse}",
        "hiveserver2_default": f"hiveserver2://{LOOPBACK}:{hive.hiveserver2.port}/default?auth_mechanism=NONE",
    }


def connection_exports(hive: LocalHive) -> list[str]:
    return [f"export AIRFLOW_CONN_{conn_id.upper()}='{uri}'" for conn_id, uri in connection_uris(hive).items()]
