"""The page's API against bad input and the wrong user (issue 17, items 1-5).

1. one identity: a save never replaces another pipeline's file nor takes another DAG's id;
2. run artifacts come from inside their DAG's run folder only, and only for runs that exist;
3. the list shows only readable pipelines; the OpenAPI schema needs a login;
4. saving needs the authoring grant; SQL that loads code and paths outside the roots are refused;
5. a broken file is listed with its problem, never a 500.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.ui.conftest import DAG_A, DAG_B, SMALL_NODES
from tests.ui.runs import PNG, add_dag_run, write_run_output

SECRET = b"\x89PNG\r\n\x1a\n-secret-of-dag-b-" + b"\0" * 16


def _pipeline(name: str, *nodes: dict) -> dict:
    return {"name": name, "nodes": list(nodes or SMALL_NODES)}


def _put(client, headers, name: str, doc: dict):
    return client.put(f"/mlplat/api/pipelines/{name}", json={"pipeline": doc}, headers=headers)


# 1. One identity --------------------------------------------------------------------------------


def test_a_save_never_replaces_a_file_holding_another_pipeline(client, admin, dags_folder: Path):
    held = dags_folder / "pipelines" / "ui_holder.json"
    original = json.dumps(_pipeline("ui_holder_training"))  # as realtime_retrain.json held realtime_retrain_training
    held.write_text(original)
    try:
        response = _put(client, admin, "ui_holder", _pipeline("ui_holder"))
        assert response.status_code == 409, response.text
        assert "ui_holder_training" in response.json()["detail"]
        assert held.read_text() == original
    finally:
        held.unlink()


def test_a_name_another_dag_file_defines_is_refused_with_409_naming_it(client, admin, dags_folder: Path):
    from airflow.dag_processing.bundles.manager import DagBundlesManager
    from airflow.dag_processing.dagbag import DagBag, sync_bag_to_db

    dag_file = dags_folder / "ui_taken_dag.py"
    dag_file.write_text('from airflow.sdk import DAG\n\nwith DAG("ui_taken", schedule=None):\n    pass\n')
    try:
        DagBundlesManager().sync_bundles_to_db()
        bag = DagBag(dag_folder=str(dag_file), bundle_path=dags_folder, bundle_name="dags-folder")
        sync_bag_to_db(bag, "dags-folder", None)
        response = _put(client, admin, "ui_taken", _pipeline("ui_taken"))
        assert response.status_code == 409, response.text
        assert "DAG 'ui_taken'" in response.json()["detail"] and "ui_taken_dag.py" in response.json()["detail"]
        assert not (dags_folder / "pipelines" / "ui_taken.json").exists()
    finally:
        dag_file.unlink()


def test_every_listed_pipeline_opens_under_its_name(client, admin):
    listed = client.get("/mlplat/api/pipelines", headers=admin).json()["pipelines"]
    assert listed
    for entry in listed:
        if entry["problems"]:
            continue
        opened = client.get(f"/mlplat/api/pipelines/{entry['name']}", headers=admin)
        assert opened.status_code == 200, (entry, opened.text)
        assert opened.json()["pipeline"]["name"] == entry["name"]


def test_a_saved_pipeline_gets_its_own_dag_file(client, admin, dags_folder: Path):
    from airflow_mlplat.local_run import load_dags

    assert _put(client, admin, "ui_own_file", _pipeline("ui_own_file")).status_code == 200
    try:
        dag_file = dags_folder / "pipelines" / "ui_own_file.py"
        assert dag_file.exists()
        assert "ui_own_file" in load_dags(dag_file).dag_ids
    finally:
        client.delete("/mlplat/api/pipelines/ui_own_file", headers=admin)
    assert not dag_file.exists()


# 2. Artifacts stay inside their DAG's run folder ----------------------------------------------------


@pytest.fixture(scope="module")
def dag_b_run(run_root: Path) -> Path:
    """A run of DAG B whose report lists a plot holding SECRET (and a run folder of DAG A, to climb out of)."""
    add_dag_run(DAG_A, "run_a")
    write_run_output(run_root, DAG_A, "run_a", PNG)
    add_dag_run(DAG_B, "run_b")
    return write_run_output(run_root, DAG_B, "run_b", SECRET)


@pytest.mark.parametrize(
    "path",
    [
        f"/mlplat/api/runs/{DAG_A}/%2e%2e/artifacts/run_pipeline/evaluate/0",
        f"/mlplat/api/runs/{DAG_A}/%2E%2E/artifacts/run_pipeline/evaluate/0",
        f"/mlplat/api/runs/{DAG_A}/../artifacts/run_pipeline/evaluate/0",
        f"/mlplat/api/runs/{DAG_A}/%2e%2e/{DAG_B}/artifacts/run_pipeline/evaluate/0",
        f"/mlplat/api/runs/{DAG_A}/%2e%2e",
    ],
)
def test_dot_dot_in_a_raw_request_reads_no_other_dags_artifacts(raw_http, admin, dag_b_run, path):
    """Sent byte for byte: a client library would have normalised ``..`` away before sending."""
    status, body = raw_http("GET", path, admin)
    assert SECRET not in body
    assert status in (404, 422), (status, body[:300])


def test_artifacts_of_a_run_that_does_not_exist_are_not_read(client, admin, run_root: Path):
    write_run_output(run_root, DAG_A, "never_ran", PNG)  # files on disk, no run in the DB
    response = client.get(f"/mlplat/api/runs/{DAG_A}/never_ran/artifacts/run_pipeline/evaluate/0", headers=admin)
    assert response.status_code == 404


def test_a_report_cannot_point_at_another_dags_files(client, admin, run_root: Path, dag_b_run: Path):
    add_dag_run(DAG_A, "run_a_pointing_away")
    write_run_output(run_root, DAG_A, "run_a_pointing_away", b"", artifact=dag_b_run)
    url = f"/mlplat/api/runs/{DAG_A}/run_a_pointing_away/artifacts/run_pipeline/evaluate/0"
    response = client.get(url, headers=admin)
    assert response.status_code == 404 and SECRET not in response.content


def test_a_run_own_artifact_is_served(client, admin, run_root: Path):
    add_dag_run(DAG_A, "run_a")
    write_run_output(run_root, DAG_A, "run_a", PNG)
    results = client.get(f"/mlplat/api/runs/{DAG_A}/run_a", headers=admin).json()
    assert results["plots"] == [{"task": "run_pipeline", "node": "evaluate", "index": 0, "name": "roc_curve.png"}]
    plot = client.get(f"/mlplat/api/runs/{DAG_A}/run_a/artifacts/run_pipeline/evaluate/0", headers=admin)
    assert plot.status_code == 200 and plot.content == PNG


# 3. Who sees what ---------------------------------------------------------------------------------


def test_the_list_shows_only_pipelines_whose_dag_the_user_may_read(client, admin, editor_a):
    names = [p["name"] for p in client.get("/mlplat/api/pipelines", headers=editor_a).json()["pipelines"]]
    assert names == [DAG_A]
    everything = client.get("/mlplat/api/pipelines", headers=admin).json()
    assert {DAG_A, DAG_B} <= {p["name"] for p in everything["pipelines"]}
    assert "folder" not in everything  # no server path


def test_the_openapi_schema_needs_a_login(client, viewer):
    assert client.get("/mlplat/openapi.json").status_code == 401
    schema = client.get("/mlplat/openapi.json", headers=viewer)
    assert schema.status_code == 200 and "/api/pipelines/{dag_id}" in schema.json()["paths"]


# 4. Saving from the page runs code on the workers: a deliberate grant, and checked SQL and paths ------


def test_editing_a_dag_is_not_enough_to_save_pipelines(client, dag_editor, dags_folder: Path):
    response = _put(client, dag_editor, "ui_by_dag_editor", _pipeline("ui_by_dag_editor"))
    assert response.status_code == 403 and "pipeline_authors" in response.json()["detail"]
    assert client.delete(f"/mlplat/api/pipelines/{DAG_B}", headers=dag_editor).status_code == 403
    assert not (dags_folder / "pipelines" / "ui_by_dag_editor.json").exists()


CODE = [
    ("sql_transform", {"query": "SELECT reflect('java.lang.Thread', 'sleep', 1000L) AS slept FROM data"}),
    ("filter_rows", {"condition": "java_method('java.lang.System', 'exit', 1) > 0"}),
    ("add_column", {"column": "c", "expression": "reflect('java.lang.Runtime', 'getRuntime')"}),
]


@pytest.mark.parametrize(("component", "params"), CODE, ids=[c for c, _ in CODE])
def test_sql_that_calls_java_is_not_saved(client, admin, dags_folder: Path, component, params):
    node = {"id": "code", "component": component, "inputs": {"data": "data.data"}, "params": params}
    response = _put(client, admin, "ui_code", _pipeline("ui_code", SMALL_NODES[0], node))
    assert response.status_code == 422, response.text
    problem = next(p for p in response.json()["problems"] if p["node"] == "code")
    assert problem["field"] == f"params.{next(iter(params)) if component != 'add_column' else 'expression'}"
    assert "calls Java methods" in problem["message"]
    assert not (dags_folder / "pipelines" / "ui_code.json").exists()


def test_hiveql_that_loads_code_is_not_saved(client, admin):
    node = {
        "id": "hive",
        "component": "run_hiveql",
        "params": {"statements": ["ADD JAR /tmp/evil.jar", "CREATE FUNCTION f AS 'Evil' USING JAR '/tmp/evil.jar'"]},
    }
    response = _put(client, admin, "ui_hive", _pipeline("ui_hive", node))
    assert response.status_code == 422
    texts = [p["text"] for p in response.json()["problems"]]
    assert any("params.statements[0]" in t and "ADD JAR" in t for t in texts), texts
    assert any("params.statements[1]" in t and "CREATE FUNCTION" in t for t in texts), texts


def test_files_outside_the_data_roots_are_refused_even_if_the_body_says_otherwise(client, admin, run_root: Path):
    reader = {"id": "data", "component": "read_table", "params": {"path": "/etc/passwd", "format": "csv"}}
    doc = {**_pipeline("ui_reader", reader), "origin": "file"}  # the store marks it "page" anyway
    response = _put(client, admin, "ui_reader", doc)
    assert response.status_code == 422
    (problem,) = response.json()["problems"]
    assert problem["field"] == "params.path" and "outside the data roots" in problem["message"]
    inside = {**reader, "params": {"path": str(run_root / "data.csv"), "format": "csv"}}
    assert _put(client, admin, "ui_reader", _pipeline("ui_reader", inside)).status_code == 200
    client.delete("/mlplat/api/pipelines/ui_reader", headers=admin)


def test_validate_checks_as_a_save_would(client, viewer):
    reader = {"id": "data", "component": "read_table", "params": {"path": "/etc/passwd", "format": "csv"}}
    body = client.post("/mlplat/api/validate", json={"pipeline": _pipeline("ui_v", reader)}, headers=viewer).json()
    assert body["valid"] is False and body["problems"][0]["field"] == "params.path"


# 5. Broken files are listed, never a 500 -------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "text", "problem"),
    [
        ("ui_broken_nodes", json.dumps({"name": "ui_broken_nodes", "nodes": 5}), "nodes"),
        ("ui_broken_json", '{"name": "ui_broken_json", "nodes": [', "line 1"),
        ("ui_broken_list", "[1, 2]", "must be a JSON object"),
        ("ui_broken_deep", "[" * 100_000 + "]" * 100_000, "nested too deeply"),
    ],
)
def test_a_broken_file_is_listed_with_its_problem(client, admin, dags_folder: Path, name, text, problem):
    broken = dags_folder / "pipelines" / f"{name}.json"
    broken.write_text(text)
    try:
        listed = client.get("/mlplat/api/pipelines", headers=admin)
        assert listed.status_code == 200, listed.text[:300]
        entry = next(p for p in listed.json()["pipelines"] if p["file"] == broken.name)
        assert any(problem in text for text in entry["problems"]), entry
        opened = client.get(f"/mlplat/api/pipelines/{name}", headers=admin)  # a JSON object opens in the editor
        readable = text.startswith('{"name') and text.endswith("}")
        assert opened.status_code == (200 if readable else 422), opened.text[:300]
    finally:
        broken.unlink()


def test_a_broken_layout_file_is_ignored(client, admin, dags_folder: Path):
    layout = dags_folder / "pipelines" / ".layout" / f"{DAG_A}.json"
    layout.parent.mkdir(exist_ok=True)
    layout.write_text("{not json")
    try:
        opened = client.get(f"/mlplat/api/pipelines/{DAG_A}", headers=admin)
        assert opened.status_code == 200 and opened.json()["layout"] == {}
    finally:
        layout.unlink()
