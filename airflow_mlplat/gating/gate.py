"""The model gate against an MLflow registry: decide, then move the alias by compare-and-set, and record.

Protocol (``gate``): read the version ``V0`` the alias points at (none: no champion) and both versions'
metrics; decide; if the decision is to promote, take the model's :class:`RegistryLock`, re-read the
alias and move it to the candidate only if it still points at ``V0`` (else the outcome is ``stale``:
someone promoted meanwhile, and our comparison was against a champion that is gone); release. Every
outcome is recorded (:mod:`airflow_mlplat.gating.history`).

Guarantee: as long as every writer of the alias goes through the gate and a lock holder finishes within
the lock's ttl, each alias move is a compare-and-set from the version the decision was made against, so
the alias only ever moves to a candidate that beat (by the margin, and passing the bounds) the very
version it replaced. Two concurrent gates can therefore never put a worse or stale candidate over a
better champion: the second one to take the lock finds the alias moved and records ``stale``. An alias
moved by hand, bypassing the gate, is detected the same way (the re-read sees it) but not prevented.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from airflow_mlplat.gating.decision import PROMOTE, STALE, Decision, decide
from airflow_mlplat.gating.history import record_decision
from airflow_mlplat.gating.lock import RegistryLock

log = logging.getLogger("airflow_mlplat.gating")

METRIC_TAG_PREFIX = "metric."
#: ``compared_champion`` default: the supplied champion metrics are not tied to a version.
UNCHECKED: Any = object()


def version_metrics(client: Any, model_name: str, version: str | int) -> dict[str, float]:
    """The ``metric.NAME`` tags of a model version (what the pipeline's register block sets), as floats."""
    tags = client.get_model_version(model_name, str(version)).tags
    metrics = {}
    for key, raw in tags.items():
        if key.startswith(METRIC_TAG_PREFIX):
            try:
                metrics[key[len(METRIC_TAG_PREFIX) :]] = float(raw)
            except ValueError:
                continue
    return metrics


def alias_version(client: Any, model_name: str, alias: str) -> str | None:
    """The version ``alias`` points at, or None when the alias (or the model) does not exist."""
    from mlflow.exceptions import MlflowException

    try:
        return str(client.get_model_version_by_alias(model_name, alias).version)
    except MlflowException as exc:
        if str(getattr(exc, "error_code", "")) in ("RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE"):
            return None
        raise


def gate(
    client: Any,
    model_name: str,
    candidate_version: str | int,
    *,
    metric: str,
    direction: str = "max",
    margin: float = 0.0,
    floors: Mapping[str, float] | None = None,
    ceilings: Mapping[str, float] | None = None,
    alias: str = "champion",
    candidate_metrics: Mapping[str, Any] | None = None,
    champion_metrics: Mapping[str, Any] | None = None,
    compared_champion: str | None = UNCHECKED,
    who: str = "unknown",
    lock_ttl: float = 60.0,
    lock_timeout: float = 120.0,
    after_decide: Callable[[], None] | None = None,
) -> dict[str, Any]:
    """Run the gate for one candidate version; returns the recorded decision (see the module doc).

    Metrics come from the versions' ``metric.*`` tags unless ``candidate_metrics``/``champion_metrics``
    are given (e.g. both versions scored on the same evaluation data). ``compared_champion`` names the
    version ``champion_metrics`` were measured on (None: there was no champion then); if the alias points
    elsewhere now, the outcome is ``stale`` without deciding. ``after_decide`` is called after a decision
    to promote, before taking the lock (tests use it to line concurrent gates up).
    """
    candidate = str(candidate_version)
    client.get_model_version(model_name, candidate)  # fails early, naming the version, if it does not exist
    champion = alias_version(client, model_name, alias)
    cand_metrics = (
        dict(candidate_metrics) if candidate_metrics is not None else version_metrics(client, model_name, candidate)
    )
    champ_metrics: dict[str, Any] | None = None
    if champion is not None:
        champ_metrics = (
            dict(champion_metrics) if champion_metrics is not None else version_metrics(client, model_name, champion)
        )
    if compared_champion is not UNCHECKED and champion != compared_champion:
        decision = Decision(STALE, "", metric, cand_metrics.get(metric), None)
        reason = (
            f"{alias!r} is {champion or 'nothing'} but the champion metrics supplied were measured on "
            f"{compared_champion or 'no champion'}; evaluate again"
        )
        record = _record(
            model_name, alias, candidate, champion, decision, STALE, reason, who, direction, margin, floors, ceilings
        )
        record["history_run_id"] = record_decision(client, record)
        log.info("gate %s v%s: %s (%s)", model_name, candidate, STALE, reason)
        return record
    if champion == candidate:
        decision = Decision(
            "rejected",
            f"version {candidate} is already {alias!r}",
            metric,
            cand_metrics.get(metric),
            cand_metrics.get(metric),
        )
    else:
        decision = decide(cand_metrics, champ_metrics, metric, direction, margin, floors, ceilings)
    outcome, reason = decision.outcome, decision.reason
    if decision.outcome == PROMOTE:
        if after_decide is not None:
            after_decide()
        with RegistryLock(client, model_name, ttl=lock_ttl, timeout=lock_timeout) as lock:
            now = alias_version(client, model_name, alias)
            if now != champion:
                outcome = STALE
                reason = (
                    f"{alias!r} moved from {champion or 'nothing'} to {now or 'nothing'} while deciding; "
                    f"not promoting over a champion the candidate was not compared with ({reason})"
                )
            else:
                lock.check()
                client.set_registered_model_alias(model_name, alias, candidate)
            record = _record(
                model_name,
                alias,
                candidate,
                champion,
                decision,
                outcome,
                reason,
                who,
                direction,
                margin,
                floors,
                ceilings,
            )
            record["history_run_id"] = record_decision(client, record)
    else:
        record = _record(
            model_name, alias, candidate, champion, decision, outcome, reason, who, direction, margin, floors, ceilings
        )
        record["history_run_id"] = record_decision(client, record)
    log.info("gate %s v%s: %s (%s)", model_name, candidate, outcome, reason)
    return record


def _record(
    model_name, alias, candidate, champion, decision, outcome, reason, who, direction, margin, floors, ceilings
) -> dict[str, Any]:
    return {
        "model": model_name,
        "alias": alias,
        "decision": outcome,
        "reason": reason,
        "candidate": candidate,
        "champion": champion,
        "metric": decision.metric,
        "candidate_value": decision.candidate_value,
        "champion_value": decision.champion_value,
        "direction": direction,
        "margin": margin,
        "floors": dict(floors or {}),
        "ceilings": dict(ceilings or {}),
        "who": who,
        "when": datetime.now(UTC).isoformat(),
    }
