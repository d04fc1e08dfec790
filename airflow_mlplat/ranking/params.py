"""The ranking models' parameters, declared once.

Each model is configured by keyword parameters with defaults, bounds and help, declared here
the way components are (a signature plus a Google-style docstring, read by
``components.registry.build_spec``): the parameters every model shares (embedding, layers,
dropout, learning rate and its decay, batch size, epochs, early stopping), each model's own
(DCN's cross layers, DIN's attention units, MMoE's experts and tasks), and the launcher settings
of the training job (workers, CPU, memory, GPUs). Validation, the trainer, the pipeline node,
the canvas forms and the docs all read these declarations. Nothing here imports torch.

``validate_params(model, params)`` returns every problem as ``params.NAME must be ..., got ...``;
``resolve_params`` returns the full, validated parameter dict (defaults filled in) or raises
``RankingParamsError`` listing them.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Annotated, Any

from airflow_mlplat.components.spec import Interval, Model, Options, Param, Table

#: The models, by the name a pipeline node gives in ``model``.
MODELS = ("wide_deep", "deepfm", "dcn", "din", "mmoe")
MODEL_TITLES = {
    "wide_deep": "Wide & Deep",
    "deepfm": "DeepFM",
    "dcn": "DCN (v2 cross network)",
    "din": "DIN (target attention over the behaviour sequence)",
    "mmoe": "MMoE (task towers over shared experts)",
}
#: Parameters whose value is a list of layer widths (each an integer >= 1, at most MAX_LAYERS).
LAYER_PARAMS = ("hidden_units", "attention_units", "tower_units")
#: The layer lists' defaults (a declared default must be hashable, so the signature says None).
LAYER_DEFAULTS = {"hidden_units": [256, 128], "attention_units": [64, 16], "tower_units": [64]}
MAX_LAYERS = 10


class RankingParamsError(ValueError):
    """Ranking-model parameters are invalid; ``problems`` lists every ``params.NAME ...`` message."""

    def __init__(self, where: str, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__(f"{where}: " + "; ".join(self.problems))


def _shared(
    ctx,
    train: Table,
    validation: Table,
    feature_map: Model,
    test: Table | None = None,
    *,
    embedding_dim: Annotated[int, Interval(1, 1024)] = 16,
    hidden_units: list[int] | None = None,
    dropout: Annotated[float, Interval(0.0, 1.0, closed="left")] = 0.0,
    learning_rate: Annotated[float, Interval(0.0, 10.0, closed="right")] = 0.001,
    lr_decay: Annotated[str, Options("none", "step", "exponential")] = "none",
    lr_decay_factor: Annotated[float, Interval(0.0, 1.0, closed="right")] = 0.5,
    lr_decay_epochs: Annotated[int, Interval(1, None)] = 1,
    batch_size: Annotated[int, Interval(1, 1_000_000)] = 1024,
    epochs: Annotated[int, Interval(1, 10_000)] = 5,
    early_stopping_patience: Annotated[int, Interval(0, None)] = 2,
    embedding_l2: Annotated[float, Interval(0.0, None)] = 1e-6,
    label: str | None = None,
    seed: int = 2024,
):
    """Parameters every ranking model takes.

    Args:
        train: the encoded training table (ctr_feature_encoder's data).
        validation: the encoded validation table: per-epoch AUC and log loss, early stopping.
        feature_map: ctr_feature_encoder's model (its feature map is saved with the trained model).
        test: an encoded test table to score once after training.
        embedding_dim: the width of every field's embedding.
        hidden_units: the deep part's layer widths, input side first (MMoE: each expert's); default [256, 128].
        dropout: the dropout rate of the deep layers.
        learning_rate: Adam's learning rate at the first epoch.
        lr_decay: learning-rate decay after each epoch: none, step (times lr_decay_factor every
            lr_decay_epochs epochs) or exponential (times lr_decay_factor every epoch).
        lr_decay_factor: the factor of the learning-rate decay.
        lr_decay_epochs: step decay: epochs between two decays.
        batch_size: rows per step on each worker.
        epochs: the most passes over the training table.
        early_stopping_patience: stop after this many epochs without a better validation AUC and
            keep the best epoch's weights (0: train every epoch, keep the last).
        embedding_l2: L2 penalty on the embeddings.
        label: the label column to learn (single-task models); default the feature map's first.
        seed: random seed (weights, shuffling).
    """


def _no_own_params(ctx, train: Table):
    """A model without parameters of its own.

    Args:
        train: unused.
    """


def _dcn(ctx, train: Table, *, cross_layers: Annotated[int, Interval(1, 16)] = 3):
    """DCN's own parameters.

    Args:
        train: unused.
        cross_layers: the number of cross layers (DCN v2: a full-rank matrix per layer).
    """


def _din(
    ctx,
    train: Table,
    *,
    attention_units: list[int] | None = None,
    sequence_field: str | None = None,
):
    """DIN's own parameters.

    Args:
        train: unused.
        attention_units: the layer widths of the attention unit that scores each behaviour; default [64, 16].
        sequence_field: the behaviour-sequence field to attend over; default the first sequence
            field that shares a categorical field's vocabulary (that field is the target).
    """


def _mmoe(
    ctx,
    train: Table,
    *,
    num_experts: Annotated[int, Interval(2, 64)] = 4,
    tasks: list[str] | None = None,
    tower_units: list[int] | None = None,
):
    """MMoE's own parameters.

    Args:
        train: unused.
        num_experts: the number of shared experts (each a deep network of hidden_units).
        tasks: the label columns, one task tower each (two or more); default every label of the feature map.
        tower_units: the layer widths of each task's tower; default [64].
    """


def _launcher(
    ctx,
    train: Table,
    *,
    workers: Annotated[int, Interval(1, 1024)] = 2,
    cpu: str = "1",
    memory: str = "4Gi",
    gpu: Annotated[float, Interval(0.0, None)] = 0.0,
    gpu_type: str | None = None,
    image: str = "pytorch/pytorch:2.13.0",
    timeout: Annotated[float, Interval(0.0, None, closed="neither")] = 24 * 3600.0,
):
    """The training job's launcher settings (PyTorch DistributedDataParallel; no parameter servers).

    Args:
        train: unused.
        workers: DDP workers (replicas); worker 0 exports the model.
        cpu: each worker's CPU request, a Kubernetes quantity ("2", "500m").
        memory: each worker's memory request, a Kubernetes quantity ("8Gi").
        gpu: GPUs per worker (a share below 1 asks for a fraction of one GPU).
        gpu_type: the GPU type (a key of the cluster profile's gpu_types, which maps it to a node label).
        image: the container image of the workers.
        timeout: seconds before the job is stopped.
    """


_OWN = {"wide_deep": _no_own_params, "deepfm": _no_own_params, "dcn": _dcn, "din": _din, "mmoe": _mmoe}


def _declared(func: Any) -> tuple[Param, ...]:
    from airflow_mlplat.components.registry import build_spec

    return build_spec(func, category="ranking models", outputs={"model": Model}).params


@functools.cache
def shared_params() -> tuple[Param, ...]:
    return _declared(_shared)


@functools.cache
def model_own_params(model: str) -> tuple[Param, ...]:
    if model not in _OWN:
        raise RankingParamsError("ranking model", [f"model must be one of {', '.join(MODELS)}, got {model!r}"])
    return _declared(_OWN[model])


def model_params(model: str) -> tuple[Param, ...]:
    """Every parameter of ``model``: the shared ones, then its own."""
    shared = shared_params()
    own = model_own_params(model)
    if model == "mmoe":  # MMoE learns every task in ``tasks``: it has no single label
        shared = tuple(p for p in shared if p.name != "label")
    return shared + own


@functools.cache
def launcher_params() -> tuple[Param, ...]:
    return _declared(_launcher)


def input_ports() -> tuple[Any, ...]:
    """The ranking step's input ports (train, validation, feature_map, optional test)."""
    from airflow_mlplat.components.registry import build_spec

    return build_spec(_shared, category="ranking models", outputs={"model": Model}).inputs


def _check(params: tuple[Param, ...], values: Mapping[str, Any], prefix: str) -> list[str]:
    from airflow_mlplat.pipeline.params import check_value

    problems = []
    known = {p.name: p for p in params}
    for name, value in values.items():
        param = known.get(name)
        if param is None:
            problems.append(f"{prefix}.{name} is not a parameter (known: {', '.join(sorted(known))})")
            continue
        problem = check_value(param, value)
        if problem:
            problems.append(f"{prefix}.{name} {problem}")
        elif name in LAYER_PARAMS and value is not None and not _layers_ok(value):
            problems.append(
                f"{prefix}.{name} must be a list of 1 to {MAX_LAYERS} layer widths, each an integer >= 1, got {value!r}"
            )
    return problems


def _layers_ok(value: Any) -> bool:
    return (
        isinstance(value, list)
        and 1 <= len(value) <= MAX_LAYERS
        and all(isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in value)
    )


def validate_params(model: Any, params: Mapping[str, Any] | None) -> list[str]:
    """Every problem of a model name and its parameters (empty when valid)."""
    if model not in MODELS:
        return [f"model must be one of {', '.join(MODELS)}, got {model!r}"]
    if params is not None and not isinstance(params, Mapping):
        return [f"params must be a mapping, got {type(params).__name__}"]
    problems = _check(model_params(model), dict(params or {}), "params")
    tasks = (params or {}).get("tasks")
    if model == "mmoe" and isinstance(tasks, list) and (len(tasks) < 2 or len(set(tasks)) != len(tasks)):
        problems.append(f"params.tasks must name two or more different label columns, got {tasks!r}")
    return problems


def validate_launcher(settings: Mapping[str, Any] | None) -> list[str]:
    """Every problem of the launcher settings (the job spec's own checks run when the job is built)."""
    if settings is not None and not isinstance(settings, Mapping):
        return [f"launcher must be a mapping, got {type(settings).__name__}"]
    return _check(launcher_params(), dict(settings or {}), "launcher")


def resolve(params: tuple[Param, ...], values: Mapping[str, Any]) -> dict[str, Any]:
    from airflow_mlplat.pipeline.params import coerce_value

    out = {}
    for param in params:
        value = values.get(param.name, None if param.required else param.default)
        if value is None and param.name in LAYER_DEFAULTS:
            value = list(LAYER_DEFAULTS[param.name])
        out[param.name] = coerce_value(param, value) if value is not None else None
    return out


def resolve_params(model: str, params: Mapping[str, Any] | None, where: str = "ranking model") -> dict[str, Any]:
    """The validated parameters of ``model`` with every default filled in."""
    problems = validate_params(model, params)
    if problems:
        raise RankingParamsError(where, problems)
    return resolve(model_params(model), dict(params or {}))


def resolve_launcher(settings: Mapping[str, Any] | None, where: str = "ranking model") -> dict[str, Any]:
    problems = validate_launcher(settings)
    if problems:
        raise RankingParamsError(where, problems)
    return resolve(launcher_params(), dict(settings or {}))
