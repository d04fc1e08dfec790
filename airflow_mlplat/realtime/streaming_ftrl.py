"""The streaming FTRL job: learn FTRL-Proximal from the behaviour stream event by event, with progressive validation.

Reads the same ``behaviour_log`` source as the partitions job (``flink_job.source_ddl``: a JSON-lines
folder, or Kafka, with the event-time watermark), keyed on one constant key so one model sees every event.
Events wait in keyed state until the watermark passes them and are then learnt in event-time order (ties
by event id), so the order does not depend on which file the source happened to read first; an event that
arrives behind the watermark is learnt at once and counted as late. For each event the
:class:`~airflow_mlplat.online.progressive.StreamingLearner` imputes and standardises it with the running
statistics, scores it with the current weights (progressive validation), then learns it.

State (checkpointed; a job restored from a checkpoint resumes the same weights):

- ``model``: value state, the learner without its window as one array of doubles (FTRL ``z``/``n`` and
  hyper-parameters, the scaler's moments, the imputer's sums, the counters);
- ``window``: map state, ring slot -> ``[seq, event time ms, score, label, raw features]`` of the last
  ``--metric-window`` events (the sliding AUC and log loss, and the rows the gate scores the champion on);
- ``pending``: map state, event time ms -> the events waiting for the watermark (JSON);
- ``snapshots``: value state, ``[next snapshot timer, events at the last snapshot]``. Each incarnation of
  the job schedules its own snapshot timer on its first event (a timer restored from a checkpoint is
  ignored), so a restored job snapshots on the same interval.

Every ``--snapshot-interval`` of processing time, when it has learnt something new, the job writes a
snapshot atomically under ``--snapshot-dir`` (:mod:`airflow_mlplat.realtime.snapshots`).

Runs under PyFlink in ``.venv-flink``; imports only pyflink, the standard library, numpy and the small
``online``/``realtime`` modules (as ``flink_job.py`` does). ``.venv-flink/bin/python streaming_ftrl.py ...``
runs it on Flink's embedded mini-cluster (the ``FlinkHook`` does that).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from pathlib import Path

# The job plans on the client (``flink run`` or the mini-cluster's process), which has this checkout.
REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT))
from airflow_mlplat.realtime import flink_job  # noqa: E402  (stdlib + numpy only)
from airflow_mlplat.realtime.events import EVENT_SCHEMA, FEATURES  # noqa: E402
from airflow_mlplat.realtime.snapshots import SnapshotError, local_root  # noqa: E402

JOB_NAME = "mlplat-streaming-ftrl"
_COLUMN = {name: index for index, (name, _) in enumerate(EVENT_SCHEMA)}


def positive_number(name: str, kind: type = float):
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name} must be a number, got {text!r}") from None
        if not math.isfinite(value) or value <= 0:
            raise argparse.ArgumentTypeError(f"{name} must be > 0, got {text!r}")
        return value

    return parse


def non_negative(name: str):
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name} must be a number, got {text!r}") from None
        if not math.isfinite(value) or value < 0:
            raise argparse.ArgumentTypeError(f"{name} must be >= 0, got {text!r}")
        return value

    return parse


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="streaming_ftrl.py", description=__doc__.splitlines()[0])
    parser.add_argument("--source", required=True, help="folder of JSON-lines files (file:// or a path), or kafka")
    parser.add_argument("--snapshot-dir", required=True, help="where snapshots go (a path or file:// URL)")
    parser.add_argument(
        "--snapshot-interval",
        default="60 s",
        help="processing time between snapshots, a Flink duration such as '60 s' or '500 ms'",
    )
    parser.add_argument(
        "--metric-window", type=positive_number("--metric-window", int), default=2000, help="events in the metrics"
    )
    parser.add_argument("--alpha", type=positive_number("--alpha"), default=0.1, help="FTRL learning rate scale")
    parser.add_argument("--beta", type=non_negative("--beta"), default=1.0, help="FTRL learning rate smoothing")
    parser.add_argument("--l1", type=non_negative("--l1"), default=0.0, help="FTRL L1 regularisation")
    parser.add_argument("--l2", type=non_negative("--l2"), default=0.0, help="FTRL L2 regularisation")
    parser.add_argument("--lateness-seconds", type=int, default=5, help="watermark delay behind the max event time")
    parser.add_argument("--checkpoint-interval", default="60 s", help="a Flink duration")
    parser.add_argument("--checkpoint-dir", required=True, help="retained checkpoints (restart from the newest)")
    parser.add_argument("--restore-from", default="", help="a checkpoint (chk-N folder) to resume from")
    parser.add_argument("--monitor-interval", default="1 s", help="how often the source folder is listed")
    parser.add_argument("--jars", default="", help="';'-separated jar URLs the job needs (e.g. the Kafka connector)")
    parser.add_argument("--kafka-topic", default="behaviour_log")
    parser.add_argument("--kafka-servers", default="")
    parser.add_argument("--kafka-group", default="mlplat-streaming-ftrl", help="the job's own consumer group")
    parser.add_argument("--rest-port", type=int, default=0, help="mini-cluster only: its REST API port")
    parser.add_argument("--job-info", default="", help="write {job_id, rest_url, pid} here once submitted")
    parser.add_argument("--no-wait", action="store_true", help="return once submitted (flink run -d)")
    args = parser.parse_args(argv)
    args.parallelism = 1  # one model: every event goes through the same keyed operator
    if args.source == "kafka" and not args.kafka_servers:
        parser.error("--source kafka needs --kafka-servers HOST:PORT[,HOST:PORT]")
    if args.lateness_seconds < 0:
        parser.error(f"--lateness-seconds {args.lateness_seconds}: must be >= 0")
    for option in ("snapshot_interval", "checkpoint_interval"):
        text = getattr(args, option)
        seconds = flink_job.duration_seconds(text)
        if seconds is None or not seconds > 0:
            flag = "--" + option.replace("_", "-")
            parser.error(f"{flag} {text!r}: must be a duration > 0 such as '60 s' or '500 ms'")
        setattr(args, f"{option}_ms", max(1, int(round(seconds * 1000))))
    try:
        local_root(args.snapshot_dir, what="--snapshot-dir")
    except SnapshotError as error:
        parser.error(str(error))
    return args


def flink_configuration(args: argparse.Namespace) -> dict[str, str]:
    conf = flink_job.flink_configuration(args)
    conf["pipeline.name"] = JOB_NAME
    # The Python workers run this interpreter, and import this checkout's modules.
    conf["python.executable"] = sys.executable
    conf["python.client.executable"] = sys.executable
    return conf


def event_features(row) -> list[float]:
    return [math.nan if row[_COLUMN[name]] is None else float(row[_COLUMN[name]]) for name in FEATURES]


def make_learner_function(args: argparse.Namespace):
    """The keyed process function (built here so that only plain values travel to the Python workers)."""
    from pyflink.common import Types
    from pyflink.datastream import KeyedProcessFunction, TimeDomain
    from pyflink.datastream.state import MapStateDescriptor, ValueStateDescriptor

    settings = {
        "window": args.metric_window,
        "alpha": args.alpha,
        "beta": args.beta,
        "l1": args.l1,
        "l2": args.l2,
        "interval_ms": args.snapshot_interval_ms,
        "snapshot_dir": str(local_root(args.snapshot_dir)),
        "source": args.source if args.source == "kafka" else flink_job.as_url(args.source),
        "lateness_seconds": args.lateness_seconds,
    }

    class StreamingFtrl(KeyedProcessFunction):
        def open(self, runtime_context) -> None:
            doubles = Types.PRIMITIVE_ARRAY(Types.DOUBLE())
            self.model = runtime_context.get_state(ValueStateDescriptor("model", doubles))
            self.window = runtime_context.get_map_state(MapStateDescriptor("window", Types.INT(), doubles))
            self.pending = runtime_context.get_map_state(MapStateDescriptor("pending", Types.LONG(), Types.STRING()))
            self.snapshots = runtime_context.get_state(
                ValueStateDescriptor("snapshots", Types.PRIMITIVE_ARRAY(Types.LONG()))
            )
            self.learner = None  # the working copy of the state, loaded on the first call after (re)start
            self.scheduled = False  # whether this incarnation has scheduled its snapshot timer

        def _learner(self):
            from airflow_mlplat.online.progressive import StreamingLearner

            if self.learner is None:
                vector = self.model.value()
                if vector is None:
                    self.learner = StreamingLearner(
                        len(FEATURES),
                        window=settings["window"],
                        **{k: settings[k] for k in ("alpha", "beta", "l1", "l2")},
                    )
                else:
                    self.learner = StreamingLearner.from_model_vector(vector, dict(self.window.items()))
            return self.learner

        def _learn(self, features, label, time_ms, late=False) -> None:
            learner = self._learner()
            learner.learn_one(features, label, time_ms, late=late)
            slot = learner.slot(learner.events)
            self.window.put(slot, learner.rows[slot].tolist())
            self.model.update(learner.model_vector())

        def process_element(self, value, ctx):
            time_ms = ctx.timestamp()
            event = [value[_COLUMN["event_id"]], event_features(value), value[_COLUMN["label"]]]
            if event[2] is None:
                return  # an event without a label cannot be learnt or validated
            timers = ctx.timer_service()
            if not self.scheduled:  # once per (re)start: a restored job does not rely on restored timers
                marks = list(self.snapshots.value() or [0, 0])
                marks[0] = timers.current_processing_time() + settings["interval_ms"]
                timers.register_processing_time_timer(marks[0])
                self.snapshots.update(marks)
                for waiting_ms in list(self.pending.keys()):  # events that waited when the checkpoint was taken
                    timers.register_event_time_timer(waiting_ms)
                self.scheduled = True
            if time_ms <= timers.current_watermark():
                self._learn(event[1], event[2], time_ms, late=True)
                return
            waiting = self.pending.get(time_ms)
            queued = json.loads(waiting) if waiting else []
            queued.append(event)
            self.pending.put(time_ms, json.dumps(queued, allow_nan=True))
            if waiting is None:
                timers.register_event_time_timer(time_ms)

        def on_timer(self, timestamp, ctx):
            if ctx.time_domain() == TimeDomain.EVENT_TIME:
                waiting = self.pending.get(timestamp)
                if waiting is not None:
                    self.pending.remove(timestamp)
                    for _, features, label in sorted(json.loads(waiting), key=lambda e: e[0]):
                        self._learn(features, label, timestamp)
                return
            marks = list(self.snapshots.value() or [0, 0])
            if timestamp != marks[0]:
                return  # a timer of an earlier incarnation of the job: this one has its own
            learner = self._learner()
            if learner.events > marks[1]:
                yield self._snapshot(learner)
                marks[1] = learner.events
            marks[0] = timestamp + settings["interval_ms"]
            ctx.timer_service().register_processing_time_timer(marks[0])
            self.snapshots.update(marks)

        def _snapshot(self, learner) -> str:
            from airflow_mlplat.realtime.snapshots import write_snapshot

            metrics = learner.metrics()
            info = {
                **metrics,
                "features": list(FEATURES),
                "hyper_parameters": learner.ftrl.hyper_parameters,
                "source": settings["source"],
                "lateness_seconds": settings["lateness_seconds"],
                "snapshot_interval_ms": settings["interval_ms"],
                "progressive": True,
            }
            folder = write_snapshot(settings["snapshot_dir"], learner.to_arrays(), info)
            return json.dumps({"snapshot": str(folder), "events": metrics["events"], "auc_roc": metrics["auc_roc"]})

    return StreamingFtrl()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH", "")]))
    from pyflink.common import Configuration, Types
    from pyflink.datastream import StreamExecutionEnvironment
    from pyflink.table import StreamTableEnvironment

    conf = Configuration()
    for key, value in flink_configuration(args).items():
        conf.set_string(key, value)
    env = StreamExecutionEnvironment.get_execution_environment(conf)
    env.set_parallelism(1)
    table_env = StreamTableEnvironment.create(env)
    table_env.get_config().set("table.local-time-zone", "UTC")
    table_env.execute_sql(flink_job.source_ddl(args, group_id=args.kafka_group))
    events = table_env.to_data_stream(table_env.from_path("behaviour_log"))
    snapshots = events.key_by(lambda row: 0, key_type=Types.INT()).process(
        make_learner_function(args), output_type=Types.STRING()
    )
    snapshots.name("streaming-ftrl").print()
    client = env.execute_async(JOB_NAME)
    job_id = str(client.get_job_id())
    rest_url = f"http://127.0.0.1:{args.rest_port}" if args.rest_port else ""
    print(f"mlplat-flink-job-id {job_id}", flush=True)
    if args.job_info:
        flink_job.write_job_info(args.job_info, {"job_id": job_id, "rest_url": rest_url, "pid": str(os.getpid())})
    if not args.no_wait:
        client.get_job_execution_result().result()
    return 0


if __name__ == "__main__":
    sys.exit(main())
