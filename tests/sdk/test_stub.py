"""The SDK's type stub lists every component, as the registry declares it, and is up to date."""

from __future__ import annotations

import ast

from airflow_mlplat import cli
from airflow_mlplat.sdk.components import component_specs
from airflow_mlplat.sdk.stub import STUB_PATH, render_stub


def test_the_stub_on_disk_is_the_registry_s():
    assert STUB_PATH.read_text() == render_stub(), "run `airflow-mlplat components stub`"


def test_the_cli_checks_and_writes_the_stub(tmp_path, capsys):
    assert cli.main(["components", "stub", "--check"]) == 0
    target = tmp_path / "components.pyi"
    assert cli.main(["components", "stub", "--output", str(target)]) == 0
    assert target.read_text() == render_stub()
    target.write_text("stale")
    assert cli.main(["components", "stub", "--output", str(target), "--check"]) == 1
    assert "is out of date" in capsys.readouterr().err


def test_the_stub_declares_every_component_with_its_ports_and_parameters():
    functions = {node.name: node for node in ast.parse(render_stub()).body if isinstance(node, ast.FunctionDef)}
    specs = component_specs()
    assert set(functions) == set(specs)
    for name, spec in specs.items():
        args = functions[name].args
        assert [a.arg for a in args.args] == [p.name for p in spec.inputs], name
        keywords = [a.arg for a in args.kwonlyargs]
        assert keywords[:2] == ["id", "description"], name
        if name != "ranking_model":
            assert keywords[2:] == [p.name for p in spec.params], name
    split = functions["random_split"]
    assert ast.unparse(split.returns) == "RandomSplitOutputs"
    ratio = next(a for a in split.args.kwonlyargs if a.arg == "ratio")
    assert ast.unparse(ratio.annotation) == "float | ParamRef"
