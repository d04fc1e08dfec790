"""Promotion history: every gate decision is an MLflow run in the experiment ``mlplat-promotions/MODEL``.

The registry keeps only where an alias points now; these runs keep who moved it, when, why, and both
metrics, and also every rejection and stale attempt. Each run carries the whole record as the tag
``mlplat.gate.record`` (JSON), plus searchable tags (``mlplat.gate.outcome``, ``...candidate_version``,
``...champion_version``, ``...who``) and the two metric values as run metrics.
"""

from __future__ import annotations

import json
from typing import Any

EXPERIMENT_PREFIX = "mlplat-promotions/"
RECORD_TAG = "mlplat.gate.record"


def experiment_name(model_name: str) -> str:
    return f"{EXPERIMENT_PREFIX}{model_name}"


def _experiment_id(client: Any, model_name: str, create: bool) -> str | None:
    from mlflow.exceptions import MlflowException

    name = experiment_name(model_name)
    experiment = client.get_experiment_by_name(name)
    if experiment is not None:
        return experiment.experiment_id
    if not create:
        return None
    try:
        return client.create_experiment(name)
    except MlflowException:  # another gate created it meanwhile
        experiment = client.get_experiment_by_name(name)
        if experiment is None:
            raise
        return experiment.experiment_id


def record_decision(client: Any, record: dict[str, Any]) -> str:
    """Log ``record`` (see :func:`airflow_mlplat.gating.gate`) as a finished run; returns the run id."""
    experiment_id = _experiment_id(client, record["model"], create=True)
    tags = {
        RECORD_TAG: json.dumps(record, sort_keys=True, default=str),
        "mlplat.gate.outcome": record["decision"],
        "mlplat.gate.candidate_version": str(record["candidate"]),
        "mlplat.gate.champion_version": str(record["champion"]),
        "mlplat.gate.who": record["who"],
        "mlflow.runName": f"{record['decision']} v{record['candidate']}",
    }
    run = client.create_run(experiment_id, tags=tags)
    run_id = run.info.run_id
    for side in ("candidate", "champion"):
        value = record.get(f"{side}_value")
        if value is not None:
            client.log_metric(run_id, f"{side}.{record['metric']}", float(value))
    client.log_param(run_id, "metric", record["metric"])
    client.log_param(run_id, "direction", record["direction"])
    client.log_param(run_id, "margin", record["margin"])
    client.set_terminated(run_id)
    return run_id


def promotion_history(model_name: str, tracking_uri: str | None = None, *, limit: int = 1000) -> list[dict[str, Any]]:
    """The gate decisions for ``model_name``, newest first, each the dict the gate recorded plus ``run_id``."""
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)
    experiment_id = _experiment_id(client, model_name, create=False)
    if experiment_id is None:
        return []
    runs = client.search_runs([experiment_id], order_by=["attributes.start_time DESC"], max_results=limit)
    history = []
    for run in runs:
        raw = run.data.tags.get(RECORD_TAG)
        if raw:
            history.append({**json.loads(raw), "run_id": run.info.run_id})
    history.sort(key=lambda r: r.get("when", ""), reverse=True)
    return history
