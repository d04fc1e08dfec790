"""DCN v2 (Wang et al., 2021): a cross network of full-rank cross layers
``x_{l+1} = x_0 * (W_l x_l + b_l) + x_l`` beside a deep network, over the same embeddings.

deepctr-torch's ``DCN`` with ``cross_parameterization="matrix"`` (its DCN-M, the v2 cross
layer); see ``network.py`` for why the library's models are used as they are.
"""

from __future__ import annotations

from typing import Any

from airflow_mlplat.ranking.feature_map import FeatureMap
from airflow_mlplat.ranking.models.network import RankingNetwork, single_task_network


def build(feature_map: FeatureMap, params: dict[str, Any]) -> RankingNetwork:
    return single_task_network(
        "DCN", feature_map, params, cross_num=params["cross_layers"], cross_parameterization="matrix"
    )
