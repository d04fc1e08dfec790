"""Every route of the page's API, for every role: allowed or refused.

Roles: nobody logged in, a viewer (reads every DAG), an editor of DAG A only (and a pipeline
author; no cluster-wide views), an admin (and a pipeline author). Allowed means a 2xx (the resources exist); refused
means 403, or 401 (the page: a redirect to the login) without a login. The model upload, a
multipart form, has its own case.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.ui.conftest import DAG_A, DAG_B, SMALL_NODES, sentinel
from tests.ui.runs import PNG, add_dag_run, write_run_output

ROLES = ("anonymous", "viewer", "editor_a", "admin")
ALL = set(ROLES) - {"anonymous"}
ARTIFACT = "artifacts/run_pipeline/evaluate/0"


def _doc(name: str) -> dict:
    return {"name": name, "description": sentinel(name), "nodes": SMALL_NODES}


def _routes() -> list[tuple[str, str, str, dict | None, set[str]]]:
    """``(label, method, path, json body, the roles allowed)``."""
    routes: list[tuple[str, str, str, dict | None, set[str]]] = [
        ("page", "GET", "/mlplat/", None, ALL),
        ("openapi", "GET", "/mlplat/openapi.json", None, ALL),
        ("catalogue", "GET", "/mlplat/api/catalogue?q=split", None, ALL),
        ("component", "GET", "/mlplat/api/catalogue/random_split", None, ALL),
        ("list", "GET", "/mlplat/api/pipelines", None, ALL),
        ("validate", "POST", "/mlplat/api/validate", {"pipeline": _doc("ui_validated")}, ALL),
        # The resource page: readers of the cluster activity view (editor_a, scoped to one DAG, is not one).
        ("resources page", "GET", "/mlplat/resources", None, {"viewer", "admin"}),
        ("resources", "GET", "/mlplat/api/resources", None, {"viewer", "admin"}),
    ]
    for dag, readers, editors in ((DAG_A, ALL, {"editor_a", "admin"}), (DAG_B, {"viewer", "admin"}, {"admin"})):
        run = f"run_{dag}"
        routes += [
            (f"read {dag}", "GET", f"/mlplat/api/pipelines/{dag}", None, readers),
            (f"save {dag}", "PUT", f"/mlplat/api/pipelines/{dag}", {"pipeline": _doc(dag)}, editors),
            (f"delete {dag}", "DELETE", f"/mlplat/api/pipelines/{dag}", None, editors),
            (f"run {dag}", "GET", f"/mlplat/api/runs/{dag}/{run}", None, readers),
            (
                f"artifact {dag}",
                "GET",
                f"/mlplat/api/runs/{dag}/{run}/artifacts/run_pipeline/evaluate/0",
                None,
                readers,
            ),
            (
                f"preview {dag}",
                "GET",
                f"/mlplat/api/runs/{dag}/{run}/previews/run_pipeline/evaluate/data",
                None,
                readers,
            ),
        ]
    return routes


ROUTES = _routes()


@pytest.fixture(scope="module")
def runs(run_root: Path) -> None:
    for dag in (DAG_A, DAG_B):
        add_dag_run(dag, f"run_{dag}")
        write_run_output(run_root, dag, f"run_{dag}", PNG)


@pytest.fixture
def headers_of(admin, viewer, editor_a):
    return {"anonymous": {}, "viewer": viewer, "editor_a": editor_a, "admin": admin}


@pytest.fixture
def pipelines_restored(dags_folder: Path):
    """DAG A's and B's pipeline files as the package made them, after each case (saves and deletes change them)."""
    yield
    from airflow_mlplat.dag_files import write_dag_file

    for dag in (DAG_A, DAG_B):
        path = dags_folder / "pipelines" / f"{dag}.json"
        path.write_text(json.dumps(_doc(dag)))
        write_dag_file(path)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("label", "method", "path", "body", "allowed"), ROUTES, ids=[r[0] for r in ROUTES])
def test_route_for_role(client, headers_of, runs, pipelines_restored, role, label, method, path, body, allowed):
    response = client.request(method, path, json=body, headers=headers_of[role], follow_redirects=False)
    if role in allowed:
        assert 200 <= response.status_code < 300, (label, role, response.status_code, response.text[:300])
    elif role == "anonymous":
        expected = (302, 307) if label in ("page", "resources page") else (401,)
        assert response.status_code in expected, (label, role, response.status_code)
    else:
        assert response.status_code == 403, (label, role, response.status_code, response.text[:300])
        assert sentinel(DAG_B).encode() not in response.content


#: The model upload (multipart, so not in ``ROUTES``): pipeline authors only.
UPLOADERS = {"editor_a", "admin"}


@pytest.mark.parametrize("role", ROLES)
def test_model_upload_for_role(client, headers_of, monkeypatch, mlflow_server, role):
    from mlflow import MlflowClient

    from tests.ui.test_model_upload import URL, tiny_onnx

    monkeypatch.setenv("AIRFLOW_CONN_MLFLOW_DEFAULT", mlflow_server)
    name = f"matrix_{role}"
    form = {"name": name, "format": "onnx"}
    response = client.post(URL, data=form, files={"file": ("m.onnx", tiny_onnx())}, headers=headers_of[role])
    registered = MlflowClient(mlflow_server).search_model_versions(f"name='{name}'")
    if role in UPLOADERS:
        assert response.status_code == 201 and len(registered) == 1, (role, response.status_code, response.text[:300])
    else:
        assert response.status_code == (401 if role == "anonymous" else 403), (role, response.status_code)
        assert registered == []


@pytest.mark.parametrize(
    ("role", "visible"), [("viewer", {DAG_A, DAG_B}), ("editor_a", {DAG_A}), ("admin", {DAG_A, DAG_B})]
)
def test_the_list_holds_what_the_role_may_read(client, headers_of, role, visible):
    listed = client.get("/mlplat/api/pipelines", headers=headers_of[role])
    names = {p["name"] for p in listed.json()["pipelines"]}
    assert names & {DAG_A, DAG_B} == visible
    if DAG_B not in visible:
        assert sentinel(DAG_B).encode() not in listed.content
