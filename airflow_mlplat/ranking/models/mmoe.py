"""MMoE (Ma et al., 2018): shared experts over the embeddings, one softmax gate and one tower
per task; each task's prediction mixes the experts by its own gate.

deepctr-torch's ``MMOE``; see ``network.py`` for why the library's models are used as they are.
``hidden_units`` are each expert's layers; ``tasks`` the label columns (default every label of
the feature map).
"""

from __future__ import annotations

from typing import Any

from airflow_mlplat.ranking.feature_map import FeatureMap
from airflow_mlplat.ranking.models.network import RankingNetwork, feature_columns, import_deepctr


def build(feature_map: FeatureMap, params: dict[str, Any]) -> RankingNetwork:
    tasks = list(params.get("tasks") or feature_map.labels)
    unknown = [t for t in tasks if t not in feature_map.labels]
    if unknown or len(tasks) < 2:
        raise ValueError(
            f"mmoe: params.tasks must name two or more labels of the feature map ({', '.join(feature_map.labels)}), "
            f"got {tasks!r}"
        )
    columns = feature_columns(feature_map, params["embedding_dim"])
    model = import_deepctr().models.MMOE(
        columns,
        num_experts=params["num_experts"],
        expert_dnn_hidden_units=tuple(params["hidden_units"]),
        tower_dnn_hidden_units=tuple(params["tower_units"]),
        dnn_dropout=params["dropout"],
        l2_reg_embedding=params["embedding_l2"],
        l2_reg_linear=params["embedding_l2"],
        task_types=("binary",) * len(tasks),
        task_names=tuple(tasks),
        seed=params["seed"],
    )
    return RankingNetwork(model, feature_map, tasks)
