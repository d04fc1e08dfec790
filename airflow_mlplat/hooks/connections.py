"""The house rule for connections: an undefined *default* id means the local fallback.

Any other undefined id is an error, so a DAG never silently runs elsewhere because a name was mistyped.
"""

from __future__ import annotations

from typing import Any

from airflow.providers.common.compat.sdk import AirflowNotFoundException, BaseHook


def connection_or_fallback(conn_id: str, default_conn_id: str, *, what: str, example: str) -> Any | None:
    """The connection ``conn_id``; None when it is the undefined default (the caller falls back locally).

    :param what: the connection's kind in the error, e.g. ``"Flink"``.
    :param example: a connection URI the error suggests, e.g. ``"flink://HOST:8081"``.
    :raises AirflowNotFoundException: ``conn_id`` is not the default and is not defined.
    """
    try:
        return BaseHook.get_connection(conn_id)
    except AirflowNotFoundException:
        if conn_id == default_conn_id:
            return None
        raise AirflowNotFoundException(
            f"{what} connection {conn_id!r} is not defined; define it (e.g. AIRFLOW_CONN_{conn_id.upper()}="
            f"'{example}') or use the default {default_conn_id!r} connection"
        ) from None
