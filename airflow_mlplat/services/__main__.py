"""``python -m airflow_mlplat.services {mlflow,hive,flink,connect} {up,down,status}``: the local servers, by PID."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

DEFAULT_ROOT = Path(os.environ.get("MLPLAT_SERVICES_DIR", ".services"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m airflow_mlplat.services", description=__doc__)
    parser.add_argument("service", choices=["mlflow", "hive", "flink", "connect"])
    parser.add_argument("action", choices=["up", "down", "status"])
    parser.add_argument("--root", type=Path, default=DEFAULT_ROOT, help="state directory (default: %(default)s)")
    args = parser.parse_args(argv)

    if args.service == "hive":
        return _hive(args.action, args.root)
    if args.service == "flink":
        return _flink(args.action, args.root)
    if args.service == "connect":
        return _connect(args.action, args.root)

    from airflow_mlplat.services import mlflow_server

    state = mlflow_server.mlflow_state(args.root)
    if args.action == "up":
        uri = mlflow_server.start_mlflow(args.root, port=mlflow_server.DEFAULT_PORT)
        print(f"MLflow tracking server: {uri} (pid {state.pid}, log {state.log})")
        print(f"export MLFLOW_TRACKING_URI={uri}")
    elif args.action == "down":
        print("stopped" if mlflow_server.stop_mlflow(args.root) else "not running")
    else:
        running = state.running()
        print(f"running at {mlflow_server.tracking_uri(state)} (pid {state.pid})" if running else "not running")
        return 0 if running else 3
    return 0


def _hive(action: str, root: Path) -> int:
    from airflow_mlplat.services import hive

    local = hive.LocalHive(root)
    if action == "up":
        hive.start_hive(local, hive.DEFAULT_METASTORE_PORT, hive.DEFAULT_HIVESERVER2_PORT)
        print(f"Hive metastore: {local.metastore_uri} (pid {local.metastore.pid}, log {local.metastore.log})")
        hs2 = local.hiveserver2
        print(f"HiveServer2: 127.0.0.1:{hs2.port} (pid {hs2.pid}, log {hs2.log})")
        print(f"warehouse: {local.warehouse.as_uri()}")
        for line in hive.connection_exports(local):
            print(line)
    elif action == "down":
        stopped = hive.stop_hive(local)
        print(f"stopped {' and '.join(stopped)}" if stopped else "not running")
    else:
        for name, state in (("metastore", local.metastore), ("HiveServer2", local.hiveserver2)):
            status = f"running on port {state.port} (pid {state.pid})" if state.running() else "not running"
            print(f"{name}: {status}")
        return 0 if local.metastore.running() and local.hiveserver2.running() else 3
    return 0


def _connect(action: str, root: Path) -> int:
    from airflow_mlplat.services import spark_connect

    state = spark_connect.connect_state(root)
    if action == "up":
        url = spark_connect.start_spark_connect(root, port=spark_connect.DEFAULT_PORT)
        print(f"Spark Connect server: {url} (pid {state.pid}, log {state.log})")
        print(f"export AIRFLOW_CONN_SPARK_CONNECT_DEFAULT='{spark_connect.connection_uri(url)}'")
    elif action == "down":
        print("stopped" if spark_connect.stop_spark_connect(root) else "not running")
    else:
        running = state.running()
        print(f"running at {spark_connect.connect_url(state)} (pid {state.pid})" if running else "not running")
        return 0 if running else 3
    return 0


def _flink(action: str, root: Path) -> int:
    from airflow_mlplat.services.flink_cluster import LocalFlinkCluster

    cluster = LocalFlinkCluster(root / "flink")
    if action == "up":
        url = cluster.start()
        host_port = url.split("://", 1)[1]
        print(f"Flink session cluster: {url} (JobManager pid {cluster.jobmanager.pid}, logs under {cluster.root})")
        print(f"export AIRFLOW_CONN_FLINK_DEFAULT='flink://{host_port}'")
    elif action == "down":
        running = cluster.rest_url() is not None
        cluster.stop()
        print("stopped" if running else "not running")
    else:
        url = cluster.rest_url()
        print(f"running at {url}" if url else "not running")
        return 0 if url else 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
