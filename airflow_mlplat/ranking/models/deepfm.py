"""DeepFM (Guo et al., 2017): first-order terms, the FM's pairwise interactions of the field
embeddings, and a deep network over the same embeddings, summed into one logit.

deepctr-torch's ``DeepFM``; see ``network.py`` for why the library's models are used as they are.
"""

from __future__ import annotations

from typing import Any

from airflow_mlplat.ranking.feature_map import FeatureMap
from airflow_mlplat.ranking.models.network import RankingNetwork, single_task_network


def build(feature_map: FeatureMap, params: dict[str, Any]) -> RankingNetwork:
    return single_task_network("DeepFM", feature_map, params, use_fm=True)
