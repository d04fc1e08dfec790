"""What a pipeline run left behind: its state, metrics, run report and plots.

The run's report is found through the ``report_path`` XCom the pipeline operators push before
they submit (so a failed run's report is found too), else under the run root
(``RUN_ROOT/DAG_ID/RUN_ID/**/report.json``). When the run's output cannot be read here (a
cluster filesystem the API server does not mount) but the run was tracked (the ``tracking``
XCom), the report and the plots come from MLflow, over its REST API (no mlflow import).
Only files a report lists as artifacts are served, so a run id cannot be used to read
arbitrary files.
"""

from __future__ import annotations

import json
import urllib.parse
import urllib.request
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


def _tracking(dag_id: str, run_id: str) -> dict[str, dict[str, Any]]:
    """``{task_id: {"uri", "experiment_id", "run_id", ...}}`` of the tracked tasks of a run."""
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    from airflow_mlplat.operators.spark_pipeline import TRACKING_XCOM_KEY

    with create_session() as session:
        rows = session.scalars(XComModel.get_many(run_id=run_id, dag_ids=dag_id, key=TRACKING_XCOM_KEY))
        found = {row.task_id: XComModel.deserialize_value(row) for row in rows}
    return {task: info for task, info in found.items() if isinstance(info, dict) and info.get("run_id")}


def mlflow_artifact(tracking: dict[str, Any], path: str, timeout: float = 30.0) -> bytes | None:
    """One artifact of a tracked run, from the MLflow server's artifact endpoint; None if it has none."""
    query = urllib.parse.urlencode({"path": path, "run_uuid": tracking["run_id"]})
    try:
        with urllib.request.urlopen(f"{tracking['uri'].rstrip('/')}/get-artifact?{query}", timeout=timeout) as response:
            return response.read()
    except OSError:
        return None


def mlflow_report(tracking: dict[str, Any]) -> dict[str, Any] | None:
    """The run report the tracking step logged with the run (``report.json``)."""
    data = mlflow_artifact(tracking, "report.json")
    return json.loads(data) if data else None


def _reports(dag_id: str, run_id: str) -> dict[str, tuple[dict[str, Any], str]]:
    """``{task_id: (report, source)}``; source is "run output" or "mlflow"."""
    found: dict[str, tuple[dict[str, Any], str]] = {}
    for task_id, url in _report_urls(dag_id, run_id).items():
        report = _read_json(url)
        if report is not None:
            found[task_id] = (report, "run output")
    for task_id, tracking in _tracking(dag_id, run_id).items():
        if task_id not in found:
            report = mlflow_report(tracking)
            if report is not None:
                found[task_id] = (report, "mlflow")
    return found


def run_results(dag_id: str, run_id: str) -> dict[str, Any]:
    """``{"state", "reports": {task: report}, "sources": {task: "run output"|"mlflow"}, "metrics": {node: {...}},
    "plots": [{task, node, name, index}]}``."""
    state = _run_state(dag_id, run_id)
    reports: dict[str, Any] = {}
    sources: dict[str, str] = {}
    metrics: dict[str, Any] = {}
    plots: list[dict[str, Any]] = []
    for task_id, (report, source) in _reports(dag_id, run_id).items():
        reports[task_id] = report
        sources[task_id] = source
        metrics.update(report.get("metrics") or {})
        for node_id, node in (report.get("nodes") or {}).items():
            for index, artifact in enumerate(node.get("artifacts") or []):
                if str(artifact).lower().endswith(PLOT_SUFFIXES):
                    plots.append({"task": task_id, "node": node_id, "index": index, "name": Path(artifact).name})
    return {
        "dag_id": dag_id,
        "run_id": run_id,
        "state": state,
        "reports": reports,
        "sources": sources,
        "metrics": metrics,
        "plots": plots,
    }


def artifact(dag_id: str, run_id: str, task_id: str, node_id: str, index: int) -> tuple[str, bytes | Path]:
    """``(file name, local path or bytes)`` of one artifact a run's report lists.

    From the run output when it is readable here, else from the tracked MLflow run (which keeps
    plots under ``plots/NODE/``). RunNotFound if the report lists no such artifact.
    """
    entry = _reports(dag_id, run_id).get(task_id)
    report = entry[0] if entry else {}
    artifacts = (report.get("nodes") or {}).get(node_id, {}).get("artifacts") or []
    if not 0 <= index < len(artifacts):
        raise RunNotFound(f"run {run_id!r} of {dag_id!r} has no artifact {index} of node {node_id!r}")
    name = Path(urlparse(artifacts[index]).path).name
    local = _local_path(artifacts[index])
    if local is not None and local.exists():
        return name, local
    tracking = _tracking(dag_id, run_id).get(task_id)
    data = mlflow_artifact(tracking, f"plots/{node_id}/{name}") if tracking else None
    if data is None:
        raise RunNotFound(f"artifact {artifacts[index]} is neither readable here nor in MLflow")
    return name, data
