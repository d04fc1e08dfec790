"""Gate tests use the session's real MLflow server; model versions are tiny (no Spark), tagged with metrics."""

from __future__ import annotations

import itertools

import pytest

from tests.airflow.conftest import airflow_db  # noqa: F401  (the migrated metadata DB for dag.test())

METRIC = "evaluate.auc_roc"
_names = itertools.count()


@pytest.fixture
def client(mlflow_server):
    from mlflow import MlflowClient

    return MlflowClient(tracking_uri=mlflow_server, registry_uri=mlflow_server)


@pytest.fixture
def model_name(client, request) -> str:
    """A fresh registered model per test."""
    name = f"gate_{request.node.name.split('[')[0]}_{next(_names)}"
    client.create_registered_model(name)
    return name


def add_version(client, name: str, tmp_path, **metrics: float) -> str:
    """A model version (an empty ``MLmodel`` logged to a run) with ``metric.*`` tags; returns its number.

    Keyword ``evaluate__auc_roc=0.8`` becomes the tag ``metric.evaluate.auc_roc``.
    """
    source = tmp_path / f"src-{next(_names)}"
    source.mkdir()
    (source / "MLmodel").write_text("flavors: {}\n")
    run = client.create_run(client.get_experiment_by_name("Default").experiment_id)
    client.log_artifacts(run.info.run_id, str(source), "model")
    client.set_terminated(run.info.run_id)
    tags = {f"metric.{k.replace('__', '.')}": repr(v) for k, v in metrics.items()}
    version = client.create_model_version(name, f"{run.info.artifact_uri}/model", run_id=run.info.run_id, tags=tags)
    return str(version.version)


def alias_of(client, name: str, alias: str = "champion") -> str | None:
    from airflow_mlplat.gating.gate import alias_version

    return alias_version(client, name, alias)
