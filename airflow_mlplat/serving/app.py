"""The prediction service: FastAPI app over a :class:`ModelRouter`.

``POST /predict``  one row ``{...}``, or ``{"rows": [...]}``, ``[...]`` or ``{"dataframe_records": [...]}``.
                   Headers ``X-Model-Alias`` (a slot: ``champion``, ``v3``) or ``X-Model-Version`` pick
                   the model; otherwise traffic shares do. The response names the version that answered
                   (body and ``X-Model-Version``/``X-Model-Slot`` headers). Bad input: 422 naming the field.
``GET /healthz``   200 when every slot has a model, else 503.
``GET /metadata``  name, version, alias, run metrics per slot.
``GET /metrics``   Prometheus text format.
``POST /admin/reload``  re-resolve every alias now (the follower also polls). Needs
                   ``Authorization: Bearer TOKEN``, the token the service was started with
                   (``$MLPLAT_SERVING_ADMIN_TOKEN``: a Secret on Kubernetes); a service without a
                   token answers it only when it listens on loopback alone (else 403).

Validating and scoring run in a worker thread, so ``/healthz`` and ``/metrics`` answer while a
large batch is scored. A request the service cannot read (malformed or too deeply nested JSON,
a value that does not fit its column) is a 422 naming the field; a 5xx is the service's fault.
"""

import json
import time
from contextlib import asynccontextmanager
from typing import Any

from airflow_mlplat.serving.admin import admin_refusal
from airflow_mlplat.serving.errors import InvalidInputError
from airflow_mlplat.serving.versions import AliasFollower, ModelRouter


def _validation_error(error: Any, single: bool) -> dict[str, Any]:
    detail = []
    for item in error.errors(include_url=False, include_input=False):
        loc = list(item["loc"])
        row = loc.pop(0) if loc and isinstance(loc[0], int) else None
        field = next((str(part) for part in loc if isinstance(part, str)), "")
        detail.append(
            {
                "loc": ([] if single else ["rows", row]) + loc,
                "field": field,
                "row": None if single else row,
                "msg": item["msg"],
                "type": item["type"],
            }
        )
    first = detail[0]
    where = "" if first["row"] is None else f" (row {first['row']})"
    return {"message": f"field {first['field']!r}{where}: {first['msg']}", "detail": detail}


def _rows(body: Any) -> tuple[list[Any], bool]:
    if isinstance(body, list):
        return body, False
    if isinstance(body, dict):
        for key in ("rows", "dataframe_records", "instances"):
            if key in body and isinstance(body[key], list):
                return body[key], False
        return [body], True
    raise ValueError('the body must be a JSON object (one row), a list of rows, or {"rows": [...]}')


def _unreadable(message: str) -> tuple[int, dict[str, Any]]:
    return 422, {"message": f"request body: {message}", "detail": [{"field": "", "msg": message}]}


def score_request(model: Any, raw: bytes) -> tuple[int, dict[str, Any], int]:
    """``(status, payload, rows scored)`` of one ``/predict`` body: validation, then scoring (blocking)."""
    from pydantic import ValidationError

    try:
        body = json.loads(raw)
    except RecursionError:
        return (*_unreadable("the JSON is nested too deeply"), 0)
    except ValueError as error:  # malformed JSON, or bytes that are not UTF-8
        return (*_unreadable(str(error)), 0)
    try:
        rows, single = _rows(body)
    except ValueError as error:  # the body's shape
        return (*_unreadable(str(error)), 0)
    try:
        valid = model.validator.validate_python(rows)
    except ValidationError as error:
        return 422, _validation_error(error, single), 0
    except RecursionError:
        return (*_unreadable("the JSON is nested too deeply"), 0)
    try:
        predictions = model.predict(valid)
    except InvalidInputError as error:
        detail = [{"field": error.field, "row": error.row, "msg": str(error)}]
        return 422, {"message": str(error), "detail": detail}, 0
    payload = {**(predictions[0] or {"prediction": None})} if single else {"predictions": predictions}
    payload.update(model=model.name, version=model.version, slot=model.slot)
    return 200, payload, len(valid)


def create_app(
    router: ModelRouter, *, poll_interval: float = 0.0, admin_token: str | None = None, loopback_only: bool = False
):
    """The ASGI app. Loads every slot at start-up (failing start-up if one cannot load).

    :param admin_token: the bearer token ``/admin/reload`` requires.
    :param loopback_only: the service listens on 127.0.0.1 only: without a token, admin stays open
        to this machine. Otherwise, without a token, the admin routes are off (see ``serving.admin``).
    """
    from fastapi import FastAPI, Request
    from fastapi.concurrency import run_in_threadpool
    from fastapi.responses import JSONResponse, Response
    from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest

    metrics = CollectorRegistry()
    requests = Counter(
        "mlplat_predict_requests", "Prediction requests", ["slot", "version", "status"], registry=metrics
    )
    rows_scored = Counter("mlplat_predict_rows", "Rows scored", ["slot", "version"], registry=metrics)
    latency = Histogram(
        "mlplat_predict_latency_seconds",
        "Scoring time per request",
        ["slot"],
        registry=metrics,
        buckets=(0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1.0),
    )
    versions = Gauge("mlplat_model_version", "The model version each slot serves", ["slot"], registry=metrics)

    def publish_versions() -> dict[str, str | None]:
        current = {label: (s.current.version if s.current else None) for label, s in router.slots.items()}
        for label, version in current.items():
            if version is not None and version.isdigit():
                versions.labels(label).set(int(version))
        return current

    @asynccontextmanager
    async def lifespan(_app):
        for slot in router.slots.values():
            await run_in_threadpool(slot.refresh)
        publish_versions()
        follower = None
        if poll_interval > 0 and any(s.ref.alias for s in router.slots.values()):
            follower = AliasFollower(router, poll_interval)
            follower.start()
        yield
        if follower:
            follower.stop()

    app = FastAPI(title="airflow-mlplat prediction service", lifespan=lifespan)
    app.state.router = router

    @app.post("/predict")
    async def predict(request: Request):
        started = time.perf_counter()
        try:
            model = router.choose(
                request.headers.get("x-model-alias") or request.headers.get("x-model-slot"),
                request.headers.get("x-model-version"),
            )
        except LookupError as error:
            return JSONResponse({"message": str(error)}, status_code=404)
        raw = await request.body()
        # Off the event loop: a large batch must not stall /healthz and /metrics.
        status, payload, scored = await run_in_threadpool(score_request, model, raw)
        if scored:
            rows_scored.labels(model.slot, model.version).inc(scored)
        requests.labels(model.slot, model.version, str(status)).inc()
        latency.labels(model.slot).observe(time.perf_counter() - started)
        headers = {"X-Model-Version": model.version, "X-Model-Slot": model.slot, "X-Model-Name": model.name}
        return Response(json.dumps(payload), status_code=status, media_type="application/json", headers=headers)

    @app.get("/healthz")
    async def healthz():
        current = {label: (s.current.version if s.current else None) for label, s in router.slots.items()}
        ok = all(v is not None for v in current.values())
        return JSONResponse({"status": "ok" if ok else "loading", "versions": current}, status_code=200 if ok else 503)

    @app.get("/metadata")
    async def metadata():
        slots = {
            label: (s.current.describe() if s.current else None) | {"reference": s.ref.text, "last_error": s.last_error}
            for label, s in router.slots.items()
        }
        default = router.slots[next(iter(router.shares))].current
        head = {
            k: v
            for k, v in (default.describe() if default else {}).items()
            if k in ("name", "version", "alias", "metrics")
        }
        return {**head, "slots": slots, "traffic": router.shares}

    @app.get("/metrics")
    async def prometheus():
        publish_versions()
        return Response(generate_latest(metrics), media_type=CONTENT_TYPE_LATEST)

    @app.post("/admin/reload")
    async def reload(request: Request):
        refusal = admin_refusal(admin_token, request.headers.get("authorization"), loopback_only=loopback_only)
        if refusal is not None:
            return JSONResponse({"message": refusal[1]}, status_code=refusal[0])
        current = await run_in_threadpool(router.refresh_all)
        publish_versions()
        errors = {label: s.last_error for label, s in router.slots.items() if s.last_error}
        return JSONResponse({"versions": current, "errors": errors}, status_code=200 if not errors else 502)

    return app
