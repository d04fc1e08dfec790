"""The ranking_model node: validation naming node and field, and the cut into Spark stages and deep steps."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from airflow_mlplat.pipeline import PipelineValidationError, validate_pipeline
from airflow_mlplat.pipeline.stages import DeepStep, SparkStage, split, stage_numbers

PIPELINE = json.loads((Path(__file__).parents[1] / "airflow" / "pipelines" / "ctr_deepfm.json").read_text())


def problems_of(doc: dict) -> list[str]:
    with pytest.raises(PipelineValidationError) as error:
        validate_pipeline(doc)
    return [f"{p.where}: {p.message}" for p in error.value.problems]


def deepfm(doc: dict) -> dict:
    return next(n for n in doc["nodes"] if n["id"] == "deepfm")


def test_the_example_is_valid():
    validate_pipeline(PIPELINE)


def test_each_bad_field_is_named_with_its_node():
    doc = copy.deepcopy(PIPELINE)
    deepfm(doc)["params"].update(hidden_units=[64, 0], dropout=1.5, cross_layers=2)
    deepfm(doc)["launcher"].update(workers=0, memory=8)
    assert problems_of(doc) == [
        "nodes[6] (deepfm): params.hidden_units must be a list of 1 to 10 layer widths, each an integer >= 1, "
        "got [64, 0]",
        "nodes[6] (deepfm): params.dropout must be a number >= 0.0 and < 1.0, got 1.5",
        "nodes[6] (deepfm): params.cross_layers is not a parameter (known: batch_size, dropout, "
        "early_stopping_patience, embedding_dim, embedding_l2, epochs, hidden_units, label, learning_rate, "
        "lr_decay, lr_decay_epochs, lr_decay_factor, seed)",
        "nodes[6] (deepfm): launcher.workers must be an integer >= 1 and <= 1024, got 0",
        "nodes[6] (deepfm): launcher.memory must be a string, got 8",
    ]


def test_an_unknown_model_is_named():
    doc = copy.deepcopy(PIPELINE)
    deepfm(doc)["model"] = "deep_fm"
    assert problems_of(doc) == [
        "nodes[6] (deepfm): model must be one of wide_deep, deepfm, dcn, din, mmoe, got 'deep_fm'"
    ]


def test_a_gpu_type_without_a_node_label_in_the_cluster_profile(tmp_path: Path, monkeypatch):
    profile = tmp_path / "profile.yaml"
    profile.write_text("gpu_types:\n  t4: [nvidia.com/gpu.product, Tesla-T4]\n")
    monkeypatch.setenv("AIRFLOW__MLPLAT__CLUSTER_PROFILE", str(profile))
    doc = copy.deepcopy(PIPELINE)
    deepfm(doc)["launcher"].update(gpu=1, gpu_type="a100")
    assert problems_of(doc) == [
        "nodes[6] (deepfm): launcher.gpu_type 'a100' maps to no node label in the cluster profile (known: t4)"
    ]
    deepfm(doc)["launcher"]["gpu_type"] = "t4"
    validate_pipeline(doc)


def test_model_and_launcher_belong_to_ranking_nodes_and_a_spark_model_needs_a_sample():
    doc = copy.deepcopy(PIPELINE)
    doc["nodes"][1]["launcher"] = {"workers": 2}
    doc["nodes"].append(
        {"id": "lr", "component": "logistic_regression", "inputs": {"data": "split.train"}, "model": "deepfm"}
    )
    doc["register"] = {"name": "m", "model": "lr.model"}
    assert problems_of(doc) == [
        "nodes[1] (split): launcher is a field of ranking_model nodes only",
        "nodes[8] (lr): model is a field of ranking_model nodes only",
        "register.sample: is required to register a Spark model (its signature)",
    ]


def test_a_deep_output_can_only_feed_ports_of_its_kind():
    doc = copy.deepcopy(PIPELINE)
    doc["nodes"][-1]["inputs"]["data"] = "deepfm.model"
    assert problems_of(doc) == ["nodes[7] (evaluate): inputs.data expects a table but 'deepfm.model' is a model"]


def test_stages_alternate_and_spark_nodes_that_need_no_deep_output_stay_in_the_first():
    doc = copy.deepcopy(PIPELINE)
    # a second deep step trained on the first one's predictions' table, and a Spark node after both
    second = copy.deepcopy(deepfm(doc))
    second.update(id="dcn", model="dcn")
    doc["nodes"].append(second)
    doc["nodes"].append(
        {"id": "late_profile", "component": "summary_statistics", "inputs": {"data": "deepfm.predictions"}}
    )
    doc["nodes"].append({"id": "early_profile", "component": "summary_statistics", "inputs": {"data": "clicks.data"}})
    pipeline = validate_pipeline(doc)
    stages = stage_numbers(pipeline)
    assert stages["clicks"] == stages["encode"] == stages["early_profile"] == 0
    assert stages["deepfm"] == stages["dcn"] == 1
    assert stages["evaluate"] == stages["late_profile"] == 2

    steps = split(pipeline, "/runs/r")
    assert [(type(s).__name__, s.task_id, s.upstream) for s in steps] == [
        ("SparkStage", "spark_stage_1", ()),
        ("DeepStep", "deepfm", ("spark_stage_1",)),
        ("SparkStage", "spark_stage_2", ("deepfm",)),
        ("DeepStep", "dcn", ("spark_stage_1",)),
    ]
    first, last = steps[0], steps[2]
    assert isinstance(first, SparkStage) and isinstance(last, SparkStage)
    assert "early_profile" in {n["id"] for n in first.document["nodes"]}
    assert {n["id"] for n in last.document["nodes"]} == {"evaluate", "late_profile"}
    # what crosses a cut is written by its stage and read from the same place
    assert first.document["outputs"]["encode__model"] == {"from": "encode.model", "path": "/runs/r/encode/model"}
    dcn = steps[3]
    assert isinstance(dcn, DeepStep) and dcn.inputs["feature_map"] == "/runs/r/encode/model"
    assert dcn.output_path == "/runs/r/dcn/model" and dcn.register is None
    reads = [n["inputs"]["data"] for n in last.document["nodes"]]
    assert reads == [{"path": "/runs/r/deepfm/model/test_predictions.parquet"}] * 2
    # each stage's sub-pipeline is a valid pipeline without deep nodes
    for step in (first, last):
        assert not [n for n in validate_pipeline(step.document).nodes if n.component == "ranking_model"]


def test_a_node_named_like_a_spark_stage_is_refused():
    doc = copy.deepcopy(PIPELINE)
    doc["nodes"][0]["id"] = "spark_stage_1"
    for node in doc["nodes"]:
        node["inputs"] = {k: v.replace("clicks.", "spark_stage_1.") for k, v in node.get("inputs", {}).items()}
    with pytest.raises(PipelineValidationError, match="node 'spark_stage_1': this id names a Spark stage's task"):
        split(validate_pipeline(doc), "/runs/r")
