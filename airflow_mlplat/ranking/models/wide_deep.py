"""Wide & Deep (Cheng et al., 2016): a linear model over every field plus a deep network over the embeddings.

deepctr-torch's ``WDL``; see ``network.py`` for why the library's models are used as they are.
"""

from __future__ import annotations

from typing import Any

from airflow_mlplat.ranking.feature_map import FeatureMap
from airflow_mlplat.ranking.models.network import RankingNetwork, single_task_network


def build(feature_map: FeatureMap, params: dict[str, Any]) -> RankingNetwork:
    return single_task_network("WDL", feature_map, params)
