"""The exporting replica's entry point: run the user's command, then publish its model.

``python -m airflow_mlplat.launcher.entrypoint -- COMMAND...`` is the main container's command of
the replica that exports (the chief, else worker-0) when the job has an ``output_path``. It runs
``COMMAND`` as a child (SIGTERM and SIGINT are passed on), and when it exits 0 copies
``MLPLAT_MODEL_DIR`` to ``MLPLAT_OUTPUT_PATH`` (``stage.publish``: a temporary name, then a move).
The user's script only writes its model into ``MLPLAT_MODEL_DIR``; the platform does the export.
An empty model directory fails the replica, naming the variable: an output was asked for.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from typing import Any

from airflow_mlplat.launcher.stage import publish

#: Exit code of an export failure (the command itself succeeded).
EXPORT_FAILED = 3


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["--"]:
        args = args[1:]
    if not args:
        print("usage: python -m airflow_mlplat.launcher.entrypoint -- COMMAND [ARGS...]", file=sys.stderr)
        return 2
    proc = subprocess.Popen(args)

    def forward(signum: int, frame: Any) -> None:
        proc.send_signal(signum)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    code = proc.wait()
    if code != 0:
        return code
    output = os.environ.get("MLPLAT_OUTPUT_PATH")
    if os.environ.get("MLPLAT_EXPORT") != "1" or not output:
        return 0
    model_dir = os.environ.get("MLPLAT_MODEL_DIR", "")
    try:
        publish(model_dir, output)
    except FileNotFoundError:
        print(
            f"entrypoint: MLPLAT_OUTPUT_PATH is {output} but MLPLAT_MODEL_DIR ({model_dir}) is empty: "
            "the training command must write its model there",
            file=sys.stderr,
        )
        return EXPORT_FAILED
    except Exception as err:
        print(f"entrypoint: exporting {model_dir} to {output} failed: {err}", file=sys.stderr)
        return EXPORT_FAILED
    print(f"entrypoint: exported {model_dir} -> {output}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
