"""Pipeline validation: every kind of mistake is reported with its node and field."""

from __future__ import annotations

import copy
import json
import subprocess
import sys

import pytest

from airflow_mlplat.pipeline import PipelineValidationError, validate_pipeline
from tests.conftest import REPO_ROOT

PURCHASE = REPO_ROOT / "dags" / "pipelines" / "purchase_intent_gbdt.json"


@pytest.fixture
def doc() -> dict:
    return json.loads(PURCHASE.read_text())


def node_index(doc: dict, node_id: str) -> int:
    return next(i for i, n in enumerate(doc["nodes"]) if n["id"] == node_id)


def problems_of(doc: dict, **kwargs) -> str:
    with pytest.raises(PipelineValidationError) as info:
        validate_pipeline(doc, source="p.json", **kwargs)
    return str(info.value)


def test_the_shipped_pipeline_is_valid(doc):
    pipeline = validate_pipeline(doc)
    assert pipeline.name == "purchase_intent_gbdt"
    assert [n.id for n in pipeline.nodes][0] == "behaviour"


def test_misspelt_component_names_node_and_suggests(doc):
    i = node_index(doc, "gbdt")
    doc["nodes"][i]["component"] = "gbdt_clasifier"
    message = problems_of(doc)
    assert (
        f"p.json: nodes[{i}] (gbdt): component 'gbdt_clasifier' is unknown; did you mean 'gbdt_classifier'?" in message
    )


def test_wrong_parameter_type_names_node_and_field(doc):
    i = node_index(doc, "gbdt")
    doc["nodes"][i]["params"]["max_iter"] = "ten"
    message = problems_of(doc)
    assert f"nodes[{i}] (gbdt): params.max_iter of gbdt_classifier must be an integer >= 1, got 'ten'" in message


def test_out_of_range_parameter(doc):
    i = node_index(doc, "split")
    doc["nodes"][i]["params"]["ratio"] = 1.5
    assert f"nodes[{i}] (split): params.ratio of random_split must be a number" in problems_of(doc)
    assert "got 1.5" in problems_of(doc)


def test_bool_is_not_an_integer(doc):
    i = node_index(doc, "gbdt")
    doc["nodes"][i]["params"]["max_depth"] = True
    assert f"nodes[{i}] (gbdt): params.max_depth of gbdt_classifier must be an integer" in problems_of(doc)


def test_unknown_parameter_suggests_the_close_one(doc):
    i = node_index(doc, "gbdt")
    doc["nodes"][i]["params"]["max_iters"] = 3
    message = problems_of(doc)
    assert (
        f"nodes[{i}] (gbdt): params.max_iters is not a parameter of gbdt_classifier; did you mean 'max_iter'?"
        in message
    )


def test_missing_required_parameter(doc):
    i = node_index(doc, "cast")
    del doc["nodes"][i]["params"]["columns"]
    assert f"nodes[{i}] (cast): params.columns is required by cast_columns and missing" in problems_of(doc)


def test_unknown_input_port(doc):
    i = node_index(doc, "predict")
    doc["nodes"][i]["inputs"]["dataset"] = doc["nodes"][i]["inputs"].pop("data")
    message = problems_of(doc)
    assert f"nodes[{i}] (predict): inputs.dataset is not an input of predict" in message
    assert f"nodes[{i}] (predict): inputs.data (table) is required by predict" in message


def test_dangling_reference(doc):
    i = node_index(doc, "predict")
    doc["nodes"][i]["inputs"]["model"] = "gbdtt.model"
    message = problems_of(doc)
    assert (
        f"nodes[{i}] (predict): inputs.model refers to node 'gbdtt', which does not exist; did you mean 'gbdt'?"
        in message
    )


def test_reference_to_unknown_output_port(doc):
    i = node_index(doc, "gbdt")
    doc["nodes"][i]["inputs"]["data"] = "split.training"
    message = problems_of(doc)
    assert f"nodes[{i}] (gbdt): inputs.data refers to output 'training' of node 'split'" in message
    assert "did you mean 'train'?" in message


def test_port_kind_mismatch(doc):
    i = node_index(doc, "predict")
    doc["nodes"][i]["inputs"]["model"] = "split.train"
    assert f"nodes[{i}] (predict): inputs.model expects a model but 'split.train' is a table" in problems_of(doc)


def test_cycle_names_the_nodes(doc):
    i = node_index(doc, "cast")
    doc["nodes"][i]["inputs"]["data"] = "split.train"
    message = problems_of(doc)
    assert "inputs form a cycle" in message
    assert "cast -> split -> cast" in message or "split -> cast -> split" in message


def test_duplicate_id(doc):
    doc["nodes"].append(copy.deepcopy(doc["nodes"][0]))
    last = len(doc["nodes"]) - 1
    assert f"nodes[{last}] (behaviour): id 'behaviour' is already used by nodes[0]" in problems_of(doc)


def test_reference_to_undeclared_pipeline_param(doc):
    i = node_index(doc, "gbdt")
    doc["nodes"][i]["params"]["max_iter"] = {"$param": "max_iters"}
    message = problems_of(doc)
    assert f"nodes[{i}] (gbdt): params.max_iter refers to pipeline param 'max_iters', which is not declared" in message


def test_param_default_is_checked_where_it_is_used(doc):
    doc["params"]["max_iter"]["default"] = 0
    i = node_index(doc, "gbdt")
    expected = "params.max_iter of gbdt_classifier must be an integer >= 1, got 0 (from pipeline param 'max_iter')"
    assert f"nodes[{i}] (gbdt): {expected}" in problems_of(doc)


def test_overrides_are_validated_like_the_document(doc):
    i = node_index(doc, "gbdt")
    message = problems_of(doc, params={"max_depth": "5"})
    assert f"nodes[{i}] (gbdt): params.max_depth of gbdt_classifier must be an integer" in message
    assert "params.max_dept: is not a parameter of pipeline 'purchase_intent_gbdt'" in problems_of(
        doc, params={"max_dept": 5}
    )
    assert validate_pipeline(doc, params={"max_depth": 3}).name == "purchase_intent_gbdt"


def test_all_problems_are_reported_at_once(doc):
    doc["nodes"][node_index(doc, "gbdt")]["params"]["max_iter"] = "ten"
    doc["nodes"][node_index(doc, "predict")]["component"] = "predikt"
    error = pytest.raises(PipelineValidationError, validate_pipeline, doc).value
    assert len(error.problems) == 2


def test_structural_errors_name_the_field():
    message = problems_of({"name": "p", "nodes": [{"id": "a b", "component": "read_table"}]})
    assert "nodes[0] (a b): id" in message
    assert "nodes: list should have at least 1 item" in problems_of({"name": "p", "nodes": []})
    assert "name: field required" in problems_of({"nodes": [{"id": "a", "component": "x"}]})


def test_json_syntax_error_names_file_and_line(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('{\n  "name": "x",\n  "nodes": [,]\n}')
    with pytest.raises(PipelineValidationError) as info:
        validate_pipeline(path)
    assert str(info.value).startswith(f"{path}: line 3 column")


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "airflow_mlplat.engine", *args], capture_output=True, text=True, cwd=REPO_ROOT
    )


def test_cli_validate_exits_non_zero_with_the_message(doc, tmp_path):
    i = node_index(doc, "gbdt")
    doc["nodes"][i]["component"] = "gbdt_clasifier"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(doc))
    result = run_cli("validate", str(bad))
    assert result.returncode == 2
    assert f"{bad}: nodes[{i}] (gbdt): component 'gbdt_clasifier' is unknown; did you mean 'gbdt_classifier'?" in (
        result.stderr
    )
    ok = run_cli("validate", str(PURCHASE))
    assert ok.returncode == 0, ok.stderr


def test_validation_never_imports_spark():
    code = (
        "import sys, json\n"
        "from airflow_mlplat.pipeline import validate_pipeline\n"
        f"validate_pipeline({str(PURCHASE)!r})\n"
        "from airflow_mlplat.components import load_components\n"
        "assert len(load_components()) > 20\n"
        "print(json.dumps([m for m in ('pyspark', 'mlflow', 'numpy', 'pandas') if m in sys.modules]))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO_ROOT)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == []
