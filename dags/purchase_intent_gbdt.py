"""Purchase intent on a car website, end to end: synthetic behaviour into Hive, then the GBDT pipeline.

``generate`` runs ``pipelines/purchase_intent_generate.json``: it makes a browsing-behaviour
table (``synthetic_purchase_intent``) and writes it as the run day's partition of the Hive table
``mlplat.purchase_intent_behaviour``. ``train`` runs ``pipelines/purchase_intent_gbdt.json`` on
that partition (``read_hive_table``): string->double cast, 85/15 split, mean imputation, GBDT,
one servable PipelineModel, prediction on the held-out rows, binary evaluation and feature
importance. The metrics are ``train``'s XCom; with an MLflow connection the run is tracked and
the model registered with a verified PMML.

Needs the ``metastore_default`` connection (``make hive-up`` prints it; ``make demo`` starts
its own Hive). The DAG id differs from the pipelines' because ``pipeline_dags.py`` already
makes a DAG of each pipeline file.
"""

from pathlib import Path

from airflow.sdk import DAG

from airflow_mlplat.dag_factory import dag_params
from airflow_mlplat.operators.spark_pipeline import SparkPipelineOperator
from airflow_mlplat.pipeline import load_pipeline, validate_pipeline

DAG_ID = "purchase_intent_gbdt_synthetic"
PIPELINES = Path(__file__).parent / "pipelines"
GENERATE = PIPELINES / "purchase_intent_generate.json"
TRAIN = PIPELINES / "purchase_intent_gbdt.json"
#: The run's day: its logical date, or when it was triggered (manual runs may have no logical date).
RUN_DAY = "{{ (logical_date or dag_run.run_after).strftime('%Y-%m-%d') }}"

generate_pipeline = validate_pipeline(load_pipeline(GENERATE), source=str(GENERATE))
train_pipeline = validate_pipeline(load_pipeline(TRAIN), source=str(TRAIN))
params = {
    "rows": dag_params(generate_pipeline)["rows"],
    **{name: p for name, p in dag_params(train_pipeline).items() if name not in ("input_table", "partition_filter")},
}

with DAG(
    dag_id=DAG_ID,
    description="Synthetic browsing behaviour -> Hive partition -> GBDT purchase-intent model, evaluated",
    doc_md=__doc__,
    schedule=None,
    catchup=False,
    params=params,
    tags=["mlplat", "example", "spark", "hive"],
) as dag:
    generate = SparkPipelineOperator(
        task_id="generate",
        pipeline=str(GENERATE),
        params_override={"partition": {"dt": RUN_DAY}},
    )
    train = SparkPipelineOperator(
        task_id="train",
        pipeline=str(TRAIN),
        params_override={"partition_filter": f"dt = '{RUN_DAY}'"},
    )
    generate >> train
