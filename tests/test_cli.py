"""The ``airflow-mlplat`` command line and the generated catalogue."""

from __future__ import annotations

import json

from airflow_mlplat.cli import DOCS_PATH, main
from airflow_mlplat.components import iter_components
from airflow_mlplat.components.catalogue import render_markdown
from tests.conftest import REPO_ROOT


def test_list_groups_by_category(capsys):
    assert main(["components", "list"]) == 0
    out = capsys.readouterr().out
    total = len(list(iter_components()))
    assert out.rstrip().endswith(f"{total} components")
    assert "classification (" in out and "gbdt_classifier" in out


def test_list_as_json_and_by_category(capsys):
    assert main(["components", "list", "--category", "evaluation", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert {c["category"] for c in listed} == {"evaluation"}
    assert "binary_classification_evaluation" in {c["name"] for c in listed}
    assert main(["components", "list", "--category", "nope"]) == 2


def test_show_prints_parameters_with_bounds(capsys):
    assert main(["components", "show", "gbdt_classifier"]) == 0
    out = capsys.readouterr().out
    assert "max_iter: integer = 20  (>= 1)" in out
    assert main(["components", "show", "gbdt_classifier", "--json"]) == 0
    declared = json.loads(capsys.readouterr().out)
    max_iter = next(p for p in declared["params"] if p["name"] == "max_iter")
    assert max_iter == {
        "name": "max_iter",
        "type": "integer",
        "help": max_iter["help"],
        "required": False,
        "default": 20,
        "minimum": 1,
    }


def test_show_unknown_component_suggests(capsys):
    assert main(["components", "show", "gbdt_clasifier"]) == 2
    assert "did you mean 'gbdt_classifier'?" in capsys.readouterr().err


def test_generated_catalogue_is_in_sync_with_the_registry():
    current = (REPO_ROOT / DOCS_PATH).read_text()
    assert current == render_markdown(iter_components()), "run: airflow-mlplat components docs"


def test_validate_prints_one_whole_line_from_either_command(capsys, tmp_path):
    from airflow_mlplat.engine.cli import main as engine_main

    path = REPO_ROOT / "dags" / "pipelines" / "purchase_intent_gbdt.json"
    for command in (main, engine_main):
        assert command(["validate", str(path), "--params", '{"max_iter": 5}']) == 0
        assert capsys.readouterr().out == f"{path}: valid\n"
    broken = tmp_path / "broken.json"
    broken.write_text('{"name": "broken", "nodes": [{"id": "a", "component": "nope"}]}')
    assert main(["validate", str(broken)]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.endswith("is unknown\n") and captured.err.count("\n") == 1
