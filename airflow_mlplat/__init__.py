"""airflow-mlplat: a machine-learning platform inside Apache Airflow."""

__version__ = "0.1.0"
