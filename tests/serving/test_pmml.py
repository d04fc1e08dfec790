"""PMML versions scored through jpmml-evaluator (starts a JVM in-process: run under the Spark lock)."""

from __future__ import annotations

import json

import pytest

from airflow_mlplat.serving.errors import ModelLoadError
from airflow_mlplat.serving.model import load_model_dir

PMML = """<?xml version="1.0" encoding="UTF-8"?>
<PMML xmlns="http://www.dmg.org/PMML-4_4" version="4.4">
  <Header/>
  <DataDictionary>
    <DataField name="x" optype="continuous" dataType="double"/>
    <DataField name="z" optype="continuous" dataType="double"/>
    <DataField name="label" optype="categorical" dataType="double">
      <Value value="0"/><Value value="1"/>
    </DataField>
  </DataDictionary>
  <RegressionModel functionName="classification" normalizationMethod="logit">
    <MiningSchema>
      <MiningField name="label" usageType="target"/>
      <MiningField name="x"/><MiningField name="z"/>
    </MiningSchema>
    <Output>
      <OutputField name="probability(0)" optype="continuous" dataType="double" feature="probability" value="0"/>
      <OutputField name="probability(1)" optype="continuous" dataType="double" feature="probability" value="1"/>
    </Output>
    <RegressionTable intercept="0.5" targetCategory="1">
      <NumericPredictor name="x" coefficient="2.0"/>
      <NumericPredictor name="z" coefficient="-1.0"/>
    </RegressionTable>
    <RegressionTable intercept="0" targetCategory="0"/>
  </RegressionModel>
</PMML>
"""


@pytest.fixture
def pmml_model_dir(tmp_path):
    signature = json.dumps(
        [{"type": "double", "name": "x", "required": True}, {"type": "double", "name": "z", "required": True}]
    )
    mlmodel = f"flavors:\n  spark:\n    model_data: sparkml\nsignature:\n  inputs: '{signature}'\n"
    (tmp_path / "MLmodel").write_text(mlmodel)
    (tmp_path / "model.pmml").write_text(PMML)
    return tmp_path


def test_pmml_version_is_scored_by_the_evaluator(pmml_model_dir):
    import math

    model = load_model_dir(pmml_model_dir, name="m", version="1", slot="champion", pmml=True)
    assert model.flavor == "pmml"
    answers = model.predict([{"x": 1.0, "z": 0.5}, {"x": -2.0, "z": 1.0}])
    for answer, (x, z) in zip(answers, [(1.0, 0.5), (-2.0, 1.0)], strict=True):
        p1 = 1 / (1 + math.exp(-(0.5 + 2 * x - z)))
        assert answer["probability"] == pytest.approx([1 - p1, p1], abs=1e-12)
        assert answer["prediction"] == (1.0 if p1 > 0.5 else 0.0)


def test_pmml_asked_for_but_missing_names_the_file(pmml_model_dir):
    (pmml_model_dir / "model.pmml").unlink()
    with pytest.raises(ModelLoadError, match="no model.pmml"):
        load_model_dir(pmml_model_dir, name="m", version="3", slot="champion", pmml=True)
