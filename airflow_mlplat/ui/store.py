"""Pipeline JSON files in the DAGs folder's ``pipelines/`` directory: list, read, save, delete.

Saving validates with ``validate_pipeline``, the validator the DAG factory runs at parse time,
so a file saved here always parses into a DAG, and a page's errors are the CLI's errors. Files
are written atomically (temp file, then rename), so the DAG processor never reads half a file.
Listing never fails on a file's content: a broken file is listed with its problems.
The canvas layout (node positions) is kept beside the pipeline in ``pipelines/.layout/``,
outside the pipeline document the validator checks.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from airflow_mlplat.dag_files import atomic_write, dag_file_path, is_generated, remove_dag_file, write_dag_file
from airflow_mlplat.pipeline import PipelineValidationError, Problem, load_pipeline, validate_pipeline
from airflow_mlplat.pipeline.page_policy import PAGE_ORIGIN
from airflow_mlplat.pipeline.validate import file_name_problem

#: Overrides where pipelines are kept (default: ``[core] dags_folder``/pipelines).
PIPELINES_DIR_ENV = "MLPLAT_PIPELINES_DIR"
LAYOUT_DIR = ".layout"
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class PipelineNotFound(LookupError):
    pass


class PipelineConflict(ValueError):
    """A save would replace another pipeline, or take a name another pipeline or DAG has (HTTP 409)."""


def pipelines_dir() -> Path:
    if os.environ.get(PIPELINES_DIR_ENV):
        return Path(os.environ[PIPELINES_DIR_ENV])
    from airflow.configuration import conf

    return Path(conf.get("core", "dags_folder")).expanduser() / "pipelines"


def check_name(name: str) -> None:
    if not _NAME.match(name):
        raise PipelineValidationError([Problem("name", f"must be a Python identifier, got {name!r}")], name)


def _summary(path: Path, doc: Any) -> dict[str, Any]:
    """The list entry of a parsed pipeline file, whatever its document holds."""
    entry: dict[str, Any] = {"file": path.name, "name": path.stem, "description": "", "nodes": 0}
    if isinstance(doc, dict):
        if isinstance(doc.get("name"), str):
            entry["name"] = doc["name"]
        if isinstance(doc.get("description"), str):
            entry["description"] = doc["description"]
        if isinstance(doc.get("nodes"), list):
            entry["nodes"] = len(doc["nodes"])
    return entry


def _finite_only(value: Any) -> Any:
    """``value`` without NaN and infinities (a layout is positions: a non-finite one is no position)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _finite_only(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_finite_only(item) for item in value]
    return value


class PipelineStore:
    """The pipelines of one folder: ``NAME.json`` holds the pipeline named NAME, whose DAG id is NAME.

    File name, pipeline name and DAG id are one identity: a save never writes a file that holds
    another pipeline, nor takes a name another file or DAG already has. Each pipeline's DAG is
    built by its generated DAG file ``NAME.py`` (``airflow_mlplat.dag_files``), written here too.
    What the page saves is marked ``"origin": "page"`` (``airflow_mlplat.pipeline.page_policy``).
    """

    def __init__(self, folder: Path | None = None) -> None:
        self.folder = Path(folder) if folder is not None else pipelines_dir()

    def path(self, name: str) -> Path:
        check_name(name)
        return self.folder / f"{name}.json"

    def dag_file(self, name: str) -> Path:
        return dag_file_path(self.path(name))

    def layout_path(self, name: str) -> Path:
        return self.folder / LAYOUT_DIR / f"{name}.json"

    def _declared_name(self, path: Path) -> str | None:
        """The ``name`` the file at ``path`` declares, or None when it cannot be read as a pipeline."""
        try:
            doc = json.loads(path.read_text())
        except (OSError, ValueError, RecursionError):
            return None
        name = doc.get("name") if isinstance(doc, dict) else None
        return name if isinstance(name, str) else None

    def list(self, visible: Callable[[str], bool] | None = None) -> list[dict[str, Any]]:
        """Every pipeline file (``visible(name)`` filters): name, file, description, node count, problems.

        Never raises for a file's content: a file that does not parse, or is not a valid pipeline,
        is listed with its problems.
        """
        out = []
        for path in sorted(self.folder.glob("*.json")):
            try:
                doc = load_pipeline(path)
            except PipelineValidationError as error:
                entry = _summary(path, None)
                entry["problems"] = [str(p) for p in error.problems]
            else:
                entry = _summary(path, doc)
                problems = []
                try:
                    validate_pipeline(doc, source=str(path))
                except PipelineValidationError as error:
                    problems = [str(p) for p in error.problems]
                except RecursionError:
                    problems = ["the document is nested too deeply to read"]
                mismatch = file_name_problem(path, doc)
                entry["problems"] = ([str(mismatch)] if mismatch else []) + problems
            # The file's name is the pipeline's identity; a name it declares otherwise must be readable too.
            if visible is None or (visible(path.stem) and (entry["name"] == path.stem or visible(entry["name"]))):
                out.append(entry)
        return out

    def read(self, name: str) -> dict[str, Any]:
        """``{"pipeline": doc, "layout": {node_id: {x, y}}, "file": NAME.json}``.

        :raises PipelineNotFound: no such file.
        :raises PipelineValidationError: the file is not a JSON object (naming the file and line).
        """
        path = self.path(name)
        if not path.exists():
            raise PipelineNotFound(f"no pipeline {name!r} in {self.folder.name}/")
        doc = load_pipeline(path)
        layout: Any = {}
        layout_path = self.layout_path(name)
        if layout_path.exists():
            try:
                layout = json.loads(layout_path.read_text())
            except (ValueError, RecursionError):
                layout = {}
        return {"pipeline": doc, "layout": layout if isinstance(layout, dict) else {}, "file": path.name}

    def validate(self, name: str, doc: dict[str, Any]) -> None:
        """Raise PipelineValidationError (naming the file) if ``doc`` cannot be saved as ``name``."""
        path = self.path(name)
        validate_pipeline(doc, source=str(path))
        if doc.get("name") != name:
            raise PipelineValidationError(
                [Problem("name", f"must be {name!r}, the name it is saved under, got {doc.get('name')!r}")], str(path)
            )

    def check_identity(self, name: str, dag_owner: Callable[[str], str | None] | None = None) -> None:
        """Raise PipelineConflict if saving ``name`` would replace or shadow another pipeline or DAG.

        :param dag_owner: ``dag_owner(name)`` is the DAG file that defines DAG ``name`` when that is not
            this pipeline's own DAG file (None when no other file defines it).
        """
        path = self.path(name)
        held = self._declared_name(path) if path.exists() else None
        if held is not None and held != name:
            raise PipelineConflict(f"{path.name} holds the pipeline {held!r}; a save never replaces another pipeline")
        for other in sorted(self.folder.glob("*.json")):
            if other != path and self._declared_name(other) == name:
                raise PipelineConflict(f"{name!r} is already the name of the pipeline in {other.name}")
        dag_file = self.dag_file(name)
        if dag_file.exists() and not is_generated(dag_file):
            raise PipelineConflict(f"{dag_file.name} is a hand-written DAG file; the pipeline {name!r} cannot use it")
        owner = dag_owner(name) if dag_owner is not None else None
        if owner is not None:
            raise PipelineConflict(f"the DAG {name!r} is already defined by {owner}")

    def save(
        self,
        name: str,
        doc: dict[str, Any],
        layout: dict[str, Any] | None = None,
        *,
        dag_owner: Callable[[str], str | None] | None = None,
    ) -> Path:
        """Validate and write ``doc`` as ``NAME.json`` (marked from the page), its layout and its DAG file.

        :raises PipelineValidationError: ``doc`` is not a valid pipeline named ``name``.
        :raises PipelineConflict: see :meth:`check_identity`.
        """
        doc = {**doc, "origin": PAGE_ORIGIN}
        try:
            text = json.dumps(doc, indent=2, allow_nan=False) + "\n"
        except ValueError:
            raise PipelineValidationError(
                [Problem("", "holds NaN or Infinity, which JSON has not: use null or a number")], str(self.path(name))
            ) from None
        self.validate(name, doc)
        self.check_identity(name, dag_owner)
        path = self.path(name)
        if layout is not None:
            atomic_write(self.layout_path(name), json.dumps(_finite_only(layout), indent=2))
        atomic_write(path, text)
        write_dag_file(path)
        return path

    def delete(self, name: str) -> None:
        path = self.path(name)
        if not path.exists():
            raise PipelineNotFound(f"no pipeline {name!r} in {self.folder.name}/")
        path.unlink()
        remove_dag_file(path)
        self.layout_path(name).unlink(missing_ok=True)
