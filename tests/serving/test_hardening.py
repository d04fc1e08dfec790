"""The prediction service holds against bad requests and bad flags, scores off the event loop,
guards its admin route and reads models from any fsspec store (in process: no Spark, no MLflow)."""

from __future__ import annotations

import json
import sys
import threading
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from airflow_mlplat.serving.errors import ModelLoadError
from tests.serving.inprocess import ROW, TINY_MODEL, router_of, tiny_app, tiny_model


@pytest.fixture(scope="module")
def client():
    with TestClient(tiny_app(), raise_server_exceptions=False) as test_client:
        yield test_client


def test_the_tiny_model_scores(client):
    answer = client.post("/predict", json=ROW)
    assert answer.status_code == 200, answer.text
    assert set(answer.json()) >= {"prediction", "probability", "version"}


def test_deeply_nested_json_is_422_not_500(client):
    for body in (
        "[" * 100_000,
        '{"rows": ' + "[" * 50_000 + "]" * 50_000 + "}",
        '{"n": ' + "[" * 5000 + "]" * 5000 + "}",
    ):
        response = client.post("/predict", content=body.encode())
        assert response.status_code == 422, (body[:30], response.status_code, response.text[:300])


@pytest.mark.parametrize(
    ("row", "field"),
    [
        ({**ROW, "n": 10**400}, "n"),  # a 400-digit long: OverflowError in frame.py before
        ({**ROW, "n": -(2**63) - 1}, "n"),
        ({**ROW, "x": 10**400}, "x"),
        ({**ROW, "x": float("inf")}, "x"),
        ({**ROW, "x": float("nan")}, "x"),
    ],
)
def test_numbers_that_do_not_fit_their_column_are_422_naming_it(client, row, field):
    response = client.post("/predict", content=json.dumps(row).encode())
    assert response.status_code == 422, response.text[:300]
    assert response.json()["detail"][0]["field"] == field
    assert f"'{field}'" in response.json()["message"]


@pytest.mark.parametrize("share", ["nan", "inf", "-inf", "-1"])
def test_a_bad_traffic_share_stops_the_service_at_start_naming_the_flag(share, capsys):
    from airflow_mlplat.serving.__main__ import main

    with pytest.raises(SystemExit) as stopped:
        main(["--model", f"{TINY_MODEL}={share}", "--tracking-uri", "http://127.0.0.1:9"])
    assert stopped.value.code == 2
    error = capsys.readouterr().err
    assert "--model" in error and "traffic share" in error, error


def test_a_bad_share_is_refused_by_the_router():
    from airflow_mlplat.serving.versions import ModelRouter

    slot = next(iter(router_of(tiny_model()).slots.values()))
    for share in (float("nan"), float("inf")):
        with pytest.raises(ValueError, match="finite number"):
            ModelRouter([slot], {slot.label: share})


def test_health_answers_while_a_large_batch_is_scored():
    model = tiny_model()
    scorer = model.scorer

    class SlowScorer:
        def predict(self, rows):
            time.sleep(3.0)  # a batch that takes seconds to score
            return scorer.predict(rows)

    model.scorer = SlowScorer()
    from airflow_mlplat.serving.app import create_app

    with TestClient(create_app(router_of(model))) as client:
        scored: dict[str, object] = {}
        batch = threading.Thread(target=lambda: scored.update(r=client.post("/predict", json={"rows": [ROW] * 50})))
        batch.start()
        time.sleep(0.5)  # the batch is being scored
        started = time.monotonic()
        health = client.get("/healthz")
        waited = time.monotonic() - started
        metrics = client.get("/metrics")
        batch.join()
    assert health.status_code == 200 and metrics.status_code == 200
    assert waited < 1.0, f"/healthz waited {waited:.1f}s for the batch"
    assert scored["r"].status_code == 200


def test_admin_reload_needs_the_token_when_the_service_listens_beyond_loopback():
    with TestClient(tiny_app(loopback_only=False)) as client:
        off = client.post("/admin/reload")
        assert off.status_code == 403 and "MLPLAT_SERVING_ADMIN_TOKEN" in off.json()["message"]
    with TestClient(tiny_app(admin_token="s3cret", loopback_only=False)) as client:
        assert client.post("/admin/reload").status_code == 401
        assert client.post("/admin/reload", headers={"Authorization": "Bearer wrong"}).status_code == 401
        assert client.post("/admin/reload", headers={"Authorization": "Bearer s3cret"}).status_code == 200
    with TestClient(tiny_app(admin_token="s3cret", loopback_only=True)) as client:
        assert client.post("/admin/reload").status_code == 401  # a token, once set, is always needed
    with TestClient(tiny_app(loopback_only=True)) as client:
        assert client.post("/admin/reload").status_code == 200  # the loopback-only service is its admin port


def test_the_flags_decide_where_admin_is_open(monkeypatch: pytest.MonkeyPatch):
    import uvicorn

    from airflow_mlplat.serving.__main__ import main

    started = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kwargs: started.update(app=app, **kwargs))
    monkeypatch.delenv("MLPLAT_SERVING_ADMIN_TOKEN", raising=False)
    main(["--model", str(TINY_MODEL), "--host", "0.0.0.0", "--poll-interval", "0"])
    with TestClient(started["app"]) as client:
        assert client.post("/admin/reload").status_code == 403
    monkeypatch.setenv("MLPLAT_SERVING_ADMIN_TOKEN", "from-a-secret")
    main(["--model", str(TINY_MODEL), "--host", "0.0.0.0", "--poll-interval", "0"])
    with TestClient(started["app"]) as client:
        assert client.post("/admin/reload", headers={"Authorization": "Bearer from-a-secret"}).status_code == 200


def test_kubernetes_pods_read_the_admin_token_from_a_secret():
    from airflow_mlplat.serving.kube_manifests import ServiceSpec, build_manifests

    deployment = build_manifests(ServiceSpec(name="pi", models=["models:/pi@champion"], image="i", tracking_uri="u"))[0]
    env = {e.name: e for e in deployment.spec.template.spec.containers[0].env}
    ref = env["MLPLAT_SERVING_ADMIN_TOKEN"].value_from.secret_key_ref
    assert (ref.name, ref.key) == ("pi-admin", "token") and env["MLPLAT_SERVING_ADMIN_TOKEN"].value is None


def test_models_are_copied_from_any_fsspec_store(tmp_path: Path):
    import fsspec

    from airflow_mlplat.serving.registry import copy_from_store

    memory = fsspec.filesystem("memory")
    for path in TINY_MODEL.rglob("*"):
        if path.is_file():
            memory.pipe(f"/store/tiny/{path.relative_to(TINY_MODEL).as_posix()}", path.read_bytes())
    copy_from_store("memory://store/tiny", tmp_path / "copy")
    copied = sorted(p.relative_to(tmp_path / "copy") for p in (tmp_path / "copy").rglob("*") if p.is_file())
    assert copied == sorted(p.relative_to(TINY_MODEL) for p in TINY_MODEL.rglob("*") if p.is_file())


@pytest.mark.parametrize(("uri", "package"), [("s3://bucket/m/1", "s3fs"), ("gs://bucket/m/1", "gcsfs")])
def test_a_missing_store_package_is_named(tmp_path: Path, monkeypatch, uri, package):
    import fsspec  # noqa: F401 (loads fsspec.registry)

    from airflow_mlplat.serving.registry import RegistryClient

    # The package may be installed (papermill's extras bring gcsfs): it is made absent here, and
    # fsspec forgets any class it already imported from it.
    monkeypatch.setitem(sys.modules, package, None)
    for protocol in ("s3", "s3a", "gs", "gcs"):
        monkeypatch.delitem(sys.modules["fsspec.registry"]._registry, protocol, raising=False)
    client = RegistryClient("http://127.0.0.1:9")
    try:
        with pytest.raises(ModelLoadError, match=f"needs {package}"):
            client._copy_tree(uri, tmp_path / "copy")
    finally:
        client.close()
