"""What every ranking model shares: deepctr-torch's feature columns from our feature map, and the
network wrapper the trainer, the exporters and serving call.

The models come from deepctr-torch (a library of CTR model definitions: its WDL, DeepFM, DCN,
DIN and MMOE). Checked on this platform before choosing it: all five train under
DistributedDataParallel with gloo (identical parameters on every rank; no unused parameters),
trace to TorchScript exactly, and export to ONNX (opset 17, dynamic batch axis) within 1e-7 of
PyTorch in ONNX Runtime. So no model is written here; each model file only maps the declared
parameters onto the library's constructor.

deepctr-torch models read one float matrix ``X`` (every feature's columns side by side, in the
order of ``model.feature_index``) and return probabilities. ``RankingNetwork`` keeps the
platform's contract instead: one input per feature-map field, in the map's order and named after
it (``int64 [n]`` categorical, ``float32 [n]`` numeric, ``int64 [n, max_length]`` sequences), and
one output ``probability`` of shape ``[n, tasks]``; it builds ``X`` inside ``forward`` so the
exported TorchScript and ONNX graphs take the same named inputs as serving sends.

Importing deepctr-torch starts a thread that asks PyPI for a newer version (no timeout, not a
daemon: without a network it can hold the process open); ``import_deepctr`` stubs that check out.
"""

from __future__ import annotations

import sys
import types
from typing import Any

import torch
from torch import nn

from airflow_mlplat.ranking.feature_map import FeatureMap, FieldSpec

#: The deepctr-torch column holding a sequence's length, when a model needs it (DIN's attention).
LENGTH_SUFFIX = "__length"


def import_deepctr() -> Any:
    """``deepctr_torch``, imported without its online version check."""
    if "deepctr_torch" not in sys.modules:
        stub = types.ModuleType("deepctr_torch.utils")
        stub.check_version = lambda version: None  # type: ignore[attr-defined]
        sys.modules.setdefault("deepctr_torch.utils", stub)
    import deepctr_torch
    import deepctr_torch.models

    return deepctr_torch


def feature_columns(
    feature_map: FeatureMap, embedding_dim: int, *, history_of: dict[str, str] | None = None
) -> list[Any]:
    """deepctr-torch feature columns for every field of ``feature_map``, in its order.

    ``history_of``: sequence field -> target field, for DIN: that sequence is named
    ``hist_<target>`` (DIN's convention), shares the target's embedding and gets a length column.
    Other sequences are mean-pooled over their non-padding items.
    """
    inputs = import_deepctr().inputs
    history_of = history_of or {}
    columns: list[Any] = []
    for spec in feature_map.fields:
        if spec.kind == "numeric":
            columns.append(inputs.DenseFeat(spec.name, 1))
        elif spec.kind == "categorical":
            columns.append(inputs.SparseFeat(spec.name, spec.vocab_size, embedding_dim, embedding_name=spec.name))
        elif spec.name in history_of:
            target = history_of[spec.name]
            inner = inputs.SparseFeat(f"hist_{target}", spec.vocab_size, embedding_dim, embedding_name=target)
            columns.append(
                inputs.VarLenSparseFeat(inner, spec.max_length, "mean", length_name=spec.name + LENGTH_SUFFIX)
            )
        else:
            embedding = spec.share_vocabulary_with or spec.name
            inner = inputs.SparseFeat(spec.name, spec.vocab_size, embedding_dim, embedding_name=embedding)
            columns.append(inputs.VarLenSparseFeat(inner, spec.max_length, "mean"))
    return columns


class RankingNetwork(nn.Module):
    """A deepctr-torch model behind the feature map's named inputs.

    ``forward(*inputs)`` takes one tensor per field (feature-map order) and returns
    probabilities ``[n, len(tasks)]``.
    """

    def __init__(
        self, model: nn.Module, feature_map: FeatureMap, tasks: list[str], history_of: dict[str, str] | None = None
    ):
        super().__init__()
        self.model = model
        self.tasks = list(tasks)
        self.input_names = feature_map.names
        specs = {spec.name: spec for spec in feature_map.fields}
        renamed = {f"hist_{target}": sequence for sequence, target in (history_of or {}).items()}
        # (input position, kind) of each deepctr column, in the column order of X.
        layout: list[tuple[int, str]] = []
        for name in model.feature_index:
            if name.endswith(LENGTH_SUFFIX):
                layout.append((self.input_names.index(name[: -len(LENGTH_SUFFIX)]), "length"))
            else:
                field = renamed.get(name, name)
                layout.append((self.input_names.index(field), _kind(specs[field])))
        self.layout = layout

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        parts = []
        for position, kind in self.layout:
            value = inputs[position]
            if kind == "length":
                parts.append((value != 0).sum(dim=1, keepdim=True).to(torch.float32))
            elif kind == "sequence":
                parts.append(value.to(torch.float32))
            else:
                parts.append(value.to(torch.float32).unsqueeze(1))
        return self.model(torch.cat(parts, dim=1))

    def regularization_loss(self) -> torch.Tensor:
        """deepctr-torch's L2 penalties (embeddings, linear part) of the wrapped model."""
        return self.model.get_regularization_loss()


def _kind(spec: FieldSpec) -> str:
    return "sequence" if spec.kind == "sequence" else "scalar"


def task_labels(feature_map: FeatureMap, label: str | None) -> list[str]:
    """The single task's label column: ``label``, else the feature map's first label."""
    chosen = label or feature_map.labels[0]
    if chosen not in feature_map.labels:
        raise ValueError(f"params.label {chosen!r} is not a label of the feature map ({', '.join(feature_map.labels)})")
    return [chosen]


def single_task_network(
    library_model: str, feature_map: FeatureMap, params: dict[str, Any], **own: Any
) -> RankingNetwork:
    """deepctr-torch's ``library_model`` (WDL, DeepFM, DCN) over every field, linear and deep alike:
    the shared parameters mapped onto its arguments, ``own`` the model's own ones."""
    columns = feature_columns(feature_map, params["embedding_dim"])
    model = getattr(import_deepctr().models, library_model)(
        columns,
        columns,
        dnn_hidden_units=tuple(params["hidden_units"]),
        dnn_dropout=params["dropout"],
        l2_reg_embedding=params["embedding_l2"],
        l2_reg_linear=params["embedding_l2"],
        seed=params["seed"],
        **own,
    )
    return RankingNetwork(model, feature_map, task_labels(feature_map, params.get("label")))
