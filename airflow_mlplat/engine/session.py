"""The one SparkSession of a run."""

from __future__ import annotations

import os
from typing import Any

#: Settings for a small local run: loopback only, few shuffle partitions, no UI port clash.
LOCAL_DEFAULTS = {
    "spark.driver.host": "127.0.0.1",
    "spark.driver.bindAddress": "127.0.0.1",
    "spark.sql.shuffle.partitions": "8",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.session.timeZone": "UTC",
}


#: A Hive metastore for sessions started outside an operator (which passes its connection as --conf).
METASTORE_URIS_ENV = "MLPLAT_HIVE_METASTORE_URIS"
WAREHOUSE_DIR_ENV = "MLPLAT_HIVE_WAREHOUSE_DIR"


def hive_conf(metastore_uris: str, warehouse_dir: str | None = None) -> dict[str, str]:
    """Spark settings for the Hive catalogue backed by a (remote) metastore."""
    conf = {
        "spark.sql.catalogImplementation": "hive",
        "spark.hadoop.hive.metastore.uris": metastore_uris,
        # Fail in seconds, not minutes, when the metastore goes away mid-run.
        "spark.hadoop.hive.metastore.connect.retries": "2",
        "spark.hadoop.hive.metastore.client.connect.retry.delay": "1s",
    }
    if warehouse_dir:
        conf["spark.sql.warehouse.dir"] = warehouse_dir
    return conf


def get_session(app_name: str = "airflow-mlplat", conf: dict[str, str] | None = None) -> Any:
    """Get (or create) the process's SparkSession.

    Under ``spark-submit`` the master and deploy settings come from the submit command; run
    directly (``python -m airflow_mlplat.engine``) the master is ``$MLPLAT_SPARK_MASTER`` or
    ``local[*]``, listening on 127.0.0.1 only (driver, block manager and UI: ``SPARK_LOCAL_IP`` is
    set if unset). ``$MLPLAT_HIVE_METASTORE_URIS`` (and ``$MLPLAT_HIVE_WAREHOUSE_DIR``) turn on
    the Hive catalogue. ``conf`` (e.g. a pipeline's ``spark_conf``) is applied on top.
    """
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.appName(app_name)
    submitted = "SPARK_SUBMIT" in os.environ or os.environ.get("PYSPARK_GATEWAY_PORT")
    if not submitted:
        builder = builder.master(os.environ.get("MLPLAT_SPARK_MASTER", "local[*]"))
        for key, value in LOCAL_DEFAULTS.items():
            builder = builder.config(key, value)
    settings = (
        hive_conf(os.environ[METASTORE_URIS_ENV], os.environ.get(WAREHOUSE_DIR_ENV))
        if os.environ.get(METASTORE_URIS_ENV)
        else {}
    )
    settings.update(conf or {})
    master = settings.get("spark.master") or os.environ.get("MLPLAT_SPARK_MASTER", "local[*]")
    if not submitted and str(master).startswith("local"):
        # The web UI binds SPARK_LOCAL_IP (every interface without it); the JVM starts from this environment.
        os.environ.setdefault("SPARK_LOCAL_IP", LOCAL_DEFAULTS["spark.driver.bindAddress"])
    pmml_jars = _pmml_jars()
    if pmml_jars:
        # JPMML-SparkML must be on the classpath when the JVM starts: spark.jars set later fails.
        # (Under spark-submit the JVM already runs: the hook passes these jars as --jars.)
        settings["spark.jars"] = ",".join(filter(None, [str(settings.get("spark.jars", "")), pmml_jars]))
    for key, value in settings.items():
        builder = builder.config(key, str(value))
    return builder.getOrCreate()


def _pmml_jars() -> str:
    """JPMML-SparkML's jars when the optional ``pmml`` extra (pyspark2pmml) is installed, else ""."""
    try:
        import pyspark2pmml
    except ImportError:
        return ""
    return pyspark2pmml.spark_jars()
