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
from pathlib import Path

import pytest

from airflow_mlplat.pipeline import PipelineValidationError, validate_pipeline

from .airflow_cluster import AirflowCluster
from .browser import REPO_ROOT, run_page_script

OUTPUT = REPO_ROOT / "test-output" / "ui-e2e"
PIPELINE = "purchase_intent_canvas"


def test_build_save_trigger_and_see_the_auc(browser_airflow: AirflowCluster, tmp_path: Path):
    airflow = browser_airflow
    result = run_page_script("editor.e2e.mjs", airflow, OUTPUT, tmp_path, {"MLPLAT_PIPELINE": PIPELINE}, timeout=420)

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
