"""Run the behaviour-log Flink job from Airflow: submit, record the job id, wait for RUNNING, cancel on kill."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator

from airflow_mlplat.hooks.flink import FlinkHook, FlinkJob, FlinkJobError, latest_checkpoint
from airflow_mlplat.realtime.windows import window_problem

if TYPE_CHECKING:
    from airflow.sdk import Context

RESTORE_CHOICES = ("latest", "none")


class FlinkScriptOperator(BaseOperator):
    """Submit a PyFlink job script, resuming from its newest retained checkpoint; the job's own arguments come
    from :meth:`job_args` of a subclass.

    Common parameters: ``checkpoint_dir`` (retained checkpoints), ``restore`` (``latest``, ``none`` or a
    ``chk-N`` folder), ``wait_for_termination``, ``running_timeout``, ``name`` (the embedded job's state
    folder; a running job of that name is reused), ``state_root`` and ``flink_conn_id`` (see
    :class:`FlinkJobOperator`). Pushes ``job_id`` and ``rest_url`` to XCom and returns the job as a dict.
    """

    ui_color = "#e5c8f7"

    def __init__(
        self,
        *,
        checkpoint_dir: str,
        restore: str = "latest",
        wait_for_termination: bool = False,
        running_timeout: float = 180.0,
        name: str,
        state_root: str | None = None,
        flink_conn_id: str = FlinkHook.default_conn_name,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.checkpoint_dir = checkpoint_dir
        self.restore = restore
        self.wait_for_termination = wait_for_termination
        self.running_timeout = running_timeout
        self.name = name
        self.state_root = state_root
        self.flink_conn_id = flink_conn_id
        self._hook: FlinkHook | None = None
        self._job: FlinkJob | None = None

    def job_script(self) -> Path:
        raise NotImplementedError

    def job_args(self) -> list[str]:
        raise NotImplementedError

    def _restore_args(self) -> list[str]:
        restore_from = self._restore_point()
        if not restore_from:
            return []
        self.log.info("Resuming from checkpoint %s", restore_from)
        return ["--restore-from", restore_from]

    def _restore_point(self) -> str:
        if self.restore == "none":
            return ""
        if self.restore == "latest":
            return latest_checkpoint(self.checkpoint_dir) or ""
        if not (Path(self.restore) / "_metadata").exists():
            raise FlinkJobError(
                f"{type(self).__name__}({self.task_id}).restore={self.restore!r}: not a completed "
                f"checkpoint (no _metadata); use 'latest', 'none' or a chk-N folder"
            )
        return self.restore

    def execute(self, context: Context) -> dict[str, str]:
        self._hook = FlinkHook(self.flink_conn_id)
        state_root = Path(self.state_root) if self.state_root else None
        self._job = self._hook.submit(self.job_script(), self.job_args(), name=self.name, state_root=state_root)
        context["ti"].xcom_push(key="job_id", value=self._job.job_id)
        context["ti"].xcom_push(key="rest_url", value=self._job.rest_url)
        self._hook.wait_until_running(self._job, timeout=self.running_timeout)
        self.log.info(
            "Flink job %s is RUNNING (%s/#/job/running/%s)", self._job.job_id, self._job.rest_url, self._job.job_id
        )
        if self.wait_for_termination:
            state = self._hook.wait_until_ended(self._job)
            if state != "FINISHED":
                raise FlinkJobError(f"Flink job {self._job.job_id} ended {state}")
        return self._job.as_dict()

    def on_kill(self) -> None:
        if self._hook is not None and self._job is not None:
            self._hook.cancel(self._job)


class FlinkJobOperator(FlinkScriptOperator):
    """Start the job that turns the behaviour log into event-time partitions with ``_SUCCESS``.

    :param source: the JSON-lines folder the job watches (templated), or ``kafka`` (then ``kafka_servers``).
    :param sink: the partitioned table's root folder or URL (templated).
    :param checkpoint_dir: where checkpoints are retained (templated); a restart resumes from the newest.
    :param window_minutes: partition length in minutes (divides 60); ``hm`` is the window start.
    :param checkpoint_interval: e.g. ``"60 s"`` (templated); must be shorter than the window (the job
        refuses to start otherwise, naming both).
    :param lateness_seconds: the watermark's delay behind the newest event time.
    :param commit_policy: ``success-file``. (``metastore,success-file`` needs the table in a HiveCatalog,
        that is flink-sql-connector-hive, which this build does not ship: the job refuses it by name.)
    :param restore: ``latest`` (resume from the newest retained checkpoint if there is one), ``none``,
        or a ``chk-N`` folder.
    :param wait_for_termination: keep the task up until the job ends (killing the task cancels the job);
        by default the task ends once the job is RUNNING and ``FlinkJobSensor`` watches it.
    :param name: the embedded job's name (its state folder); a running job of that name is reused.
    :param flink_conn_id: a Flink cluster's REST endpoint; ``flink_default`` undefined means the embedded
        mini-cluster.

    Pushes ``job_id`` and ``rest_url`` to XCom and returns the job as a dict.
    """

    template_fields: Sequence[str] = (
        "source",
        "sink",
        "checkpoint_dir",
        "checkpoint_interval",
        "restore",
        "kafka_servers",
        "name",
    )

    def __init__(
        self,
        *,
        source: str,
        sink: str,
        checkpoint_dir: str,
        window_minutes: int = 10,
        checkpoint_interval: str = "60 s",
        lateness_seconds: int = 5,
        commit_policy: str = "success-file",
        restore: str = "latest",
        kafka_servers: str = "",
        wait_for_termination: bool = False,
        running_timeout: float = 180.0,
        name: str = "behaviour-partitions",
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
        problem = window_problem(window_minutes)
        if problem:
            raise ValueError(f"FlinkJobOperator({self.task_id}).window_minutes={window_minutes}: {problem}")
        if commit_policy != "success-file":
            raise ValueError(
                f"FlinkJobOperator({self.task_id}).commit_policy={commit_policy!r}: only 'success-file' is "
                "available (the metastore policy needs flink-sql-connector-hive, which this build does not ship)"
            )
        self.source, self.sink = source, sink
        self.window_minutes = window_minutes
        self.checkpoint_interval = checkpoint_interval
        self.lateness_seconds = lateness_seconds
        self.commit_policy = commit_policy
        self.kafka_servers = kafka_servers

    def job_script(self) -> Path:
        from airflow_mlplat.realtime.flink_env import JOB_SCRIPT

        return JOB_SCRIPT

    def job_args(self) -> list[str]:
        from airflow_mlplat.realtime.flink_env import pipeline_jars

        args = [
            "--source",
            self.source,
            "--sink",
            self.sink,
            "--checkpoint-dir",
            self.checkpoint_dir,
            "--window-minutes",
            str(self.window_minutes),
            "--checkpoint-interval",
            self.checkpoint_interval,
            "--lateness-seconds",
            str(self.lateness_seconds),
            "--commit-policy",
            self.commit_policy,
            "--jars",
            pipeline_jars(),
        ]
        if self.source == "kafka":
            args += ["--kafka-servers", self.kafka_servers]
        return args + self._restore_args()
