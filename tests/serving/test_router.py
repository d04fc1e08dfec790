"""Model references and the champion/challenger router (no Spark, no server)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from airflow_mlplat.serving.registry import ModelRef
from airflow_mlplat.serving.versions import ModelRouter, ModelSlot


@pytest.mark.parametrize(
    ("text", "name", "alias", "version", "label"),
    [
        ("models:/churn@champion", "churn", "champion", None, "champion"),
        ("models:/churn/7", "churn", None, "7", "v7"),
        ("models:/team.churn-model@challenger", "team.churn-model", "challenger", None, "challenger"),
    ],
)
def test_model_references_parse(text, name, alias, version, label):
    ref = ModelRef.parse(text)
    assert (ref.name, ref.alias, ref.version, ref.label) == (name, alias, version, label)


@pytest.mark.parametrize("text", ["models:/churn", "models:/churn/latest", "models:/@champion", "runs:/abc/model"])
def test_bad_references_name_the_forms(text):
    with pytest.raises(ValueError, match="models:/NAME@ALIAS"):
        ModelRef.parse(text)


def _slot(alias: str, version: str | None) -> ModelSlot:
    slot = ModelSlot(ModelRef.parse(f"models:/m@{alias}"), registry=None, cache_dir=Path("."))
    slot.current = SimpleNamespace(version=version, slot=alias) if version else None
    return slot


def test_router_routes_by_header_then_share():
    router = ModelRouter([_slot("champion", "1"), _slot("challenger", "2")], {"champion": 3, "challenger": 1}, seed=0)
    assert router.shares == {"champion": 0.75, "challenger": 0.25}
    assert router.choose(slot="challenger").version == "2"
    assert router.choose(version="1").version == "1"
    picks = [router.choose().version for _ in range(2000)]
    assert 350 < picks.count("2") < 650
    with pytest.raises(LookupError, match="no loaded model slot 'shadow'"):
        router.choose(slot="shadow")
    with pytest.raises(LookupError, match=r"version '5' is not loaded \(loaded: 1, 2\)"):
        router.choose(version="5")


def test_router_without_shares_sends_everything_to_the_first_slot():
    router = ModelRouter([_slot("champion", "1"), _slot("challenger", "2")])
    assert {router.choose().version for _ in range(100)} == {"1"}


@pytest.mark.parametrize(
    ("shares", "message"),
    [({"canary": 1.0}, "no such slot"), ({"champion": -1.0}, ">= 0"), ({"champion": 0.0}, "more than 0")],
)
def test_router_rejects_bad_shares(shares, message):
    with pytest.raises(ValueError, match=message):
        ModelRouter([_slot("champion", "1")], shares)


def test_duplicate_slots_are_rejected():
    with pytest.raises(ValueError, match="share a slot name"):
        ModelRouter([_slot("champion", "1"), _slot("champion", "2")])
