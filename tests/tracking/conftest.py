"""Tracking tests log to the real MLflow server of the session (``mlflow_server`` in tests/conftest.py)."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def behaviour(spark, tmp_path_factory):
    """A small generated purchase-intent table, written as parquet."""
    from airflow_mlplat.components.datasets import synthetic_purchase_intent
    from airflow_mlplat.engine.context import ComponentContext

    path = tmp_path_factory.mktemp("data") / "behaviour"
    ctx = ComponentContext(spark=spark, node_id="gen", artifacts_dir=str(path.parent))
    synthetic_purchase_intent(ctx, rows=3000, seed=3, partitions=2).write.parquet(str(path))
    return str(path)


@pytest.fixture
def no_env_tracking(monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
