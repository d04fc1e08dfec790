"""Pipeline JSON files in the DAGs folder's ``pipelines/`` directory: list, read, save, delete.

Saving validates with ``validate_pipeline``, the validator the DAG factory runs at parse time,
so a file saved here always parses into a DAG, and a page's errors are the CLI's errors. Files
are written atomically (temp file, then rename), so the DAG processor never reads half a file.
The canvas layout (node positions) is kept beside the pipeline in ``pipelines/.layout/``,
outside the pipeline document the validator checks.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any

from airflow_mlplat.pipeline import PipelineValidationError, Problem, validate_pipeline

#: Overrides where pipelines are kept (default: ``[core] dags_folder``/pipelines).
PIPELINES_DIR_ENV = "MLPLAT_PIPELINES_DIR"
LAYOUT_DIR = ".layout"
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class PipelineNotFound(LookupError):
    pass


def pipelines_dir() -> Path:
    if os.environ.get(PIPELINES_DIR_ENV):
        return Path(os.environ[PIPELINES_DIR_ENV])
    from airflow.configuration import conf

    return Path(conf.get("core", "dags_folder")).expanduser() / "pipelines"


def check_name(name: str) -> None:
    if not _NAME.match(name):
        raise PipelineValidationError([Problem("name", f"must be a Python identifier, got {name!r}")], name)


def atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class PipelineStore:
    """The pipelines of one folder; ``NAME.json`` holds the pipeline named NAME."""

    def __init__(self, folder: Path | None = None) -> None:
        self.folder = Path(folder) if folder is not None else pipelines_dir()

    def path(self, name: str) -> Path:
        check_name(name)
        return self.folder / f"{name}.json"

    def layout_path(self, name: str) -> Path:
        return self.folder / LAYOUT_DIR / f"{name}.json"

    def list(self) -> list[dict[str, Any]]:
        """Every pipeline file: name, file, description, node count, and its problems (empty if valid)."""
        out = []
        for path in sorted(self.folder.glob("*.json")):
            entry: dict[str, Any] = {"file": path.name, "name": path.stem, "description": "", "nodes": 0}
            try:
                doc = json.loads(path.read_text())
                entry.update(name=doc.get("name", path.stem), description=doc.get("description", ""))
                entry["nodes"] = len(doc.get("nodes") or [])
                validate_pipeline(doc, source=str(path))
                entry["problems"] = []
            except (ValueError, AttributeError) as exc:
                entry["problems"] = [str(p) for p in getattr(exc, "problems", [])] or [str(exc)]
            out.append(entry)
        return out

    def read(self, name: str) -> dict[str, Any]:
        """``{"pipeline": doc, "layout": {node_id: {x, y}}, "file": path}``."""
        path = self.path(name)
        if not path.exists():
            raise PipelineNotFound(f"no pipeline {name!r} in {self.folder}")
        layout_path = self.layout_path(name)
        layout = json.loads(layout_path.read_text()) if layout_path.exists() else {}
        return {"pipeline": json.loads(path.read_text()), "layout": layout, "file": str(path)}

    def validate(self, name: str, doc: dict[str, Any]) -> None:
        """Raise PipelineValidationError (naming the file) if ``doc`` cannot be saved as ``name``."""
        path = self.path(name)
        validate_pipeline(doc, source=str(path))
        if doc.get("name") != name:
            raise PipelineValidationError(
                [Problem("name", f"must be {name!r}, the name it is saved under, got {doc.get('name')!r}")], str(path)
            )
        for other in self.folder.glob("*.json"):
            if other == path:
                continue
            try:
                other_name = json.loads(other.read_text()).get("name")
            except (ValueError, AttributeError, OSError):
                continue
            if other_name == name:
                raise PipelineValidationError([Problem("name", f"{name!r} is already the name of {other}")], str(path))

    def save(self, name: str, doc: dict[str, Any], layout: dict[str, Any] | None = None) -> Path:
        self.validate(name, doc)
        path = self.path(name)
        if layout is not None:
            atomic_write(self.layout_path(name), json.dumps(layout, indent=2))
        atomic_write(path, json.dumps(doc, indent=2) + "\n")
        return path

    def delete(self, name: str) -> None:
        path = self.path(name)
        if not path.exists():
            raise PipelineNotFound(f"no pipeline {name!r} in {self.folder}")
        path.unlink()
        self.layout_path(name).unlink(missing_ok=True)
