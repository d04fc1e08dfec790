"""End to end in a real headless Chromium against a real Airflow (API server, scheduler, DAG processor).

The browser opens the page from the Airflow UI's navigation (``/plugin/mlplat``, which frames the
plugin's ``/mlplat/``), builds the purchase-intent pipeline on the canvas (synthetic data -> cast -> fill
-> assemble -> split -> GBDT -> predict -> evaluate), sees an invalid value's error on its
field, saves, triggers, and reads the AUC from the results view. Screenshots of the editor and
the results page are kept in ``test-output/ui-e2e/`` (printed at the end).

Needs ``make test`` (or ``make ui chromium``): Debian's chromium, and ``ui/node_modules`` for
playwright-core. It starts Spark: run it under `flock /tmp/mlplat-spark.lock`.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from airflow_mlplat.pipeline import PipelineValidationError, validate_pipeline
from tests.airflow.conftest import SPARK_DEFAULTS

from .airflow_cluster import AirflowCluster

REPO_ROOT = Path(__file__).resolve().parents[2]
UI_DIR = REPO_ROOT / "ui"
CHROMIUM = Path("/usr/bin/chromium")
OUTPUT = REPO_ROOT / "test-output" / "ui-e2e"
PIPELINE = "purchase_intent_canvas"


@pytest.fixture
def airflow(tmp_path: Path):
    dags = tmp_path / "dags"
    (dags / "pipelines").mkdir(parents=True)
    shutil.copy(REPO_ROOT / "dags" / "pipeline_dags.py", dags)
    shutil.copy(REPO_ROOT / "dags" / "pipelines" / "purchase_intent_gbdt.json", dags / "pipelines")
    conf_dir = tmp_path / "spark-conf"
    conf_dir.mkdir()
    (conf_dir / "spark-defaults.conf").write_text("".join(f"{k} {v}\n" for k, v in SPARK_DEFAULTS.items()))
    home = tmp_path / "airflow"
    home.mkdir()
    cluster = AirflowCluster(home=home, dags_folder=dags, run_root=tmp_path / "runs", spark_conf_dir=conf_dir)
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()
        print(cluster.logs(1500))


def test_build_save_trigger_and_see_the_auc(airflow: AirflowCluster, tmp_path: Path):
    assert CHROMIUM.exists(), f"{CHROMIUM} is missing: run `make chromium` (part of `make test`)"
    assert (UI_DIR / "node_modules" / "playwright-core").exists(), "run `make ui` (part of `make test`)"
    if OUTPUT.exists():
        shutil.rmtree(OUTPUT)
    OUTPUT.mkdir(parents=True)
    env = {
        "PATH": "/usr/bin:/bin:/usr/local/bin",
        "HOME": str(tmp_path),
        "MLPLAT_URL": airflow.url,
        "MLPLAT_TOKEN": airflow.token(),
        "MLPLAT_OUT": str(OUTPUT),
        "MLPLAT_PIPELINE": PIPELINE,
        "CHROMIUM": str(CHROMIUM),
    }
    run = subprocess.run(
        ["node", "e2e/editor.e2e.mjs"], cwd=UI_DIR, env=env, capture_output=True, text=True, timeout=420
    )
    print(run.stderr[-4000:])
    print(f"screenshots: {OUTPUT}")
    assert run.returncode == 0, run.stderr[-4000:]
    result = json.loads(run.stdout.strip().splitlines()[-1])

    assert result["state"] == "success"
    assert 0.6 < result["auc"] <= 1.0
    assert result["plots"] >= 1
    for shot in ("editor.png", "editor-invalid.png", "results.png"):
        assert (OUTPUT / shot).stat().st_size > 10_000

    # The saved file is the pipeline the canvas shows, and the same validator accepts it.
    saved = json.loads((airflow.dags_folder / "pipelines" / f"{PIPELINE}.json").read_text())
    assert [n["component"] for n in saved["nodes"]][-1] == "binary_classification_evaluation"
    validate_pipeline(saved, source="saved")
    # The inline error was the validator's own message for that field.
    broken = json.loads(json.dumps(saved))
    next(n for n in broken["nodes"] if n["id"] == "gbdt")["params"]["max_iter"] = 0
    with pytest.raises(PipelineValidationError) as error:
        validate_pipeline(broken)
    assert [p.message for p in error.value.problems] == [result["inline_error"]]
