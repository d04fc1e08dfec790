"""The launcher job that trains a ranking model: a ``pytorch`` TrainingJob running ``ranking.train``.

Pure Python (no torch): the DAG factory and the bench build jobs with it at parse or plan time.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from airflow_mlplat.ranking.params import RankingParamsError, resolve_launcher, validate_params

TRAIN_MODULE = "airflow_mlplat.ranking.train"


def job_name(text: str) -> str:
    """A DNS label from any text (``deepfm_ctr`` -> ``deepfm-ctr``), at most 40 characters."""
    name = re.sub(r"[^a-z0-9-]+", "-", text.lower()).strip("-")
    if not name or not name[0].isalpha():
        name = f"rank-{name}".strip("-")
    return name[:40].rstrip("-")


def ranking_job(
    *,
    name: str,
    model: str,
    params: Mapping[str, Any] | None,
    train: str,
    validation: str,
    feature_map: str,
    output_path: str,
    test: str | None = None,
    extra: list[str] | None = None,
    launcher: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
    warm_start: str | None = None,
) -> dict[str, Any]:
    """The ``TrainingJob`` fields (a dict, as ``DistributedTrainingOperator(job=...)`` takes) of one training.

    ``launcher``: the declared launcher settings (workers, cpu, memory, gpu, gpu_type, image,
    timeout). ``warm_start``: a published model (folder or weights file URL) to start from instead of
    random weights (``ranking.train``). Raises ``RankingParamsError`` listing every invalid parameter or setting.
    """
    problems = validate_params(model, params)
    try:
        settings = resolve_launcher(launcher)
    except RankingParamsError as err:
        problems += err.problems
    if problems:
        raise RankingParamsError(f"ranking model {model!r}", problems)
    config = {
        "model": model,
        "params": dict(params or {}),
        "train": train,
        "validation": validation,
        "feature_map": feature_map,
        "test": test,
        "extra": list(extra or []),
        "name": name,
    }
    if warm_start:
        config["warm_start"] = warm_start
    return {
        "name": job_name(name),
        "framework": "pytorch",
        "image": settings["image"],
        "command": ["python", "-m", TRAIN_MODULE, "--config-json", json.dumps(config, sort_keys=True)],
        "workers": settings["workers"],
        "worker_resources": {"cpu": settings["cpu"], "memory": settings["memory"], "gpu": settings["gpu"]},
        "gpu_type": settings["gpu_type"],
        "output_path": output_path,
        "env": {"OMP_NUM_THREADS": "1", **dict(env or {})},
        "timeout": settings["timeout"],
    }
