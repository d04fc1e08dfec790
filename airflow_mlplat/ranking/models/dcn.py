"""DCN v2 (Wang et al., 2021): a cross network of full-rank cross layers
``x_{l+1} = x_0 * (W_l x_l + b_l) + x_l`` beside a deep network, over the same embeddings.

deepctr-torch's ``DCN`` with ``cross_parameterization="matrix"`` (its DCN-M, the v2 cross
layer); see ``network.py`` for why the library's models are used as they are.
"""

from __future__ import annotations

from typing import Any

from airflow_mlplat.ranking.feature_map import FeatureMap
from airflow_mlplat.ranking.models.network import RankingNetwork, feature_columns, import_deepctr, task_labels


def build(feature_map: FeatureMap, params: dict[str, Any]) -> RankingNetwork:
    columns = feature_columns(feature_map, params["embedding_dim"])
    model = import_deepctr().models.DCN(
        columns,
        columns,
        cross_num=params["cross_layers"],
        cross_parameterization="matrix",
        dnn_hidden_units=tuple(params["hidden_units"]),
        dnn_dropout=params["dropout"],
        l2_reg_embedding=params["embedding_l2"],
        l2_reg_linear=params["embedding_l2"],
        seed=params["seed"],
    )
    return RankingNetwork(model, feature_map, task_labels(feature_map, params.get("label")))
