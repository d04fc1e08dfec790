"""The plugin module is imported by every Airflow process: it must stay a declaration."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ["fastapi", "starlette", "airflow_mlplat.ui.app", "airflow_mlplat.components.registry", "pyspark", "mlflow"]


def _run(code: str) -> dict:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=300)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_importing_the_plugin_loads_no_app_spark_or_mlflow():
    loaded = _run(
        "import json, sys\n"
        "import airflow_mlplat.plugin\n"
        f"print(json.dumps({{m: m in sys.modules for m in {HEAVY!r}}}))\n"
    )
    assert loaded == dict.fromkeys(HEAVY, False)


def test_airflow_loads_the_plugin_and_the_app_is_built_on_first_use():
    state = _run(
        "import json, sys\n"
        "from airflow import plugins_manager\n"
        "apps, _ = plugins_manager.get_fastapi_plugins()\n"
        "ours = [a for a in apps if a['url_prefix'] == '/mlplat']\n"
        "before = 'airflow_mlplat.ui.app' in sys.modules\n"
        "app = ours[0]['app'].app\n"
        "print(json.dumps({'found': len(ours), 'before': before, 'after': 'airflow_mlplat.ui.app' in sys.modules,\n"
        "                  'routes': sorted(r.path for r in app.routes if r.path.startswith('/api/pipelines'))}))\n"
    )
    assert state["found"] == 1
    assert state["before"] is False and state["after"] is True
    assert "/api/pipelines/{dag_id}" in state["routes"]


def test_the_page_is_in_the_airflow_ui_nav(client, admin):
    plugins = client.get("/api/v2/plugins", headers=admin).json()["plugins"]
    ours = next(p for p in plugins if p["name"] == "airflow_mlplat")
    view = ours["external_views"][0]
    assert view["href"] == "/mlplat/" and view["destination"] == "nav" and view["url_route"] == "mlplat"
    assert ours["fastapi_apps"][0]["url_prefix"] == "/mlplat"


def test_the_resource_page_is_in_the_airflow_ui_nav(client, admin):
    plugins = client.get("/api/v2/plugins", headers=admin).json()["plugins"]
    ours = next(p for p in plugins if p["name"] == "airflow_mlplat")
    view = next(v for v in ours["external_views"] if v["name"] == "Resources")
    assert view["href"] == "/mlplat/resources" and view["destination"] == "nav"
    assert view["url_route"] == "mlplat-resources" and view["category"] == "ML platform"
