"""The prediction service as a real uvicorn process over the real MLflow registry.

Uses Spark (to train and register the models): run under ``flock /tmp/mlplat-spark.lock``.
"""

from __future__ import annotations

import math

import httpx
import pytest

from tests.serving.conftest import alias_move_under_load

TOLERANCE = 1e-9


def _assert_matches(answer: dict, expected: tuple[float, list[float]]) -> None:
    assert answer["prediction"] == pytest.approx(expected[0], abs=TOLERANCE)
    assert all(math.isclose(a, b, abs_tol=TOLERANCE) for a, b in zip(answer["probability"], expected[1], strict=True))


def test_service_matches_spark_for_the_champion(registered, serve):
    service = serve(f"models:/{registered['name']}@champion", tracking_uri=registered["uri"])
    rows, expected = registered["rows"], registered["expected"]["1"]
    batch = httpx.post(f"{service.url}/predict", json={"rows": rows}).json()
    assert batch["version"] == "1" and batch["slot"] == "champion"
    for answer, spark in zip(batch["predictions"], expected, strict=True):
        _assert_matches(answer, spark)
    single = httpx.post(f"{service.url}/predict", json=rows[3])
    assert single.status_code == 200 and single.headers["x-model-version"] == "1"
    _assert_matches(single.json(), expected[3])

    meta = httpx.get(f"{service.url}/metadata").json()
    assert (meta["name"], meta["version"], meta["alias"]) == (registered["name"], "1", "champion")
    assert meta["metrics"] == {"auc": 0.81}
    metrics = httpx.get(f"{service.url}/metrics").text
    assert 'mlplat_predict_requests_total{slot="champion",status="200",version="1"} 2.0' in metrics
    assert 'mlplat_model_version{slot="champion"} 1.0' in metrics


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"x": "1.5", "y": 0.0, "z": 0.0, "s": "a"}, "x"),  # a string is not a double
        ({"x": 1.5, "y": 0.0, "s": "a"}, "z"),  # missing
        ({"x": 1.5, "y": 0.0, "z": 0.0, "s": 3}, "s"),  # a number is not a string
        ({"rows": [{"x": 1.0, "y": 0.0, "z": 0.0, "s": "a"}, {"x": 1.0, "y": [1], "z": 0.0, "s": "a"}]}, "y"),
    ],
)
def test_bad_input_gets_422_naming_the_field(registered, serve, body, field):
    service = serve(f"models:/{registered['name']}@champion", tracking_uri=registered["uri"])
    response = httpx.post(f"{service.url}/predict", json=body)
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["field"] == field
    assert f"'{field}'" in response.json()["message"]
    if "rows" in body:
        assert response.json()["detail"][0]["row"] == 1


def test_malformed_json_is_422_not_500(registered, serve):
    service = serve(f"models:/{registered['name']}@champion", tracking_uri=registered["uri"])
    for content in (b'{"x": 1', b'"just a string"', b"[1, 2]"):
        response = httpx.post(f"{service.url}/predict", content=content)
        assert response.status_code == 422, (content, response.text)


def test_alias_move_under_load_has_zero_failed_requests(registered, serve):
    from mlflow import MlflowClient

    name, rows, expected = registered["name"], registered["rows"], registered["expected"]
    client = MlflowClient(registered["uri"])
    client.set_registered_model_alias(name, "champion", "1")
    service = serve(f"models:/{name}@champion", tracking_uri=registered["uri"], poll=0.2)
    failures, answers = alias_move_under_load(
        service.url,
        rows,
        lambda: client.set_registered_model_alias(name, "champion", "2"),
        lambda: client.set_registered_model_alias(name, "champion", "1"),
    )
    assert failures == []
    versions = [a["version"] for _, a in answers]
    assert versions[0] == "1" and versions[-1] == "2"
    # Once the new version answered, the old one never did again: one atomic swap.
    first_new = versions.index("2")
    assert "1" not in versions[first_new + 8 :]  # a few requests were already in flight
    for i, answer in answers:
        _assert_matches(answer, expected[answer["version"]][i])


def test_admin_reload_follows_the_alias_at_once(registered, serve):
    from mlflow import MlflowClient

    name = registered["name"]
    client = MlflowClient(registered["uri"])
    client.set_registered_model_alias(name, "champion", "1")
    service = serve(f"models:/{name}@champion", tracking_uri=registered["uri"], poll=0)
    try:
        client.set_registered_model_alias(name, "champion", "2")
        reload = httpx.post(f"{service.url}/admin/reload", timeout=60)
        assert reload.status_code == 200 and reload.json()["versions"] == {"champion": "2"}
        assert httpx.post(f"{service.url}/predict", json=registered["rows"][0]).json()["version"] == "2"
    finally:
        client.set_registered_model_alias(name, "champion", "1")


def test_champion_and_challenger_side_by_side(registered, serve):
    name = registered["name"]
    service = serve(f"models:/{name}@champion=0.5", f"models:/{name}@challenger=0.5", tracking_uri=registered["uri"])
    row = registered["rows"][5]
    by_alias = httpx.post(f"{service.url}/predict", json=row, headers={"X-Model-Alias": "challenger"})
    assert by_alias.json()["version"] == "2" and by_alias.headers["x-model-slot"] == "challenger"
    _assert_matches(by_alias.json(), registered["expected"]["2"][5])
    by_version = httpx.post(f"{service.url}/predict", json=row, headers={"X-Model-Version": "1"})
    assert by_version.json()["version"] == "1"
    missing = httpx.post(f"{service.url}/predict", json=row, headers={"X-Model-Version": "9"})
    assert missing.status_code == 404 and "9" in missing.json()["message"]
    with httpx.Client(base_url=service.url) as http:
        seen = [http.post("/predict", json=row).json()["version"] for _ in range(200)]
    assert 60 < seen.count("2") < 140, seen.count("2")
    assert set(httpx.get(f"{service.url}/metadata").json()["slots"]) == {"champion", "challenger"}


def test_serving_never_imports_pyspark_or_mlflow(registered, tmp_path):
    """Nor, for a Spark model, any deep-learning runtime (they load with a version of their format)."""
    import subprocess
    import sys

    script = f"""
import sys
from pathlib import Path
from airflow_mlplat.serving.__main__ import build_router
from airflow_mlplat.serving.app import create_app
from fastapi.testclient import TestClient
router = build_router(["models:/{registered["name"]}@champion"], tracking_uri="{registered["uri"]}",
                      cache_dir=Path(r"{tmp_path}"))
with TestClient(create_app(router)) as client:
    assert client.post("/predict", json={registered["rows"][0]!r}).status_code == 200
runtimes = ("pyspark", "mlflow", "py4j", "onnxruntime", "torch", "tensorflow", "paddle")
heavy = sorted(m for m in sys.modules if m.split(".")[0] in runtimes)
print("HEAVY", heavy)
sys.exit(1 if heavy else 0)
"""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
