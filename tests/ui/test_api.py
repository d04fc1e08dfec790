"""The plugin's API through the Airflow API server app: auth, catalogue, pipeline CRUD, validation."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path

import pytest

from airflow_mlplat.components.registry import get_component, iter_components
from airflow_mlplat.pipeline import PipelineValidationError, validate_pipeline
from airflow_mlplat.ranking.node import ranking_spec
from airflow_mlplat.ranking.params import MODELS, launcher_params, model_params

CTR_DEEPFM = Path(__file__).parents[1] / "airflow" / "pipelines" / "ctr_deepfm.json"

SMALL_PIPELINE = {
    "name": "ui_small",
    "description": "made by the API test",
    "nodes": [
        {"id": "data", "component": "synthetic_purchase_intent", "params": {"rows": 500}},
        {"id": "split", "component": "random_split", "inputs": {"data": "data.data"}, "params": {"ratio": 0.8}},
    ],
}


def test_plugin_app_is_mounted_and_needs_a_user(client):
    response = client.get("/mlplat/api/catalogue")
    assert response.status_code == 401
    assert client.get("/mlplat/api/pipelines").status_code == 401
    assert client.put("/mlplat/api/pipelines/ui_small", json={"pipeline": SMALL_PIPELINE}).status_code == 401
    assert client.get("/mlplat/assets/index.js").status_code == 401


def test_a_bad_token_is_forbidden(client):
    response = client.get("/mlplat/api/catalogue", headers={"Authorization": "Bearer not-a-jwt"})
    assert response.status_code == 403


def test_the_page_without_a_session_redirects_to_login(client):
    response = client.get("/mlplat/", follow_redirects=False)
    assert response.status_code in (302, 307)
    assert "login" in response.headers["location"]


def test_catalogue_lists_every_component_with_generated_forms(client, admin):
    body = client.get("/mlplat/api/catalogue", headers=admin).json()
    # every component, and one entry per ranking model (a ranking_model node with that model)
    assert len(body["components"]) == len(list(iter_components())) + len(MODELS)
    assert {c["name"] for c in body["categories"]} >= {"datasets", "classification", "evaluation"}
    gbdt = next(c for c in body["components"] if c["name"] == "gbdt_classifier")
    max_iter = next(p for p in gbdt["params"] if p["name"] == "max_iter")
    declared = get_component("gbdt_classifier").param("max_iter").to_dict()
    assert {k: max_iter[k] for k in declared} == declared
    assert max_iter["widget"] == "integer"
    to_type = next(
        p
        for p in client.get("/mlplat/api/catalogue/cast_columns", headers=admin).json()["params"]
        if p["name"] == "to_type"
    )
    assert to_type["widget"] == "select" and "double" in to_type["enum"]


def test_catalogue_lists_the_ranking_models_with_their_declared_forms(client, admin):
    body = client.get("/mlplat/api/catalogue", params={"category": "ranking models"}, headers=admin).json()
    assert [c["name"] for c in body["components"]] == [f"ranking_model.{m}" for m in MODELS]
    assert {"name": "ranking models", "count": len(MODELS)} in body["categories"]
    dcn = client.get("/mlplat/api/catalogue/ranking_model.dcn", headers=admin).json()
    assert (dcn["component"], dcn["model"]) == ("ranking_model", "dcn")
    assert [p["name"] for p in dcn["params"]] == [p.name for p in model_params("dcn")]
    cross = next(p for p in dcn["params"] if p["name"] == "cross_layers")
    assert {k: cross[k] for k in model_params("dcn")[-1].to_dict()} == model_params("dcn")[-1].to_dict()
    assert [p["name"] for p in dcn["launcher"]] == [p.name for p in launcher_params()]
    assert [p["name"] for p in dcn["inputs"]] == [p.name for p in ranking_spec().inputs]
    assert [p["name"] for p in dcn["outputs"]] == ["model", "predictions"]
    found = client.get("/mlplat/api/catalogue", params={"q": "deepfm"}, headers=admin).json()
    assert [c["name"] for c in found["components"]] == ["ranking_model.deepfm"]
    assert client.get("/mlplat/api/catalogue/ranking_model.lr", headers=admin).status_code == 404


def test_a_launcher_problem_is_placed_on_its_field(client, admin):
    doc = json.loads(CTR_DEEPFM.read_text())
    next(n for n in doc["nodes"] if n["id"] == "deepfm")["launcher"]["workers"] = 0
    body = client.post("/mlplat/api/validate", json={"pipeline": doc}, headers=admin).json()
    assert [(p["node"], p["field"]) for p in body["problems"]] == [("deepfm", "launcher.workers")]


def test_catalogue_search_and_category(client, admin):
    found = client.get("/mlplat/api/catalogue", params={"q": "purchase intent"}, headers=admin).json()
    assert [c["name"] for c in found["components"]] == ["synthetic_purchase_intent"]
    evaluation = client.get("/mlplat/api/catalogue", params={"category": "evaluation"}, headers=admin).json()
    assert evaluation["components"] and all(c["category"] == "evaluation" for c in evaluation["components"])
    assert client.get("/mlplat/api/catalogue/no_such_thing", headers=admin).status_code == 404


def test_pipeline_crud(client, admin, dags_folder):
    path = dags_folder / "pipelines" / "ui_small.json"
    layout = {"data": {"x": 10, "y": 20}, "split": {"x": 200, "y": 20}}
    saved = client.put(
        "/mlplat/api/pipelines/ui_small", json={"pipeline": SMALL_PIPELINE, "layout": layout}, headers=admin
    )
    assert saved.status_code == 200, saved.text
    # What the page saves is marked as such: its paths, tables and Spark settings are confined.
    assert json.loads(path.read_text()) == {**SMALL_PIPELINE, "origin": "page"}
    assert saved.json()["parse_requested"] == ["pipelines/ui_small.py"]  # its own DAG file
    assert path.with_suffix(".py").exists()
    names = [p["name"] for p in client.get("/mlplat/api/pipelines", headers=admin).json()["pipelines"]]
    assert {"ui_small", "purchase_intent_gbdt"} <= set(names)
    read = client.get("/mlplat/api/pipelines/ui_small", headers=admin).json()
    assert read["pipeline"] == {**SMALL_PIPELINE, "origin": "page"} and read["layout"] == layout
    assert client.delete("/mlplat/api/pipelines/ui_small", headers=admin).status_code == 204
    assert not path.exists() and not path.with_suffix(".py").exists()
    assert client.get("/mlplat/api/pipelines/ui_small", headers=admin).status_code == 404


def test_saved_pipeline_becomes_a_dag(client, admin, dags_folder):
    from airflow_mlplat.local_run import load_dags

    doc = dict(SMALL_PIPELINE, name="ui_dag")
    assert client.put("/mlplat/api/pipelines/ui_dag", json={"pipeline": doc}, headers=admin).status_code == 200
    try:
        bag = load_dags(dags_folder)
        assert "ui_dag" in bag.dag_ids
    finally:
        client.delete("/mlplat/api/pipelines/ui_dag", headers=admin)


def test_hand_written_files_are_checked_by_the_same_validator(client, admin, dags_folder):
    hand_written = dags_folder / "pipelines" / "ui_hand.json"
    hand_written.write_text(json.dumps(_invalid_doc() | {"name": "ui_hand"}))
    try:
        listed = {p["name"]: p for p in client.get("/mlplat/api/pipelines", headers=admin).json()["pipelines"]}
        assert listed["purchase_intent_gbdt"]["problems"] == []
        with pytest.raises(PipelineValidationError) as error:
            validate_pipeline(json.loads(hand_written.read_text()), source=str(hand_written))
        assert listed["ui_hand"]["problems"] == [str(p) for p in error.value.problems]
    finally:
        hand_written.unlink()


def test_viewer_may_read_but_not_save_or_delete(client, viewer):
    assert client.get("/mlplat/api/catalogue", headers=viewer).status_code == 200
    assert client.get("/mlplat/api/pipelines/purchase_intent_gbdt", headers=viewer).status_code == 200
    assert (
        client.put("/mlplat/api/pipelines/ui_small", json={"pipeline": SMALL_PIPELINE}, headers=viewer).status_code
        == 403
    )
    assert client.delete("/mlplat/api/pipelines/purchase_intent_gbdt", headers=viewer).status_code == 403


def _invalid_doc() -> dict:
    doc = copy.deepcopy(SMALL_PIPELINE)
    doc["name"] = "ui_invalid"
    doc["nodes"][0]["params"]["rows"] = 0
    doc["nodes"][1]["params"]["ratio"] = "most"
    doc["nodes"].append(
        {"id": "gbdt", "component": "gbdt_classifier", "inputs": {"data": "split.model"}, "params": {"max_iter": 0}}
    )
    return doc


def test_invalid_pipeline_is_not_saved_and_problems_name_node_and_field(client, admin, dags_folder):
    doc = _invalid_doc()
    response = client.put("/mlplat/api/pipelines/ui_invalid", json={"pipeline": doc}, headers=admin)
    assert response.status_code == 422
    assert not (dags_folder / "pipelines" / "ui_invalid.json").exists()
    placed = {(p["node"], p["field"]) for p in response.json()["problems"]}
    assert {
        ("data", "params.rows"),
        ("split", "params.ratio"),
        ("gbdt", "params.max_iter"),
        ("gbdt", "inputs.data"),
    } <= placed


def test_page_errors_are_the_cli_errors(client, admin, tmp_path):
    """The same document: the API's problem lines equal the lines `airflow-mlplat validate` prints."""
    doc = _invalid_doc()
    api_lines = [
        p["text"] for p in client.post("/mlplat/api/validate", json={"pipeline": doc}, headers=admin).json()["problems"]
    ]
    path = tmp_path / "ui_invalid.json"
    path.write_text(json.dumps(doc))
    cli = subprocess.run(
        [sys.executable, "-m", "airflow_mlplat", "validate", str(path)], capture_output=True, text=True
    )
    assert cli.returncode != 0
    prefix = f"{path}: "
    cli_lines = [line.strip()[len(prefix) :] for line in cli.stderr.splitlines() if line.strip().startswith(prefix)]
    assert api_lines and cli_lines == api_lines


def test_save_checks_name_and_duplicates(client, admin):
    other = dict(SMALL_PIPELINE, name="purchase_intent_gbdt")
    response = client.put("/mlplat/api/pipelines/ui_other", json={"pipeline": other}, headers=admin)
    assert response.status_code == 422
    assert response.json()["problems"][0]["field"] == "name"


@pytest.mark.parametrize("name", ["../escape", "a-b"])
def test_bad_names_are_refused(client, admin, name):
    response = client.put(f"/mlplat/api/pipelines/{name}", json={"pipeline": SMALL_PIPELINE}, headers=admin)
    assert response.status_code in (404, 422)
