"""The ranking models' declared parameters: every declared bound and type is enforced and named."""

from __future__ import annotations

import subprocess
import sys

import pytest

from airflow_mlplat.ranking.params import (
    MODELS,
    RankingParamsError,
    launcher_params,
    model_params,
    resolve_launcher,
    resolve_params,
    validate_launcher,
    validate_params,
)
from tests.test_registry import _invalid_values

CASES = [(model, param) for model in MODELS for param in model_params(model)]


@pytest.mark.parametrize(("model", "param"), CASES, ids=[f"{m}.{p.name}" for m, p in CASES])
def test_generated_invalid_values_are_rejected_and_named(model, param):
    assert validate_params(model, {param.name: None if param.default is None else param.default}) == []
    for value in _invalid_values(param):
        problems = validate_params(model, {param.name: value})
        assert len(problems) == 1 and problems[0].startswith(f"params.{param.name} must be "), problems
        assert repr(value) in problems[0]


@pytest.mark.parametrize("param", launcher_params(), ids=lambda p: p.name)
def test_launcher_settings_are_declared_and_checked(param):
    for value in _invalid_values(param):
        problems = validate_launcher({param.name: value})
        assert len(problems) == 1 and problems[0].startswith(f"launcher.{param.name} must be "), problems


@pytest.mark.parametrize("layers", [[], [0], [64, -1], [1.5], "64,32", [True], list(range(1, 13))])
@pytest.mark.parametrize("name", ["hidden_units", "tower_units"])
def test_bad_layer_lists_are_named(name, layers):
    problems = validate_params("mmoe", {name: layers})
    assert len(problems) == 1 and problems[0].startswith(f"params.{name} must be a list"), problems


def test_model_specific_parameters_belong_to_their_model():
    assert validate_params("deepfm", {"cross_layers": 2}) == [
        "params.cross_layers is not a parameter (known: batch_size, dropout, early_stopping_patience, embedding_dim, "
        "embedding_l2, epochs, hidden_units, label, learning_rate, lr_decay, lr_decay_epochs, lr_decay_factor, seed)"
    ]
    assert validate_params("xgboost", {}) == ["model must be one of wide_deep, deepfm, dcn, din, mmoe, got 'xgboost'"]
    assert validate_params("mmoe", {"tasks": ["label"]}) == [
        "params.tasks must name two or more different label columns, got ['label']"
    ]
    assert "label" not in {p.name for p in model_params("mmoe")}
    with pytest.raises(RankingParamsError, match="ranking model 'dcn': params.cross_layers must be an integer >= 1"):
        resolve_params("dcn", {"cross_layers": 0}, where="ranking model 'dcn'")


def test_defaults_are_filled_in():
    resolved = resolve_params("din", {"embedding_dim": 4})
    assert resolved["embedding_dim"] == 4 and resolved["hidden_units"] == [256, 128]
    assert resolved["attention_units"] == [64, 16] and resolved["lr_decay"] == "none"
    assert (
        resolve_launcher({"workers": 3})["workers"] == 3 and resolve_launcher(None)["image"] == "pytorch/pytorch:2.13.0"
    )


def test_declarations_and_jobs_import_neither_torch_nor_spark():
    code = (
        "import sys\n"
        "import airflow_mlplat.ranking.params, airflow_mlplat.ranking.job, airflow_mlplat.ranking.feature_map\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in {'torch', 'pyspark', 'mlflow', 'deepctr_torch'})\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
