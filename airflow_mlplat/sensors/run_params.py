"""Sensor timing from the run's Params, so a manual run of a real-time DAG can say how long and how often to wait."""

from __future__ import annotations

from typing import Any


def apply_timing_params(sensor: Any, context: Any) -> None:
    """``params.sensor_timeout_s`` and ``params.sensor_poke_interval_s`` (seconds), when present, set the
    sensor's ``timeout`` and ``poke_interval``."""
    params = context.get("params") or {}
    if params.get("sensor_timeout_s") not in (None, ""):
        sensor.timeout = float(params["sensor_timeout_s"])
    if params.get("sensor_poke_interval_s") not in (None, ""):
        sensor.poke_interval = float(params["sensor_poke_interval_s"])
