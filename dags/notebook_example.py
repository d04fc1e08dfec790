"""A notebook as a scheduled task: ``notebooks/purchase_intent.ipynb`` every day, with papermill.

The DAG's Params fill the notebook's parameters (its cell tagged ``parameters``): a manual run
can change the rows, the Hive table to read or the GBDT settings. The notebook gets the task's
run folder as ``run_dir`` (its pipeline runs land there), the executed notebook is saved there
too (``RUN_ROOT/DAG_ID/RUN_ID/notebook/purchase_intent.ipynb``) and the plugin's results page
offers it for download. The kernel is the project's (this environment's interpreter); the
``metastore_default`` and ``mlflow_default`` connections reach the notebook's Spark session.
"""

from pathlib import Path

from airflow.sdk import DAG, Param

from airflow_mlplat.operators.notebook import NotebookOperator

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "purchase_intent.ipynb"

with DAG(
    dag_id="purchase_intent_notebook",
    description="The purchase-intent notebook, executed with papermill on the project's kernel",
    doc_md=__doc__,
    schedule="@daily",
    catchup=False,
    params={
        "rows": Param(4000, type="integer", minimum=100, description="Synthetic users to generate"),
        "input_table": Param("", type="string", description="A Hive table to read instead (empty: generate)"),
        "max_iter": Param(10, type="integer", minimum=1, description="GBDT boosting rounds"),
        "max_depth": Param(4, type="integer", minimum=1, maximum=30, description="GBDT tree depth"),
    },
    tags=["mlplat", "example", "notebook"],
) as dag:
    NotebookOperator(task_id="notebook", notebook=NOTEBOOK)
