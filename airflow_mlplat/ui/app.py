"""The plugin's FastAPI app (mounted by the API server at ``/mlplat``): the page and its API.

Every route requires the Airflow user (the API server's ``get_user``: bearer token or the UI's
session cookie); pipeline and run routes also ask the auth manager for access to the DAG of
the same name (GET to read, PUT to save, DELETE to delete), and the list shows only the
pipelines whose DAG the user may read. Saving or deleting from the page also needs the grant
``[mlplat] pipeline_authors`` (user names, or ``*``): a saved pipeline runs SQL and reads files on
the workers, which editing a DAG does not allow in Airflow. The page itself, when opened without
a session, redirects to Airflow's login; the OpenAPI schema is served to logged-in users only.

API (JSON):
    GET    /api/catalogue?q=&category=     categories and component forms
    GET    /api/catalogue/{name}           one component's form (ranking_model.MODEL: a ranking model's)
    GET    /api/pipelines                  the pipeline files the user may read, and their problems
    POST   /api/validate                   {"pipeline"} -> {"valid", "problems"} (as if saved from the page)
    GET    /api/pipelines/{dag_id}         {"pipeline", "layout", "file"}
    PUT    /api/pipelines/{dag_id}         {"pipeline", "layout"}: validate, save, ask for a parse
                                           (422: invalid; 409: the name is another pipeline's or DAG's)
    DELETE /api/pipelines/{dag_id}
    POST   /api/models/upload              multipart form: register a deep model in MLflow -> 201 {"name",
                                           "version", ...} (``ui.model_upload``; pipeline authors; under ``*``,
                                           users who may edit DAGs)
    GET    /api/runs/{dag_id}/{run_id}     state, metrics, reports (run output or MLflow), plots, training steps
    GET    /api/runs/{dag_id}/{run_id}/artifacts/{task_id}/{node_id}/{index}
    GET    /api/runs/{dag_id}/{run_id}/previews/{task_id}/{node_id}/{port}
                                           a table output's first rows and column profile, as the engine
                                           wrote them beside the report (never computed: no Spark)
    GET    /api/resources                  what the platform runs and uses (``ui.resources``; cluster activity readers)
    GET    /openapi.json                   this API's schema
The resource page, ``GET /resources``, polls ``/api/resources`` (``ui.resources.routes``).
Problems are ``{"where", "message", "text", "node", "field"}``; ``text`` is the CLI's line.
"""

from __future__ import annotations

import datetime as dt
import math
import mimetypes
from pathlib import Path
from typing import Annotated, Any

from airflow.api_fastapi.core_api.security import GetUserDep, bearer_scheme, get_user, requires_access_dag
from fastapi import APIRouter, Body, Depends, FastAPI, HTTPException, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse, Response

from airflow_mlplat import config
from airflow_mlplat.pipeline import PipelineValidationError, validate_pipeline
from airflow_mlplat.pipeline.page_policy import PAGE_ORIGIN
from airflow_mlplat.ui import forms, model_upload, results
from airflow_mlplat.ui.dag_owner import other_dag_file
from airflow_mlplat.ui.problems import placed_problems
from airflow_mlplat.ui.reparse import factory_files, request_reparse
from airflow_mlplat.ui.resources.routes import resources_router
from airflow_mlplat.ui.store import PipelineConflict, PipelineNotFound, PipelineStore

STATIC_DIR = Path(__file__).parent / "static"
URL_PREFIX = "/mlplat"


def _invalid(error: PipelineValidationError, doc: Any) -> JSONResponse:
    return JSONResponse(
        status_code=422,
        content={"valid": False, "source": error.source, "problems": placed_problems(error, doc)},
    )


def _may_read_dag(user: Any, dag_id: str) -> bool:
    from airflow.api_fastapi.app import get_auth_manager
    from airflow.api_fastapi.auth.managers.models.resource_details import DagDetails

    return get_auth_manager().is_authorized_dag(method="GET", details=DagDetails(id=dag_id), user=user)


def requires_pipeline_author(user: GetUserDep) -> None:
    """403 unless ``[mlplat] pipeline_authors`` grants this user saving pipelines from the page."""
    authors = config.listing(config.PIPELINE_AUTHORS)
    if "*" in authors or user.get_name() in authors:
        return
    raise HTTPException(
        403,
        f"user {user.get_name()!r} may not save pipelines from the page: a deployment grants it with "
        f"[mlplat] {config.PIPELINE_AUTHORS} (see the README's security section)",
    )


def requires_model_uploader(user: GetUserDep) -> None:
    """Uploading a model from the page: the pipeline authors' grant, as for saving a pipeline.

    A user the grant names is enough; when the grant is ``*`` (every user who may edit the DAG, for a
    save), the user must also be allowed to edit DAGs, as no DAG goes with a model.
    """
    requires_pipeline_author(user)
    if user.get_name() in config.listing(config.PIPELINE_AUTHORS):
        return
    from airflow.api_fastapi.app import get_auth_manager

    if not get_auth_manager().is_authorized_dag(method="PUT", user=user):
        raise HTTPException(403, f"user {user.get_name()!r} may not upload models: editing DAGs is needed")


def api_router(store_factory=PipelineStore) -> APIRouter:
    router = APIRouter(prefix="/api", dependencies=[Depends(get_user)])
    authoring = [Depends(requires_pipeline_author)]

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
    def list_pipelines(user: GetUserDep) -> dict[str, Any]:
        return {"pipelines": store_factory().list(visible=lambda name: _may_read_dag(user, name))}

    @router.post("/validate")
    def validate(pipeline: Annotated[dict[str, Any], Body(embed=True)]) -> Any:
        try:
            validate_pipeline({**pipeline, "origin": PAGE_ORIGIN}, source="pipeline")
        except PipelineValidationError as error:
            return _invalid(error, pipeline)
        except RecursionError:
            raise HTTPException(422, "the pipeline is nested too deeply") from None
        return {"valid": True, "problems": []}

    @router.get("/pipelines/{dag_id}", dependencies=[Depends(requires_access_dag("GET"))])
    def read_pipeline(dag_id: str) -> dict[str, Any]:
        try:
            return store_factory().read(dag_id)
        except PipelineValidationError as error:
            raise HTTPException(422, str(error)) from None
        except PipelineNotFound as missing:
            raise HTTPException(404, str(missing)) from None

    @router.put("/pipelines/{dag_id}", dependencies=[Depends(requires_access_dag("PUT")), *authoring])
    def save_pipeline(
        dag_id: str,
        pipeline: Annotated[dict[str, Any], Body()],
        layout: Annotated[dict[str, Any] | None, Body()] = None,
    ) -> Any:
        store = store_factory()
        saved_at = dt.datetime.now(dt.UTC)
        try:
            own = [store.dag_file(dag_id), *factory_files(store.folder)]
            path = store.save(dag_id, pipeline, layout, dag_owner=lambda name: other_dag_file(name, own))
        except PipelineValidationError as error:
            return _invalid(error, pipeline)
        except RecursionError:
            raise HTTPException(422, "the pipeline is nested too deeply") from None
        except PipelineConflict as conflict:
            raise HTTPException(409, str(conflict)) from None
        return {
            "valid": True,
            "file": path.name,
            "dag_id": dag_id,
            "saved_at": saved_at.isoformat(),
            "parse_requested": request_reparse(store.folder, [store.dag_file(dag_id)]),
        }

    @router.delete(
        "/pipelines/{dag_id}", dependencies=[Depends(requires_access_dag("DELETE")), *authoring], status_code=204
    )
    def delete_pipeline(dag_id: str) -> Response:
        store = store_factory()
        try:
            store.delete(dag_id)
        except PipelineValidationError as error:  # not a pipeline name
            raise HTTPException(404, str(error)) from None
        except PipelineNotFound as missing:
            raise HTTPException(404, str(missing)) from None
        return Response(status_code=204)

    @router.post("/models/upload", dependencies=[Depends(requires_model_uploader)], status_code=201)
    async def upload_model(request: Request, user: GetUserDep) -> JSONResponse:
        status, body = await model_upload.handle_upload(request, user.get_name())
        return JSONResponse(status_code=status, content=body)

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

    @router.get(
        "/runs/{dag_id}/{run_id}/previews/{task_id}/{node_id}/{port}",
        dependencies=[Depends(requires_access_dag("GET"))],
    )
    def preview(dag_id: str, run_id: str, task_id: str, node_id: str, port: str) -> Any:
        try:
            document = results.preview(dag_id, run_id, task_id, node_id, port)
        except results.RunNotFound as missing:
            raise HTTPException(404, str(missing)) from None
        return JSONResponse(_finite(document))  # a damaged file may hold NaN, which JSON has not

    return router


def _static(name: str) -> FileResponse:
    try:
        path = (STATIC_DIR / name).resolve()
    except (ValueError, OSError):  # a NUL byte, a loop of links
        raise HTTPException(404, "no such file in the page bundle") from None
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


def _finite(value: Any) -> Any:
    """``value`` with NaN and infinities as text: a request may hold them (Python's JSON reads them), JSON has none."""
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(item) for item in value]
    return value


async def _request_invalid(request: Request, error: RequestValidationError) -> JSONResponse:
    # FastAPI's own handler echoes the input, and fails (a 500) on a NaN it cannot encode.
    return JSONResponse(status_code=422, content={"detail": _finite(jsonable_encoder(error.errors()))})


def create_app() -> FastAPI:
    """The app the plugin mounts at ``/mlplat``."""
    app = FastAPI(title="airflow-mlplat visual modelling", docs_url=None, redoc_url=None, openapi_url=None)
    app.add_exception_handler(RequestValidationError, _request_invalid)
    app.include_router(page_router())
    app.include_router(api_router())
    app.include_router(resources_router(_static))

    @app.get("/openapi.json", dependencies=[Depends(get_user)], include_in_schema=False)
    def openapi() -> dict[str, Any]:
        return app.openapi()

    return app
