"""DeepFM (Guo et al., 2017): first-order terms, the FM's pairwise interactions of the field
embeddings, and a deep network over the same embeddings, summed into one logit.

deepctr-torch's ``DeepFM``; see ``network.py`` for why the library's models are used as they are.
"""

from __future__ import annotations

from typing import Any

from airflow_mlplat.ranking.feature_map import FeatureMap
from airflow_mlplat.ranking.models.network import RankingNetwork, feature_columns, import_deepctr, task_labels


def build(feature_map: FeatureMap, params: dict[str, Any]) -> RankingNetwork:
    columns = feature_columns(feature_map, params["embedding_dim"])
    model = import_deepctr().models.DeepFM(
        columns,
        columns,
        use_fm=True,
        dnn_hidden_units=tuple(params["hidden_units"]),
        dnn_dropout=params["dropout"],
        l2_reg_embedding=params["embedding_l2"],
        l2_reg_linear=params["embedding_l2"],
        seed=params["seed"],
    )
    return RankingNetwork(model, feature_map, task_labels(feature_map, params.get("label")))
