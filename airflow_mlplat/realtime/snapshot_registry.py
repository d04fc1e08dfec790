"""Streaming FTRL snapshots in the MLflow registry: which are registered, register one, and judge it fairly.

A registered snapshot is an MLflow run (hyper-parameters, progressive metrics, the model folder of
:mod:`airflow_mlplat.realtime.snapshot_model` as its ``model`` artifact) and a model version tagged

- ``mlplat.kind`` = ``streaming_ftrl``, ``mlplat.snapshot`` (its folder), ``mlplat.snapshot_name``,
  ``mlplat.stream_source``, ``mlplat.events_seen``;
- ``metric.auc_roc`` / ``metric.log_loss`` / ``metric.rows``: the progressive metrics over its window;
- ``mlplat.warm_started_from``: the previous streaming version of the model (``none`` for the first): the
  job's state continues from one snapshot to the next.

The gate compares the candidate with the champion on the same rows (:func:`evaluate_snapshot`): the events
of the snapshot's metric window, which the snapshot records. The candidate's score of each row is its
progressive one (made before it learnt the row); the champion scores the rows with the serving code. When
the champion is an earlier snapshot of the same stream, only the rows it has not learnt (sequence number
above its ``events_seen``) are used, so neither side is scored on rows it learnt from.

Importing this module imports neither mlflow nor pyarrow.
"""

from __future__ import annotations

import json
import logging
import math
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from airflow_mlplat.realtime.events import FEATURES
from airflow_mlplat.realtime.snapshots import latest_snapshot, local_root, read_snapshot

log = logging.getLogger("airflow_mlplat.realtime")

KIND = "streaming_ftrl"
KIND_TAG = "mlplat.kind"
SNAPSHOT_TAG = "mlplat.snapshot"
SNAPSHOT_NAME_TAG = "mlplat.snapshot_name"
SOURCE_TAG = "mlplat.stream_source"
EVENTS_TAG = "mlplat.events_seen"
WARM_START_TAG = "mlplat.warm_started_from"  # the loop's tag (realtime.training.WARM_START_TAG)
#: Fewest unseen rows the champion comparison uses before it falls back to the whole window.
MIN_ROWS = 200


def _client(tracking_uri: str) -> Any:
    from mlflow import MlflowClient

    return MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)


def streaming_versions(client: Any, model_name: str) -> list[Any]:
    """The model's versions registered from streaming snapshots, oldest first ([] when the model is new)."""
    from mlflow.exceptions import MlflowException

    try:
        versions = client.search_model_versions(f"name='{model_name}'")
    except MlflowException as error:
        if str(getattr(error, "error_code", "")) == "RESOURCE_DOES_NOT_EXIST":
            return []
        raise
    found = [v for v in versions if (v.tags or {}).get(KIND_TAG) == KIND]
    return sorted(found, key=lambda v: int(v.version))


def newest_unregistered(tracking_uri: str, model_name: str, snapshot_dir: str) -> tuple[Path | None, str]:
    """``(snapshot, after)``: the newest snapshot under ``snapshot_dir`` newer than every registered one of
    ``model_name`` (None when there is none yet), and the name a newer one must sort after."""
    root = local_root(snapshot_dir)
    registered = [
        (v.tags or {}).get(SNAPSHOT_NAME_TAG, "")
        for v in streaming_versions(_client(tracking_uri), model_name)
        if Path((v.tags or {}).get(SNAPSHOT_TAG, "")).parent == root
    ]
    after = max(registered, default="")
    return latest_snapshot(root, after=after), after


def _numbers(values: dict[str, Any]) -> dict[str, float]:
    return {
        k: float(v)
        for k, v in values.items()
        if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(float(v))
    }


def register_snapshot(
    tracking_uri: str, model_name: str, snapshot: str | Path, *, experiment: str | None = None
) -> dict[str, Any]:
    """Register the snapshot folder ``snapshot`` as a new version of ``model_name`` (see the module doc).

    Returns ``{"name", "version", "run_id", "model_uri", "snapshot", "warm_started_from", "metrics"}``.

    :raises SnapshotError: the folder is not a readable snapshot.
    :raises ValueError: its metric window has no AUC (one class only): nothing to gate on.
    """
    import mlflow
    from mlflow.exceptions import MlflowException

    from airflow_mlplat import __version__
    from airflow_mlplat.realtime.snapshot_model import write_spark_model

    info, arrays = read_snapshot(snapshot)
    folder = str(local_root(snapshot, what="snapshot"))
    if info.get("auc_roc") is None:
        raise ValueError(
            f"snapshot {folder}: its metric window ({info.get('rows')} rows) holds one class only; "
            "no progressive AUC to gate on"
        )
    client = _client(tracking_uri)
    previous = streaming_versions(client, model_name)
    warm = str(previous[-1].version) if previous else "none"
    metrics = {"auc_roc": info["auc_roc"], "log_loss": info["log_loss"], "rows": info["rows"]}
    tags = {
        KIND_TAG: KIND,
        SNAPSHOT_TAG: folder,
        SNAPSHOT_NAME_TAG: info["name"],
        SOURCE_TAG: str(info.get("source", "")),
        EVENTS_TAG: str(info["events"]),
        WARM_START_TAG: warm,
        "mlplat.package_version": __version__,
        **{f"metric.{k}": repr(float(v)) for k, v in metrics.items()},
    }
    mlflow.set_tracking_uri(tracking_uri)
    mlflow.set_experiment(experiment or model_name)
    with tempfile.TemporaryDirectory(prefix="mlplat-snapshot-") as scratch:
        model_dir = write_spark_model(info, arrays, Path(scratch) / "model")
        with mlflow.start_run(run_name=info["name"], tags={KIND_TAG: KIND, SNAPSHOT_TAG: folder}) as run:
            mlflow.log_params({**info["hyper_parameters"], "metric_window": info["window"]})
            mlflow.log_metrics(
                {f"progressive_{k}": v for k, v in _numbers(metrics).items()} | {"events": float(info["events"])}
            )
            mlflow.log_artifacts(str(model_dir), artifact_path="model")
            source = f"{run.info.artifact_uri.rstrip('/')}/model"
            run_id = run.info.run_id
    try:
        client.create_registered_model(model_name)
    except MlflowException as error:
        if str(getattr(error, "error_code", "")) != "RESOURCE_ALREADY_EXISTS":
            raise
    version = client.create_model_version(model_name, source, run_id=run_id, tags=tags)
    client.update_model_version(
        model_name,
        version.version,
        f"Streaming FTRL snapshot {info['name']}: {info['events']} events learnt from {info.get('source')}; "
        f"progressive AUC {info['auc_roc']:.4f} over the last {info['rows']}. Continues from version {warm}.",
    )
    log.info("registered snapshot %s as %s version %s", info["name"], model_name, version.version)
    return {
        "name": model_name,
        "version": int(version.version),
        "run_id": run_id,
        "model_uri": f"models:/{model_name}/{version.version}",
        "snapshot": folder,
        "warm_started_from": warm,
        "metrics": metrics,
    }


def window_table(arrays: dict[str, np.ndarray]) -> Any:
    """The snapshot's metric-window events as a pyarrow Table: the six raw features (null when missing) and label."""
    import pyarrow as pa

    rows = np.asarray(arrays["window_rows"], dtype=np.float64)
    columns = {
        name: pa.array(rows[:, 4 + j], type=pa.float64(), mask=np.isnan(rows[:, 4 + j]))
        for j, name in enumerate(FEATURES)
    }
    columns["label"] = pa.array(rows[:, 3].astype(np.int32))
    return pa.table(columns)


def evaluate_snapshot(
    tracking_uri: str,
    model_name: str,
    candidate_version: str | int,
    *,
    alias: str = "champion",
    min_rows: int = MIN_ROWS,
) -> dict[str, Any]:
    """The candidate's progressive metrics and the champion's on the same rows of the candidate's window.

    Returns ``{"candidate", "champion" (None without one), "candidate_version", "champion_version", "rows",
    "rows_unseen_by_champion", "basis"}``; ``basis`` says which rows were compared.
    """
    import pyarrow as pa

    from airflow_mlplat.realtime.evaluate import binary_metrics, score_version
    from airflow_mlplat.serving.registry import RegistryClient

    client = _client(tracking_uri)
    candidate = str(candidate_version).strip()
    tags = client.get_model_version(model_name, candidate).tags or {}
    if tags.get(KIND_TAG) != KIND:
        raise ValueError(f"model {model_name} version {candidate} is not a streaming FTRL snapshot ({KIND_TAG})")
    _, arrays = read_snapshot(tags[SNAPSHOT_TAG])
    rows = np.asarray(arrays["window_rows"], dtype=np.float64)
    seq, scores, labels = rows[:, 0], rows[:, 2], rows[:, 3]
    registry = RegistryClient(tracking_uri)
    cache_dir = tempfile.mkdtemp(prefix="mlplat-snapshot-gate-")
    try:
        champion = registry.alias_version(model_name, alias)
        result: dict[str, Any] = {
            "candidate_version": candidate,
            "champion_version": champion,
            "rows": int(rows.shape[0]),
            "rows_unseen_by_champion": int(rows.shape[0]),
            "basis": "the candidate's whole metric window (no champion)",
            "champion": None,
        }
        selected = np.ones(rows.shape[0], dtype=bool)
        if champion is not None:
            champion_tags = client.get_model_version(model_name, champion).tags or {}
            if champion_tags.get(KIND_TAG) == KIND and champion_tags.get(SOURCE_TAG) == tags.get(SOURCE_TAG):
                unseen = seq > float(champion_tags.get(EVENTS_TAG, "inf"))
                result["rows_unseen_by_champion"] = int(unseen.sum())
                if unseen.sum() >= min_rows and len(set(labels[unseen].tolist())) == 2:
                    selected = unseen
                    result["basis"] = "the window's rows the champion snapshot had not learnt"
                else:
                    result["basis"] = (
                        f"the whole window: only {int(unseen.sum())} rows are unseen by the champion "
                        f"(< {min_rows} or one class); the champion has learnt the others"
                    )
            else:
                result["basis"] = "the whole window (the champion is not a snapshot of this stream)"
            table = window_table(arrays).filter(pa.array(selected))
            champion_scores = score_version(registry, model_name, champion, table, cache_dir)
            result["champion"] = binary_metrics(labels[selected], champion_scores)
        result["candidate"] = binary_metrics(labels[selected], scores[selected])
        result["compared_rows"] = int(selected.sum())
        log.info("snapshot gate %s v%s: %s", model_name, candidate, json.dumps(result, default=str))
        return result
    finally:
        registry.close()
        shutil.rmtree(cache_dir, ignore_errors=True)
