"""End to end in a real headless Chromium against a real Airflow (API server, scheduler, DAG processor).

The browser opens the page from the Airflow UI's navigation (``/plugin/mlplat``, which frames the
plugin's ``/mlplat/``), builds the purchase-intent pipeline on the canvas (synthetic data -> cast -> fill
-> assemble -> split -> GBDT -> predict -> evaluate), sees an invalid value's error on its
field, saves, triggers, reads the AUC from the results view, and opens the table previews of
three nodes by clicking them (first rows and column profile, written by the run). Screenshots of
the editor, the results and a preview are kept in ``test-output/ui-e2e/`` (printed at the end).

Needs ``make test`` (or ``make ui chromium``): Debian's chromium, and ``ui/node_modules`` for
playwright-core. It starts Spark: run it under `flock /tmp/mlplat-spark.lock`.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
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
    for shot in ("editor.png", "editor-invalid.png", "results.png", "preview.png"):
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
    generator = next(n for n in saved["nodes"] if n["component"] == "synthetic_purchase_intent")
    _check_previews(result["previews"], int(generator.get("params", {}).get("rows", 200_000)))


def _check_previews(previews: dict, ROWS: int) -> None:  # noqa: N803 (the generated row count)
    """The previews the page showed describe the data the saved pipeline generated (expected values by pandas)."""
    generated = previews["generated"]
    assert generated["rows_total"] == ROWS and generated["rows_shown"] == 100
    # The generator's user ids are u%09d of 0..ROWS-1: their profile, by pandas.
    user_ids = pd.Series([f"u{i:09d}" for i in range(ROWS)])
    profile = generated["profile"]["user_id"]
    assert (profile["type"], profile["missing"]) == ("string", "0")
    assert (profile["min"], profile["max"]) == (user_ids.min(), user_ids.max())
    assert abs(int(profile["distinct"]) - user_ids.nunique()) <= 0.05 * ROWS  # a sketch's estimate
    # The 0/1 label: one bar per value, all rows in them, its mean the share of ones.
    label = generated["profile"]["label"]
    assert len(label["bars"]) == 2 and sum(label["bars"]) == ROWS
    assert abs(float(label["mean"]) - label["bars"][1] / ROWS) < 1e-5
    # Cast to double: a numeric profile with a histogram of ten bars over every row.
    duration = previews["cast"]["profile"]["duration"]
    assert duration["type"] == "double" and len(duration["bars"]) == 10 and sum(duration["bars"]) == ROWS
    assert float(duration["min"]) <= float(duration["mean"]) <= float(duration["max"])
    # The split's two parts: two previews of one node, together every generated row.
    assert previews["train"]["port"] == "train" and previews["test"]["port"] == "test"
    assert previews["train"]["rows_total"] + previews["test"]["rows_total"] == ROWS
