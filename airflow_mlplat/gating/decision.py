"""The gate's decision: does a candidate beat the champion by a margin and pass the absolute bounds? Pure logic."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

DIRECTIONS = ("max", "min")
PROMOTE = "promoted"
REJECT = "rejected"
STALE = "stale"


@dataclass(frozen=True)
class Decision:
    """``outcome`` is ``promoted`` or ``rejected`` (``stale`` is set later, by the compare-and-set)."""

    outcome: str
    reason: str
    metric: str
    candidate_value: float | None
    champion_value: float | None

    @property
    def promote(self) -> bool:
        return self.outcome == PROMOTE

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _value(metrics: Mapping[str, Any], name: str) -> float | None:
    raw = metrics.get(name)
    if raw is None:
        return None
    try:
        value = float(raw)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(value) else value


def _check_bounds(kind: str, bounds: Mapping[str, float] | None) -> None:
    for name, bound in (bounds or {}).items():
        if not isinstance(bound, (int, float)) or isinstance(bound, bool) or math.isnan(bound):
            raise ValueError(f"gate {kind}[{name!r}] must be a number, got {bound!r}")


def decide(
    candidate: Mapping[str, Any],
    champion: Mapping[str, Any] | None,
    metric: str,
    direction: str = "max",
    margin: float = 0.0,
    floors: Mapping[str, float] | None = None,
    ceilings: Mapping[str, float] | None = None,
) -> Decision:
    """Decide whether ``candidate`` replaces ``champion`` (``None``: there is no champion yet).

    The candidate must (1) have every metric of ``floors`` at or above its bound and of ``ceilings`` at or
    below it, and (2) beat the champion on ``metric`` by at least ``margin`` (absolute, in the metric's
    units; ``direction`` ``max``: higher is better, ``min``: lower is better) and strictly. Without a
    champion, passing the bounds is enough. A missing or non-numeric metric rejects, naming it; so does a
    champion without ``metric`` (a comparison that cannot be made is not a win).
    """
    if direction not in DIRECTIONS:
        raise ValueError(f"gate direction must be one of {DIRECTIONS}, got {direction!r}")
    if not isinstance(margin, (int, float)) or math.isnan(margin) or margin < 0:
        raise ValueError(f"gate margin must be a number >= 0, got {margin!r}")
    _check_bounds("floors", floors)
    _check_bounds("ceilings", ceilings)
    cand = _value(candidate, metric)
    champ = _value(champion, metric) if champion is not None else None

    def reject(reason: str) -> Decision:
        return Decision(REJECT, reason, metric, cand, champ)

    if cand is None:
        return reject(f"candidate has no numeric metric {metric!r} (has: {', '.join(sorted(candidate)) or 'none'})")
    for kind, bounds, fails in (("floor", floors, float.__lt__), ("ceiling", ceilings, float.__gt__)):
        for name, bound in (bounds or {}).items():
            value = _value(candidate, name)
            if value is None:
                return reject(f"candidate has no numeric metric {name!r} for its {kind} {bound}")
            if fails(value, float(bound)):
                side = "below" if kind == "floor" else "above"
                return reject(f"candidate {name}={value:g} is {side} the {kind} {bound:g}")
    if champion is None:
        return Decision(PROMOTE, f"no champion yet; candidate {metric}={cand:g} passes the bounds", metric, cand, None)
    if champ is None:
        return reject(f"champion has no numeric metric {metric!r}; cannot compare")
    gain = cand - champ if direction == "max" else champ - cand
    if gain > 0 and gain >= margin:
        return Decision(
            PROMOTE,
            f"candidate {metric}={cand:g} beats champion {champ:g} by {gain:g} (margin {margin:g})",
            metric,
            cand,
            champ,
        )
    return reject(
        f"candidate {metric}={cand:g} does not beat champion {champ:g} by the margin {margin:g} "
        f"(gain {gain:g}, {direction} is better)"
    )
