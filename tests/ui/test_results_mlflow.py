"""Run results from MLflow, for runs whose output the API server cannot read (a real tracking server)."""

from __future__ import annotations

import json

from airflow_mlplat.ui.results import mlflow_artifact, mlflow_report

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64


def test_report_and_plots_come_from_the_tracked_run(mlflow_server, tmp_path):
    import mlflow

    client = mlflow.MlflowClient(mlflow_server)
    experiment = client.create_experiment(f"ui-results-{tmp_path.name}")
    run = client.create_run(experiment)
    report = {
        "status": "success",
        "metrics": {"evaluation": {"auc_roc": 0.81}},
        "nodes": {"evaluation": {"artifacts": ["/elsewhere/evaluation/roc_curve.png"]}},
    }
    (tmp_path / "report.json").write_text(json.dumps(report))
    plots = tmp_path / "plots"
    plots.mkdir()
    (plots / "roc_curve.png").write_bytes(PNG)
    client.log_artifact(run.info.run_id, str(tmp_path / "report.json"))
    client.log_artifact(run.info.run_id, str(plots / "roc_curve.png"), artifact_path="plots/evaluation")
    tracking = {"uri": mlflow_server, "experiment_id": experiment, "run_id": run.info.run_id}

    assert mlflow_report(tracking) == report
    assert mlflow_artifact(tracking, "plots/evaluation/roc_curve.png") == PNG
    assert mlflow_artifact(tracking, "plots/evaluation/missing.png") is None
