"""The shared trainer in one process: early stopping, learning-rate decay, checkpoints and resuming."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from airflow_mlplat.ranking.data import EncodedTable
from airflow_mlplat.ranking.models import build_network
from airflow_mlplat.ranking.params import resolve_params
from airflow_mlplat.ranking.trainer import Trainer
from tests.ranking.tables import write_encoded

SMALL = {"embedding_dim": 4, "hidden_units": [8], "batch_size": 128, "learning_rate": 0.01}


@pytest.fixture
def tables(tmp_path: Path):
    feature_map, _ = write_encoded(tmp_path / "train", 800, files=2)
    write_encoded(tmp_path / "validation", 200, files=1, start=10_000)
    return (
        feature_map,
        EncodedTable(str(tmp_path / "train"), feature_map, labels=["label"]),
        EncodedTable(str(tmp_path / "validation"), feature_map, labels=["label"]),
    )


def _trainer(feature_map, model="deepfm", **params):
    resolved = resolve_params(model, {**SMALL, **params})
    return Trainer(build_network(model, feature_map, resolved), resolved, echo=lambda line: None)


def test_early_stopping_stops_after_patience_and_restores_the_best_epoch(tables, monkeypatch):
    feature_map, train, validation = tables
    trainer = _trainer(feature_map, epochs=10, early_stopping_patience=2)
    aucs = iter([0.60, 0.70, 0.65, 0.69, 0.99])
    snapshots = {}

    def scripted(table, prefix):
        epoch = len(trainer.history) + 1
        snapshots[epoch] = {k: v.clone() for k, v in trainer.network.state_dict().items()}
        return {f"{prefix}_auc_label": next(aucs), f"{prefix}_logloss_label": 0.5, f"{prefix}_rows": 200}

    monkeypatch.setattr(trainer, "evaluate", scripted)
    history = trainer.fit(train, validation)
    assert [h["epoch"] for h in history] == [1, 2, 3, 4]  # two epochs without a better AUC after epoch 2
    assert trainer.stopped_early and trainer.best_epoch == 2
    assert [h["best"] for h in history] == [False, True, False, False]
    restored = trainer.network.state_dict()
    assert all(torch.equal(restored[k], snapshots[2][k]) for k in restored)
    assert not all(torch.equal(restored[k], snapshots[4][k]) for k in restored)


@pytest.mark.parametrize(
    ("decay", "expected"),
    [
        ({"lr_decay": "none"}, [0.01, 0.01, 0.01, 0.01]),
        ({"lr_decay": "step", "lr_decay_epochs": 2, "lr_decay_factor": 0.5}, [0.01, 0.01, 0.005, 0.005]),
        ({"lr_decay": "exponential", "lr_decay_factor": 0.1}, [0.01, 0.001, 0.0001, 0.00001]),
    ],
)
def test_learning_rate_decay_per_epoch(tables, decay, expected):
    feature_map, train, validation = tables
    trainer = _trainer(feature_map, epochs=4, early_stopping_patience=0, **decay)
    history = trainer.fit(train, validation)
    assert [h["lr"] for h in history] == pytest.approx(expected)
    assert history[-1]["best"] and not trainer.stopped_early
    assert all(0.0 < h["val_auc_label"] < 1.0 and h["train_rows"] >= 800 for h in history)


def test_a_restarted_worker_resumes_from_the_newest_checkpoint(tables, tmp_path):
    feature_map, train, validation = tables
    checkpoints = tmp_path / "checkpoints"
    first = _trainer(feature_map, epochs=2, early_stopping_patience=0)
    first.checkpoint_dir = str(checkpoints)
    first.fit(train, validation)
    assert sorted(p.name for p in checkpoints.iterdir()) == ["epoch-1", "epoch-2"]
    again = _trainer(feature_map, epochs=3, early_stopping_patience=0)
    again.checkpoint_dir = str(checkpoints)
    history = again.fit(train, validation)
    assert [h["epoch"] for h in history] == [1, 2, 3]
    assert history[:2] == [{**h, "best": False} for h in first.history]
    assert sorted(p.name for p in checkpoints.iterdir()) == ["epoch-2", "epoch-3"]  # the newest two are kept
