"""Every pipeline JSON in ``dags/pipelines/`` becomes a DAG through its own generated DAG file.

``pipelines/NAME.py`` builds the DAG of ``pipelines/NAME.json`` (see ``airflow_mlplat.dag_files``), so
an invalid pipeline fails only its own file (Airflow's import errors name the file, node and field)
and every other pipeline keeps its DAG. This file defines no DAG: at each parse it writes the DAG
files of pipelines dropped into the folder by hand and removes those whose JSON is gone.
"""

from pathlib import Path

from airflow_mlplat.dag_files import sync_dag_files

sync_dag_files(Path(__file__).parent / "pipelines")
