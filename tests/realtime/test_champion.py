"""Which champion an incremental model of ``realtime_retrain`` continues from, against the session's real
MLflow registry (tiny versions, no Spark): the loop test covers the download of a champion of the same kind.
"""

from __future__ import annotations

from airflow_mlplat.realtime.training import KIND_TAG, download_champion
from tests.gating.conftest import add_version


def test_no_model_and_no_alias_mean_a_fresh_start(client, model_name, mlflow_server, tmp_path):
    assert download_champion(mlflow_server, f"{model_name}_never_registered", "champion", "ftrl", tmp_path) is None
    add_version(client, model_name, tmp_path)  # a version, but no alias on it yet
    assert download_champion(mlflow_server, model_name, "champion", "ftrl", tmp_path / "dest") is None
    assert not (tmp_path / "dest").exists()


def test_a_champion_trained_as_another_kind_is_not_continued(client, model_name, mlflow_server, tmp_path):
    version = add_version(client, model_name, tmp_path)
    client.set_model_version_tag(model_name, version, KIND_TAG, "spark_lr")  # before params.model became ftrl
    client.set_registered_model_alias(model_name, "champion", version)

    assert download_champion(mlflow_server, model_name, "champion", "ftrl", tmp_path / "dest") is None
    assert not (tmp_path / "dest").exists()  # nothing was downloaded
