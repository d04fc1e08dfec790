"""Tracking tests log to the real MLflow server of the session (``mlflow_server`` in tests/conftest.py)."""

from __future__ import annotations

import pytest


@pytest.fixture
def no_env_tracking(monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
