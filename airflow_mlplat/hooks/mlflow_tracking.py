"""Where the MLflow tracking server is, from an Airflow connection.

A connection of type ``http`` (``AIRFLOW_CONN_MLFLOW_DEFAULT='http://127.0.0.1:5055'``): host
and port, ``schema`` http or https. When the default ``mlflow_default`` connection is not
defined, ``$MLFLOW_TRACKING_URI`` is used, and without it runs are not tracked; a connection
named explicitly must exist. Importing this module does not import mlflow.
"""

from __future__ import annotations

from airflow.providers.common.compat.sdk import BaseHook

from airflow_mlplat.hooks.connections import connection_or_fallback
from airflow_mlplat.tracking import resolve_tracking_uri


class MlflowTrackingHook(BaseHook):
    """Resolve the tracking URI the engine logs to.

    :param mlflow_conn_id: the connection; ``mlflow_default`` may be undefined (see the module doc).
    """

    conn_name_attr = "mlflow_conn_id"
    default_conn_name = "mlflow_default"
    conn_type = "http"
    hook_name = "MLflow tracking"

    def __init__(self, mlflow_conn_id: str = default_conn_name) -> None:
        super().__init__()
        self.mlflow_conn_id = mlflow_conn_id

    def tracking_uri(self) -> str | None:
        """``SCHEME://HOST[:PORT][/PATH]`` of the connection; None when nothing is configured."""
        conn = connection_or_fallback(
            self.mlflow_conn_id, self.default_conn_name, what="MLflow", example="http://HOST:PORT"
        )
        if conn is None:
            return resolve_tracking_uri()
        if not conn.host:
            raise ValueError(f"MLflow connection {self.mlflow_conn_id!r} has no host")
        if "://" in conn.host:
            return conn.host.rstrip("/")
        scheme = conn.schema if conn.schema in ("http", "https") else "http"
        port = f":{conn.port}" if conn.port else ""
        return f"{scheme}://{conn.host}{port}"
