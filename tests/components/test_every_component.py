"""Every registered component runs on tiny data with real Spark and has a concrete effect."""

from __future__ import annotations

import pytest

from airflow_mlplat.components import iter_components
from airflow_mlplat.engine.context import ComponentContext
from airflow_mlplat.engine.runner import call_component
from airflow_mlplat.pipeline import validate_pipeline
from tests.components.cases import all_cases

CASES = all_cases()
SPECS = list(iter_components())


def test_every_case_belongs_to_a_registered_component():
    assert set(CASES) <= {s.name for s in SPECS}


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_component_on_tiny_data(spec, spark, tmp_path):
    case = CASES.get(spec.name)
    assert case is not None, f"component {spec.name} has no case in tests/components/cases/"
    # The case's params pass the same validation a pipeline node's do.
    validate_pipeline(
        {
            "name": "case",
            "nodes": [
                {
                    "id": "node",
                    "component": spec.name,
                    "params": case.params,
                    "inputs": {port.name: {"path": "unused"} for port in spec.inputs},
                }
            ],
        }
    )
    ctx = ComponentContext(spark=spark, node_id=spec.name, artifacts_dir=str(tmp_path / "artifacts"))
    outputs = call_component(spec, ctx, case.inputs(spark), case.params)
    assert set(outputs) == {p.name for p in spec.outputs}
    case.check(outputs, ctx)
