"""A prediction service's ``/metrics`` (Prometheus text format) as counters, and rates from two readings.

The service (``serving/app.py``) exports ``mlplat_predict_requests_total{slot,version,status}``,
the histogram ``mlplat_predict_latency_seconds{slot}`` and the gauge ``mlplat_model_version{slot}``.
Requests per second are the requests counter's increase between two readings over the seconds
between them; latency is the histogram's increase over the same span: mean (sum / count) and the
95th percentile (interpolated in the buckets, as Prometheus' ``histogram_quantile`` does). A
counter lower than before means the service restarted: its current value is the increase.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

from airflow_mlplat.ui.resources.sampling import Pair

REQUESTS = "mlplat_predict_requests_total"
LATENCY = "mlplat_predict_latency_seconds"
VERSION = "mlplat_model_version"

_SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+-?\d+)?$")
_LABEL = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*,?')
_UNESCAPE = {"\\\\": "\\", '\\"': '"', "\\n": "\n"}


class MetricsFormatError(ValueError):
    """The text is not a prediction service's metrics."""


def parse_samples(text: str) -> list[tuple[str, dict[str, str], float]]:
    """``(name, labels, value)`` of every sample line of a Prometheus text exposition."""
    samples = []
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        match = _SAMPLE.match(line)
        if match is None:
            raise MetricsFormatError(f"line {number} is not a sample: {line[:80]!r}")
        name, raw_labels, raw_value = match.groups()
        labels = {}
        for label in _LABEL.finditer(raw_labels or ""):
            value = re.sub(r"\\[\\\"n]", lambda m: _UNESCAPE[m.group(0)], label.group(2))
            labels[label.group(1)] = value
        try:
            samples.append((name, labels, float(raw_value)))
        except ValueError:
            raise MetricsFormatError(f"line {number}: {raw_value!r} is not a number") from None
    return samples


@dataclass(frozen=True)
class ServiceCounters:
    """The counters of one reading of a service (summed over slots and versions)."""

    requests: float = 0.0
    failed: float = 0.0  # answers with a 5xx status
    latency_sum: float = 0.0
    latency_count: float = 0.0
    buckets: dict[float, float] = field(default_factory=dict)  # upper bound -> cumulative count
    versions: dict[str, str] = field(default_factory=dict)  # slot -> version served

    @classmethod
    def from_text(cls, text: str) -> ServiceCounters:
        if REQUESTS.removesuffix("_total") not in text:
            raise MetricsFormatError(f"no {REQUESTS} in the metrics: not an airflow-mlplat prediction service")
        requests = failed = latency_sum = latency_count = 0.0
        buckets: dict[float, float] = {}
        versions: dict[str, str] = {}
        for name, labels, value in parse_samples(text):
            if name == REQUESTS:
                requests += value
                if labels.get("status", "").startswith("5"):
                    failed += value
            elif name == f"{LATENCY}_sum":
                latency_sum += value
            elif name == f"{LATENCY}_count":
                latency_count += value
            elif name == f"{LATENCY}_bucket":
                bound = float(labels.get("le", "+Inf"))
                buckets[bound] = buckets.get(bound, 0.0) + value
            elif name == VERSION and "slot" in labels:
                versions[labels["slot"]] = str(int(value)) if value.is_integer() else str(value)
        return cls(requests, failed, latency_sum, latency_count, dict(sorted(buckets.items())), versions)

    @staticmethod
    def add(parts: list[ServiceCounters]) -> ServiceCounters:
        """Several replicas' counters as one service's."""
        buckets: dict[float, float] = {}
        versions: dict[str, str] = {}
        for part in parts:
            for bound, count in part.buckets.items():
                buckets[bound] = buckets.get(bound, 0.0) + count
            versions.update(part.versions)
        return ServiceCounters(
            sum(p.requests for p in parts),
            sum(p.failed for p in parts),
            sum(p.latency_sum for p in parts),
            sum(p.latency_count for p in parts),
            dict(sorted(buckets.items())),
            versions,
        )


def quantile(q: float, buckets: dict[float, float]) -> float | None:
    """The ``q`` quantile of a histogram's cumulative ``buckets`` (upper bound -> count), interpolated
    linearly inside its bucket; None without observations. In the ``+Inf`` bucket: the highest finite bound."""
    if not buckets:
        return None
    bounds = sorted(buckets)
    total = buckets[bounds[-1]]
    if total <= 0:
        return None
    rank = q * total
    lower, below = 0.0, 0.0
    for bound in bounds:
        count = buckets[bound]
        if count >= rank:
            if math.isinf(bound):
                return lower
            if count == below:
                return bound
            return lower + (bound - lower) * (rank - below) / (count - below)
        lower, below = bound, count
    return lower


def service_rates(pairs: list[Pair]) -> dict[str, Any]:
    """Requests per second, failed requests per second, mean and p95 latency (ms) of a service whose
    replicas were each read twice (``pairs``: one per replica).

    Rates add up over replicas; latency is over every request the replicas answered in between
    (None when there was none).
    """
    rps = failed_rps = latency_sum = count = 0.0
    buckets: dict[float, float] = {}
    for pair in pairs:
        a: ServiceCounters = pair.earlier.value
        b: ServiceCounters = pair.later.value
        base = ServiceCounters() if b.requests < a.requests or b.latency_count < a.latency_count else a  # restarted
        rps += (b.requests - base.requests) / pair.seconds
        failed_rps += (b.failed - base.failed) / pair.seconds
        latency_sum += b.latency_sum - base.latency_sum
        count += b.latency_count - base.latency_count
        for bound, value in b.buckets.items():
            buckets[bound] = buckets.get(bound, 0.0) + value - base.buckets.get(bound, 0.0)
    p95 = quantile(0.95, buckets) if count > 0 else None
    later = ServiceCounters.add([p.later.value for p in pairs])
    return {
        "rps": round(rps, 2),
        "failed_rps": round(failed_rps, 2),
        "latency_mean_ms": round(1000 * latency_sum / count, 2) if count > 0 else None,
        "latency_p95_ms": round(1000 * p95, 2) if p95 is not None else None,
        "window_s": round(min(p.seconds for p in pairs), 2),
        "requests_total": int(later.requests),
        "versions": later.versions,
    }
