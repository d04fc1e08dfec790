"""The resource page's routes: ``GET /resources`` (the page) and ``GET /api/resources`` (its JSON).

Both need a logged-in Airflow user (the API server's ``get_user``) allowed to read Airflow's
cluster activity view (``AccessView.CLUSTER_ACTIVITY``: every role from viewer up in the simple
auth manager, "can read on Cluster Activity" in FAB). The page, opened without a session,
redirects to Airflow's login as the canvas does.
"""

from __future__ import annotations

from typing import Any

from airflow.api_fastapi.auth.managers.models.resource_details import AccessView
from airflow.api_fastapi.core_api.security import bearer_scheme, get_user, requires_access_view
from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

PAGE = "resources.html"
VIEW = AccessView.CLUSTER_ACTIVITY


def resources_router(static: Any) -> APIRouter:
    """The routes; ``static(name)`` serves a file of the page bundle (``app._static``)."""
    from airflow_mlplat.ui.app import STATIC_DIR

    router = APIRouter()
    readers = [Depends(get_user), Depends(requires_access_view(VIEW))]

    @router.get("/api/resources", dependencies=readers)
    def resources() -> dict[str, Any]:
        from airflow_mlplat.ui.resources import collect

        return collect()

    @router.get("/resources", include_in_schema=False)
    async def page(request: Request) -> Response:
        from airflow.api_fastapi.app import get_auth_manager

        try:
            user = await get_user(request, None, await bearer_scheme(request))
        except HTTPException:
            return RedirectResponse(get_auth_manager().get_url_login(next_url=str(request.url)))
        if not get_auth_manager().is_authorized_view(access_view=VIEW, user=user):
            raise HTTPException(403, "reading the resource page needs access to the cluster activity view")
        if not (STATIC_DIR / PAGE).exists():
            raise HTTPException(503, f"the page is not built: run `make ui` ({STATIC_DIR}/{PAGE} is missing)")
        return static(PAGE)

    return router
