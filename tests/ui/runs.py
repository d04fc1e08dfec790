"""Runs for the results routes: a DagRun row in the metadata DB and a run folder with a report and an artifact."""

from __future__ import annotations

import json
from pathlib import Path

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 32


def add_dag_run(dag_id: str, run_id: str) -> None:
    """A finished manual run of ``dag_id`` in the metadata DB (idempotent)."""
    from airflow.models.dagrun import DagRun
    from airflow.utils.session import create_session
    from airflow.utils.state import DagRunState
    from airflow.utils.types import DagRunType
    from sqlalchemy import select

    with create_session() as session:
        exists = session.scalar(select(DagRun.id).where(DagRun.dag_id == dag_id, DagRun.run_id == run_id))
        if exists is None:
            session.add(DagRun(dag_id=dag_id, run_id=run_id, run_type=DagRunType.MANUAL, state=DagRunState.SUCCESS))


def add_task_instance(dag_id: str, run_id: str, task_id: str) -> None:
    """A task instance of an existing run (an XCom needs one), idempotent."""
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session
    from sqlalchemy import insert, select

    with create_session() as session:
        where = (TaskInstance.dag_id == dag_id, TaskInstance.run_id == run_id, TaskInstance.task_id == task_id)
        if session.scalar(select(TaskInstance.id).where(*where)) is None:
            values = {"dag_id": dag_id, "run_id": run_id, "task_id": task_id, "map_index": -1, "pool": "default_pool"}
            session.execute(insert(TaskInstance.__table__).values(**values))


def write_run_output(
    run_root: Path, dag_id: str, run_id: str, content: bytes, artifact: Path | None = None, preview: Path | None = None
) -> Path:
    """``RUN_ROOT/DAG/RUN/run_pipeline/report.json`` listing one plot of node ``evaluate`` and one table
    preview (node ``evaluate``, port ``data``); returns the plot's path.

    The plot is written beside the report holding ``content``, unless ``artifact`` names another file to
    list; the preview (``preview_document(dag_id)``) likewise, unless ``preview`` names another file.
    """
    task_dir = run_root / dag_id / run_id / "run_pipeline"
    (task_dir / "artifacts").mkdir(parents=True, exist_ok=True)
    plot = artifact or task_dir / "artifacts" / "roc_curve.png"
    if artifact is None:
        plot.write_bytes(content)
    table = preview or task_dir / "previews" / "evaluate" / "data.json"
    if preview is None:
        table.parent.mkdir(parents=True, exist_ok=True)
        table.write_text(json.dumps(preview_document(dag_id)))
    report = {
        "status": "success",
        "metrics": {"evaluate": {"auc_roc": 0.8}},
        "nodes": {"evaluate": {"artifacts": [str(plot)], "previews": {"data": str(table)}}},
    }
    (task_dir / "report.json").write_text(json.dumps(report))
    return plot


def preview_document(dag_id: str) -> dict:
    """A preview as the engine writes it, its one row holding ``sentinel-of-DAG``."""
    return {
        "format": 1,
        "node": "evaluate",
        "port": "data",
        "rows_total": 1,
        "columns_total": 1,
        "columns": [{"name": "note", "type": "string"}],
        "rows": [[f"sentinel-of-{dag_id}"]],
        "profile": [{"name": "note", "type": "string", "missing": 0, "distinct": 1}],
    }
