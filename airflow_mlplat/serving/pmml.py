"""Score a PMML document with jpmml-evaluator (AGPL; the ``pmml`` extra). Starts a JVM in-process."""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from airflow_mlplat.serving.errors import ModelLoadError


class PmmlScorer:
    """``predict(rows)`` -> ``[{"prediction": target value, "probability": [...]?}]`` per row."""

    _lock = threading.Lock()  # the evaluator's JVM calls are not used concurrently

    def __init__(self, path: str | Path) -> None:
        try:
            from jpmml_evaluator import make_evaluator
        except ImportError as error:
            raise ModelLoadError("PMML scoring needs the 'pmml' extra (jpmml-evaluator)") from error
        self.evaluator = make_evaluator(str(path)).verify()
        self.target = self.evaluator.getTargetFields()[0].getName()
        outputs = [field.getName() for field in self.evaluator.getOutputFields()]
        self.probability_fields = [name for name in outputs if name.startswith("probability")]

    def predict(self, rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any] | None]:
        results = []
        with self._lock:
            for row in rows:
                out = self.evaluator.evaluate(dict(row))
                value = out.get(self.target)
                result: dict[str, Any] = {"prediction": float(value) if isinstance(value, (int, float)) else value}
                if self.probability_fields:
                    result["probability"] = [float(out[name]) for name in self.probability_fields]
                results.append(result)
        return results
