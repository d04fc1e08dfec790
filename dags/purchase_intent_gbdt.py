"""Purchase intent on a car website, end to end on synthetic data.

``generate`` makes a browsing-behaviour table (``synthetic_purchase_intent``) and stores it as
parquet in the run's directory; ``train`` runs ``pipelines/purchase_intent_gbdt.json`` on it:
string->double cast, missing values, 85/15 split, GBDT, prediction on the held-out rows,
binary evaluation and feature importance. The metrics are ``train``'s XCom.

The DAG id differs from the pipeline's name because ``pipeline_dags.py`` already makes the
DAG ``purchase_intent_gbdt`` (training on an existing table) from the same file.
"""

from pathlib import Path

from airflow.sdk import DAG

from airflow_mlplat.dag_factory import SAFE_RUN_ID, component_dag_param, dag_params
from airflow_mlplat.operators.spark_component import SparkComponentOperator
from airflow_mlplat.operators.spark_pipeline import SparkPipelineOperator, default_run_root
from airflow_mlplat.pipeline import load_pipeline, validate_pipeline

DAG_ID = "purchase_intent_gbdt_synthetic"
PIPELINE = Path(__file__).parent / "pipelines" / "purchase_intent_gbdt.json"

pipeline = validate_pipeline(load_pipeline(PIPELINE), source=str(PIPELINE))
params = {
    "rows": component_dag_param("synthetic_purchase_intent", "rows", default=200_000),
    **{name: param for name, param in dag_params(pipeline).items() if name != "input_path"},
}
behaviour_path = f"{default_run_root()}/{DAG_ID}/{SAFE_RUN_ID}/data/behaviour"

with DAG(
    dag_id=DAG_ID,
    description="Synthetic browsing behaviour -> GBDT purchase-intent model, evaluated",
    doc_md=__doc__,
    schedule=None,
    catchup=False,
    params=params,
    tags=["mlplat", "example", "spark"],
) as dag:
    generate = SparkComponentOperator(
        task_id="generate",
        component="synthetic_purchase_intent",
        component_params={"rows": {"$param": "rows"}, "seed": {"$param": "seed"}},
        outputs={"data": behaviour_path},
    )
    train = SparkPipelineOperator(
        task_id="train",
        pipeline=str(PIPELINE),
        params_override={"input_path": behaviour_path},
    )
    generate >> train
