"""``airflow-mlplat pipeline to-python``: JSON -> Python -> JSON gives the same document."""

from __future__ import annotations

import json

import pytest

from airflow_mlplat import cli
from airflow_mlplat.pipeline import validate_pipeline
from airflow_mlplat.sdk.to_python import pipeline_to_python, round_trip_difference
from tests.sdk.conftest import PIPELINE_FILES, readme_pipelines

DOCUMENTS = [pytest.param(json.loads(path.read_text()), id=path.name) for path in PIPELINE_FILES] + [
    pytest.param(doc, id=f"README-{doc['name']}") for doc in readme_pipelines()
]


def _run_fresh(code: str) -> dict:
    namespace: dict = {}
    exec(compile(code, "<generated>", "exec"), namespace)
    return namespace["p"].to_json()


def test_the_documents_to_round_trip_are_found():
    assert len(PIPELINE_FILES) >= 3
    assert {doc["name"] for doc in readme_pipelines()} == {"churn_lr", "ctr_deepfm"}


@pytest.mark.parametrize("doc", DOCUMENTS)
def test_json_to_python_to_json_is_identical(doc):
    code = pipeline_to_python(doc)
    rebuilt = _run_fresh(code)
    assert rebuilt == doc
    assert json.dumps(rebuilt, indent=2) == json.dumps(doc, indent=2)
    assert round_trip_difference(doc, code) is None
    compile(code, "<generated>", "exec")  # and it is plain Python: no pyspark, nothing but the SDK
    imports = [line for line in code.splitlines() if line.startswith(("import ", "from "))]
    assert imports in (
        ["from airflow_mlplat.sdk import Pipeline, components as c"],
        ["from airflow_mlplat.sdk import Pipeline, Stored, components as c"],
    )


def test_ids_the_sdk_would_derive_are_left_out():
    doc = {
        "name": "derived",
        "nodes": [
            {"id": "read_table", "component": "read_table", "params": {"path": "/a"}},
            {"id": "read_table_2", "component": "read_table", "params": {"path": "/b"}},
            {
                "id": "joined",
                "component": "join_tables",
                "inputs": {"left": "read_table.data", "right": "read_table_2.data"},
                "params": {"on": ["k"]},
            },
            {"id": "class", "component": "random_split", "inputs": {"data": {"path": "/stored/table"}}},
        ],
        "outputs": {"joined": "joined.data", "train": {"from": "class.train", "path": "/tmp/train"}},
    }
    code = pipeline_to_python(doc)
    assert 'read_table = c.read_table(path="/a")' in code
    assert 'read_table_2 = c.read_table(path="/b")' in code
    assert 'joined = c.join_tables(read_table, read_table_2, id="joined", on=["k"])' in code
    assert 'class_ = c.random_split(Stored("/stored/table"), id="class")' in code  # a keyword is no variable
    assert 'p.output("train", class_.train, path="/tmp/train")' in code
    assert _run_fresh(code) == doc
    assert round_trip_difference(doc, code) is None


def test_a_document_with_keys_in_another_order_comes_back_equal_and_says_so():
    doc = {
        "nodes": [
            {"params": {"path": "/d"}, "id": "data", "component": "read_table"},
            {"component": "predict", "id": "scored", "inputs": {"data": "data.data", "model": {"path": "/m"}}},
        ],
        "name": "reordered",
    }
    code = pipeline_to_python(doc)
    assert 'c.predict(id="scored", data=data, model=Stored("/m"))' in code  # inputs by name: not in port order
    assert _run_fresh(code) == doc
    assert round_trip_difference(doc, code) == "the code builds an equal document with its keys in the SDK's order"


SAME_PIPELINE = (
    "the code builds the same pipeline; the document differs only in the order of its nodes "
    "(the SDK adds them in the order they run) or keys, or in fields it sets to their defaults"
)


def test_nodes_listed_before_their_inputs_come_back_in_running_order():
    doc = {
        "name": "upstream_last",
        "nodes": [
            {"id": "scored", "component": "predict", "inputs": {"model": {"path": "/m"}, "data": "data.data"}},
            {"id": "data", "component": "read_table", "params": {"path": "/d"}},
        ],
    }
    code = pipeline_to_python(doc)
    assert [n["id"] for n in _run_fresh(code)["nodes"]] == ["data", "scored"]
    assert round_trip_difference(doc, code) == SAME_PIPELINE


def test_a_document_with_every_default_written_out_comes_back_as_the_same_pipeline():
    doc = validate_pipeline(readme_pipelines()[1]).to_dict()  # as a model dump: "inputs": {}, "model": null, ...
    code = pipeline_to_python(doc)
    assert validate_pipeline(_run_fresh(code)).to_dict() == doc
    assert round_trip_difference(doc, code) == SAME_PIPELINE


def test_the_cli_writes_the_code(tmp_path, capsys):
    source = PIPELINE_FILES[0]
    target = tmp_path / "pipeline.py"
    assert cli.main(["pipeline", "to-python", str(source), "--output", str(target)]) == 0
    assert "note:" not in capsys.readouterr().err
    assert _run_fresh(target.read_text()) == json.loads(source.read_text())

    assert cli.main(["pipeline", "to-python", str(source)]) == 0
    assert capsys.readouterr().out == target.read_text()


def test_the_cli_refuses_an_invalid_pipeline(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"name": "bad", "nodes": [{"id": "x", "component": "random_split"}]}))
    assert cli.main(["pipeline", "to-python", str(bad)]) == 2
    assert f"{bad}: nodes[0] (x): inputs.data (table) is required by random_split" in capsys.readouterr().err
