"""A trained ranking model is tracked in MLflow and registered with its metrics and lineage."""

from __future__ import annotations

import json


def test_published_model_is_logged_and_registered(mlflow_server, ranking_tables, tmp_path, monkeypatch):
    import mlflow
    import numpy as np
    from mlflow import MlflowClient

    from airflow_mlplat.ranking.data import EncodedTable
    from airflow_mlplat.ranking.feature_map import FeatureMap
    from airflow_mlplat.ranking.registration import register_ranking_model
    from airflow_mlplat.ranking.train import run

    monkeypatch.delenv("WORLD_SIZE", raising=False)
    output = tmp_path / "published"
    config = {
        "model": "deepfm",
        "params": {"epochs": 2, "embedding_dim": 4, "hidden_units": [8], "batch_size": 256, "lr_decay": "step"},
        "train": ranking_tables.train,
        "validation": ranking_tables.validation,
        "test": ranking_tables.test,
        "feature_map": ranking_tables.encoder,
    }
    metrics = run(config, output=str(output))
    registered = register_ranking_model(
        output.as_uri(),
        name="ctr_deepfm",
        tracking_uri=mlflow_server,
        pipeline="ctr_ranking",
        pipeline_sha256="ab" * 32,
        alias="candidate",
        lineage={"raw": "hive://warehouse/ml.clicks"},
    )
    client = MlflowClient(mlflow_server)
    version = client.get_model_version("ctr_deepfm", str(registered["version"]))
    assert version.tags["mlplat.model"] == "deepfm" and version.tags["mlplat.pipeline"] == "ctr_ranking"
    assert version.tags["mlplat.input.train"] == ranking_tables.train
    assert version.tags["mlplat.input.raw"] == "hive://warehouse/ml.clicks"
    assert version.tags["mlplat.code_version"].startswith(__import__("airflow_mlplat").__version__)
    assert float(version.tags["metric.test_auc_label"]) == metrics["test_auc_label"]
    assert client.get_model_version_by_alias("ctr_deepfm", "candidate").version == version.version

    run_data = client.get_run(registered["run_id"]).data
    assert run_data.params["model"] == "deepfm" and json.loads(run_data.params["hidden_units"]) == [8]
    history = client.get_metric_history(registered["run_id"], "val_auc_label")
    assert [m.step for m in history] == [1, 2]
    assert run_data.metrics["test_auc_label"] == metrics["test_auc_label"]
    artifacts = {a.path for a in client.list_artifacts(registered["run_id"])}
    assert {"training_curve.png", "feature_map.json", "history.json"} <= artifacts

    # The registered version serves: MLflow's ONNX flavour scores the feature map's encoded rows.
    feature_map = FeatureMap.load(ranking_tables.encoder)
    rows = next(EncodedTable(ranking_tables.test, feature_map).batches(50, shuffle=False, steps=None))
    mlflow.set_tracking_uri(mlflow_server)
    loaded = mlflow.onnx.load_model(f"models:/ctr_deepfm/{registered['version']}")
    import onnxruntime

    session = onnxruntime.InferenceSession(loaded.SerializeToString(), providers=["CPUExecutionProvider"])
    scores = session.run(None, {name: rows[name] for name in feature_map.names})[0]
    assert scores.shape == (50, 1) and np.all((scores > 0) & (scores < 1))
    model_files = {a.path.rsplit("/", 1)[-1] for a in mlflow.artifacts.list_artifacts(registered["model_uri"])}
    assert {"feature_map.json", "model.torchscript.pt", "MLmodel"} <= model_files
