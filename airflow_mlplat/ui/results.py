"""What a pipeline run left behind: its state, metrics, run report and plots.

The run's report is found through the ``report_path`` XCom the pipeline operators push before
they submit (so a failed run's report is found too), else under the run root
(``RUN_ROOT/DAG_ID/RUN_ID/**/report.json``). When the run's output cannot be read here (a
cluster filesystem the API server does not mount) but the run was tracked (the ``tracking``
XCom), the report and the plots come from MLflow, over its REST API (no mlflow import).
A run's deep training steps (``RankingModelOperator`` tasks) have no report: their result XCom
(``output_path``, ``metrics``) names the published model folder, whose plots (the training curve)
are served like a report's artifacts and whose metrics are shown under the task's id.
A notebook task's executed notebook (its ``notebook_path`` XCom) is served the same way.
A report's table previews (``previews/NODE/PORT.json``: first rows and column profile) are served as
written, never computed. Only files a report lists as artifacts or previews (or a training step's
published plots) are served, and only from inside that DAG's run folder (``RUN_ROOT/DAG_ID``, every
path resolved first): the run must exist (checked in the metadata DB before anything touches the
disk), so a run id or DAG id holding ``..`` reads nothing else.
"""

from __future__ import annotations

import json
import posixpath
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from airflow_mlplat.storage.runs import default_run_root, path_safe

PLOT_SUFFIXES = (".png", ".svg", ".jpg", ".jpeg")


class RunNotFound(LookupError):
    pass


def _local_path(url: str) -> Path | None:
    parsed = urlparse(url)
    if parsed.scheme in ("", "file"):
        return Path(parsed.path if parsed.scheme else url)
    return None


def dag_run_folder(dag_id: str) -> Path | None:
    """``RUN_ROOT/DAG_ID`` resolved, or None when ``dag_id`` would name another folder (``..``, ``a/b``)."""
    root = Path(default_run_root()).resolve()
    try:
        folder = (root / dag_id).resolve()
    except (ValueError, OSError):  # a NUL byte, a loop of links
        return None
    return folder if folder.parent == root else None


def inside_dag_folder(url: str, dag_id: str) -> bool:
    """Whether ``url`` (a path, ``file:`` or a URL under a remote run root) lies in DAG ``dag_id``'s run folder."""
    local = _local_path(url)
    if local is not None:
        folder = dag_run_folder(dag_id)
        try:
            return folder is not None and local.resolve().is_relative_to(folder)
        except (ValueError, OSError):
            return False
    root = urlparse(default_run_root())
    parsed = urlparse(url)
    if (parsed.scheme, parsed.netloc) != (root.scheme, root.netloc) or not root.scheme:
        return False
    prefix = posixpath.join(posixpath.normpath(root.path or "/"), dag_id)
    return posixpath.normpath(urllib.parse.unquote(parsed.path)).startswith(prefix.rstrip("/") + "/")


def _read_json(url: str) -> Any:
    local = _local_path(url)
    if local is not None:
        try:
            return json.loads(local.read_text()) if local.is_file() else None
        except (ValueError, RecursionError, OSError):
            return None
    import fsspec

    try:
        with fsspec.open(url, "r") as handle:
            return json.load(handle)
    except (FileNotFoundError, ValueError, RecursionError):
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
    """``{task_id: report url}`` from the ``report_path`` XComs, else from the run's folder; only
    reports inside the DAG's run folder. Call after :func:`_run_state`: the run exists."""
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    from airflow_mlplat.operators.spark_pipeline import REPORT_PATH_XCOM_KEY

    urls: dict[str, str] = {}
    with create_session() as session:
        for row in session.scalars(XComModel.get_many(run_id=run_id, dag_ids=dag_id, key=REPORT_PATH_XCOM_KEY)):
            value = XComModel.deserialize_value(row)
            if isinstance(value, str) and inside_dag_folder(value, dag_id):
                urls[row.task_id] = value
    folder = dag_run_folder(dag_id)
    if not urls and folder is not None:
        run_dir = (folder / path_safe(run_id)).resolve()
        if run_dir.parent == folder:
            for report in sorted(run_dir.glob("**/report.json")):
                if inside_dag_folder(str(report), dag_id):
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
        if isinstance(report, dict):
            found[task_id] = (report, "run output")
    for task_id, tracking in _tracking(dag_id, run_id).items():
        if task_id not in found:
            report = mlflow_report(tracking)
            if isinstance(report, dict):
                found[task_id] = (report, "mlflow")
    return found


def _numbers(metrics: Any, prefix: str = "") -> dict[str, float]:
    """The numeric metrics of a training result, nested ones named ``outer.inner``."""
    found: dict[str, float] = {}
    for name, value in metrics.items() if isinstance(metrics, dict) else ():
        if isinstance(value, dict):
            found.update(_numbers(value, f"{prefix}{name}."))
        elif isinstance(value, int | float) and not isinstance(value, bool):
            found[f"{prefix}{name}"] = value
    return found


def _training_steps(dag_id: str, run_id: str) -> dict[str, dict[str, Any]]:
    """``{task_id: {"output_path", "metrics", "plots": [path], "registered"?}}`` of the run's deep
    training tasks whose published model folder lies inside the DAG's run folder and is readable
    here. Call after :func:`_run_state`: the run exists."""
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    with create_session() as session:
        rows = session.scalars(XComModel.get_many(run_id=run_id, dag_ids=dag_id, key="return_value"))
        results = {row.task_id: XComModel.deserialize_value(row) for row in rows}
    steps: dict[str, dict[str, Any]] = {}
    for task_id, result in results.items():
        if not (isinstance(result, dict) and isinstance(result.get("output_path"), str) and "metrics" in result):
            continue
        local = _local_path(result["output_path"])
        if local is None or not inside_dag_folder(str(local), dag_id) or not local.is_dir():
            continue
        folder = local.resolve()
        plots = [
            str(path)
            for path in sorted(folder.iterdir())
            if path.suffix.lower() in PLOT_SUFFIXES and path.is_file() and inside_dag_folder(str(path), dag_id)
        ]
        step = {"output_path": result["output_path"], "metrics": _numbers(result.get("metrics")), "plots": plots}
        if isinstance(result.get("registered"), dict):
            step["registered"] = result["registered"]
        steps[task_id] = step
    return steps


#: The node id a notebook task's executed notebook is served under: ``artifacts/TASK/notebook/0``.
NOTEBOOK_NODE = "notebook"


def _notebooks(dag_id: str, run_id: str) -> dict[str, Path]:
    """``{task_id: executed notebook}`` of the run's notebook tasks (their ``notebook_path`` XCom), for the
    files that exist inside the DAG's run folder. Call after :func:`_run_state`: the run exists."""
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    from airflow_mlplat.operators.notebook import NOTEBOOK_XCOM_KEY

    with create_session() as session:
        rows = session.scalars(XComModel.get_many(run_id=run_id, dag_ids=dag_id, key=NOTEBOOK_XCOM_KEY))
        found = {row.task_id: XComModel.deserialize_value(row) for row in rows}
    notebooks: dict[str, Path] = {}
    for task_id, path in found.items():
        local = _local_path(path) if isinstance(path, str) else None
        if local is not None and inside_dag_folder(str(local), dag_id) and local.is_file():
            notebooks[task_id] = local.resolve()
    return notebooks


def _artifact_lists(report: dict[str, Any]) -> dict[str, list[str]]:
    """``{node_id: [artifact url]}`` of a report, whatever shape a damaged report has."""
    nodes = report.get("nodes")
    found: dict[str, list[str]] = {}
    for node_id, node in nodes.items() if isinstance(nodes, dict) else ():
        artifacts = node.get("artifacts") if isinstance(node, dict) else None
        found[str(node_id)] = [a for a in artifacts if isinstance(a, str)] if isinstance(artifacts, list) else []
    return found


def run_results(dag_id: str, run_id: str) -> dict[str, Any]:
    """``{"state", "reports": {task: report}, "sources": {task: "run output"|"mlflow"}, "metrics": {node: {...}},
    "plots": [{task, node, name, index}], "training": {task: {"output_path", "metrics", "registered"?}}}``.

    Every Spark task's report counts (a pipeline with deep steps has several); a training step's
    metrics are under its task id (= its node id), its plots name the task as their node. ``notebooks``
    (``[{task, node, index, name}]``) are the executed notebooks of notebook tasks, served as artifacts;
    ``previews`` (``[{task, node, port}]``) the table previews :func:`preview` serves."""
    state = _run_state(dag_id, run_id)
    reports: dict[str, Any] = {}
    sources: dict[str, str] = {}
    metrics: dict[str, Any] = {}
    plots: list[dict[str, Any]] = []
    for task_id, (report, source) in _reports(dag_id, run_id).items():
        reports[task_id] = report
        sources[task_id] = source
        if isinstance(report.get("metrics"), dict):
            metrics.update(report["metrics"])
        for node_id, artifacts in _artifact_lists(report).items():
            for index, artifact in enumerate(artifacts):
                if artifact.lower().endswith(PLOT_SUFFIXES):
                    plots.append({"task": task_id, "node": node_id, "index": index, "name": Path(artifact).name})
    training: dict[str, Any] = {}
    for task_id, step in _training_steps(dag_id, run_id).items():
        training[task_id] = {key: value for key, value in step.items() if key != "plots"}
        metrics.setdefault(task_id, step["metrics"])
        for index, plot in enumerate(step["plots"]):
            plots.append({"task": task_id, "node": task_id, "index": index, "name": Path(plot).name})
    return {
        "dag_id": dag_id,
        "run_id": run_id,
        "state": state,
        "reports": reports,
        "sources": sources,
        "metrics": metrics,
        "plots": plots,
        "training": training,
        "previews": _previews_listed(reports, sources),
        "notebooks": [
            {"task": task_id, "node": NOTEBOOK_NODE, "index": 0, "name": path.name}
            for task_id, path in _notebooks(dag_id, run_id).items()
        ],
    }


def artifact(dag_id: str, run_id: str, task_id: str, node_id: str, index: int) -> tuple[str, bytes | Path]:
    """``(file name, local path or bytes)`` of one artifact a run's report lists.

    From the run output when it is readable here, else from the tracked MLflow run (which keeps
    plots under ``plots/NODE/``); a run-output file only from inside the DAG's run folder.
    RunNotFound if the run does not exist or its report lists no such artifact.
    """
    _run_state(dag_id, run_id)  # the run must exist before anything reads the disk
    notebook = _notebooks(dag_id, run_id).get(task_id) if (node_id, index) == (NOTEBOOK_NODE, 0) else None
    if notebook is not None:
        return notebook.name, notebook
    entry = _reports(dag_id, run_id).get(task_id)
    if entry is None:
        step = _training_steps(dag_id, run_id).get(task_id)
        plots = step["plots"] if step and node_id == task_id else []
        if not 0 <= index < len(plots):
            raise RunNotFound(f"run {run_id!r} of {dag_id!r} has no plot {index} of training step {task_id!r}")
        return Path(plots[index]).name, Path(plots[index])
    artifacts = _artifact_lists(entry[0]).get(node_id, []) if entry else []
    if not 0 <= index < len(artifacts):
        raise RunNotFound(f"run {run_id!r} of {dag_id!r} has no artifact {index} of node {node_id!r}")
    name = Path(urlparse(artifacts[index]).path).name
    local = _local_path(artifacts[index])
    if local is not None and inside_dag_folder(str(local), dag_id) and local.is_file():
        return name, local.resolve()
    tracking = _tracking(dag_id, run_id).get(task_id)
    data = mlflow_artifact(tracking, f"plots/{node_id}/{name}") if tracking else None
    if data is None:
        raise RunNotFound(f"artifact {artifacts[index]} is neither readable here nor in MLflow")
    return name, data


#: The largest preview file served: the engine writes a few MB at most (``engine.preview``).
PREVIEW_MAX_BYTES = 32 * 2**20


def _preview_lists(report: Any) -> dict[str, dict[str, str]]:
    """``{node_id: {port: preview url}}`` of a report, whatever shape a damaged report has."""
    nodes = report.get("nodes") if isinstance(report, dict) else None
    found: dict[str, dict[str, str]] = {}
    for node_id, node in nodes.items() if isinstance(nodes, dict) else ():
        previews = node.get("previews") if isinstance(node, dict) else None
        if isinstance(previews, dict):
            found[str(node_id)] = {str(port): url for port, url in previews.items() if isinstance(url, str)}
    return found


def _previews_listed(reports: dict[str, Any], sources: dict[str, str]) -> list[dict[str, str]]:
    """``[{task, node, port}]``: the table previews of the run-output reports (an MLflow copy has none here)."""
    return [
        {"task": task_id, "node": node_id, "port": port}
        for task_id, report in reports.items()
        if sources.get(task_id) == "run output"
        for node_id, ports in _preview_lists(report).items()
        for port in ports
    ]


def preview(dag_id: str, run_id: str, task_id: str, node_id: str, port: str) -> dict[str, Any]:
    """The preview of node ``node_id``'s table output ``port`` that the run's report lists, as the
    engine wrote it (``airflow_mlplat.engine.preview``): read, never computed, so no Spark starts.

    Only a file inside the DAG's run folder and under ``PREVIEW_MAX_BYTES`` is read. RunNotFound if
    the run does not exist, its report lists no such preview, or the file is not readable here.
    """
    _run_state(dag_id, run_id)  # the run must exist before anything reads the disk
    url = _report_urls(dag_id, run_id).get(task_id)
    listed = _preview_lists(_read_json(url) if url else None).get(node_id, {}).get(port)
    missing = RunNotFound(f"run {run_id!r} of {dag_id!r} has no preview of {node_id}.{port} in task {task_id!r}")
    if listed is None or not inside_dag_folder(listed, dag_id):
        raise missing
    local = _local_path(listed)
    if local is not None:
        try:
            local = local.resolve()
            too_big = local.is_file() and local.stat().st_size > PREVIEW_MAX_BYTES
        except (ValueError, OSError):
            raise missing from None
        if too_big:
            raise RunNotFound(f"the preview of {node_id}.{port} is larger than {PREVIEW_MAX_BYTES} bytes")
    document = _read_json(str(local) if local is not None else listed)
    if not isinstance(document, dict):
        raise missing
    return document
