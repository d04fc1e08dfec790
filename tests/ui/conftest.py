"""The Airflow API server app with the plugin loaded, users with roles, and a DAGs folder of pipelines.

Airflow reads these settings when asked (``conf.get`` looks at the environment each time), so
setting them here, before the app is made, is enough.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
PASSWORDS = {"admin": "admin-pw", "viewer": "viewer-pw", "editor_a": "editor-a-pw", "dag_editor": "dag-editor-pw"}
#: Two pipelines (and DAGs) the permission tests use: editor_a may read and edit A only.
DAG_A, DAG_B = "ui_dag_a", "ui_dag_b"


def sentinel(name: str) -> str:
    """Text only pipeline ``name``'s file holds: a user who may not read it must never receive it."""
    return f"sentinel-of-{name}"


#: A pipeline both may be saved as.
SMALL_NODES = [
    {"id": "data", "component": "synthetic_purchase_intent", "params": {"rows": 500}},
    {"id": "split", "component": "random_split", "inputs": {"data": "data.data"}, "params": {"ratio": 0.8}},
]


@pytest.fixture(scope="package")
def dags_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A DAGs folder like the repo's: the pipeline DAG file and a copy of its pipelines."""
    folder = tmp_path_factory.mktemp("ui-dags")
    shutil.copy(REPO_ROOT / "dags" / "pipeline_dags.py", folder / "pipeline_dags.py")
    shutil.copytree(REPO_ROOT / "dags" / "pipelines", folder / "pipelines")
    for name in (DAG_A, DAG_B):
        doc = {"name": name, "description": sentinel(name), "nodes": SMALL_NODES}
        (folder / "pipelines" / f"{name}.json").write_text(json.dumps(doc))
    from airflow_mlplat.dag_files import sync_dag_files

    sync_dag_files(folder / "pipelines")
    return folder


@pytest.fixture(scope="package")
def run_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """MLPLAT_RUN_ROOT of the API app: where the results routes look for run output."""
    return tmp_path_factory.mktemp("ui-runs")


@pytest.fixture(scope="package")
def api_app(dags_folder: Path, run_root: Path, tmp_path_factory: pytest.TempPathFactory):
    """Airflow's API server app (``airflow.api_fastapi.app.create_app``), plugin loaded.

    Users: ``admin``, ``viewer`` (reads every DAG), ``editor_a`` (reads and edits DAG A only, through
    ``tests.ui.per_dag_auth``), ``dag_editor`` (edits every DAG); admin and editor_a may save
    pipelines from the page (``[mlplat] pipeline_authors``), dag_editor may not.
    """
    passwords = tmp_path_factory.mktemp("auth") / "passwords.json"
    passwords.write_text(json.dumps(PASSWORDS))
    settings = {
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags_folder),
        "AIRFLOW__CORE__AUTH_MANAGER": "tests.ui.per_dag_auth.PerDagAuthManager",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin,viewer:viewer,editor_a:user,dag_editor:user",
        "AIRFLOW__MLPLAT__PIPELINE_AUTHORS": "admin,editor_a",
        "MLPLAT_RUN_ROOT": str(run_root),
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords),
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "False",
        "AIRFLOW__API_AUTH__JWT_SECRET": "mlplat-ui-tests-" + "0" * 64,
        "AIRFLOW__API__HOST": "127.0.0.1",
    }
    saved = {key: os.environ.get(key) for key in settings}
    os.environ.update(settings)
    from airflow.api_fastapi.app import create_app, purge_cached_app

    from airflow_mlplat.local_run import migrate_db

    migrate_db()
    purge_cached_app()
    yield create_app()
    purge_cached_app()
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture(scope="package")
def client(api_app):
    from fastapi.testclient import TestClient

    with TestClient(api_app) as test_client:
        yield test_client


def _token(client, user: str) -> str:
    response = client.post("/auth/token", json={"username": user, "password": PASSWORDS[user]})
    assert response.status_code == 201, response.text
    return response.json()["access_token"]


@pytest.fixture(scope="package")
def admin(client) -> dict[str, str]:
    """Headers of a logged-in admin."""
    return {"Authorization": f"Bearer {_token(client, 'admin')}"}


@pytest.fixture(scope="package")
def viewer(client) -> dict[str, str]:
    """Headers of a logged-in viewer (may read DAGs, not edit them)."""
    return {"Authorization": f"Bearer {_token(client, 'viewer')}"}


@pytest.fixture(scope="package")
def editor_a(client) -> dict[str, str]:
    """Headers of a logged-in editor of DAG A only (a pipeline author)."""
    return {"Authorization": f"Bearer {_token(client, 'editor_a')}"}


@pytest.fixture(scope="package")
def dag_editor(client) -> dict[str, str]:
    """Headers of a user who may edit every DAG but is not granted saving pipelines from the page."""
    return {"Authorization": f"Bearer {_token(client, 'dag_editor')}"}


@pytest.fixture(scope="package")
def raw_http(api_app, client):
    """The API app served by uvicorn on 127.0.0.1, for requests whose path no client may rewrite.

    Yields ``request(method, path, headers, body) -> (status, body)``; the path is sent byte for byte.
    """
    import http.client
    import threading

    import uvicorn

    from airflow_mlplat.services.process import LOOPBACK, free_port, wait_until

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(api_app, host=LOOPBACK, port=port, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    assert wait_until(lambda: server.started, timeout=30)

    def request(
        method: str, path: str, headers: dict[str, str] | None = None, body: bytes | None = None
    ) -> tuple[int, bytes]:
        connection = http.client.HTTPConnection(LOOPBACK, port, timeout=30)
        try:
            connection.putrequest(method, path, skip_accept_encoding=True)
            for key, value in (headers or {}).items():
                connection.putheader(key, value)
            if body is not None:
                connection.putheader("Content-Type", "application/json")
                connection.putheader("Content-Length", str(len(body)))
            connection.endheaders(body)
            response = connection.getresponse()
            return response.status, response.read()
        finally:
            connection.close()

    yield request
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="package")
def browser_airflow(tmp_path_factory: pytest.TempPathFactory, mlflow_server: str):
    """One real Airflow for the browser tests (starting one costs about 25 s); see ``browser.start_cluster``."""
    from .browser import start_cluster

    cluster = None
    try:
        cluster = start_cluster(tmp_path_factory.mktemp("browser-airflow"), mlflow_server)
        yield cluster
    finally:
        if cluster is not None:
            cluster.stop()
            print(cluster.logs(3000))
