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


def get_session(app_name: str = "airflow-mlplat", conf: dict[str, str] | None = None) -> Any:
    """Get (or create) the process's SparkSession.

    Under ``spark-submit`` the master and deploy settings come from the submit command; run
    directly (``python -m airflow_mlplat.engine``) the master is ``$MLPLAT_SPARK_MASTER`` or
    ``local[*]``. ``conf`` (e.g. a pipeline's ``spark_conf``) is applied on top.
    """
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.appName(app_name)
    submitted = "SPARK_SUBMIT" in os.environ or os.environ.get("PYSPARK_GATEWAY_PORT")
    if not submitted:
        builder = builder.master(os.environ.get("MLPLAT_SPARK_MASTER", "local[*]"))
        for key, value in LOCAL_DEFAULTS.items():
            builder = builder.config(key, value)
    for key, value in (conf or {}).items():
        builder = builder.config(key, str(value))
    return builder.getOrCreate()
