"""What the browser tests share: the Airflow cluster's folders and running a page script in Chromium.

A script (``ui/e2e/*.e2e.mjs``) drives the page through playwright-core and prints one JSON line
of what it saw; screenshots go to ``output``.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

from tests.airflow.conftest import SPARK_DEFAULTS

from .airflow_cluster import AirflowCluster

REPO_ROOT = Path(__file__).resolve().parents[2]
UI_DIR = REPO_ROOT / "ui"
CHROMIUM = Path("/usr/bin/chromium")


def cluster_folders(tmp_path: Path) -> tuple[Path, Path, Path]:
    """``(dags, spark_conf_dir, airflow_home)``: a DAGs folder syncing ``pipelines/``, small-machine Spark settings."""
    dags = tmp_path / "dags"
    (dags / "pipelines").mkdir(parents=True)
    shutil.copy(REPO_ROOT / "dags" / "pipeline_dags.py", dags)
    conf_dir = tmp_path / "spark-conf"
    conf_dir.mkdir()
    (conf_dir / "spark-defaults.conf").write_text("".join(f"{k} {v}\n" for k, v in SPARK_DEFAULTS.items()))
    home = tmp_path / "airflow"
    home.mkdir()
    return dags, conf_dir, home


def run_page_script(
    script: str, cluster: AirflowCluster, output: Path, home: Path, env: dict[str, str], timeout: float
) -> dict[str, Any]:
    """Run ``ui/e2e/SCRIPT`` against ``cluster`` as its user; the JSON line it printed."""
    assert CHROMIUM.exists(), f"{CHROMIUM} is missing: run `make chromium` (part of `make test`)"
    assert (UI_DIR / "node_modules" / "playwright-core").exists(), "run `make ui` (part of `make test`)"
    if output.exists():
        shutil.rmtree(output)
    output.mkdir(parents=True)
    env = {
        "PATH": "/usr/bin:/bin:/usr/local/bin",
        "HOME": str(home),
        "MLPLAT_URL": cluster.url,
        "MLPLAT_TOKEN": cluster.token(),
        "MLPLAT_OUT": str(output),
        "CHROMIUM": str(CHROMIUM),
        **env,
    }
    run = subprocess.run(
        ["node", f"e2e/{script}"], cwd=UI_DIR, env=env, capture_output=True, text=True, timeout=timeout
    )
    print(run.stderr[-4000:])
    print(f"screenshots: {output}")
    assert run.returncode == 0, run.stderr[-4000:]
    return json.loads(run.stdout.strip().splitlines()[-1])
