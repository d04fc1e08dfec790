"""Each ranking model trains through the launcher with 2 DDP workers and exports checked models.

``DistributedTrainingOperator`` (local backend) runs ``ranking.train`` on two worker processes
(gloo, one thread each) over the session's small encoded tables. The test then checks the
exported folder itself instead of trusting the replica's own report: it rebuilds the PyTorch
model from ``model.pt`` and compares TorchScript and ONNX Runtime outputs with it on the test
rows (within 1e-5), and reads the feature map, metrics, history and training curve.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from airflow_mlplat.ranking.params import MODELS

PARAMS = {
    "embedding_dim": 8,
    "hidden_units": [32, 16],
    "batch_size": 256,
    "epochs": 4,
    "learning_rate": 0.01,
    "lr_decay": "exponential",
    "lr_decay_factor": 0.5,
    "early_stopping_patience": 2,
}
# MMoE's experts learn slower on 3,200 rows: a slower decay and one more epoch.
OWN = {
    "dcn": {"cross_layers": 2},
    "din": {"attention_units": [16, 8]},
    "mmoe": {"num_experts": 2, "tower_units": [8], "epochs": 5, "lr_decay_factor": 0.8},
}


@pytest.mark.parametrize("model", MODELS)
def test_model_trains_with_two_ddp_workers_and_exports_checked_models(model, ranking_tables, tmp_path: Path):
    import onnxruntime
    import torch

    from airflow_mlplat.operators.distributed_training import DistributedTrainingOperator
    from airflow_mlplat.ranking.data import EncodedTable
    from airflow_mlplat.ranking.feature_map import FeatureMap
    from airflow_mlplat.ranking.job import ranking_job
    from airflow_mlplat.ranking.models import build_network
    from airflow_mlplat.ranking.params import resolve_params

    output = tmp_path / "model"
    params = {**PARAMS, **OWN.get(model, {})}
    job = ranking_job(
        name=f"rank-{model}",
        model=model,
        params=params,
        train=ranking_tables.train,
        validation=ranking_tables.validation,
        test=ranking_tables.test,
        feature_map=ranking_tables.encoder,
        extra=["true_ctr"],
        output_path=output.as_uri(),
        launcher={"workers": 2, "cpu": "1", "memory": "2Gi", "timeout": 600.0},
    )
    task = DistributedTrainingOperator(
        task_id="train",
        job=job,
        backend="local",
        state_root=str(tmp_path / "launcher"),
        deferrable=False,
        poll_interval=0.3,
    )
    result = task.execute({})
    assert result["phase"] == "succeeded"

    metrics = json.loads((output / "metrics.json").read_text())
    tasks = ["label", "label2"] if model == "mmoe" else ["label"]
    assert metrics["tasks"] == tasks and metrics["world_size"] == 2
    assert result["metrics"]["world_size"] == 2 and result["metrics"]["model"] == model
    history = json.loads((output / "history.json").read_text())
    assert len(history) >= 2 and [h["epoch"] for h in history] == list(range(1, len(history) + 1))
    factor = params["lr_decay_factor"]
    assert [h["lr"] for h in history] == pytest.approx([0.01 * factor**i for i in range(len(history))])
    assert history[1]["train_loss"] < history[0]["train_loss"]
    best = [h for h in history if h["best"]]
    assert len(best) == 1 and best[0]["epoch"] == metrics["best_epoch"]
    assert best[0]["val_auc_mean"] == max(h["val_auc_mean"] for h in history)
    # both workers trained: every epoch covers the whole training table (2 x its share, padded to equal steps)
    train_rows = EncodedTable(ranking_tables.train, FeatureMap.load(ranking_tables.encoder)).num_rows
    assert all(train_rows <= h["train_rows"] < train_rows + 2 * 256 for h in history)
    # learned something on 3,200 rows (the oracle AUC of this data is about 0.8)
    assert 0.55 < metrics["test_auc_label"] <= 1.0, metrics
    if model == "mmoe":
        assert 0.53 < metrics["test_auc_label2"] <= 1.0, metrics
    for task_name in tasks:
        assert 0.0 < metrics[f"val_logloss_{task_name}"] < 1.0
    assert (output / "training_curve.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    feature_map = FeatureMap.load(str(output))
    assert feature_map == FeatureMap.load(ranking_tables.encoder)

    # The exports, checked here against the PyTorch model rebuilt from the saved weights.
    saved = torch.load(output / "model.pt", weights_only=False)
    assert saved["model"] == model
    network = build_network(model, feature_map, resolve_params(model, saved["params"]))
    network.load_state_dict(saved["state_dict"])
    network.eval()
    rows = next(EncodedTable(ranking_tables.test, feature_map).batches(300, shuffle=False, steps=None))
    inputs = [torch.from_numpy(rows[name]) for name in feature_map.names]
    with torch.no_grad():
        reference = network(*inputs).numpy()
        scripted = torch.jit.load(str(output / "model.torchscript.pt"))(*inputs).numpy()
    session = onnxruntime.InferenceSession(str(output / "model.onnx"), providers=["CPUExecutionProvider"])
    assert [i.name for i in session.get_inputs()] == feature_map.names
    onnx = session.run(["probability"], {name: rows[name] for name in feature_map.names})[0]
    assert reference.shape == (len(rows["label"]), len(tasks))
    assert np.max(np.abs(scripted - reference)) <= 1e-5
    assert np.max(np.abs(onnx - reference)) <= 1e-5
    assert metrics["export_check"]["onnx_max_abs_diff"] <= 1e-5
    # the saved test predictions are this model's
    predictions = __import__("pyarrow.parquet", fromlist=["x"]).read_table(output / "test_predictions.parquet")
    assert predictions.num_rows == EncodedTable(ranking_tables.test, feature_map).num_rows
    assert {"p_label", "label", "true_ctr"} <= set(predictions.column_names)


def test_invalid_parameters_fail_before_a_job_exists(tmp_path: Path):
    from airflow_mlplat.ranking.job import ranking_job
    from airflow_mlplat.ranking.params import RankingParamsError

    with pytest.raises(RankingParamsError) as info:
        ranking_job(
            name="bad",
            model="dcn",
            params={"hidden_units": [64, 0], "cross_layers": 0},
            train="/t",
            validation="/v",
            feature_map="/f",
            output_path=(tmp_path / "o").as_uri(),
            launcher={"workers": 0},
        )
    message = str(info.value)
    assert "params.hidden_units must be a list of 1 to 10 layer widths" in message
    assert "params.cross_layers must be an integer >= 1" in message
    assert "launcher.workers must be an integer >= 1" in message
    assert list(tmp_path.iterdir()) == []
