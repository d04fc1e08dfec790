"""The pure gate rule: margins, floors and ceilings, min/max, no champion, missing metrics."""

from __future__ import annotations

import pytest

from airflow_mlplat.gating import PROMOTE, REJECT, decide

M = "evaluate.auc_roc"


def test_no_champion_promotes_a_candidate_that_passes_the_floors():
    d = decide({M: 0.7}, None, M, floors={M: 0.6})
    assert d.outcome == PROMOTE and "no champion" in d.reason and d.champion_value is None


def test_no_champion_still_needs_the_floors():
    d = decide({M: 0.55}, None, M, floors={M: 0.6})
    assert d.outcome == REJECT and "below the floor 0.6" in d.reason


@pytest.mark.parametrize(
    ("cand", "champ", "margin", "outcome"),
    [(0.85, 0.80, 0.01, PROMOTE), (0.805, 0.80, 0.01, REJECT), (0.81, 0.80, 0.01, PROMOTE), (0.80, 0.80, 0.0, REJECT),
     (0.79, 0.80, 0.0, REJECT), (0.80001, 0.80, 0.0, PROMOTE)],
)  # fmt: skip
def test_max_direction_needs_a_strict_win_by_the_margin(cand, champ, margin, outcome):
    d = decide({M: cand}, {M: champ}, M, "max", margin)
    assert d.outcome == outcome, d.reason
    assert (d.candidate_value, d.champion_value) == (cand, champ)


def test_min_direction_lower_wins():
    assert decide({"logloss": 0.30}, {"logloss": 0.35}, "logloss", "min", 0.02).outcome == PROMOTE
    rejected = decide({"logloss": 0.34}, {"logloss": 0.35}, "logloss", "min", 0.02)
    assert rejected.outcome == REJECT and "min is better" in rejected.reason
    assert decide({"logloss": 0.40}, {"logloss": 0.35}, "logloss", "max", 0.02).outcome == PROMOTE


def test_floors_and_ceilings_on_other_metrics():
    cand = {M: 0.9, "evaluate.recall": 0.4, "evaluate.logloss": 0.5}
    assert decide(cand, {M: 0.8}, M, floors={"evaluate.recall": 0.5}).reason.startswith(
        "candidate evaluate.recall=0.4 is below the floor 0.5"
    )
    assert "above the ceiling 0.45" in decide(cand, {M: 0.8}, M, ceilings={"evaluate.logloss": 0.45}).reason
    ok = decide(cand, {M: 0.8}, M, floors={"evaluate.recall": 0.3}, ceilings={"evaluate.logloss": 0.6})
    assert ok.outcome == PROMOTE


def test_missing_or_bad_metrics_reject_naming_them():
    assert "no numeric metric 'evaluate.auc_roc'" in decide({"x": 1}, None, M).reason
    assert "no numeric metric 'evaluate.auc_roc'" in decide({M: float("nan")}, None, M).reason
    assert "for its floor" in decide({M: 0.9}, None, M, floors={"evaluate.recall": 0.1}).reason
    assert "champion has no numeric metric" in decide({M: 0.9}, {"other": 1.0}, M).reason
    assert decide({M: "0.9"}, {M: "0.8"}, M).outcome == PROMOTE  # tag values are strings


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"direction": "up"}, "direction"), ({"margin": -0.1}, "margin"), ({"floors": {M: "high"}}, "floors")],
)
def test_invalid_settings_fail_naming_the_parameter(kwargs, message):
    with pytest.raises(ValueError, match=message):
        decide({M: 0.9}, None, M, **kwargs)
