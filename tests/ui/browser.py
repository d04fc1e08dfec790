"""What the browser tests share: one real Airflow (``browser_airflow``, in ``conftest.py``) and running
a page script in Chromium.

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


#: Click rows (``ranking.synthetic``) the deep pipeline's browser test reads, under the page's data root.
CLICK_ROWS = 3000


def write_clicks(path: Path) -> None:
    """``CLICK_ROWS`` synthetic click rows (the generator ``synthetic_ctr`` uses) as one parquet file."""
    import numpy as np

    from airflow_mlplat.ranking.synthetic import SyntheticCtr

    frame = SyntheticCtr(fields=5, max_cardinality=200, max_history=6, seed=3).generate(np.arange(CLICK_ROWS))
    path.parent.mkdir(parents=True)
    frame.to_parquet(path, index=False)


def start_cluster(root: Path, mlflow_server: str) -> AirflowCluster:
    """An Airflow with a triggerer (deferred training steps) and MLflow, syncing ``pipelines/`` from its
    DAGs folder (the purchase-intent template in it), small-machine Spark settings, the click table."""
    dags = root / "dags"
    (dags / "pipelines").mkdir(parents=True)
    shutil.copy(REPO_ROOT / "dags" / "pipeline_dags.py", dags)
    shutil.copy(REPO_ROOT / "dags" / "pipelines" / "purchase_intent_gbdt.json", dags / "pipelines")
    conf_dir = root / "spark-conf"
    conf_dir.mkdir()
    (conf_dir / "spark-defaults.conf").write_text("".join(f"{k} {v}\n" for k, v in SPARK_DEFAULTS.items()))
    home = root / "airflow"
    home.mkdir()
    write_clicks(home / "mlplat-data" / "clicks.parquet")  # under the page's default data root
    cluster = AirflowCluster(
        home=home,
        dags_folder=dags,
        run_root=root / "runs",
        spark_conf_dir=conf_dir,
        triggerer=True,
        extra_env={"AIRFLOW_CONN_MLFLOW_DEFAULT": mlflow_server, "MLPLAT_LAUNCHER_ROOT": str(root / "launcher")},
    )
    cluster.start()
    return cluster


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
