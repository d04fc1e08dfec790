"""The behaviour-log job: JSON lines (or Kafka) -> Parquet partitions per event-time window, with ``_SUCCESS``.

Runs under PyFlink in ``.venv-flink`` (it pins a py4j, pyarrow and numpy that PySpark cannot share), so
this file imports only pyflink, the standard library and ``events`` (numpy). Submitted as a script:
``flink run -py`` on a cluster, or run by ``.venv-flink/bin/python`` on Flink's embedded mini-cluster.

Exactly-once: the filesystem source keeps the files and offsets it has read in checkpoints; the sink's
part files become visible only when the checkpoint that covers them completes; a partition is committed
(``_SUCCESS``) once the watermark passes its window end plus the delay. A job
restarted from its last retained checkpoint therefore neither loses nor repeats an event.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

# The job plans on the client (``flink run`` or the mini-cluster's process), which has this checkout.
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from airflow_mlplat.realtime.events import EVENT_SCHEMA  # noqa: E402  (stdlib + numpy only)
from airflow_mlplat.realtime.windows import window_problem  # noqa: E402


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="flink_job.py", description=__doc__.splitlines()[0])
    parser.add_argument("--source", required=True, help="folder of JSON-lines files (file:// or a path), or kafka")
    parser.add_argument("--sink", required=True, help="the partitioned table's root folder")
    parser.add_argument("--window-minutes", type=int, default=10, help="partition length; divides 60")
    parser.add_argument("--lateness-seconds", type=int, default=5, help="watermark delay behind the max event time")
    parser.add_argument("--checkpoint-interval", default="60 s", help="shorter than the window")
    parser.add_argument("--checkpoint-dir", required=True, help="retained checkpoints (restart from the newest)")
    parser.add_argument("--restore-from", default="", help="a checkpoint (chk-N folder) to resume from")
    parser.add_argument("--monitor-interval", default="1 s", help="how often the source folder is listed")
    parser.add_argument(
        "--commit-policy",
        default="success-file",
        choices=["success-file", "metastore,success-file"],
        help="metastore needs the table in a HiveCatalog (flink-sql-connector-hive on the cluster)",
    )
    parser.add_argument("--format", default="mlplat-parquet", help="mlplat-parquet, or parquet with flink-sql-parquet")
    parser.add_argument("--jars", default="", help="';'-separated jar URLs the job needs (the format and its deps)")
    parser.add_argument("--kafka-topic", default="behaviour_log")
    parser.add_argument("--kafka-servers", default="")
    parser.add_argument("--rest-port", type=int, default=0, help="mini-cluster only: its REST API port")
    parser.add_argument("--job-info", default="", help="write {job_id, rest_url} here once submitted")
    parser.add_argument("--parallelism", type=int, default=1)
    parser.add_argument("--no-wait", action="store_true", help="return once submitted (flink run -d)")
    args = parser.parse_args(argv)
    problem = window_problem(args.window_minutes)
    if problem:
        parser.error(f"--window-minutes {args.window_minutes}: {problem}")
    if args.source == "kafka" and not args.kafka_servers:
        parser.error("--source kafka needs --kafka-servers HOST:PORT[,HOST:PORT]")
    if "metastore" in args.commit_policy:
        parser.error(
            "--commit-policy metastore,success-file: the metastore policy registers partitions only for tables "
            "in a HiveCatalog, which needs flink-sql-connector-hive (a Maven jar this build does not ship); "
            "use success-file and add the partition from Airflow (e.g. run_hiveql) instead"
        )
    interval = duration_seconds(args.checkpoint_interval)
    if interval is None or not 0 < interval < args.window_minutes * 60:
        parser.error(
            f"--checkpoint-interval {args.checkpoint_interval!r}: must be a duration such as '30 s' or '500 ms', "
            f"shorter than the {args.window_minutes}-minute window"
        )
    return args


def duration_seconds(text: str) -> float | None:
    """Seconds in a Flink duration such as ``500 ms``, ``30 s``, ``2 min``; None when unreadable."""
    units = {"ms": 0.001, "s": 1.0, "min": 60.0}
    number = text.strip().rstrip("abcdefghijklmnopqrstuvwxyz").strip()
    unit = text.strip()[len(number) :].strip() or "ms"
    try:
        return float(number) * units[unit]
    except (ValueError, KeyError):
        return None


def as_url(location: str) -> str:
    return location if "://" in location else Path(location).absolute().as_uri()


def source_ddl(args: argparse.Namespace, *, group_id: str = "mlplat-behaviour-log") -> str:
    """The ``behaviour_log`` table: ``args.source`` (a JSON-lines folder, or kafka) with its event-time watermark.

    Every job reading the stream declares it with this; a Kafka job names its own consumer ``group_id``.
    """
    columns = ",\n  ".join(f"`{name}` {sql_type}" for name, sql_type in EVENT_SCHEMA)
    if args.source == "kafka":
        # Production: needs flink-sql-connector-kafka on the cluster's classpath (see docs/realtime.md).
        options = {
            "connector": "kafka",
            "topic": args.kafka_topic,
            "properties.bootstrap.servers": args.kafka_servers,
            "properties.group.id": group_id,
            "scan.startup.mode": "group-offsets",
            "properties.auto.offset.reset": "earliest",
            "format": "json",
        }
    else:
        options = {
            "connector": "filesystem",
            "path": as_url(args.source),
            "format": "json",
            "source.monitor-interval": args.monitor_interval,
        }
    options["json.timestamp-format.standard"] = "ISO-8601"
    return (
        f"CREATE TEMPORARY TABLE behaviour_log (\n  {columns},\n"
        f"  WATERMARK FOR event_time AS event_time - INTERVAL '{args.lateness_seconds}' SECOND\n"
        f") WITH ({with_clause(options)})"
    )


def sink_ddl(args: argparse.Namespace) -> str:
    columns = ",\n  ".join(f"`{name}` {sql_type}" for name, sql_type in EVENT_SCHEMA)
    options = {
        "connector": "filesystem",
        "path": as_url(args.sink),
        "format": args.format,
        "partition.time-extractor.timestamp-pattern": "$dt $hm",
        "partition.time-extractor.timestamp-formatter": "yyyy-MM-dd HHmm",
        "sink.partition-commit.trigger": "partition-time",
        "sink.partition-commit.delay": f"{args.window_minutes} min",
        "sink.partition-commit.watermark-time-zone": "UTC",
        "sink.partition-commit.policy.kind": args.commit_policy,
        "sink.rolling-policy.file-size": "128MB",
    }
    return (
        f"CREATE TEMPORARY TABLE behaviour_partitions (\n  {columns},\n  dt STRING,\n  hm STRING\n"
        f") PARTITIONED BY (dt, hm) WITH ({with_clause(options)})"
    )


def insert_sql(args: argparse.Namespace) -> str:
    names = ", ".join(f"`{name}`" for name, _ in EVENT_SCHEMA)
    window_start = f"TIMESTAMPADD(MINUTE, -MOD(EXTRACT(MINUTE FROM event_time), {args.window_minutes}), event_time)"
    return (
        f"INSERT INTO behaviour_partitions SELECT {names}, "
        f"DATE_FORMAT(event_time, 'yyyy-MM-dd') AS dt, DATE_FORMAT({window_start}, 'HHmm') AS hm "
        "FROM behaviour_log"
    )


def with_clause(options: dict[str, str]) -> str:
    def quoted(text: str) -> str:
        return "'" + text.replace("'", "''") + "'"

    return ", ".join(f"{quoted(key)} = {quoted(value)}" for key, value in options.items())


def flink_configuration(args: argparse.Namespace) -> dict[str, str]:
    conf = {
        "execution.runtime-mode": "streaming",
        "parallelism.default": str(args.parallelism),
        "table.local-time-zone": "UTC",
        "execution.checkpointing.interval": args.checkpoint_interval,
        "execution.checkpointing.mode": "EXACTLY_ONCE",
        "execution.checkpointing.dir": as_url(args.checkpoint_dir),
        "execution.checkpointing.externalized-checkpoint-retention": "RETAIN_ON_CANCELLATION",
        "execution.checkpointing.num-retained": "2",
        "state.backend.type": "hashmap",
        "pipeline.name": "mlplat-behaviour-partitions",
    }
    if args.jars:
        conf["pipeline.jars"] = args.jars
    if args.restore_from:
        conf["execution.state-recovery.path"] = as_url(args.restore_from)
    if args.rest_port:
        conf.update({"rest.bind-address": "127.0.0.1", "rest.address": "127.0.0.1", "rest.port": str(args.rest_port)})
    return conf


def write_job_info(path: str, info: dict[str, str]) -> None:
    target = Path(path)
    temporary = target.with_name(f".{target.name}.tmp")
    temporary.write_text(json.dumps(info))
    os.replace(temporary, target)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from pyflink.common import Configuration
    from pyflink.table import EnvironmentSettings, TableEnvironment

    conf = Configuration()
    for key, value in flink_configuration(args).items():
        conf.set_string(key, value)
    settings = EnvironmentSettings.new_instance().in_streaming_mode().with_configuration(conf).build()
    table_env = TableEnvironment.create(settings)
    table_env.execute_sql(source_ddl(args))
    table_env.execute_sql(sink_ddl(args))
    result = table_env.execute_sql(insert_sql(args))
    job_id = str(result.get_job_client().get_job_id())
    rest_url = f"http://127.0.0.1:{args.rest_port}" if args.rest_port else ""
    print(f"mlplat-flink-job-id {job_id}", flush=True)
    if args.job_info:
        write_job_info(args.job_info, {"job_id": job_id, "rest_url": rest_url, "pid": str(os.getpid())})
    if not args.no_wait:
        result.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
