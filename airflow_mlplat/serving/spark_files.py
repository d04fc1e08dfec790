"""Read what Spark ML writes when it saves a model: JSON metadata and parquet data, no Spark.

A saved stage is a directory holding ``metadata/part-*`` (one JSON line: class, uid,
``paramMap``, ``defaultParamMap``) and, for fitted models, ``data/`` (parquet). Vectors and
matrices are stored as Spark's UDT structs, decoded here into numpy arrays.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from airflow_mlplat.serving.errors import ModelLoadError


@dataclass(frozen=True)
class SavedStage:
    """One saved Spark ML stage: where it lies, its class, and its resolved parameters."""

    path: Path
    index: int
    metadata: dict[str, Any]

    @property
    def class_name(self) -> str:
        return self.metadata["class"]

    @property
    def short_class(self) -> str:
        return self.class_name.rsplit(".", 1)[-1]

    @property
    def params(self) -> dict[str, Any]:
        """Default params overridden by the explicitly set ones, as Spark resolves them."""
        return {**self.metadata.get("defaultParamMap", {}), **self.metadata.get("paramMap", {})}

    def data(self, folder: str = "data") -> list[dict[str, Any]]:
        """The rows of the stage's parquet ``folder`` as dicts."""
        import pyarrow.parquet as pq

        target = self.path / folder
        if not target.is_dir():
            raise ModelLoadError(f"stage {self.index} ({self.short_class}) has no {folder}/ at {target}")
        return pq.read_table(target).to_pylist()

    def describe(self) -> str:
        return f"stage {self.index} ({self.short_class}, uid {self.metadata.get('uid')})"


def read_metadata(path: str | Path) -> dict[str, Any]:
    """The JSON metadata Spark wrote under ``path/metadata``."""
    folder = Path(path) / "metadata"
    parts = sorted(p for p in folder.glob("part-*") if p.is_file())
    if not parts:
        raise ModelLoadError(f"no Spark ML metadata (metadata/part-*) under {path}")
    text = parts[0].read_text().strip().splitlines()[0]
    return json.loads(text)


def read_pipeline(path: str | Path) -> list[SavedStage]:
    """The stages of a saved ``PipelineModel`` in order (a single saved model is a one-stage pipeline)."""
    root = Path(path)
    meta = read_metadata(root)
    if not meta["class"].endswith("PipelineModel"):
        return [SavedStage(root, 0, meta)]
    uids = meta["paramMap"]["stageUids"]
    width = len(str(len(uids)))
    stages = []
    for index, uid in enumerate(uids):
        # Spark names stage folders "{index padded to the count's width}_{uid}".
        folder = root / "stages" / f"{str(index).zfill(width)}_{uid}"
        if not folder.is_dir():
            matches = list((root / "stages").glob(f"*_{uid}"))
            if not matches:
                raise ModelLoadError(f"stage {index} (uid {uid}) of the pipeline at {root} has no folder under stages/")
            folder = matches[0]
        stages.append(SavedStage(folder, index, read_metadata(folder)))
    return stages


def to_vector(struct: dict[str, Any] | None) -> np.ndarray:
    """A Spark ``VectorUDT`` struct (type 0 sparse, 1 dense) as a dense float64 array."""
    if struct is None:
        return np.zeros(0)
    if struct["type"] == 1:
        return np.asarray(struct["values"], dtype=np.float64)
    dense = np.zeros(struct["size"], dtype=np.float64)
    dense[np.asarray(struct["indices"], dtype=np.int64)] = struct["values"]
    return dense


def to_matrix(struct: dict[str, Any]) -> np.ndarray:
    """A Spark ``MatrixUDT`` struct (type 0 sparse CSC/CSR, 1 dense) as a dense (rows, cols) array."""
    rows, cols, transposed = struct["numRows"], struct["numCols"], struct["isTransposed"]
    values = np.asarray(struct["values"], dtype=np.float64)
    if struct["type"] == 1:
        if transposed:
            return values.reshape(rows, cols).copy()
        return values.reshape(cols, rows).T.copy()
    dense = np.zeros((rows, cols), dtype=np.float64)
    pointers, indices = struct["colPtrs"], struct["rowIndices"]
    # Not transposed: compressed columns; transposed: compressed rows.
    for major in range(len(pointers) - 1):
        for k in range(pointers[major], pointers[major + 1]):
            if transposed:
                dense[major, indices[k]] = values[k]
            else:
                dense[indices[k], major] = values[k]
    return dense
