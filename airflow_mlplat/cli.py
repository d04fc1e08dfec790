"""``airflow-mlplat``: the platform's command line.

    airflow-mlplat components list [--category C] [--json]
    airflow-mlplat components show NAME [--json]
    airflow-mlplat components docs [--output docs/components.md] [--check]
    airflow-mlplat components stub [--output airflow_mlplat/sdk/components.pyi] [--check]
    airflow-mlplat validate PIPELINE.json [--params JSON]
    airflow-mlplat run PIPELINE.json --out DIR [--params JSON]
    airflow-mlplat pipeline to-python PIPELINE.json [--output FILE.py]
    airflow-mlplat promotions MODEL [--tracking-uri URI] [--json]
    airflow-mlplat models upload PATH --name NAME --format onnx|torchscript|savedmodel|paddle [--feature-map F]
    airflow-mlplat train submit|status|logs|export|kill ...   (see airflow_mlplat/launcher/cli.py)
    airflow-mlplat notebook [--port N] [--notebook-dir DIR] [--detach | --stop]

Nothing here imports Spark except ``run``.
"""

from __future__ import annotations

import argparse
import contextlib
import difflib
import json
import os
import sys
from pathlib import Path

from airflow_mlplat.components.catalogue import by_category, render_markdown, render_text
from airflow_mlplat.components.registry import iter_components, load_components
from airflow_mlplat.engine import cli as engine_cli
from airflow_mlplat.launcher.cli import add_train_commands
from airflow_mlplat.modelzoo.formats import FORMATS

DOCS_PATH = Path("docs") / "components.md"


def _list(args: argparse.Namespace) -> int:
    specs = list(iter_components(args.category))
    if args.category and not specs:
        known = sorted({s.category for s in iter_components()})
        print(f"no category {args.category!r}; categories: {', '.join(known)}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps([s.to_dict() for s in specs], indent=2, default=str))
        return 0
    for category, members in by_category(specs).items():
        print(f"{category} ({len(members)})")
        for spec in members:
            print(f"  {spec.name:34} {spec.summary}")
    print(f"{len(specs)} components")
    return 0


def _show(args: argparse.Namespace) -> int:
    catalogue = load_components()
    spec = catalogue.get(args.name)
    if spec is None:
        close = difflib.get_close_matches(args.name, list(catalogue), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        print(f"unknown component {args.name!r}{hint}", file=sys.stderr)
        return 2
    print(json.dumps(spec.to_dict(), indent=2, default=str) if args.json else render_text(spec))
    return 0


def _docs(args: argparse.Namespace) -> int:
    text = render_markdown(iter_components())
    if args.check:
        current = args.output.read_text() if args.output.exists() else ""
        if current != text:
            print(f"{args.output} is out of date: run `airflow-mlplat components docs`", file=sys.stderr)
            return 1
        print(f"{args.output} is up to date")
        return 0
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text)
    print(f"wrote {args.output}")
    return 0


def _stub(args: argparse.Namespace) -> int:
    from airflow_mlplat.sdk.stub import STUB_PATH, render_stub

    text = render_stub()
    output = args.output or STUB_PATH
    if args.check:
        if (output.read_text() if output.exists() else "") != text:
            print(f"{output} is out of date: run `airflow-mlplat components stub`", file=sys.stderr)
            return 1
        print(f"{output} is up to date")
        return 0
    output.write_text(text)
    print(f"wrote {output}")
    return 0


def _to_python(args: argparse.Namespace) -> int:
    from airflow_mlplat.pipeline import load_pipeline
    from airflow_mlplat.pipeline.errors import PipelineValidationError
    from airflow_mlplat.sdk.to_python import pipeline_to_python, round_trip_difference

    doc = load_pipeline(args.pipeline)
    try:
        code = pipeline_to_python(doc)
    except PipelineValidationError as err:
        raise PipelineValidationError(err.problems, args.pipeline) from None
    difference = round_trip_difference(doc, code)
    if difference:
        print(f"note: {args.pipeline}: {difference}", file=sys.stderr)
    if args.output is None:
        sys.stdout.write(code)
    else:
        args.output.write_text(code)
        print(f"wrote {args.output}", file=sys.stderr)
    return 0


def _promotions(args: argparse.Namespace) -> int:
    from airflow_mlplat.gating import promotion_history
    from airflow_mlplat.tracking import resolve_tracking_uri

    uri = args.tracking_uri or resolve_tracking_uri()
    if not uri:
        print("no MLflow server: pass --tracking-uri or set MLFLOW_TRACKING_URI", file=sys.stderr)
        return 2
    history = promotion_history(args.model, uri)
    if args.json:
        print(json.dumps(history, indent=2, default=str))
        return 0
    for h in history:
        values = f"{h['metric']} {h['candidate_value']} vs {h['champion_value']}"
        print(f"{h['when'][:19]}  {h['decision']:8}  v{h['candidate']} over {h['champion'] or '-'}  {values}  "
              f"{h['who']}  {h['reason']}")  # fmt: skip
    print(f"{len(history)} decisions for {args.model}")
    return 0


def _upload(args: argparse.Namespace) -> int:
    from airflow_mlplat.modelzoo.formats import UploadError
    from airflow_mlplat.modelzoo.upload import upload_model

    try:
        with contextlib.redirect_stdout(sys.stderr):  # MLflow prints run links: stdout holds only the result
            registered = upload_model(
                args.path,
                name=args.name,
                fmt=args.format,
                tracking_uri=args.tracking_uri,
                description=args.description,
                feature_map=args.feature_map,
                tasks=[t for t in args.tasks.split(",") if t] if args.tasks else None,
            )
    except UploadError as err:
        print(f"upload refused: {err}", file=sys.stderr)
        return 2
    print(json.dumps(registered, indent=1))
    return 0


def _notebook(args: argparse.Namespace) -> int:
    import signal
    import time

    from airflow_mlplat.services.jupyter import running_jupyter, start_jupyter, stop_jupyter
    from airflow_mlplat.services.process import ServiceError, pid_alive

    if args.stop:
        print("JupyterLab stopped" if stop_jupyter(args.root) else "JupyterLab was not running")
        return 0
    try:
        lab = running_jupyter(args.root) or start_jupyter(args.root, port=args.port, notebook_dir=args.notebook_dir)
    except ServiceError as err:
        print(err, file=sys.stderr)
        return 1
    print(f"JupyterLab (pid {lab.pid}, kernel 'airflow-mlplat' on {sys.executable}): {lab.url}", flush=True)
    if args.detach:
        print(f"stop it with: airflow-mlplat notebook --stop --root {args.root}")
        return 0
    print("Ctrl-C stops it.", flush=True)
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # `kill` stops it as Ctrl-C does
    try:
        while pid_alive(lab.pid):
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    finally:
        stop_jupyter(args.root)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="airflow-mlplat", description="The airflow-mlplat command line.")
    sub = parser.add_subparsers(dest="command", required=True)
    components = sub.add_parser("components", help="the component catalogue").add_subparsers(
        dest="action", required=True
    )
    listing = components.add_parser("list", help="list components by category")
    listing.add_argument("--category")
    listing.add_argument("--json", action="store_true", help="full declarations as JSON")
    listing.set_defaults(func=_list)
    show = components.add_parser("show", help="one component: description, ports, parameters")
    show.add_argument("name")
    show.add_argument("--json", action="store_true")
    show.set_defaults(func=_show)
    docs = components.add_parser("docs", help="generate the Markdown catalogue")
    docs.add_argument("--output", type=Path, default=DOCS_PATH)
    docs.add_argument("--check", action="store_true", help="fail if the file differs from the registry")
    docs.set_defaults(func=_docs)
    stub = components.add_parser("stub", help="generate the SDK's type stub (IDE completion) from the registry")
    stub.add_argument("--output", type=Path, default=None, help="default: airflow_mlplat/sdk/components.pyi")
    stub.add_argument("--check", action="store_true", help="fail if the file differs from the registry")
    stub.set_defaults(func=_stub)
    engine_cli.add_pipeline_commands(sub)
    pipeline = sub.add_parser("pipeline", help="pipeline documents and the Python SDK").add_subparsers(
        dest="pipeline_command", required=True
    )
    to_python = pipeline.add_parser("to-python", help="write the SDK code that builds a pipeline JSON")
    to_python.add_argument("pipeline", help="path of the pipeline JSON")
    to_python.add_argument("--output", type=Path, default=None, help="write the code here (default: stdout)")
    to_python.set_defaults(func=_to_python)
    add_train_commands(sub)
    models = sub.add_parser("models", help="the ModelZoo: deep models in the MLflow registry").add_subparsers(
        dest="models_command", required=True
    )
    upload = models.add_parser("upload", help="register a model file or folder as a new version")
    upload.add_argument("path", help="the model: an .onnx or TorchScript file, a SavedModel or Paddle model folder")
    upload.add_argument("--name", required=True, help="the registered model's name")
    upload.add_argument("--format", required=True, choices=FORMATS)
    upload.add_argument("--tracking-uri", default=None, help="MLflow (default $MLFLOW_TRACKING_URI)")
    upload.add_argument("--description", default="")
    upload.add_argument(
        "--feature-map", default=None, help="the feature_map.json the model was trained on: serving encodes raw fields"
    )
    upload.add_argument("--tasks", default=None, help="with --feature-map: the labels its outputs predict, in order")
    upload.set_defaults(func=_upload)
    promotions = sub.add_parser("promotions", help="a model's gate decisions (promoted/rejected/stale), newest first")
    promotions.add_argument("model")
    promotions.add_argument("--tracking-uri", help="the MLflow server (default MLFLOW_TRACKING_URI)")
    promotions.add_argument("--json", action="store_true")
    promotions.set_defaults(func=_promotions)
    notebook = sub.add_parser(
        "notebook", help="JupyterLab on 127.0.0.1 with a token, its kernel in this environment (Ctrl-C stops it)"
    )
    notebook.add_argument("--port", type=int, default=8888, help="0: any free port (default %(default)s)")
    notebook.add_argument("--notebook-dir", default=".", help="the folder JupyterLab shows (default: here)")
    notebook.add_argument(
        "--root",
        type=Path,
        default=Path(os.environ.get("MLPLAT_SERVICES_DIR", ".services")),
        help="state folder: pid, token, log (default %(default)s)",
    )
    mode = notebook.add_mutually_exclusive_group()
    mode.add_argument("--detach", action="store_true", help="leave it running in the background and return")
    mode.add_argument("--stop", action="store_true", help="stop the one started with --detach")
    notebook.set_defaults(func=_notebook)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return engine_cli.dispatch(args)


if __name__ == "__main__":
    sys.exit(main())
