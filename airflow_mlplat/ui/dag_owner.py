"""Which DAG file defines a DAG id, from the metadata DB: a pipeline may not take another file's DAG id."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path


def _same(a: str | None, b: Path) -> bool:
    try:
        return a is not None and Path(a).resolve() == b.resolve()
    except (OSError, ValueError):
        return False


def other_dag_file(dag_id: str, own_files: Iterable[Path]) -> str | None:
    """The file (relative to its bundle) of a live DAG ``dag_id`` defined by none of ``own_files``; else None."""
    from airflow.models.dag import DagModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    own = list(own_files)
    with create_session() as session:
        rows = session.execute(
            select(DagModel.fileloc, DagModel.relative_fileloc).where(
                DagModel.dag_id == dag_id, DagModel.is_stale.is_(False)
            )
        ).all()
    for fileloc, relative in rows:
        if not any(_same(fileloc, path) for path in own):
            return relative or fileloc or "another DAG file"
    return None
