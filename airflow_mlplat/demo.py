"""``make demo``: the purchase-intent GBDT DAG end to end on this machine, then its results.

Runs ``dags/purchase_intent_gbdt.py`` (generate synthetic browsing behaviour, then the
pipeline: cast, split, GBDT, predict, evaluate, feature importance) with ``dag.test()`` on a
SQLite metadata DB under ``.demo/``, and prints the test AUC, the feature-importance table
and where the artifacts are.

    python -m airflow_mlplat.demo [--rows 200000] [--home .demo]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

DAG_ID = "purchase_intent_gbdt_synthetic"


def _configure(home: Path, dags_folder: Path) -> None:
    # Airflow reads these when first imported: set them before anything imports it.
    airflow_home = home / "airflow"
    airflow_home.mkdir(parents=True, exist_ok=True)
    os.environ["AIRFLOW_HOME"] = str(airflow_home)
    os.environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = f"sqlite:///{airflow_home / 'airflow.db'}"
    os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(dags_folder)
    os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
    os.environ["AIRFLOW__DATABASE__LOAD_DEFAULT_CONNECTIONS"] = "False"
    os.environ["MLPLAT_RUN_ROOT"] = str(home / "runs")
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ["PATH"] = os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", "")


def _print_results(report_path: Path) -> None:
    import pandas as pd

    report = json.loads(report_path.read_text())
    metrics = report["metrics"]["evaluate"]
    print()
    master = report["spark"]["master"]
    print(f"=== {report['pipeline']}: {report['status']} in {report['seconds']:.1f}s (Spark master {master})")
    print(f"test AUC (ROC): {metrics['auc_roc']:.4f}   AUC (PR): {metrics['auc_pr']:.4f}   KS: {metrics['ks']:.4f}")
    print(
        f"accuracy {metrics['accuracy']:.4f}  precision {metrics['precision']:.4f}  recall {metrics['recall']:.4f}"
        f"  F1 {metrics['f1']:.4f}  on {metrics['rows']} held-out rows"
    )
    print(f"confusion matrix: {metrics['confusion_matrix']}")
    print()
    print("feature importance:")
    table = pd.read_parquet(report["outputs"]["feature_importance"]).sort_values("rank")
    print(table.to_string(index=False))
    print()
    print("node timings:")
    for node_id, node in report["nodes"].items():
        print(f"  {node_id:12} {node['component']:34} {node['status']:8} {node['seconds']:6.1f}s")
    print()
    print("artifacts:")
    print(f"  run report           {report_path}")
    for name, url in report["outputs"].items():
        print(f"  {name:20} {url}")
    for node_id, node in report["nodes"].items():
        for url in node.get("artifacts", []):
            print(f"  {node_id + ' plot':20} {url}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000, help="rows of synthetic behaviour to generate")
    parser.add_argument("--home", type=Path, default=Path(".demo"), help="where the demo's Airflow DB and runs go")
    parser.add_argument("--dags-folder", type=Path, default=Path("dags"))
    args = parser.parse_args(argv)
    home, dags_folder = args.home.resolve(), args.dags_folder.resolve()
    _configure(home, dags_folder)

    from airflow_mlplat.local_run import load_dags, migrate_db, run_dag, task_states, xcom_value

    started = time.perf_counter()
    print(f"preparing the Airflow metadata DB under {home / 'airflow'} ...", flush=True)
    migrate_db()
    dag = load_dags(dags_folder).get_dag(DAG_ID)
    print(f"running DAG {DAG_ID} with rows={args.rows} ...", flush=True)
    dag_run = run_dag(dag, run_conf={"rows": args.rows})
    states = task_states(dag_run)
    print(f"DAG run {dag_run.run_id}: {dag_run.state} {states} in {time.perf_counter() - started:.0f}s")
    if str(dag_run.state) != "success":
        print("the demo DAG failed; see the task logs above", file=sys.stderr)
        return 1
    _print_results(Path(xcom_value(dag_run, "train", "report_path")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
