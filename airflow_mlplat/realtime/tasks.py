"""The pieces of the ``realtime_retrain`` DAG: which windows a run uses, and tasks configured by the run's Params.

A run evaluates on the newest closed window: the one ending at the floor (to ``window_minutes``) of
``params.window_end`` when set, else of the run's data-interval end (else of its run_after). It trains
on the ``train_windows`` windows before it whose partitions are committed (``_SUCCESS``).

Importing this module imports neither pyspark nor mlflow.
"""

from __future__ import annotations

import json
import os
import urllib.request
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from airflow_mlplat.realtime.windows import naive_utc, partition_name, partition_path, window_start_of
from airflow_mlplat.sensors.partition_ready import PartitionReadySensor
from airflow_mlplat.sensors.run_params import apply_timing_params

if TYPE_CHECKING:
    from airflow.sdk import Context

MARKER = "_SUCCESS"


def evaluation_window(window_minutes: int, window_end: Any = None, *fallbacks: Any) -> datetime:
    """Start (naive UTC) of the newest window that ended at or before the first set of ``window_end``, fallbacks."""
    end = next((value for value in (window_end, *fallbacks) if value not in (None, "")), None)
    if end is None:
        raise ValueError("realtime_retrain: no window end: set params.window_end or run with a data interval")
    return window_start_of(naive_utc(end), int(window_minutes)) - timedelta(minutes=int(window_minutes))


def training_windows(newest: datetime, window_minutes: int, count: int) -> list[datetime]:
    """The ``count`` windows before ``newest``, oldest first."""
    return [newest - timedelta(minutes=int(window_minutes) * k) for k in range(int(count), 0, -1)]


def partition_filter(windows: list[datetime]) -> str:
    """A Spark SQL condition keeping exactly these windows' partitions.

    It works whether Spark infers ``dt``/``hm`` as strings or as date/int (``hm=0010`` -> 10).
    """
    keys = ", ".join(f"'{partition_name(w).replace('dt=', '').replace('/hm=', '/')}'" for w in windows)
    return f"concat(CAST(dt AS STRING), '/', lpad(CAST(hm AS STRING), 4, '0')) IN ({keys})"


def plan(params: Mapping[str, Any], data_interval_end: Any = None, run_after: Any = None) -> dict[str, Any]:
    """What a run works on: ``eval_window``, ``eval_url``, ``train_windows`` (all asked for), ``train_filter``."""
    minutes = int(params["window_minutes"])
    newest = evaluation_window(minutes, params.get("window_end"), data_interval_end, run_after)
    base = str(params["partitions_base"])
    wanted = training_windows(newest, minutes, int(params["train_windows"]))
    return {
        "eval_window": newest.isoformat(),
        "eval_url": partition_path(base, newest),
        "train_windows": [w.isoformat() for w in wanted],
        "train_filter": partition_filter(wanted),
    }


def committed_training_windows(
    params: Mapping[str, Any], data_interval_end: Any = None, run_after: Any = None
) -> list[datetime]:
    """The training windows whose partitions have ``_SUCCESS``, oldest first.

    :raises ValueError: none of them is committed (names the partitions looked at).
    """
    from airflow_mlplat.storage.urls import exists, marker_url

    run = plan(params, data_interval_end, run_after)
    base = str(params["partitions_base"])
    ready = [
        w
        for w in map(datetime.fromisoformat, run["train_windows"])
        if exists(marker_url(partition_path(base, w), MARKER))
    ]
    if not ready:
        looked = ", ".join(partition_path(base, datetime.fromisoformat(w)) for w in run["train_windows"])
        raise ValueError(f"realtime_retrain: no committed training partition ({MARKER}) among: {looked}")
    return ready


def committed_training_filter(params: Mapping[str, Any], data_interval_end: Any = None, run_after: Any = None) -> str:
    """The Spark SQL filter of ``committed_training_windows`` (for the Spark training documents)."""
    return partition_filter(committed_training_windows(params, data_interval_end, run_after))


def committed_training_partitions(
    params: Mapping[str, Any], data_interval_end: Any = None, run_after: Any = None
) -> list[str]:
    """The partition folders of ``committed_training_windows`` (for models trained outside Spark)."""
    base = str(params["partitions_base"])
    return [partition_path(base, w) for w in committed_training_windows(params, data_interval_end, run_after)]


class WindowPartitionSensor(PartitionReadySensor):
    """:class:`PartitionReadySensor` whose timeout and poke interval come from the run's Params.

    ``params.sensor_timeout_s`` and ``params.sensor_poke_interval_s`` (seconds) when present.
    """

    def execute(self, context: Context) -> Any:
        apply_timing_params(self, context)
        return super().execute(context)

    def execute_complete(self, context: Context, event: dict[str, Any]) -> str:
        apply_timing_params(self, context)
        return super().execute_complete(context, event)


def tracking_uri() -> str:
    from airflow_mlplat.hooks.mlflow_tracking import MlflowTrackingHook

    uri = MlflowTrackingHook("mlflow_default").tracking_uri()
    if not uri:
        raise ValueError(
            "no MLflow server for the real-time loop: define the connection mlflow_default or MLFLOW_TRACKING_URI"
        )
    return uri


def evaluate(context: Context) -> dict[str, Any]:
    """The evaluate task: the registered candidate and the champion, scored on the newest partition."""
    from airflow_mlplat.realtime.evaluate import evaluate_candidate

    params = context["params"]
    tracking = context["ti"].xcom_pull(task_ids="train", key="tracking") or {}
    registered = tracking.get("registered_model") or {}
    if not registered.get("version"):
        raise ValueError(
            "realtime_retrain.evaluate: the train task registered no model version (is the run tracked? "
            f"tracking XCom: {tracking!r})"
        )
    run = plan(params, context.get("data_interval_end"), getattr(context.get("dag_run"), "run_after", None))
    result = evaluate_candidate(
        tracking_uri(),
        registered.get("name") or params["model_name"],
        registered["version"],
        run["eval_url"],
        alias=params["alias"],
    )
    result["model_name"] = registered.get("name") or params["model_name"]
    result["eval_window"] = run["eval_window"]
    return result


def notify_serving(context: Context, timeout: float = 30.0) -> dict[str, Any]:
    """POST ``params.serving_url``/admin/reload after a promotion; without a URL serving follows the alias itself.

    The service's admin token comes from ``$MLPLAT_SERVING_ADMIN_TOKEN`` of the worker.
    """
    params = context["params"]
    decision = context["ti"].xcom_pull(task_ids="gate") or {}
    url = str(params.get("serving_url") or "").rstrip("/")
    if decision.get("decision") != "promoted":
        return {"notified": False, "why": f"decision {decision.get('decision')!r}: nothing to reload"}
    if not url:
        return {"notified": False, "why": "no serving_url: the service follows the alias by polling"}
    from airflow_mlplat.serving.admin import ADMIN_TOKEN_ENV

    token = os.environ.get(ADMIN_TOKEN_ENV, "")
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    request = urllib.request.Request(f"{url}/admin/reload", data=b"", method="POST", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = json.load(response)
    except OSError as error:
        raise RuntimeError(f"realtime_retrain.notify_serving: POST {url}/admin/reload failed: {error}") from error
    return {"notified": True, "url": url, "versions": body.get("versions")}
