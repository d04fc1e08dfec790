"""``python -m airflow_mlplat.services {mlflow,hive} {up,down,status}``: the local servers, by PID."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

DEFAULT_ROOT = Path(os.environ.get("MLPLAT_SERVICES_DIR", ".services"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m airflow_mlplat.services", description=__doc__)
    parser.add_argument("service", choices=["mlflow"])
    parser.add_argument("action", choices=["up", "down", "status"])
    parser.add_argument("--root", type=Path, default=DEFAULT_ROOT, help="state directory (default: %(default)s)")
    args = parser.parse_args(argv)

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


if __name__ == "__main__":
    sys.exit(main())
