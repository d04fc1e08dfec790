"""``spark()``: the SparkSession of a notebook or script, set up as the engine sets up a run's."""

from __future__ import annotations

import os
import sys
from typing import Any

#: Connection ids a task already resolved into this process's environment (comma-separated):
#: ``NotebookHook`` sets it for the kernel of a scheduled notebook, which cannot reach the
#: task's connections itself, and ``spark()`` then reads the environment for those ids.
RESOLVED_CONNECTIONS_ENV = "MLPLAT_RESOLVED_CONNECTIONS"


def _resolved(conn_id: str) -> bool:
    return conn_id in os.environ.get(RESOLVED_CONNECTIONS_ENV, "").split(",")


def metastore_conf(conn_id: str | None = "metastore_default") -> dict[str, str]:
    """Spark settings for the Hive metastore of the Airflow connection ``conn_id``.

    Empty when ``conn_id`` is None, is the undefined default, or was resolved by the task into
    ``$MLPLAT_HIVE_METASTORE_URIS`` (which the engine's ``get_session`` reads). A connection id
    other than the default that is not defined is an error.
    """
    if not conn_id or _resolved(conn_id):
        return {}
    from airflow_mlplat.hooks.hive_metastore import metastore_spark_conf

    return metastore_spark_conf(conn_id)


def tracking_uri(conn_id: str | None = "mlflow_default") -> str | None:
    """The MLflow tracking URI: the connection ``conn_id`` when defined, else ``$MLFLOW_TRACKING_URI``, else None."""
    from airflow_mlplat.tracking import resolve_tracking_uri

    if not conn_id or _resolved(conn_id):
        return resolve_tracking_uri()
    from airflow_mlplat.hooks.mlflow_tracking import MlflowTrackingHook

    return MlflowTrackingHook(conn_id).tracking_uri()


def spark(
    app_name: str = "mlplat:notebook",
    conf: dict[str, str] | None = None,
    *,
    metastore_conn_id: str | None = "metastore_default",
    mlflow_conn_id: str | None = "mlflow_default",
) -> Any:
    """Get (or create) this process's SparkSession, configured like the engine's.

    The session comes from the engine's ``get_session``: ``$MLPLAT_SPARK_MASTER`` or
    ``local[*]``, listening on 127.0.0.1 only, and Python workers on this interpreter. Its Hive
    catalogue is the metastore of the Airflow connection ``metastore_conn_id`` when that is
    defined, else of ``$MLPLAT_HIVE_METASTORE_URIS`` (none: Spark's own catalogue). MLflow
    tracking is the connection ``mlflow_conn_id`` when defined, else ``$MLFLOW_TRACKING_URI``; a
    URI from the connection becomes ``$MLFLOW_TRACKING_URI`` of this process, so
    ``Pipeline.run()`` and mlflow log there. A connection id other than the default that is not
    defined is an error; None resolves no connection. ``conf`` is applied on top.

    As ``SparkSession.builder.getOrCreate()``, a session that already runs is returned as it
    is (static settings such as the catalogue cannot change): ``spark().stop()`` first to start anew.
    """
    from airflow_mlplat.engine.session import get_session
    from airflow_mlplat.tracking import TRACKING_URI_ENV

    settings = {**metastore_conf(metastore_conn_id), **(conf or {})}
    uri = tracking_uri(mlflow_conn_id)
    if uri:
        os.environ[TRACKING_URI_ENV] = uri
    # Spark's Python workers run PYSPARK_PYTHON (python3 on PATH without it): this environment's.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    return get_session(app_name, settings)
