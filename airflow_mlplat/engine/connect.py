"""Running the engine on a Spark Connect session (a long-lived server) instead of its own spark-submit.

A Connect client has no JVM gateway: no ``SparkContext``, RDDs or py4j objects. The components
below reach them (Hadoop FileSystem calls, RDD-based trainers, JVM converters), so a pipeline
that uses one is refused before anything runs, naming the node and the component; the rest
run unchanged, with the same report, outputs and errors.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from airflow_mlplat.pipeline.errors import PipelineValidationError, Problem

#: Components that need the classic (py4j) Spark API, and what they use it for.
CLASSIC_ONLY = {
    "write_table": "moves the written files into place with Hadoop's FileSystem through the JVM gateway",
    "save_model": "checks the target with Hadoop's FileSystem through the JVM gateway",
    "load_model": "checks the source with Hadoop's FileSystem through the JVM gateway",
    "als": "sets the SparkContext's checkpoint directory",
    "fast_gbdt_classifier": "reads the driver's settings from the SparkContext and broadcasts the booster",
    "fast_gbdt_regressor": "reads the driver's settings from the SparkContext and broadcasts the booster",
    "xgboost_classifier": "xgboost.spark trains in RDD barrier mode",
    "xgboost_random_forest_classifier": "xgboost.spark trains in RDD barrier mode",
    "xgboost_regressor": "xgboost.spark trains in RDD barrier mode",
    "export_pmml": "JPMML-SparkML converts the model inside the JVM",
    "ctr_feature_encoder": "saves its model with Hadoop's FileSystem through the JVM gateway",
}


def is_connect(spark: Any) -> bool:
    """Whether ``spark`` is a Spark Connect session (``pyspark.sql.connect``), not a classic one."""
    return type(spark).__module__.startswith("pyspark.sql.connect")


def connect_problems(pipeline: Any) -> list[Problem]:
    """What keeps a validated pipeline from running on a Spark Connect session (empty: nothing)."""
    problems = [
        Problem(
            f"nodes[{index}] ({node.id})",
            f"component {node.component!r} needs the classic Spark API, which a Spark Connect session lacks "
            f"(it {CLASSIC_ONLY[node.component]}); run this pipeline with session='submit'",
        )
        for index, node in enumerate(pipeline.nodes)
        if node.component in CLASSIC_ONLY
    ]
    if pipeline.registration is not None and pipeline.registration.pmml:
        problems.append(
            Problem(
                "register.pmml",
                "the PMML export converts the model inside the JVM, which a Spark Connect session lacks; "
                "set register.pmml to false or run this pipeline with session='submit'",
            )
        )
    return problems


def check_connect(pipeline: Any, source: str = "pipeline") -> None:
    """Raise ``PipelineValidationError`` naming every node that cannot run on Spark Connect."""
    problems = connect_problems(pipeline)
    if problems:
        raise PipelineValidationError(problems, source=source)


@contextmanager
def connect_session(url: str) -> Iterator[Any]:
    """A new Spark Connect session on ``url`` (``sc://HOST:PORT/;params``), stopped on exit.

    pyspark picks classic or Connect per call from ``SPARK_CONNECT_MODE_ENABLED`` in the
    environment (``functions.col`` builds a classic Column without it, which a Connect plan
    cannot take). ``SparkSession.builder.remote`` sets it for good, and refuses to start
    while a classic session lives in the process; so the session is built with the Connect
    client's own builder, and the variable is set only while it runs. A classic session
    in the same process is usable again afterwards.
    """
    from pyspark.sql.connect.session import SparkSession as ConnectSession

    session = ConnectSession.builder.remote(url).create()
    was_connect = "SPARK_CONNECT_MODE_ENABLED" in os.environ
    os.environ["SPARK_CONNECT_MODE_ENABLED"] = "1"
    try:
        yield session
    finally:
        if not was_connect:
            del os.environ["SPARK_CONNECT_MODE_ENABLED"]
        # Ends this client's server-side session (its cached tables and temp views), not the server.
        session.stop()
