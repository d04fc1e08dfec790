"""One loaded model version: its identity, metrics, input validator and scorer.

For a Spark model the scorer is the numpy file scorer of the version's ``sparkml/`` (default), or
a PMML evaluator of its ``model.pmml`` when the service runs with ``--pmml``. A deep model (its
folder holds ``mlplat_model.json``) is scored by its format's runtime (``serving.deep``). With
micro-batching on, concurrent requests reach the scorer together (``serving.batching``).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from airflow_mlplat.serving.batching import BatchSettings, MicroBatcher
from airflow_mlplat.serving.deep import DESCRIPTOR, load_deep_model
from airflow_mlplat.serving.errors import ModelLoadError
from airflow_mlplat.serving.signature import input_columns, read_mlmodel, row_validator
from airflow_mlplat.serving.spark_scorer import SparkFileScorer

PMML_FILE = "model.pmml"


@dataclass
class LoadedModel:
    name: str
    version: str
    slot: str
    alias: str | None
    run_id: str
    metrics: dict[str, float]
    columns: dict[str, tuple[str, bool]]
    scorer: Any  # .predict(rows) -> list[dict | None]
    flavor: str
    path: str
    loaded_at: float = field(default_factory=time.time)
    validator: Any = None
    batcher: MicroBatcher | None = None

    def __post_init__(self) -> None:
        if self.validator is None:
            self.validator = row_validator(self.columns)

    def predict(self, rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any] | None]:
        return (self.batcher or self.scorer).predict(rows)

    def close(self) -> None:
        """This version was replaced: requests already queued are still answered."""
        if self.batcher is not None:
            self.batcher.close()

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "slot": self.slot,
            "alias": self.alias,
            "run_id": self.run_id,
            "metrics": self.metrics,
            "flavor": self.flavor,
            "inputs": {name: kind for name, (kind, _) in self.columns.items()},
            "loaded_at": self.loaded_at,
            "batching": self.batcher.stats() if self.batcher else None,
        }


def spark_model_dir(model_dir: Path, mlmodel: Mapping[str, Any]) -> Path:
    data = ((mlmodel.get("flavors") or {}).get("spark") or {}).get("model_data", "sparkml")
    path = model_dir / data
    if not path.is_dir():
        raise ModelLoadError(f"{model_dir}: no Spark model folder {data}/ (is this a Spark-flavour MLflow model?)")
    return path


def load_model_dir(
    model_dir: str | Path,
    *,
    name: str,
    version: str,
    slot: str,
    alias: str | None = None,
    run_id: str = "",
    metrics: Mapping[str, float] | None = None,
    pmml: bool = False,
    batching: BatchSettings | None = None,
) -> LoadedModel:
    """Compile the model directory ``model_dir``: an MLflow Spark model (``MLmodel`` + ``sparkml/``
    [+ ``model.pmml``]) or a deep model (``mlplat_model.json`` + its files).

    :raises ModelLoadError: no MLmodel/signature/sparkml, or (``pmml``) no model.pmml; a deep
        model whose runtime is missing or whose files do not load.
    :raises UnsupportedModelError: a Spark stage the file scorer does not implement.
    """
    model_dir = Path(model_dir)
    where = f"model {name} version {version} ({model_dir})"
    if (model_dir / DESCRIPTOR).exists():
        if pmml:
            raise ModelLoadError(f"{where}: --pmml serves Spark models; this version is a deep model")
        scorer, flavor, columns = load_deep_model(model_dir, where)
    else:
        scorer, flavor, columns = _load_spark_model(model_dir, where, pmml)
    return LoadedModel(
        name=name,
        version=version,
        slot=slot,
        alias=alias,
        run_id=run_id,
        metrics=dict(metrics or {}),
        columns=columns,
        scorer=scorer,
        flavor=flavor,
        path=str(model_dir),
        batcher=MicroBatcher(scorer, batching) if batching else None,
    )


def _load_spark_model(model_dir: Path, where: str, pmml: bool) -> tuple[Any, str, dict[str, tuple[str, bool]]]:
    """``(scorer, flavor, columns)`` of an MLflow Spark model: the numpy file scorer, or PMML with ``pmml``."""
    try:
        mlmodel = read_mlmodel(model_dir)
        columns = input_columns(mlmodel, where)
    except (OSError, ValueError) as error:
        raise ModelLoadError(f"{where}: {error}") from error
    if pmml:
        from airflow_mlplat.serving.pmml import PmmlScorer

        document = model_dir / PMML_FILE
        if not document.exists():
            raise ModelLoadError(f"{where}: --pmml was asked for but the version has no {PMML_FILE}")
        return PmmlScorer(document), "pmml", columns
    types = {column: kind for column, (kind, _) in columns.items()}
    return SparkFileScorer.load(spark_model_dir(model_dir, mlmodel), types), "spark-files", columns
