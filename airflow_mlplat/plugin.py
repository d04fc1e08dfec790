"""The Airflow plugin. Airflow imports this module in every process, tasks included, so it
declares only: no FastAPI app, pyspark or mlflow is imported here. The page's app is built by
``LazyASGIApp`` on the API server's first request to ``/mlplat``."""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin

from airflow_mlplat.ui.lazy import LazyASGIApp

#: Where the API server mounts the page and its API.
URL_PREFIX = "/mlplat"


class MlplatPlugin(AirflowPlugin):
    name = "airflow_mlplat"
    fastapi_apps = [
        {"app": LazyASGIApp("airflow_mlplat.ui.app:create_app"), "url_prefix": URL_PREFIX, "name": "mlplat"}
    ]
    external_views = [
        {
            "name": "Visual modelling",
            "href": f"{URL_PREFIX}/",
            "destination": "nav",
            "url_route": "mlplat",
            "category": "ML platform",
        },
        {
            "name": "Resources",
            "href": f"{URL_PREFIX}/resources",
            "destination": "nav",
            "url_route": "mlplat-resources",
            "category": "ML platform",
        },
    ]
