"""Command line of the engine: ``python -m airflow_mlplat.engine {validate,run}``.

``run`` is also the spark-submit application (``engine/spark_app.py``).
Exit codes: 0 success, 1 the run failed, 2 the pipeline (or the command line) is invalid.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from typing import Any

from airflow_mlplat.pipeline import PipelineValidationError, load_pipeline, validate_pipeline


def _params(text: str | None) -> dict[str, Any] | None:
    if not text:
        return None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SystemExit(f"--params must be a JSON object: {exc}") from None
    if not isinstance(value, dict):
        raise SystemExit("--params must be a JSON object")
    return value


def _validate(args: argparse.Namespace) -> int:
    validate_pipeline(args.pipeline, source=args.pipeline, params=_params(args.params))
    print(f"{args.pipeline}: valid")
    return 0


def _run(args: argparse.Namespace) -> int:
    from airflow_mlplat.engine.runner import NodeFailed, PreflightFailed, run_pipeline
    from airflow_mlplat.engine.session import get_session
    from airflow_mlplat.ranking.node import check_spark
    from airflow_mlplat.tracking import resolve_tracking_uri
    from airflow_mlplat.tracking.mlflow_run import TrackingFailed

    params = _params(args.params)
    doc = load_pipeline(args.pipeline)
    pipeline = validate_pipeline(doc, source=args.pipeline, params=params)
    check_spark(pipeline, source=args.pipeline)
    spark = get_session(f"mlplat:{pipeline.name}", pipeline.spark_conf)
    try:
        report = run_pipeline(
            pipeline,
            args.out,
            spark=spark,
            params=params,
            count_rows=args.count_rows,
            tracking_uri=resolve_tracking_uri(args.tracking_uri),
            tracking_tags=_params(args.tracking_tags),
        )
    except TrackingFailed as failure:
        print(f"pipeline {pipeline.name} failed: {failure}", file=sys.stderr)
        return 1
    except NodeFailed as failure:
        print(f"pipeline {pipeline.name} failed: {failure}", file=sys.stderr)
        print(failure.report["nodes"][failure.node_id].get("traceback", ""), file=sys.stderr)
        return 1
    except PreflightFailed as refused:
        print(f"pipeline {pipeline.name} did not start: {refused}", file=sys.stderr)
        return 1
    finally:
        if not args.keep_session:
            spark.stop()
    print(json.dumps({"pipeline": pipeline.name, "status": report["status"], "metrics": report["metrics"]}, indent=2))
    return 0


def add_pipeline_commands(sub: argparse._SubParsersAction) -> None:
    """The ``validate`` and ``run`` sub-commands (shared with ``airflow-mlplat``)."""
    validate = sub.add_parser("validate", help="validate a pipeline JSON against the component registry")
    validate.add_argument("pipeline", help="path of the pipeline JSON")
    validate.add_argument("--params", help="JSON object overriding the pipeline's params")
    validate.set_defaults(func=_validate)

    run = sub.add_parser("run", help="run a pipeline in one SparkSession")
    run.add_argument("pipeline", help="path of the pipeline JSON")
    run.add_argument("--out", required=True, help="run directory (path or URL): report.json, outputs/, artifacts/")
    run.add_argument("--params", help="JSON object overriding the pipeline's params")
    run.add_argument("--count-rows", action="store_true", help="count the rows of every table output")
    run.add_argument("--tracking-uri", help="MLflow tracking URI to log the run to (default $MLFLOW_TRACKING_URI)")
    run.add_argument("--tracking-tags", help="JSON object of tags for the MLflow run and model version")
    run.add_argument("--keep-session", action="store_true", help=argparse.SUPPRESS)
    run.set_defaults(func=_run)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m airflow_mlplat.engine", description=__doc__.splitlines()[0])
    add_pipeline_commands(parser.add_subparsers(dest="command", required=True))
    return parser


def dispatch(args: argparse.Namespace) -> int:
    """Run a parsed command; a pipeline validation error is exit code 2 with its message."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("py4j").setLevel(logging.WARNING)
    try:
        return args.func(args)
    except PipelineValidationError as exc:
        print(str(exc), file=sys.stderr)
        return 2


def main(argv: list[str] | None = None) -> int:
    return dispatch(build_parser().parse_args(argv))
