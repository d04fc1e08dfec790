"""Every pipeline JSON in ``dags/pipelines/`` becomes a DAG (see ``airflow_mlplat.dag_factory``).

An invalid pipeline file fails the import of this file, naming the file, node and field.
"""

from pathlib import Path

from airflow_mlplat.dag_factory import pipeline_dags

globals().update(pipeline_dags(Path(__file__).parent / "pipelines"))
