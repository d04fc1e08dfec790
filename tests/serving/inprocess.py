"""The prediction service in this process, over the small saved model in ``data/tiny_model`` (no Spark, no MLflow)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from airflow_mlplat.serving.model import LoadedModel, load_model_dir
from airflow_mlplat.serving.registry import ModelRef
from airflow_mlplat.serving.versions import ModelRouter, ModelSlot

TINY_MODEL = Path(__file__).parent / "data" / "tiny_model"
#: A row the tiny model scores: a long, a double and a string.
ROW = {"n": 3, "x": 0.5, "s": "a"}


def tiny_model() -> LoadedModel:
    return load_model_dir(TINY_MODEL, name="tiny", version="1", slot="local")


def router_of(model: LoadedModel) -> ModelRouter:
    """A router whose one slot already holds ``model`` (start-up then loads nothing)."""
    slot = ModelSlot(ModelRef.parse(str(TINY_MODEL)), registry=None, cache_dir=TINY_MODEL)
    slot.current = model
    return ModelRouter([slot])


def tiny_app(**kwargs: Any) -> Any:
    from airflow_mlplat.serving.app import create_app

    return create_app(router_of(tiny_model()), **kwargs)
