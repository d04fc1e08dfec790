"""Running the engine on a Spark Connect session (a long-lived server) instead of its own spark-submit.

A Connect client has no JVM gateway: no ``SparkContext``, RDDs or py4j objects. The components
below reach them (Hadoop FileSystem calls, RDD-based trainers, JVM converters), so a pipeline
that uses one is refused before anything runs, naming the node and the component; the rest
run unchanged, with the same report, outputs and errors.
"""

from __future__ import annotations

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
    if pipeline.registration is not None:
        # Seen on this machine: MLflow's Spark flavour saves a Connect model through the server's
        # Hadoop FileSystem straight to mlflow-artifacts:/, a scheme the server cannot write.
        problems.append(
            Problem(
                "register",
                "registering the model logs it with MLflow's Spark flavour, which a Spark Connect session cannot "
                "write to the MLflow artifact store (and a PMML export needs the JVM); run this pipeline with "
                "session='submit'",
            )
        )
    return problems


def check_connect(pipeline: Any, source: str = "pipeline") -> None:
    """Raise ``PipelineValidationError`` naming every node that cannot run on Spark Connect."""
    problems = connect_problems(pipeline)
    if problems:
        raise PipelineValidationError(problems, source=source)


def connect_session(url: str) -> Any:
    """A Spark Connect session on ``url`` (``sc://HOST:PORT/;params``)."""
    from pyspark.sql import SparkSession

    return SparkSession.builder.remote(url).getOrCreate()
