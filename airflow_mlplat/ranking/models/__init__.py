"""The ranking models: one short module per model, each mapping the declared parameters
(``airflow_mlplat.ranking.params``) onto a deepctr-torch model behind ``RankingNetwork``."""

from __future__ import annotations

import importlib
from typing import Any

from airflow_mlplat.ranking.params import MODELS


def build_network(model: str, feature_map: Any, params: dict[str, Any]) -> Any:
    """``RankingNetwork`` of ``model`` for ``feature_map`` with resolved ``params`` (``resolve_params``)."""
    if model not in MODELS:
        raise ValueError(f"model must be one of {', '.join(MODELS)}, got {model!r}")
    return importlib.import_module(f"{__name__}.{model}").build(feature_map, params)
