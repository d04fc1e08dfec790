"""Online learning on the stream: FTRL-Proximal learnt event by event in Flink, its snapshots gated and served.

``ensure_running`` keeps the streaming FTRL job running (the operator reuses a running job of the same
name and otherwise resumes from the newest retained checkpoint, with the same weights). The job scores
every event before learning it (progressive validation) and every ``snapshot_interval`` writes a
snapshot: the model state and its sliding-window AUC and log loss. Then, per run:

1. ``wait_snapshot`` waits (deferrable) for a snapshot newer than every registered one;
2. ``register`` registers it as a candidate version (a Spark-flavour model with the loop's FTRL stages;
   tags: kind ``streaming_ftrl``, the snapshot, events seen, progressive metrics, and the previous
   streaming version it continues from);
3. ``evaluate`` scores the champion on the same rows: the events of the snapshot's metric window (only
   those the champion had not learnt when it is an earlier snapshot of this stream), against the
   candidate's progressive scores of them;
4. ``gate`` promotes only if the candidate beats the champion by ``margin`` and passes ``floors``;
5. ``notify_serving`` POSTs ``serving_url``/admin/reload after a promotion (without a URL the service
   follows the alias by polling).

Without a ``flink_default`` connection the job runs on Flink's embedded mini-cluster. MLflow: the
``mlflow_default`` connection, else ``$MLFLOW_TRACKING_URI``. Param defaults come from
``$MLPLAT_STREAMING_SOURCE`` (else ``$MLPLAT_REALTIME_SOURCE``), ``$MLPLAT_STREAMING_SNAPSHOTS``,
``$MLPLAT_STREAMING_CHECKPOINTS``, ``$MLPLAT_STREAMING_MODEL`` and ``$MLPLAT_REALTIME_SERVING_URL``.
"""

import os

from airflow.sdk import DAG, Param, get_current_context, task

from airflow_mlplat.operators.model_gate import ModelGateOperator
from airflow_mlplat.operators.streaming_ftrl import StreamingFtrlJobOperator
from airflow_mlplat.sensors.flink_job import FlinkJobSensor
from airflow_mlplat.sensors.snapshot import NewSnapshotSensor

ROOT = "/tmp/mlplat-streaming"

with DAG(
    dag_id="streaming_ftrl",
    description="FTRL learnt per event in Flink; each new snapshot registered, gated on its progressive AUC, served",
    doc_md=__doc__,
    schedule="*/5 * * * *",
    catchup=False,
    max_active_runs=1,
    params={
        "source": Param(
            os.environ.get("MLPLAT_STREAMING_SOURCE")
            or os.environ.get("MLPLAT_REALTIME_SOURCE", "/tmp/mlplat-realtime/behaviour-log"),
            type="string",
            description="Folder of JSON-lines behaviour events the job watches (or 'kafka')",
        ),
        "snapshots": Param(
            os.environ.get("MLPLAT_STREAMING_SNAPSHOTS", f"{ROOT}/snapshots"),
            type="string",
            description="Where the job writes its snapshots (a path or file:// URL)",
        ),
        "checkpoints": Param(
            os.environ.get("MLPLAT_STREAMING_CHECKPOINTS", f"{ROOT}/checkpoints"),
            type="string",
            description="Retained checkpoints; a restart resumes the same weights from the newest",
        ),
        "snapshot_interval": Param("60 s", type="string", description="Processing time between snapshots"),
        "checkpoint_interval": Param("30 s", type="string", description="How often the job checkpoints"),
        "model_name": Param(
            os.environ.get("MLPLAT_STREAMING_MODEL", "streaming_purchase_intent"),
            type="string",
            description="Registered model",
        ),
        "alias": Param("champion", type="string", description="The alias the gate moves and serving follows"),
        "margin": Param(0.0, type="number", minimum=0, description="How much the candidate must beat the champion by"),
        "floors": Param({"auc_roc": 0.6}, type="object", description="{metric: minimum} the candidate must reach"),
        "serving_url": Param(
            os.environ.get("MLPLAT_REALTIME_SERVING_URL", ""),
            type="string",
            description="Service to POST /admin/reload to",
        ),
        "sensor_timeout_s": Param(600, type="number", minimum=1, description="How long to wait for a new snapshot"),
        "sensor_poke_interval_s": Param(10, type="number", minimum=0.1, description="Seconds between snapshot checks"),
    },
    tags=["mlplat", "realtime", "flink", "mlflow", "online-learning"],
) as dag:
    ensure_running = StreamingFtrlJobOperator(
        task_id="ensure_running",
        source="{{ params.source }}",
        snapshot_dir="{{ params.snapshots }}",
        checkpoint_dir="{{ params.checkpoints }}",
        snapshot_interval="{{ params.snapshot_interval }}",
        checkpoint_interval="{{ params.checkpoint_interval }}",
        # The ten-minute loop's FTRL hyper-parameters (pipelines/realtime_retrain_ftrl.json).
        alpha=0.1,
        beta=1.0,
    )
    check_running = FlinkJobSensor(
        task_id="check_running",
        job_id="{{ ti.xcom_pull(task_ids='ensure_running', key='job_id') }}",
        rest_url="{{ ti.xcom_pull(task_ids='ensure_running', key='rest_url') }}",
        poke_interval=5,
        timeout=120,
    )
    wait_snapshot = NewSnapshotSensor(
        task_id="wait_snapshot",
        snapshot_dir="{{ params.snapshots }}",
        model_name="{{ params.model_name }}",
        deferrable=True,
    )

    @task(task_id="register")
    def register() -> dict:
        from airflow_mlplat.realtime.snapshot_registry import register_snapshot
        from airflow_mlplat.realtime.tasks import tracking_uri

        context = get_current_context()
        snapshot = context["ti"].xcom_pull(task_ids="wait_snapshot")
        return register_snapshot(tracking_uri(), context["params"]["model_name"], snapshot)

    @task(task_id="evaluate")
    def evaluate() -> dict:
        from airflow_mlplat.realtime.snapshot_registry import evaluate_snapshot
        from airflow_mlplat.realtime.tasks import tracking_uri

        context = get_current_context()
        registered = context["ti"].xcom_pull(task_ids="register")
        params = context["params"]
        result = evaluate_snapshot(tracking_uri(), registered["name"], registered["version"], alias=params["alias"])
        result["model_name"] = registered["name"]
        return result

    gate = ModelGateOperator(
        task_id="gate",
        model_name="{{ ti.xcom_pull(task_ids='evaluate')['model_name'] }}",
        candidate_version="{{ ti.xcom_pull(task_ids='evaluate')['candidate_version'] }}",
        metric="auc_roc",
        direction="max",
        margin="{{ params.margin }}",
        floors="{{ params.floors }}",
        alias="{{ params.alias }}",
        candidate_metrics="{{ ti.xcom_pull(task_ids='evaluate')['candidate'] }}",
        champion_metrics="{{ ti.xcom_pull(task_ids='evaluate')['champion'] }}",
        compared_champion="{{ ti.xcom_pull(task_ids='evaluate')['champion_version'] }}",
    )

    @task(task_id="notify_serving")
    def notify_serving() -> dict:
        from airflow_mlplat.realtime.tasks import notify_serving as notify

        return notify(get_current_context())

    ensure_running >> check_running >> wait_snapshot >> register() >> evaluate() >> gate >> notify_serving()
