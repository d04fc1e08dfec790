"""The gate against the real MLflow server: promotion, rejection, history, and compare-and-set under concurrency."""

from __future__ import annotations

import threading
import time

import pytest

from airflow_mlplat.gating import LockTimeout, RegistryLock, gate, promotion_history
from airflow_mlplat.gating.lock import EXPIRES_TAG, OWNER_TAG
from tests.gating.conftest import METRIC, add_version, alias_of

RULE = {"metric": METRIC, "direction": "max", "margin": 0.01, "floors": {METRIC: 0.6}}


def test_first_candidate_becomes_champion_then_a_worse_one_is_rejected_and_recorded(
    client, model_name, tmp_path, mlflow_server
):
    v1 = add_version(client, model_name, tmp_path, evaluate__auc_roc=0.80)
    v2 = add_version(client, model_name, tmp_path, evaluate__auc_roc=0.805)
    v3 = add_version(client, model_name, tmp_path, evaluate__auc_roc=0.55)
    first = gate(client, model_name, v1, who="test:first", **RULE)
    assert (first["decision"], first["champion"], alias_of(client, model_name)) == ("promoted", None, v1)
    small = gate(client, model_name, v2, who="test:small", **RULE)
    assert small["decision"] == "rejected" and "margin 0.01" in small["reason"]
    low = gate(client, model_name, v3, who="test:low", **RULE)
    assert low["decision"] == "rejected" and "below the floor 0.6" in low["reason"]
    assert alias_of(client, model_name) == v1

    history = promotion_history(model_name, mlflow_server)
    assert [(h["decision"], h["candidate"], h["champion"], h["who"]) for h in history] == [
        ("rejected", v3, v1, "test:low"),
        ("rejected", v2, v1, "test:small"),
        ("promoted", v1, None, "test:first"),
    ]
    assert history[1]["candidate_value"] == 0.805 and history[1]["champion_value"] == 0.80
    assert all(h["when"] and h["reason"] and h["run_id"] for h in history)
    run = client.get_run(history[1]["run_id"])
    assert run.data.metrics == {f"candidate.{METRIC}": 0.805, f"champion.{METRIC}": 0.80}


def test_supplied_metrics_override_the_version_tags(client, model_name, tmp_path):
    v1 = add_version(client, model_name, tmp_path, evaluate__auc_roc=0.90)
    client.set_registered_model_alias(model_name, "champion", v1)
    v2 = add_version(client, model_name, tmp_path, evaluate__auc_roc=0.70)  # tags say worse ...
    same_data = {"candidate_metrics": {METRIC: 0.83}, "champion_metrics": {METRIC: 0.78}}  # ... same-data eval: better
    record = gate(client, model_name, v2, **RULE, **same_data)
    assert record["decision"] == "promoted" and alias_of(client, model_name) == v2
    assert (record["candidate_value"], record["champion_value"]) == (0.83, 0.78)
    again = gate(client, model_name, v2, **RULE)
    assert again["decision"] == "rejected" and "already 'champion'" in again["reason"]


def test_alias_moved_while_deciding_is_stale_and_not_overwritten(client, model_name, tmp_path):
    v1 = add_version(client, model_name, tmp_path, evaluate__auc_roc=0.80)
    v2 = add_version(client, model_name, tmp_path, evaluate__auc_roc=0.95)
    v3 = add_version(client, model_name, tmp_path, evaluate__auc_roc=0.85)
    client.set_registered_model_alias(model_name, "champion", v1)
    record = gate(
        client, model_name, v3, **RULE,
        after_decide=lambda: client.set_registered_model_alias(model_name, "champion", v2),
    )  # fmt: skip
    assert record["decision"] == "stale" and f"moved from {v1} to {v2}" in record["reason"]
    assert alias_of(client, model_name) == v2


def test_metrics_of_a_champion_that_has_since_been_replaced_are_not_used(client, model_name, tmp_path, mlflow_server):
    v1 = add_version(client, model_name, tmp_path, evaluate__auc_roc=0.80)
    v2 = add_version(client, model_name, tmp_path, evaluate__auc_roc=0.95)
    v3 = add_version(client, model_name, tmp_path, evaluate__auc_roc=0.85)
    client.set_registered_model_alias(model_name, "champion", v2)  # moved after v1 was evaluated
    measured_on_v1 = {"candidate_metrics": {METRIC: 0.85}, "champion_metrics": {METRIC: 0.80}}
    record = gate(client, model_name, v3, **RULE, **measured_on_v1, compared_champion=v1)
    assert record["decision"] == "stale" and f"measured on {v1}" in record["reason"]
    assert alias_of(client, model_name) == v2
    assert promotion_history(model_name, mlflow_server)[0]["decision"] == "stale"

    first_ever = gate(client, model_name, v3, **RULE, candidate_metrics={METRIC: 0.85}, compared_champion=None)
    assert first_ever["decision"] == "stale" and "measured on no champion" in first_ever["reason"]
    measured_on_v2 = {"candidate_metrics": {METRIC: 0.85}, "champion_metrics": {METRIC: 0.95}}
    same = gate(client, model_name, v3, **RULE, **measured_on_v2, compared_champion=v2)
    assert same["decision"] == "rejected" and same["champion_value"] == 0.95  # measured on the current champion


def test_concurrent_gates_promote_one_and_retries_end_at_the_best(client, model_name, tmp_path, mlflow_server):
    """Four gates decide against the same champion at once: one moves the alias, the others are stale; gating
    the stale ones again (as Airflow retries would) ends with the best, and every move beat what it replaced."""
    from mlflow import MlflowClient

    champion = add_version(client, model_name, tmp_path, evaluate__auc_roc=0.70)
    client.set_registered_model_alias(model_name, "champion", champion)
    values = {add_version(client, model_name, tmp_path, evaluate__auc_roc=v): v for v in (0.74, 0.90, 0.80, 0.86)}
    barrier = threading.Barrier(len(values))
    records: dict[str, dict] = {}

    def run(version: str) -> None:
        own = MlflowClient(tracking_uri=mlflow_server, registry_uri=mlflow_server)
        records[version] = gate(own, model_name, version, **RULE, after_decide=lambda: barrier.wait(30))

    threads = [threading.Thread(target=run, args=(v,)) for v in values]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    outcomes = sorted(r["decision"] for r in records.values())
    assert outcomes == ["promoted", "stale", "stale", "stale"]
    winner = next(v for v, r in records.items() if r["decision"] == "promoted")
    assert alias_of(client, model_name) == winner
    for version, record in records.items():
        if record["decision"] == "stale":
            gate(client, model_name, version, **RULE)
    assert values[alias_of(client, model_name)] == 0.90
    history = promotion_history(model_name, mlflow_server)
    promoted = [h for h in reversed(history) if h["decision"] == "promoted"]
    chain = [champion] + [h["candidate"] for h in promoted]
    assert [h["champion"] for h in promoted] == chain[:-1]  # each move replaced the version it was compared with
    assert all(h["candidate_value"] >= h["champion_value"] + 0.01 for h in promoted)
    assert not client.search_registered_models(f"name = '{model_name}.mlplat-gate-lock'")


def test_a_create_that_collides_with_a_release_is_retried(client, model_name):
    """The server answers a create that hit the lock's row while its holder deleted it with
    RESOURCE_DOES_NOT_EXIST (its IntegrityError path reads the row back): the lock was free, so the
    next try takes it. The first answer is that one, given here; the rest go to the real server."""
    from mlflow.exceptions import MlflowException
    from mlflow.protos.databricks_pb2 import RESOURCE_DOES_NOT_EXIST

    class CollidingOnce:
        def __init__(self, real):
            self.real, self.creates = real, 0

        def create_registered_model(self, name, **kwargs):
            self.creates += 1
            if self.creates == 1:
                raise MlflowException(f"Registered Model with name={name} not found", RESOURCE_DOES_NOT_EXIST)
            return self.real.create_registered_model(name, **kwargs)

        def __getattr__(self, attribute):
            return getattr(self.real, attribute)

    colliding = CollidingOnce(client)
    with RegistryLock(colliding, model_name, timeout=10) as lock:
        assert dict(client.get_registered_model(lock.name).tags)[OWNER_TAG] == lock.token
    assert colliding.creates == 2
    assert not client.search_registered_models(f"name = '{lock.name}'")


def test_lock_excludes_other_holders_and_breaks_an_expired_one(client, model_name, mlflow_server):
    from mlflow import MlflowClient

    inside, overlaps = [0], []

    def critical() -> None:
        own = MlflowClient(tracking_uri=mlflow_server, registry_uri=mlflow_server)
        for _ in range(3):
            with RegistryLock(own, model_name, timeout=60):
                inside[0] += 1
                overlaps.append(inside[0])
                time.sleep(0.05)
                inside[0] -= 1

    threads = [threading.Thread(target=critical) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert overlaps == [1] * 9

    held = RegistryLock(client, model_name, ttl=60)
    held.acquire()
    with pytest.raises(LockTimeout, match="still held"):
        RegistryLock(client, model_name, timeout=0.5).acquire()
    # The holder died long ago: its expiry has passed, so the next gate breaks the lock.
    client.set_registered_model_tag(held.name, EXPIRES_TAG, repr(time.time() - 1))
    with RegistryLock(client, model_name, timeout=10) as taker:
        assert dict(client.get_registered_model(taker.name).tags)[OWNER_TAG] == taker.token
    held.release()  # no longer ours: leaves nothing behind and does not fail
    assert not client.search_registered_models(f"name = '{held.name}'")
