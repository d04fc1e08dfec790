"""The Airflow plugin. Airflow imports this module in every process, tasks included, so it
declares only: no FastAPI app, pyspark or mlflow is imported here."""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin


class MlplatPlugin(AirflowPlugin):
    name = "airflow_mlplat"
