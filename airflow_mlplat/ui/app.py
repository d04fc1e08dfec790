"""The plugin's FastAPI app (mounted by the API server at ``/mlplat``): the page and its API.

Every route requires the Airflow user (the API server's ``get_user``: bearer token or the UI's
session cookie); pipeline and run routes also ask the auth manager for access to the DAG of
the same name (GET to read, PUT to save, DELETE to delete). The page itself, when opened
without a session, redirects to Airflow's login.

API (JSON):
    GET    /api/catalogue?q=&category=     categories and component forms
    GET    /api/catalogue/{name}           one component's form
    GET    /api/pipelines                  pipeline files and their problems
    POST   /api/validate                   {"pipeline"} -> {"valid", "problems"}
    GET    /api/pipelines/{dag_id}         {"pipeline", "layout", "file"}
    PUT    /api/pipelines/{dag_id}         {"pipeline", "layout"}: validate, save, ask for a parse
    DELETE /api/pipelines/{dag_id}
    GET    /api/runs/{dag_id}/{run_id}     state, metrics, reports (run output or MLflow), plots
    GET    /api/runs/{dag_id}/{run_id}/artifacts/{task_id}/{node_id}/{index}
Problems are ``{"where", "message", "text", "node", "field"}``; ``text`` is the CLI's line.
"""

from __future__ import annotations

import datetime as dt
import mimetypes
from pathlib import Path
from typing import Annotated, Any

from airflow.api_fastapi.core_api.security import bearer_scheme, get_user, requires_access_dag
from fastapi import APIRouter, Body, Depends, FastAPI, HTTPException, Request
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse, Response

from airflow_mlplat.pipeline import PipelineValidationError, validate_pipeline
from airflow_mlplat.ui import forms, results
from airflow_mlplat.ui.problems import placed_problems
from airflow_mlplat.ui.reparse import request_reparse
from airflow_mlplat.ui.store import PipelineNotFound, PipelineStore

STATIC_DIR = Path(__file__).parent / "static"
URL_PREFIX = "/mlplat"


def _invalid(error: PipelineValidationError, doc: Any) -> JSONResponse:
    return JSONResponse(
        status_code=422,
        content={"valid": False, "source": error.source, "problems": placed_problems(error, doc)},
    )


def api_router(store_factory=PipelineStore) -> APIRouter:
    router = APIRouter(prefix="/api", dependencies=[Depends(get_user)])

    @router.get("/catalogue")
    def catalogue(q: str = "", category: str | None = None) -> dict[str, Any]:
        return forms.catalogue(q, category)

    @router.get("/catalogue/{name}")
    def component(name: str) -> dict[str, Any]:
        form = forms.component(name)
        if form is None:
            raise HTTPException(404, f"unknown component {name!r}")
        return form

    @router.get("/pipelines")
    def list_pipelines() -> dict[str, Any]:
        store = store_factory()
        return {"folder": str(store.folder), "pipelines": store.list()}

    @router.post("/validate")
    def validate(pipeline: Annotated[dict[str, Any], Body(embed=True)]) -> Any:
        try:
            validate_pipeline(pipeline, source="pipeline")
        except PipelineValidationError as error:
            return _invalid(error, pipeline)
        return {"valid": True, "problems": []}

    @router.get("/pipelines/{dag_id}", dependencies=[Depends(requires_access_dag("GET"))])
    def read_pipeline(dag_id: str) -> dict[str, Any]:
        try:
            return store_factory().read(dag_id)
        except PipelineValidationError as error:
            raise HTTPException(400, str(error)) from None
        except PipelineNotFound as missing:
            raise HTTPException(404, str(missing)) from None

    @router.put("/pipelines/{dag_id}", dependencies=[Depends(requires_access_dag("PUT"))])
    def save_pipeline(
        dag_id: str,
        pipeline: Annotated[dict[str, Any], Body()],
        layout: Annotated[dict[str, Any] | None, Body()] = None,
    ) -> Any:
        store = store_factory()
        saved_at = dt.datetime.now(dt.UTC)
        try:
            path = store.save(dag_id, pipeline, layout)
        except PipelineValidationError as error:
            return _invalid(error, pipeline)
        return {
            "valid": True,
            "file": str(path),
            "dag_id": dag_id,
            "saved_at": saved_at.isoformat(),
            "parse_requested": request_reparse(store.folder),
        }

    @router.delete("/pipelines/{dag_id}", dependencies=[Depends(requires_access_dag("DELETE"))], status_code=204)
    def delete_pipeline(dag_id: str) -> Response:
        store = store_factory()
        try:
            store.delete(dag_id)
        except PipelineNotFound as missing:
            raise HTTPException(404, str(missing)) from None
        request_reparse(store.folder)
        return Response(status_code=204)

    @router.get("/runs/{dag_id}/{run_id}", dependencies=[Depends(requires_access_dag("GET"))])
    def run(dag_id: str, run_id: str) -> dict[str, Any]:
        try:
            return results.run_results(dag_id, run_id)
        except results.RunNotFound as missing:
            raise HTTPException(404, str(missing)) from None

    @router.get(
        "/runs/{dag_id}/{run_id}/artifacts/{task_id}/{node_id}/{index}",
        dependencies=[Depends(requires_access_dag("GET"))],
    )
    def artifact(dag_id: str, run_id: str, task_id: str, node_id: str, index: int) -> Response:
        try:
            name, content = results.artifact(dag_id, run_id, task_id, node_id, index)
        except results.RunNotFound as missing:
            raise HTTPException(404, str(missing)) from None
        media_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
        if isinstance(content, Path):
            return FileResponse(content, media_type=media_type)
        return Response(content, media_type=media_type)

    return router


def _static(name: str) -> FileResponse:
    path = (STATIC_DIR / name).resolve()
    if not path.is_relative_to(STATIC_DIR.resolve()) or not path.is_file():
        raise HTTPException(404, f"no file {name!r} in the page bundle")
    return FileResponse(path, media_type=mimetypes.guess_type(path.name)[0] or "application/octet-stream")


def page_router() -> APIRouter:
    router = APIRouter()

    @router.get("/", include_in_schema=False)
    async def index(request: Request) -> Response:
        try:
            await get_user(request, None, await bearer_scheme(request))
        except HTTPException:
            from airflow.api_fastapi.app import get_auth_manager

            return RedirectResponse(get_auth_manager().get_url_login(next_url=str(request.url)))
        if not (STATIC_DIR / "index.html").exists():
            raise HTTPException(503, f"the page is not built: run `make ui` ({STATIC_DIR}/index.html is missing)")
        return _static("index.html")

    @router.get("/assets/{name:path}", dependencies=[Depends(get_user)], include_in_schema=False)
    def asset(name: str) -> FileResponse:
        return _static(f"assets/{name}")

    return router


def create_app() -> FastAPI:
    """The app the plugin mounts at ``/mlplat``."""
    app = FastAPI(title="airflow-mlplat visual modelling", docs_url=None, redoc_url=None)
    app.include_router(page_router())
    app.include_router(api_router())
    return app
