"""Every ten minutes: retrain on the newest behaviour-event partitions, gate, promote, tell serving.

The Flink job writes ``BASE/dt=YYYY-MM-DD/hm=HHMM`` Parquet partitions per event-time window and
commits each with ``_SUCCESS``. A run's data interval is the window that just closed:

1. ``wait_partition`` waits (deferrable) for that window's ``_SUCCESS``;
2. ``train`` trains ``params.model`` on the ``train_windows`` committed windows BEFORE it and registers
   the model in MLflow:

   - ``spark_lr`` (``pipelines/realtime_retrain_training.json``): logistic regression from scratch;
   - ``ftrl`` (``pipelines/realtime_retrain_ftrl.json``): FTRL-Proximal continuing from the champion's state;
   - ``deepfm``: the ranking DeepFM (PyTorch), trained through the launcher (the deployment's
     ``[mlplat] training_backend``: local processes by default) and started from the champion's weights. Each
     feature is a bucketised field; the boundaries are fitted on the first model's windows and carried by
     every later version with its feature map, which serving applies to the raw feature rows. ``deepfm_*``
     Params set the model's parameters for the run.

   A warm-started model continues from the champion (``MODEL@alias``) when it was trained as the same kind,
   else it starts fresh. The alias only moves on promotion, so a rejected candidate's windows are never
   learnt by later ones (the version's ``mlplat.warm_started_from`` tag says which version it continued
   from, ``none`` when it started fresh; ``mlplat.realtime.model`` its kind). The Spark models run on the
   Spark Connect server of ``spark_connect_default`` when that connection exists (no JVM start per window),
   else in their own spark-submit;
3. ``evaluate`` scores the new version and the champion (``MODEL@alias``) on the closed window, with the
   scorer the prediction service uses for them;
4. ``gate`` promotes only if the candidate beats the champion by ``margin`` and passes ``floors``,
   recording every decision (``airflow-mlplat promotions MODEL``);
5. ``notify_serving`` POSTs ``serving_url``/admin/reload after a promotion (without a URL the
   service follows the alias by polling).

``window_end`` (ISO, UTC) overrides the data-interval end, e.g. for windows shorter than ten
minutes or a manual run. MLflow: the ``mlflow_default`` connection, else ``$MLFLOW_TRACKING_URI``.
Param defaults come from ``$MLPLAT_REALTIME_PARTITIONS``, ``$MLPLAT_REALTIME_MODEL`` and
``$MLPLAT_REALTIME_SERVING_URL`` when set.
"""

import os
from pathlib import Path

from airflow.sdk import DAG, Param, get_current_context, task
from airflow.timetables.interval import CronDataIntervalTimetable

from airflow_mlplat.operators.model_gate import ModelGateOperator
from airflow_mlplat.pipeline import load_pipeline, validate_pipeline
from airflow_mlplat.realtime import tasks as rt
from airflow_mlplat.realtime.training import MODELS, RealtimeTrainOperator

DAG_ID = "realtime_retrain"
PIPELINES = Path(__file__).parent / "pipelines"
RUN_AFTER = "(dag_run.run_after if dag_run else None)"

training_documents = {}
for kind, model in MODELS.items():
    if model.document is None:  # a ranking model: trained through the launcher, not by a pipeline
        continue
    document = load_pipeline(PIPELINES / model.document)
    validate_pipeline(document, source=str(PIPELINES / model.document))
    # The registered model's name is the run's Param (rendered with the rest of the document).
    document["register"]["name"] = "{{ params.model_name }}"
    training_documents[kind] = document

params = {
    "partitions_base": Param(
        os.environ.get("MLPLAT_REALTIME_PARTITIONS", "/tmp/mlplat-realtime/partitions"),
        type="string",
        description="Folder or URL of the dt=/hm= partitions the Flink job writes",
    ),
    "window_minutes": Param(10, type="integer", minimum=1, maximum=60, description="Window length (divides 60)"),
    "window_end": Param(
        "", type="string", description="ISO UTC end of the window to evaluate on (empty: data interval end)"
    ),
    "model": Param(
        "spark_lr",
        enum=list(MODELS),
        description=(
            "spark_lr: logistic regression from scratch; ftrl: FTRL-Proximal continuing from the champion; "
            "deepfm: DeepFM (PyTorch, through the launcher) starting from the champion's weights"
        ),
    ),
    "train_windows": Param(
        3,
        type="integer",
        minimum=1,
        description="Windows before the newest to train on (ftrl learns each window it is given: 1 learns each once)",
    ),
    "model_name": Param(
        os.environ.get("MLPLAT_REALTIME_MODEL", "realtime_purchase_intent"),
        type="string",
        description="Registered model",
    ),
    "alias": Param("champion", type="string", description="The alias the gate moves and serving follows"),
    "metric": Param("auc_roc", type="string", description="Metric compared on the newest window"),
    "direction": Param("max", enum=["max", "min"], description="Whether a higher metric is better"),
    "margin": Param(0.005, type="number", minimum=0, description="How much the candidate must beat the champion by"),
    "floors": Param({"auc_roc": 0.6}, type="object", description="{metric: minimum} the candidate must reach"),
    "serving_url": Param(
        os.environ.get("MLPLAT_REALTIME_SERVING_URL", ""), type="string", description="Service to POST /admin/reload to"
    ),
    "sensor_timeout_s": Param(900, type="number", minimum=1, description="How long to wait for the partition"),
    "sensor_poke_interval_s": Param(10, type="number", minimum=0.1, description="Seconds between partition checks"),
    "max_iter": Param(50, type="integer", minimum=1, description="Logistic regression iterations"),
    "reg_param": Param(0.001, type="number", minimum=0, description="Logistic regression L2 regularisation"),
    "ftrl_alpha": Param(0.1, type="number", exclusiveMinimum=0, description="FTRL per-coordinate learning rate"),
    "ftrl_beta": Param(1.0, type="number", minimum=0, description="FTRL learning rate smoothing"),
    "ftrl_l1": Param(0.0, type="number", minimum=0, description="FTRL L1 regularisation"),
    "ftrl_l2": Param(0.0, type="number", minimum=0, description="FTRL L2 regularisation"),
    "deepfm_epochs": Param(
        MODELS["deepfm"].ranking["params"]["epochs"],
        type="integer",
        minimum=1,
        description="DeepFM: the most passes over the training windows (early stopping on a held-out 15%)",
    ),
    "deepfm_learning_rate": Param(
        MODELS["deepfm"].ranking["params"]["learning_rate"],
        type="number",
        exclusiveMinimum=0,
        description="DeepFM: Adam's learning rate",
    ),
}

with DAG(
    dag_id=DAG_ID,
    description="Retrain on the newest Flink partitions every ten minutes; promote only a better model",
    doc_md=__doc__,
    schedule=CronDataIntervalTimetable("*/10 * * * *", timezone="UTC"),
    catchup=False,
    max_active_runs=1,
    params=params,
    user_defined_macros={"rt_plan": rt.plan, "rt_train_filter": rt.committed_training_filter},
    tags=["mlplat", "realtime", "spark", "pytorch", "mlflow"],
) as dag:
    wait_partition = rt.WindowPartitionSensor(
        task_id="wait_partition",
        partition_url=f"{{{{ rt_plan(params, data_interval_end, {RUN_AFTER})['eval_url'] }}}}",
        deferrable=True,
    )
    train = RealtimeTrainOperator(
        task_id="train",
        pipelines=training_documents,
        warm_start={kind: model.warm_start for kind, model in MODELS.items() if model.warm_start},
        ranking={kind: model.ranking for kind, model in MODELS.items() if model.ranking},
        params_override={"partition_filter": f"{{{{ rt_train_filter(params, data_interval_end, {RUN_AFTER}) }}}}"},
        session="auto",
    )

    @task(task_id="evaluate")
    def evaluate() -> dict:
        return rt.evaluate(get_current_context())

    gate = ModelGateOperator(
        task_id="gate",
        model_name="{{ ti.xcom_pull(task_ids='evaluate')['model_name'] }}",
        candidate_version="{{ ti.xcom_pull(task_ids='evaluate')['candidate_version'] }}",
        metric="{{ params.metric }}",
        direction="{{ params.direction }}",
        margin="{{ params.margin }}",
        floors="{{ params.floors }}",
        alias="{{ params.alias }}",
        candidate_metrics="{{ ti.xcom_pull(task_ids='evaluate')['candidate'] }}",
        champion_metrics="{{ ti.xcom_pull(task_ids='evaluate')['champion'] }}",
        compared_champion="{{ ti.xcom_pull(task_ids='evaluate')['champion_version'] }}",
    )

    @task(task_id="notify_serving")
    def notify_serving() -> dict:
        return rt.notify_serving(get_current_context())

    wait_partition >> train >> evaluate() >> gate >> notify_serving()
