"""Ask the DAG processor to parse the pipeline DAG files now, after a pipeline was saved.

The DAG processor re-reads a DAG file only every ``min_file_process_interval``; a priority
parsing request (what Airflow's own "reparse" endpoint writes) makes the saved pipeline a DAG
within seconds. The file asked for is the saved pipeline's own generated DAG file
(``pipelines/NAME.py``); the factory files beside ``pipelines/`` are those that call
``pipeline_dags`` or ``sync_dag_files``.
"""

from __future__ import annotations

import logging
from pathlib import Path

log = logging.getLogger(__name__)


_FACTORY_CALLS = ("pipeline_dags(", "sync_dag_files(")


def factory_files(pipelines_folder: Path) -> list[Path]:
    """The DAG files beside ``pipelines_folder`` that turn its pipelines into DAGs (or their DAG files)."""
    dags_folder = pipelines_folder.parent
    return [
        p
        for p in sorted(dags_folder.glob("*.py"))
        if any(call in p.read_text(errors="replace") for call in _FACTORY_CALLS)
    ]


def request_reparse(pipelines_folder: Path, files: list[Path] | None = None) -> list[str]:
    """Write a priority parsing request for each of ``files`` (default: the factory files); return
    their locations (relative to the bundle)."""
    from airflow.configuration import conf
    from airflow.models.dag import DagModel
    from airflow.models.dagbag import DagPriorityParsingRequest
    from airflow.utils.session import create_session
    from sqlalchemy import select

    files = factory_files(pipelines_folder) if files is None else files
    requested = []
    with create_session() as session:
        for path in files:
            row = session.execute(
                select(DagModel.bundle_name, DagModel.relative_fileloc).where(DagModel.fileloc == str(path)).limit(1)
            ).first()
            if row is not None:
                bundle, relative = row
            else:  # no DAG from this file yet: the default bundle of the configured dags folder
                bundle = "dags-folder"
                dags_folder = Path(conf.get("core", "dags_folder")).expanduser().resolve()
                if not path.resolve().is_relative_to(dags_folder):
                    log.warning("%s is outside the dags folder %s; not asking for a parse", path, dags_folder)
                    continue
                relative = str(path.resolve().relative_to(dags_folder))
            pending = session.scalar(
                select(DagPriorityParsingRequest.id).where(
                    DagPriorityParsingRequest.bundle_name == bundle,
                    DagPriorityParsingRequest.relative_fileloc == relative,
                )
            )
            if pending is None:  # one request per file is enough; its id is unique per file
                session.add(DagPriorityParsingRequest(bundle_name=bundle, relative_fileloc=relative))
            requested.append(relative)
    log.info("asked the DAG processor to parse %s", requested)
    return requested
