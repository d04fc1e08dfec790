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
PASSWORDS = {"admin": "admin-pw", "viewer": "viewer-pw"}


@pytest.fixture(scope="package")
def dags_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A DAGs folder like the repo's: the pipeline DAG file and a copy of its pipelines."""
    folder = tmp_path_factory.mktemp("ui-dags")
    shutil.copy(REPO_ROOT / "dags" / "pipeline_dags.py", folder / "pipeline_dags.py")
    shutil.copytree(REPO_ROOT / "dags" / "pipelines", folder / "pipelines")
    return folder


@pytest.fixture(scope="package")
def api_app(dags_folder: Path, tmp_path_factory: pytest.TempPathFactory):
    """Airflow's API server app (``airflow.api_fastapi.app.create_app``), simple auth manager, plugin loaded."""
    passwords = tmp_path_factory.mktemp("auth") / "passwords.json"
    passwords.write_text(json.dumps(PASSWORDS))
    settings = {
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags_folder),
        "AIRFLOW__CORE__AUTH_MANAGER": (
            "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
        ),
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin,viewer:viewer",
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
