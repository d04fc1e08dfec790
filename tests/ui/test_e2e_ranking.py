"""End to end in a real headless Chromium: a pipeline with a deep step, built on the canvas.

Against a real Airflow (API server, scheduler, DAG processor and a triggerer, where the deferred
training task waits) and a real MLflow server. The browser finds the ranking models in their
category, builds read table -> split -> encode features -> DeepFM (2 DDP workers, local launcher)
-> evaluate, registering the model, sees an invalid launcher setting's error on its field, saves,
triggers, and reads the AUC, the deep step's metrics and its training curve on the results page;
opened again, the saved pipeline shows the same model, params and launcher settings.
The table (3000 synthetic click rows, ``ranking.synthetic``) is written as parquet under the page's
data root (``$AIRFLOW_HOME/mlplat-data``) by the fixture. Screenshots go to
``test-output/ui-e2e-ranking/``.

Needs what ``test_e2e_browser`` needs (Debian's chromium, ``ui/node_modules``) and torch.
It starts Spark and training workers: run it under the machine's lock.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from airflow_mlplat.pipeline import PipelineValidationError, validate_pipeline

from .airflow_cluster import AirflowCluster
from .browser import REPO_ROOT, run_page_script

OUTPUT = REPO_ROOT / "test-output" / "ui-e2e-ranking"
PIPELINE = "ctr_deepfm_canvas"


def test_build_a_deep_pipeline_train_and_see_auc_and_training_curve(
    browser_airflow: AirflowCluster, mlflow_server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    airflow = browser_airflow
    table = airflow.home / "mlplat-data" / "clicks.parquet"
    result = run_page_script(
        "ranking.e2e.mjs", airflow, OUTPUT, tmp_path, {"MLPLAT_PIPELINE": PIPELINE, "MLPLAT_TABLE": str(table)}, 840
    )

    assert result["ranking_entries"] == 5  # one catalogue entry per model, in their own category
    assert result["state"] == "success"
    assert 0.55 < result["auc"] <= 1.0  # spark_stage_2's evaluation of DeepFM's test predictions
    assert result["auc"] == pytest.approx(result["test_auc"], abs=2e-4)  # = the trainer's own test AUC
    assert result["curve_width"] > 100  # the training curve PNG was served and decoded
    assert "deepfm.val_auc_label" in result["deep_metrics"]
    assert result["registered"].startswith(f"· registered {PIPELINE} version 1")
    for shot in ("editor.png", "editor-invalid.png", "results.png", "training-curve.png"):
        assert (OUTPUT / shot).stat().st_size > 10_000

    # Opened again from its file, the canvas shows the same model, params and launcher settings.
    assert result["reopened"] == {
        "kind": "ranking_model: deepfm",
        "hidden_units": "[32,16]",
        "workers": "2",
        "memory": "2Gi",
        "register": json.dumps({"name": PIPELINE, "model": "deepfm.model"}, separators=(",", ":")),
    }

    # The training task deferred: it waited for its workers in the triggerer.
    assert list(airflow.home.glob("logs/dag_id=*/run_id=*/task_id=deepfm/*.trigger.*.log"))

    # The saved file is the pipeline the canvas built: the deep node keeps its model, params and launcher.
    saved = json.loads((airflow.dags_folder / "pipelines" / f"{PIPELINE}.json").read_text())
    deepfm = next(n for n in saved["nodes"] if n["id"] == "deepfm")
    assert deepfm["component"] == "ranking_model" and deepfm["model"] == "deepfm"
    assert deepfm["params"] == {
        "embedding_dim": 8, "hidden_units": [32, 16], "batch_size": 256, "epochs": 3, "learning_rate": 0.01
    }  # fmt: skip
    assert deepfm["launcher"] == {"workers": 2, "cpu": "1", "memory": "2Gi", "timeout": 600}
    assert saved["register"] == {"name": PIPELINE, "model": "deepfm.model"}
    # validated with the cluster's page data root ($AIRFLOW_HOME/mlplat-data of its AIRFLOW_HOME)
    monkeypatch.setenv("AIRFLOW__MLPLAT__PAGE_DATA_ROOTS", str(airflow.home / "mlplat-data"))
    validate_pipeline(saved, source="saved")
    # The inline error was the validator's own message for that launcher setting.
    deepfm["launcher"]["workers"] = 0
    with pytest.raises(PipelineValidationError) as error:
        validate_pipeline(saved)
    assert [p.message for p in error.value.problems] == [result["inline_error"]]

    import pyarrow.parquet as pq
    from mlflow import MlflowClient
    from sklearn.metrics import roc_auc_score

    # The run's folder: the tables between the tasks, materialised; the deep step's model and predictions.
    [run_dir] = (airflow.run_root / PIPELINE).iterdir()
    for materialised in ("ctr_feature_encoder/data", "ctr_feature_encoder/model", "predict/data", "predict_2/data"):
        assert (run_dir / materialised).is_dir(), materialised
    model_dir = run_dir / "deepfm" / "model"
    assert {"model.onnx", "model.torchscript.pt", "feature_map.json", "training_curve.png"} <= {
        p.name for p in model_dir.iterdir()
    }
    assert json.loads((model_dir / "training_config.json").read_text())["name"].startswith(PIPELINE)
    # Spark evaluated the predictions the deep step wrote (its one-pass histogram puts scores closer
    # than 2**-16 in one bin: within 1e-4 of the exact AUC).
    predictions = pq.read_table(model_dir / "test_predictions.parquet").to_pydict()
    assert result["auc"] == pytest.approx(roc_auc_score(predictions["label"], predictions["p_label"]), abs=1e-4)

    # Registered with its lineage, its per-epoch validation metric and its training curve.
    client = MlflowClient(mlflow_server)
    [version] = client.search_model_versions(f"name='{PIPELINE}'")
    assert version.version == "1"
    assert version.tags["mlplat.model"] == "deepfm" and version.tags["mlplat.pipeline"] == PIPELINE
    assert version.tags["mlplat.input.train"] == str(run_dir / "ctr_feature_encoder" / "data")
    epochs = [m.step for m in client.get_metric_history(version.run_id, "val_auc_label")]
    assert epochs and epochs == list(range(1, len(epochs) + 1))
    assert "training_curve.png" in {a.path for a in client.list_artifacts(version.run_id)}
