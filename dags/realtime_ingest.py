"""Keep the behaviour-log Flink job running: JSON lines (or Kafka) -> ten-minute Parquet partitions with ``_SUCCESS``.

Every ten minutes ``ensure_running`` submits the job unless it already runs (the operator reuses a
running job of the same name), resuming from the newest retained checkpoint, so a crashed job is
back within one interval without losing or repeating events. ``check_running`` then fails the run if
the job is not RUNNING. ``realtime_retrain`` consumes the partitions.

Without a ``flink_default`` connection the job runs on Flink's embedded mini-cluster (a
``.venv-flink`` process on 127.0.0.1); with one (``flink://HOST:PORT``) it is submitted to that
session cluster with ``flink run``. Param defaults come from ``$MLPLAT_REALTIME_SOURCE``,
``$MLPLAT_REALTIME_PARTITIONS`` and ``$MLPLAT_REALTIME_CHECKPOINTS`` when set.
"""

import os

from airflow.sdk import DAG, Param

from airflow_mlplat.operators.flink_job import FlinkJobOperator
from airflow_mlplat.sensors.flink_job import FlinkJobSensor

ROOT = "/tmp/mlplat-realtime"

with DAG(
    dag_id="realtime_ingest",
    description="Keep the Flink job that cuts the behaviour log into ten-minute partitions running",
    doc_md=__doc__,
    schedule="*/10 * * * *",
    catchup=False,
    max_active_runs=1,
    params={
        "source": Param(
            os.environ.get("MLPLAT_REALTIME_SOURCE", f"{ROOT}/behaviour-log"),
            type="string",
            description="Folder of JSON-lines files the job watches (or 'kafka')",
        ),
        "partitions": Param(
            os.environ.get("MLPLAT_REALTIME_PARTITIONS", f"{ROOT}/partitions"),
            type="string",
            description="Where the dt=/hm= partitions go",
        ),
        "checkpoints": Param(
            os.environ.get("MLPLAT_REALTIME_CHECKPOINTS", f"{ROOT}/checkpoints"),
            type="string",
            description="Retained checkpoints; a restart resumes from the newest",
        ),
        "checkpoint_interval": Param(
            "60 s", type="string", description="How often the job checkpoints (shorter than the 10-minute window)"
        ),
    },
    tags=["mlplat", "realtime", "flink"],
) as dag:
    ensure_running = FlinkJobOperator(
        task_id="ensure_running",
        source="{{ params.source }}",
        sink="{{ params.partitions }}",
        checkpoint_dir="{{ params.checkpoints }}",
        window_minutes=10,
        checkpoint_interval="{{ params.checkpoint_interval }}",
    )
    check_running = FlinkJobSensor(
        task_id="check_running",
        job_id="{{ ti.xcom_pull(task_ids='ensure_running', key='job_id') }}",
        rest_url="{{ ti.xcom_pull(task_ids='ensure_running', key='rest_url') }}",
        poke_interval=5,
        timeout=120,
    )
    ensure_running >> check_running
