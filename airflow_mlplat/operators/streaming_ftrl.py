"""Run the streaming FTRL Flink job from Airflow: submit (resuming from its newest checkpoint), wait for RUNNING."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from airflow_mlplat.hooks.flink import FlinkHook
from airflow_mlplat.operators.flink_job import FlinkScriptOperator


class StreamingFtrlJobOperator(FlinkScriptOperator):
    """Start the job that learns FTRL-Proximal from the behaviour stream event by event and writes snapshots.

    :param source: the JSON-lines folder the job watches (templated), or ``kafka`` (then ``kafka_servers``).
    :param snapshot_dir: where snapshots go (templated): a path or ``file://`` URL.
    :param checkpoint_dir: where checkpoints are retained (templated); a restart resumes from the newest,
        with the same weights.
    :param snapshot_interval: processing time between snapshots, e.g. ``"60 s"`` (templated).
    :param checkpoint_interval: e.g. ``"30 s"`` (templated).
    :param metric_window: how many recent events the progressive AUC and log loss cover (>= 1).
    :param alpha, beta, l1, l2: FTRL-Proximal hyper-parameters (alpha > 0; the others >= 0).
    :param lateness_seconds: the watermark's delay behind the newest event time.
    :param restore: ``latest`` (the newest retained checkpoint, if any), ``none`` or a ``chk-N`` folder.
    :param wait_for_termination: keep the task up until the job ends; by default the task ends once the
        job is RUNNING.
    :param name: the embedded job's name (its state folder); a running job of that name is reused.
    :param flink_conn_id: a Flink cluster's REST endpoint; ``flink_default`` undefined means the embedded
        mini-cluster.

    Pushes ``job_id`` and ``rest_url`` to XCom and returns the job as a dict. The job checks its own
    arguments again and refuses to start with an error naming the bad one.
    """

    template_fields: Sequence[str] = (
        "source",
        "snapshot_dir",
        "checkpoint_dir",
        "snapshot_interval",
        "checkpoint_interval",
        "restore",
        "kafka_servers",
        "name",
    )

    def __init__(
        self,
        *,
        source: str,
        snapshot_dir: str,
        checkpoint_dir: str,
        snapshot_interval: str = "60 s",
        checkpoint_interval: str = "30 s",
        metric_window: int = 2000,
        alpha: float = 0.1,
        beta: float = 1.0,
        l1: float = 0.0,
        l2: float = 0.0,
        lateness_seconds: int = 5,
        restore: str = "latest",
        kafka_servers: str = "",
        wait_for_termination: bool = False,
        running_timeout: float = 180.0,
        name: str = "streaming-ftrl",
        state_root: str | None = None,
        flink_conn_id: str = FlinkHook.default_conn_name,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            checkpoint_dir=checkpoint_dir,
            restore=restore,
            wait_for_termination=wait_for_termination,
            running_timeout=running_timeout,
            name=name,
            state_root=state_root,
            flink_conn_id=flink_conn_id,
            **kwargs,
        )
        where = f"StreamingFtrlJobOperator({self.task_id})"
        if isinstance(metric_window, bool) or not isinstance(metric_window, int) or metric_window < 1:
            raise ValueError(f"{where}.metric_window must be an integer >= 1, got {metric_window!r}")
        for field, value, low in (("alpha", alpha, None), ("beta", beta, 0), ("l1", l1, 0), ("l2", l2, 0)):
            ok = isinstance(value, (int, float)) and math.isfinite(value) and (value > 0 if low is None else value >= 0)
            if not ok:
                raise ValueError(f"{where}.{field} must be a number {'> 0' if low is None else '>= 0'}, got {value!r}")
        if not isinstance(lateness_seconds, int) or lateness_seconds < 0:
            raise ValueError(f"{where}.lateness_seconds must be an integer >= 0, got {lateness_seconds!r}")
        self.source, self.snapshot_dir = source, snapshot_dir
        self.snapshot_interval, self.checkpoint_interval = snapshot_interval, checkpoint_interval
        self.metric_window = metric_window
        self.alpha, self.beta, self.l1, self.l2 = alpha, beta, l1, l2
        self.lateness_seconds = lateness_seconds
        self.kafka_servers = kafka_servers

    def job_script(self) -> Path:
        from airflow_mlplat.realtime.flink_env import STREAMING_FTRL_SCRIPT

        return STREAMING_FTRL_SCRIPT

    def job_args(self) -> list[str]:
        args = [
            "--source",
            self.source,
            "--snapshot-dir",
            self.snapshot_dir,
            "--checkpoint-dir",
            self.checkpoint_dir,
            "--snapshot-interval",
            self.snapshot_interval,
            "--checkpoint-interval",
            self.checkpoint_interval,
            "--metric-window",
            str(self.metric_window),
            "--alpha",
            repr(float(self.alpha)),
            "--beta",
            repr(float(self.beta)),
            "--l1",
            repr(float(self.l1)),
            "--l2",
            repr(float(self.l2)),
            "--lateness-seconds",
            str(self.lateness_seconds),
        ]
        if self.source == "kafka":
            args += ["--kafka-servers", self.kafka_servers]
        return args + self._restore_args()
