"""Building pipelines with the SDK: the document it makes, and errors at the call that made them."""

from __future__ import annotations

import json

import pytest

from airflow_mlplat.pipeline import PipelineValidationError, validate_pipeline
from airflow_mlplat.sdk import MetricsOutput, ModelOutput, Pipeline, Stored, TableOutput
from airflow_mlplat.sdk import components as c
from airflow_mlplat.sdk.to_python import pipeline_to_python
from tests.sdk.conftest import readme_pipelines, readme_python


def _dump(doc: dict) -> str:
    return json.dumps(doc, indent=2)


def test_the_readme_python_builds_the_readme_json():
    namespace: dict = {}
    exec(compile(readme_python(), "README.md", "exec"), namespace)
    built = namespace["p"].to_json()
    readme_json = readme_pipelines()[0]
    assert built == readme_json
    assert _dump(built) == _dump(readme_json)  # key order too


def test_the_issue_example_derives_ids_and_wires_edges():
    with Pipeline("churn_lr", params={"reg_param": 0.01}) as p:
        data = c.read_table(path="/data/churn.csv", infer_schema=True)
        feats = c.vector_assembler(data, input_cols=["tenure", "monthly_charges"])
        train, test = c.random_split(feats, ratio=0.8)
        model = c.logistic_regression(train, reg_param=p.param("reg_param"))
        c.binary_classification_evaluation(c.predict(model, test))
        c.read_table(path="/data/other.csv")

    doc = p.to_json()
    assert doc["params"] == {"reg_param": 0.01}
    assert [(n["id"], n["component"]) for n in doc["nodes"]] == [
        ("read_table", "read_table"),
        ("vector_assembler", "vector_assembler"),
        ("random_split", "random_split"),
        ("logistic_regression", "logistic_regression"),
        ("predict", "predict"),
        ("binary_classification_evaluation", "binary_classification_evaluation"),
        ("read_table_2", "read_table"),
    ]
    lr = doc["nodes"][3]
    assert lr == {
        "id": "logistic_regression",
        "component": "logistic_regression",
        "inputs": {"data": "random_split.train"},
        "params": {"reg_param": {"$param": "reg_param"}},
    }
    assert doc["nodes"][4]["inputs"] == {"model": "logistic_regression.model", "data": "random_split.test"}
    assert p.validate().name == "churn_lr"


def test_several_outputs_come_back_as_a_named_tuple():
    with Pipeline("split_twice"):
        data = c.read_table(path="/data/x.csv")
        split = c.random_split(data, id="split")
        train, test = split
        fitted = c.string_indexer(train, input_cols=["city"])

    assert type(split).__name__ == "RandomSplitOutputs"
    assert split._fields == ("train", "test")
    assert (split.train, split.test) == (train, test)
    assert isinstance(train, TableOutput) and train.reference == "split.train"
    assert test.reference == "split.test"
    assert [type(h) for h in fitted] == [TableOutput, ModelOutput]
    assert isinstance(data, TableOutput) and data.reference == "read_table.data"


def test_one_output_is_its_handle():
    with Pipeline("handles"):
        data = c.read_table(path="/data/x.csv")
        metrics = c.binary_classification_evaluation(data)
    assert isinstance(metrics, MetricsOutput) and metrics.reference == "binary_classification_evaluation.metrics"
    assert repr(metrics) == "<MetricsOutput binary_classification_evaluation.metrics>"


def _validator_message(node: dict) -> str:
    """What ``validate_pipeline`` says about the document the failing call would have made."""
    doc = {
        "name": "errors",
        "params": {"ratio": 0.8},
        "nodes": [{"id": "read_table", "component": "read_table", "params": {"path": "/data/x.csv"}}, node],
    }
    with pytest.raises(PipelineValidationError) as err:
        validate_pipeline(doc)
    return str(err.value)


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"ratoi": 0.8}, "params.ratoi is not a parameter of random_split; did you mean 'ratio'?"),
        ({"ratio": "big"}, "params.ratio of random_split must be a number > 0.0 and < 1.0, got 'big'"),
        ({"ratio": 1.5}, "params.ratio of random_split must be a number > 0.0 and < 1.0, got 1.5"),
        ({"seed": True}, "params.seed of random_split must be an integer, got True"),
        ({"ratio": {"$param": "ratoi"}}, "refers to pipeline param 'ratoi', which is not declared; did you mean"),
    ],
)
def test_a_wrong_parameter_fails_at_the_call_with_the_validators_message(params, expected):
    with Pipeline("errors", params={"ratio": 0.8}) as p:
        data = c.read_table(path="/data/x.csv")
        with pytest.raises(PipelineValidationError) as err:
            c.random_split(data, **params)
    assert expected in str(err.value)
    node = {"id": "random_split", "component": "random_split", "inputs": {"data": "read_table.data"}, "params": params}
    assert str(err.value) == _validator_message(node)
    assert err.value.problems[0].where == "nodes[1] (random_split)"
    assert p.node_ids == ["read_table"]  # the failed call added nothing


def test_a_missing_required_parameter_or_input_fails_at_the_call():
    with Pipeline("errors"):
        data = c.read_table(path="/data/x.csv")
        with pytest.raises(PipelineValidationError, match="params.input_cols is required by vector_assembler"):
            c.vector_assembler(data)
        with pytest.raises(PipelineValidationError, match=r"inputs.data \(table\) is required by vector_assembler"):
            c.vector_assembler(input_cols=["a"])


def test_a_model_where_a_table_goes_fails_with_the_validators_message():
    with Pipeline("errors"):
        data = c.read_table(path="/data/x.csv")
        model = c.logistic_regression(data)
        with pytest.raises(PipelineValidationError, match="inputs.data expects a table but 'logistic_regression.m"):
            c.predict(model, model)


def test_misplaced_arguments_are_type_errors():
    with Pipeline("errors"):
        data = c.read_table(path="/data/x.csv")
        with pytest.raises(TypeError, match=r"random_split\(\) takes 1 input\(s\) by position \(data\), got 2"):
            c.random_split(data, data)
        with pytest.raises(TypeError, match="got input 'data' both by position and by name"):
            c.random_split(data, data=data)
        with pytest.raises(TypeError, match="input 'data' takes another component's output or Stored"):
            c.random_split("read_table.data")
        with pytest.raises(TypeError, match="pick one of its outputs by name"):
            c.vector_assembler(c.random_split(data), input_cols=["a"])
        with pytest.raises(TypeError, match="'ratio' is a parameter, not an input"):
            c.random_split(data, ratio=data)


def test_calls_need_a_pipeline_and_handles_stay_in_theirs():
    with pytest.raises(RuntimeError, match=r"read_table\(\) adds a node to a pipeline"):
        c.read_table(path="/data/x.csv")
    with Pipeline("first"):
        data = c.read_table(path="/data/x.csv")
    with Pipeline("second") as second:
        with pytest.raises(ValueError, match="of pipeline 'first', not of the pipeline being built"):
            c.random_split(data)
        with pytest.raises(ValueError, match="belongs to pipeline 'first', not 'second'"):
            second.output("data", data)
    with pytest.raises(AttributeError, match="component 'read_tabel' is unknown; did you mean 'read_table'"):
        c.read_tabel  # noqa: B018


def test_stored_inputs_outputs_registration_and_pipeline_fields():
    with Pipeline(
        "scored",
        description="score with a stored model",
        execution="per_node",
        schedule=None,
        spark_conf={"spark.sql.shuffle.partitions": "4"},
        preview=False,
    ) as p:
        scored = c.predict(Stored("/models/lr"), Stored("/data/new"), id="scored", description="apply it")
        p.output("scores", scored, path="/tmp/scores")
        p.output("again", scored)

    assert p.to_json() == {
        "name": "scored",
        "description": "score with a stored model",
        "execution": "per_node",
        "schedule": None,
        "nodes": [
            {
                "id": "scored",
                "component": "predict",
                "description": "apply it",
                "inputs": {"model": {"path": "/models/lr"}, "data": {"path": "/data/new"}},
            }
        ],
        "outputs": {"scores": {"from": "scored.data", "path": "/tmp/scores"}, "again": "scored.data"},
        "spark_conf": {"spark.sql.shuffle.partitions": "4"},
        "preview": False,
    }
    assert p.validate().execution == "per_node" and p.validate().preview is False
    namespace: dict = {}
    exec(pipeline_to_python(p.to_json()), namespace)  # the SDK code of the JSON builds it again
    assert namespace["p"].to_json() == p.to_json()


def test_register_is_validated_at_the_call():
    with Pipeline("registered") as p:
        data = c.read_table(path="/data/x.csv")
        train, test = c.random_split(data)
        model = c.logistic_regression(train)
        with pytest.raises(PipelineValidationError, match="register.sample: is required to register a Spark model"):
            p.register("lr", model)
        p.register("lr", model, sample=test, pmml=True, alias=None)
    assert p.to_json()["register"] == {
        "name": "lr",
        "model": "logistic_regression.model",
        "sample": "random_split.test",
        "pmml": True,
        "alias": None,
    }


def test_a_ranking_model_node_takes_model_and_launcher():
    with Pipeline("ctr") as p:
        data = c.read_table(path="/data/clicks")
        encoded, encoder = c.ctr_feature_encoder(data, categorical_cols=["item"])
        deep = c.ranking_model(encoded, encoded, encoder, model="dcn", cross_layers=2, launcher={"workers": 1})
        with pytest.raises(PipelineValidationError, match="launcher.workers"):
            c.ranking_model(encoded, encoded, encoder, model="dcn", launcher={"workers": 0})
        with pytest.raises(PipelineValidationError, match="model must be one of"):
            c.ranking_model(encoded, encoded, encoder, model="bert")
    assert p.to_json()["nodes"][-1] == {
        "id": "ranking_model",
        "component": "ranking_model",
        "model": "dcn",
        "inputs": {
            "train": "ctr_feature_encoder.data",
            "validation": "ctr_feature_encoder.data",
            "feature_map": "ctr_feature_encoder.model",
        },
        "params": {"cross_layers": 2},
        "launcher": {"workers": 1},
    }
    assert deep.model.reference == "ranking_model.model"


def test_to_json_is_a_copy():
    with Pipeline("copy") as p:
        cols = ["a"]
        c.read_table(path="/data/x.csv", options={"nullValue": "NA"})
        data = c.read_table(path="/data/y.csv")
        c.vector_assembler(data, input_cols=cols)
    cols.append("b")
    first = p.to_json()
    first["nodes"][0]["params"]["options"]["nullValue"] = "changed"
    assert p.to_json()["nodes"][0]["params"]["options"] == {"nullValue": "NA"}
    assert p.to_json()["nodes"][2]["params"]["input_cols"] == ["a"]
