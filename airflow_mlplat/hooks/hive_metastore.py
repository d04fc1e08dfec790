"""The Hive metastore a pipeline's SparkSession uses, from an Airflow connection.

Connection type ``hive_metastore`` (the apache-hive provider's): host (several hosts comma-
separated for fail-over), port (default 9083), and extra ``warehouse_dir`` (the warehouse URL
Spark creates databases under). For example::

    AIRFLOW_CONN_METASTORE_DEFAULT='hive-metastore://127.0.0.1:9083/?auth_mechanism=NOSASL&warehouse_dir=file%3A%2F%2F%2Fdata%2Fwarehouse'
"""

from __future__ import annotations

from airflow_mlplat.hooks.connections import connection_or_fallback

DEFAULT_METASTORE_CONN_ID = "metastore_default"
DEFAULT_METASTORE_PORT = 9083


def metastore_uris(host: str, port: int | None) -> str:
    return ",".join(f"thrift://{h.strip()}:{port or DEFAULT_METASTORE_PORT}" for h in host.split(",") if h.strip())


def metastore_spark_conf(conn_id: str | None) -> dict[str, str]:
    """Spark settings for the Hive catalogue on the connection's metastore.

    Empty when ``conn_id`` is None, or is the default id and not defined (no Hive); any other
    undefined connection is an error.
    """
    from airflow_mlplat.engine.session import hive_conf

    if not conn_id:
        return {}
    conn = connection_or_fallback(
        conn_id,
        DEFAULT_METASTORE_CONN_ID,
        what="Hive metastore",
        example="hive-metastore://HOST:9083/?auth_mechanism=NOSASL",
    )
    if conn is None:
        return {}
    if not conn.host:
        raise ValueError(f"Hive metastore connection {conn_id!r} has no host")
    return hive_conf(metastore_uris(conn.host, conn.port), conn.extra_dejson.get("warehouse_dir"))
