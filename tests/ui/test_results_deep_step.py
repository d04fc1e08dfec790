"""The results of a run with several tasks: every Spark stage's report, and a deep training step.

The deep step (``RankingModelOperator``) has no report: its result XCom names the published model
folder, whose training curve is served from inside the DAG's run folder only.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.ui.conftest import DAG_A, DAG_B
from tests.ui.runs import PNG, add_dag_run, add_task_instance

CURVE = b"\x89PNG\r\n\x1a\n-training-curve-" + b"\0" * 16
SECRET = b"\x89PNG\r\n\x1a\n-secret-of-dag-b-curve-" + b"\0" * 16


def _stage(run_dir: Path, task_id: str, node: str, metrics: dict) -> None:
    folder = run_dir / task_id
    folder.mkdir(parents=True, exist_ok=True)
    report = {"status": "success", "metrics": {node: metrics}, "nodes": {node: {"artifacts": []}}}
    (folder / "report.json").write_text(json.dumps(report))
    _xcom("report_path", str(folder / "report.json"), task_id, run_dir)


def _xcom(key: str, value, task_id: str, run_dir: Path) -> None:
    from airflow.models.xcom import XComModel

    add_task_instance(run_dir.parent.name, run_dir.name, task_id)
    XComModel.set(key, value, dag_id=run_dir.parent.name, task_id=task_id, run_id=run_dir.name)


def _model_folder(folder: Path, curve: bytes) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "training_curve.png").write_bytes(curve)
    (folder / "metrics.json").write_text("{}")
    return folder


def _training_result(folder: Path) -> dict:
    return {
        "job": "ctr-deepfm",
        "phase": "Succeeded",
        "output_path": f"file://{folder}",
        "metrics": {"val_auc_label": 0.71, "test_auc_label": 0.7, "epochs": 3},
        "message": "",
        "registered": {"name": "ctr", "version": 2},
    }


def test_every_stage_report_and_the_deep_step_curve_and_metrics(client, admin, run_root: Path):
    run_dir = run_root / DAG_A / "run_deep"
    add_dag_run(DAG_A, "run_deep")
    _stage(run_dir, "spark_stage_1", "encode", {"rows": 3000})
    _stage(run_dir, "spark_stage_2", "evaluate", {"auc_roc": 0.7})
    _xcom("return_value", _training_result(_model_folder(run_dir / "deepfm" / "model", CURVE)), "deepfm", run_dir)

    results = client.get(f"/mlplat/api/runs/{DAG_A}/run_deep", headers=admin).json()

    assert set(results["reports"]) == {"spark_stage_1", "spark_stage_2"}
    assert results["metrics"]["evaluate"] == {"auc_roc": 0.7}
    assert results["metrics"]["encode"] == {"rows": 3000}
    assert results["metrics"]["deepfm"] == {"val_auc_label": 0.71, "test_auc_label": 0.7, "epochs": 3}
    assert results["training"]["deepfm"]["registered"] == {"name": "ctr", "version": 2}
    assert results["plots"] == [{"task": "deepfm", "node": "deepfm", "index": 0, "name": "training_curve.png"}]
    curve = client.get(f"/mlplat/api/runs/{DAG_A}/run_deep/artifacts/deepfm/deepfm/0", headers=admin)
    assert curve.status_code == 200 and curve.content == CURVE
    assert curve.headers["content-type"] == "image/png"
    for missing in ("deepfm/deepfm/1", "deepfm/evaluate/0", "spark_stage_2/deepfm/0"):
        response = client.get(f"/mlplat/api/runs/{DAG_A}/run_deep/artifacts/{missing}", headers=admin)
        assert response.status_code == 404, missing


def test_a_training_result_pointing_at_another_dags_folder_is_not_served(client, admin, run_root: Path):
    add_dag_run(DAG_B, "run_b_deep")
    elsewhere = _model_folder(run_root / DAG_B / "run_b_deep" / "deepfm" / "model", SECRET)
    run_dir = run_root / DAG_A / "run_pointing_away"
    add_dag_run(DAG_A, "run_pointing_away")
    _xcom("return_value", _training_result(elsewhere), "deepfm", run_dir)

    results = client.get(f"/mlplat/api/runs/{DAG_A}/run_pointing_away", headers=admin).json()
    assert results["plots"] == [] and results["training"] == {} and "deepfm" not in results["metrics"]
    response = client.get(f"/mlplat/api/runs/{DAG_A}/run_pointing_away/artifacts/deepfm/deepfm/0", headers=admin)
    assert response.status_code == 404 and SECRET not in response.content


def test_a_run_that_does_not_exist_serves_no_curve(client, admin, run_root: Path):
    _model_folder(run_root / DAG_A / "never_ran_deep" / "deepfm" / "model", PNG)
    response = client.get(f"/mlplat/api/runs/{DAG_A}/never_ran_deep/artifacts/deepfm/deepfm/0", headers=admin)
    assert response.status_code == 404
