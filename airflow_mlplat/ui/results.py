"""What a pipeline run left behind: its state, metrics, run report and plots.

The run's report is found through the ``report_path`` XCom the pipeline operators push before
they submit (so a failed run's report is found too), else under the run root
(``RUN_ROOT/DAG_ID/RUN_ID/**/report.json``). Only files a report lists as artifacts are
served, so a run id cannot be used to read arbitrary files.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

PLOT_SUFFIXES = (".png", ".svg", ".jpg", ".jpeg")


class RunNotFound(LookupError):
    pass


def _local_path(url: str) -> Path | None:
    parsed = urlparse(url)
    if parsed.scheme in ("", "file"):
        return Path(parsed.path if parsed.scheme else url)
    return None


def _read_json(url: str) -> Any:
    local = _local_path(url)
    if local is not None:
        return json.loads(local.read_text()) if local.exists() else None
    import fsspec

    try:
        with fsspec.open(url, "r") as handle:
            return json.load(handle)
    except FileNotFoundError:
        return None


def _run_state(dag_id: str, run_id: str) -> str:
    from airflow.models.dagrun import DagRun
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        state = session.scalar(select(DagRun.state).where(DagRun.dag_id == dag_id, DagRun.run_id == run_id))
    if state is None:
        raise RunNotFound(f"no run {run_id!r} of DAG {dag_id!r}")
    return str(state)


def _report_urls(dag_id: str, run_id: str) -> dict[str, str]:
    """``{task_id: report url}`` from the ``report_path`` XComs, else from the run root."""
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    from airflow_mlplat.operators.spark_pipeline import REPORT_PATH_XCOM_KEY, default_run_root, path_safe

    urls: dict[str, str] = {}
    with create_session() as session:
        for row in session.scalars(XComModel.get_many(run_id=run_id, dag_ids=dag_id, key=REPORT_PATH_XCOM_KEY)):
            urls[row.task_id] = XComModel.deserialize_value(row)
    if not urls:
        run_dir = Path(default_run_root()) / dag_id / path_safe(run_id)
        for report in sorted(run_dir.glob("**/report.json")):
            urls[report.parent.name] = str(report)
    return urls


def run_results(dag_id: str, run_id: str) -> dict[str, Any]:
    """``{"state", "reports": {task: report}, "metrics": {node: {...}}, "plots": [{task, node, name, index}]}``."""
    state = _run_state(dag_id, run_id)
    reports: dict[str, Any] = {}
    metrics: dict[str, Any] = {}
    plots: list[dict[str, Any]] = []
    for task_id, url in _report_urls(dag_id, run_id).items():
        report = _read_json(url)
        if report is None:
            continue
        reports[task_id] = report
        metrics.update(report.get("metrics") or {})
        for node_id, node in (report.get("nodes") or {}).items():
            for index, artifact in enumerate(node.get("artifacts") or []):
                if str(artifact).lower().endswith(PLOT_SUFFIXES):
                    plots.append({"task": task_id, "node": node_id, "index": index, "name": Path(artifact).name})
    return {"dag_id": dag_id, "run_id": run_id, "state": state, "reports": reports, "metrics": metrics, "plots": plots}


def artifact_path(dag_id: str, run_id: str, task_id: str, node_id: str, index: int) -> Path:
    """The local file of one artifact a run's report lists; RunNotFound if it lists no such file."""
    url = _report_urls(dag_id, run_id).get(task_id)
    report = _read_json(url) if url else None
    artifacts = ((report or {}).get("nodes") or {}).get(node_id, {}).get("artifacts") or []
    if not 0 <= index < len(artifacts):
        raise RunNotFound(f"run {run_id!r} of {dag_id!r} has no artifact {index} of node {node_id!r}")
    local = _local_path(artifacts[index])
    if local is None or not local.exists():
        raise RunNotFound(f"artifact {artifacts[index]} is not a local file")
    return local
