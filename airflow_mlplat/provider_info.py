"""Provider metadata Airflow reads through the ``apache_airflow_provider`` entry point."""

from __future__ import annotations

from typing import Any

from airflow_mlplat import __version__


def get_provider_info() -> dict[str, Any]:
    return {
        "package-name": "airflow-mlplat",
        "name": "ML platform (airflow-mlplat)",
        "description": "Spark ML pipelines, model gates, deployment and real-time retraining as Airflow tasks.",
        "versions": [__version__],
        "operators": [
            {
                "integration-name": "ML platform",
                "python-modules": [
                    "airflow_mlplat.operators.spark_pipeline",
                    "airflow_mlplat.operators.spark_component",
                    "airflow_mlplat.operators.distributed_training",
                    "airflow_mlplat.operators.deploy_model",
                    "airflow_mlplat.operators.model_gate",
                    "airflow_mlplat.operators.flink_job",
                    "airflow_mlplat.operators.streaming_ftrl",
                    "airflow_mlplat.operators.notebook",
                ],
            }
        ],
        "hooks": [
            {
                "integration-name": "ML platform",
                "python-modules": [
                    "airflow_mlplat.hooks.spark_pipeline",
                    "airflow_mlplat.hooks.hive_metastore",
                    "airflow_mlplat.hooks.model_service",
                    "airflow_mlplat.hooks.flink",
                    "airflow_mlplat.hooks.notebook",
                ],
            },
        ],
        "sensors": [
            {
                "integration-name": "ML platform",
                "python-modules": [
                    "airflow_mlplat.sensors.partition_ready",
                    "airflow_mlplat.sensors.training_job",
                    "airflow_mlplat.sensors.flink_job",
                    "airflow_mlplat.sensors.snapshot",
                ],
            },
        ],
        "triggers": [
            {
                "integration-name": "ML platform",
                "python-modules": [
                    "airflow_mlplat.triggers.partition_ready",
                    "airflow_mlplat.triggers.training_job",
                    "airflow_mlplat.triggers.snapshot",
                ],
            },
        ],
        "connection-types": [
            {"connection-type": "flink", "hook-class-name": "airflow_mlplat.hooks.flink.FlinkHook"},
        ],
        "integrations": [
            {
                "integration-name": "ML platform",
                "external-doc-url": "https://airflow.apache.org/docs/apache-airflow-providers-apache-spark/",
                "tags": ["software"],
            }
        ],
    }
