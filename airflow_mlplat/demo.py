"""``make demo``: the purchase-intent GBDT DAG end to end on this machine, then its results and a served model.

Starts a local Hive metastore and an MLflow tracking server (127.0.0.1, state under ``.demo/``),
runs ``dags/purchase_intent_gbdt.py`` with ``dag.test()`` on a SQLite metadata DB (generate
synthetic browsing behaviour into a Hive partition, then the pipeline: cast, split, imputer,
GBDT, predict, evaluate, feature importance; the run is tracked and the model registered with
a PMML verified against Spark), serves the registered version with the prediction service,
answers one example request, and prints the test AUC, the feature importance, the curl and
where everything is. Servers are stopped at the end unless ``--keep-serving``.

The console gets one line per step and the results; everything else the run writes (Airflow's
task logs, spark-submit's output, the servers' start-up) goes to ``demo.log`` in the run's
folder under ``HOME/runs/``, whose path is printed. ``--verbose`` keeps it all on the console.

    python -m airflow_mlplat.demo [--rows 200000] [--home .demo] [--keep-serving] [--verbose]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

from airflow_mlplat.local_run import configure_airflow

DAG_ID = "purchase_intent_gbdt_synthetic"
SERVICE = "purchase-intent"
#: One user's browsing behaviour: the registered model's raw input columns.
EXAMPLE_ROW = {
    "duration": 412.0,
    "freqs_rank": 3.0,
    "page_views": 27.0,
    "visit_days": 5.0,
    "compare_clicks": 4.0,
    "dealer_calls": 1.0,
    "price_views": 9.0,
    "image_views": 31.0,
}


#: Where the demo's own lines go: the console, also while everything else is sent to the log file.
_console: TextIO = sys.stdout


def say(*parts: object) -> None:
    """Print a line of the demo's output to the console (never into the log file)."""
    print(*parts, file=_console, flush=True)


@contextlib.contextmanager
def _logs_to(log_file: Path, *, verbose: bool) -> Iterator[None]:
    """Send this process's stdout and stderr, and its children's, to ``log_file``; ``say`` keeps the console.

    Redirects the file descriptors, not just ``sys.stdout``: spark-submit's output, Airflow's
    task logs and the servers' start-up messages are written by child processes and by handlers
    that captured the streams earlier.
    """
    global _console
    if verbose:
        yield
        return
    log_file.parent.mkdir(parents=True, exist_ok=True)
    sys.stdout.flush()
    sys.stderr.flush()
    saved_out, saved_err = os.dup(1), os.dup(2)
    previous = _console
    _console = os.fdopen(os.dup(saved_out), "w", buffering=1)
    with open(log_file, "ab", buffering=0) as log:
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
        try:
            yield
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved_out, 1)
            os.dup2(saved_err, 2)
            os.close(saved_out)
            os.close(saved_err)
            _console.close()
            _console = previous


def _print_results(report_path: Path) -> None:
    import pandas as pd

    report = json.loads(report_path.read_text())
    metrics = report["metrics"]["evaluate"]
    say()
    master = report["spark"]["master"]
    say(f"=== {report['pipeline']}: {report['status']} in {report['seconds']:.1f}s (Spark master {master})")
    say(f"test AUC (ROC): {metrics['auc_roc']:.4f}   AUC (PR): {metrics['auc_pr']:.4f}   KS: {metrics['ks']:.4f}")
    say(
        f"accuracy {metrics['accuracy']:.4f}  precision {metrics['precision']:.4f}  recall {metrics['recall']:.4f}"
        f"  F1 {metrics['f1']:.4f}  on {metrics['rows']} held-out rows"
    )
    say(f"confusion matrix: {metrics['confusion_matrix']}")
    say()
    say("feature importance:")
    table = pd.read_parquet(report["outputs"]["feature_importance"]).sort_values("rank")
    say(table.to_string(index=False))
    say()
    say("node timings:")
    for node_id, node in report["nodes"].items():
        say(f"  {node_id:12} {node['component']:34} {node['status']:8} {node['seconds']:6.1f}s")
    say()
    say("artifacts:")
    say(f"  run report           {report_path}")
    for name, url in report["outputs"].items():
        say(f"  {name:20} {url}")
    for node_id, node in report["nodes"].items():
        for url in node.get("artifacts", []):
            say(f"  {node_id + ' plot':20} {url}")


def _start_services(home: Path) -> tuple[object, str]:
    """The local Hive metastore and MLflow server, and the connections the DAG's tasks use."""
    from airflow_mlplat.services.hive import LocalHive, connection_uris, start_metastore
    from airflow_mlplat.services.mlflow_server import start_mlflow

    root = home / "services"
    hive = LocalHive(root / "hive")
    say(f"starting the Hive metastore and the MLflow server under {root} ...")
    start_metastore(hive)
    tracking_uri = start_mlflow(root)
    os.environ["AIRFLOW_CONN_METASTORE_DEFAULT"] = connection_uris(hive)["metastore_default"]
    os.environ["AIRFLOW_CONN_MLFLOW_DEFAULT"] = tracking_uri
    say(f"  Hive metastore {hive.metastore_uri}, warehouse {hive.warehouse.as_uri()}")
    say(f"  MLflow {tracking_uri}")
    return hive, tracking_uri


def _stop_services(home: Path, hive: object) -> None:
    from airflow_mlplat.hooks.model_service import LocalModelServiceHook
    from airflow_mlplat.services.hive import stop_hive
    from airflow_mlplat.services.mlflow_server import stop_mlflow

    LocalModelServiceHook(home / "services" / "models").stop(SERVICE)
    stop_mlflow(home / "services")
    stop_hive(hive)


def _serve_and_ask(home: Path, tracking: dict, tracking_uri: str) -> None:
    """Serve the registered version locally and answer one request, as the README's curl does."""
    import urllib.request

    from airflow_mlplat.hooks.model_service import LocalModelServiceHook

    registered = tracking["registered_model"]
    pmml = registered.get("pmml") or {}
    say(f"registered model: {registered['name']} version {registered['version']} in {tracking_uri}")
    say(f"  MLflow run {tracking_uri}/#/experiments/{tracking.get('experiment_id', '')}/runs/{tracking['run_id']}")
    if pmml:
        say(f"  PMML verified against Spark on {pmml['verified_rows']} rows, max |diff| {pmml['max_abs_diff']:.2e}")
    reference = f"models:/{registered['name']}/{registered['version']}"
    service = LocalModelServiceHook(home / "services" / "models").deploy(
        SERVICE, [reference], tracking_uri=tracking_uri, poll_interval=5.0
    )
    url = service["url"]
    body = json.dumps(EXAMPLE_ROW)
    request = urllib.request.Request(f"{url}/predict", body.encode(), {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        answer = json.load(response)
    say()
    say(f"prediction service for {reference}: {url} (pid {service['pid']})")
    say(f"$ curl -s {url}/predict -H 'Content-Type: application/json' -d '{body}'")
    say(json.dumps(answer))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000, help="rows of synthetic behaviour to generate")
    parser.add_argument("--home", type=Path, default=Path(".demo"), help="where the demo's Airflow DB and runs go")
    parser.add_argument("--dags-folder", type=Path, default=Path("dags"))
    parser.add_argument(
        "--keep-serving", action="store_true", help="leave Hive, MLflow and the model service running at the end"
    )
    parser.add_argument("--stop", action="store_true", help="stop what --keep-serving left running, then exit")
    parser.add_argument(
        "--verbose", action="store_true", help="show Spark's, Airflow's and the servers' logs on the console too"
    )
    args = parser.parse_args(argv)
    home, dags_folder = args.home.resolve(), args.dags_folder.resolve()
    configure_airflow(home, dags_folder)
    if args.stop:
        from airflow_mlplat.services.hive import LocalHive

        _stop_services(home, LocalHive(home / "services" / "hive"))
        return 0
    log_file = home / "runs" / f"demo-{time.strftime('%Y%m%dT%H%M%S')}" / "demo.log"
    if not args.verbose:
        say(f"logs (Airflow tasks, spark-submit, servers): {log_file}  (--verbose shows them here)")
    with _logs_to(log_file, verbose=args.verbose):
        hive, tracking_uri = _start_services(home)
        try:
            return _run(args, home, dags_folder, tracking_uri)
        finally:
            if args.keep_serving:
                say(
                    f"left running: Hive, MLflow ({tracking_uri}) and the model service; stop them with "
                    "`make demo-down`"
                )
            else:
                say("stopping the servers ...")
                _stop_services(home, hive)
            if not args.verbose:
                say(f"full logs: {log_file}")


def _run(args: argparse.Namespace, home: Path, dags_folder: Path, tracking_uri: str) -> int:
    from airflow_mlplat.local_run import load_dags, migrate_db, run_dag, xcom_value

    started = time.perf_counter()
    say(f"preparing the Airflow metadata DB under {home / 'airflow'} ...")
    migrate_db()
    dag = load_dags(dags_folder).get_dag(DAG_ID)
    say(f"running DAG {DAG_ID} with rows={args.rows} ...")
    dag_run = run_dag(dag, run_conf={"rows": args.rows})
    say(f"DAG run {dag_run.run_id}: {dag_run.state} in {time.perf_counter() - started:.0f}s")
    for ti in sorted(dag_run.get_task_instances(), key=lambda ti: (ti.start_date is None, ti.start_date)):
        seconds = f"{ti.duration:6.1f}s" if ti.duration is not None else "      -"
        say(f"  task {ti.task_id:24} {str(ti.state):16} {seconds}")
    if str(dag_run.state) != "success":
        say("the demo DAG failed; see the task logs in the log file named above")
        return 1
    _print_results(Path(xcom_value(dag_run, "train", "report_path")))
    _serve_and_ask(home, xcom_value(dag_run, "train", "tracking"), tracking_uri)
    return 0


if __name__ == "__main__":
    sys.exit(main())
