"""DIN (Zhou et al., 2018): the user's behaviour sequence is pooled with weights an attention
unit gives each behaviour against the target item (local activation), so the items of the
interest the target belongs to count, not the average of all interests.

deepctr-torch's ``DIN`` (Dice-activated attention unit); see ``network.py`` for why the library's
models are used as they are. The sequence attended over is ``params.sequence_field``, or the first
sequence sharing a categorical field's vocabulary; that field is the target.
"""

from __future__ import annotations

from typing import Any

from airflow_mlplat.ranking.feature_map import FeatureMap
from airflow_mlplat.ranking.models.network import RankingNetwork, feature_columns, import_deepctr, task_labels


def behaviour_and_target(feature_map: FeatureMap, sequence_field: str | None) -> tuple[str, str]:
    candidates = [s for s in feature_map.of_kind("sequence") if s.share_vocabulary_with]
    if sequence_field is not None:
        candidates = [s for s in candidates if s.name == sequence_field]
    if not candidates:
        wanted = f"sequence field {sequence_field!r}" if sequence_field else "a sequence field"
        raise ValueError(
            f"din: the feature map has no {wanted} sharing a categorical field's vocabulary "
            "(ctr_feature_encoder's share_vocabulary names the target item's field)"
        )
    return candidates[0].name, str(candidates[0].share_vocabulary_with)


def build(feature_map: FeatureMap, params: dict[str, Any]) -> RankingNetwork:
    behaviour, target = behaviour_and_target(feature_map, params.get("sequence_field"))
    history_of = {behaviour: target}
    columns = feature_columns(feature_map, params["embedding_dim"], history_of=history_of)
    model = import_deepctr().models.DIN(
        columns,
        [target],
        dnn_hidden_units=tuple(params["hidden_units"]),
        att_hidden_size=tuple(params["attention_units"]),
        dnn_dropout=params["dropout"],
        l2_reg_embedding=params["embedding_l2"],
        seed=params["seed"],
    )
    return RankingNetwork(model, feature_map, task_labels(feature_map, params.get("label")), history_of)
