"""Deep models in the prediction service, against the real MLflow server and real service processes.

Two DeepFM versions are trained on the ranking tests' click tables and registered as the ranking
node registers them (ONNX flavour + feature map + ``mlplat_model.json``); the TorchScript export of
the first is uploaded through the ModelZoo with its feature map. Requests hold raw fields. The
reference for exactness is PyTorch itself: the trained network, rebuilt from its ``model.pt``, on the
same 1,000 raw rows encoded by the feature map.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import numpy as np
import pytest

from tests.ranking.conftest import GENERATOR, ranking_tables  # noqa: F401  (the click tables, made once)
from tests.serving.conftest import alias_move_under_load

NAME = "deep-serving-ctr"
TORCHSCRIPT_NAME = "deep-serving-ctr-ts"
ROWS = 1000
TOLERANCE = 1e-5


def raw_rows(count: int, seed: int) -> list[dict]:
    """Raw click rows as JSON clients send them, with dirty values: nulls, unseen categories, ints for floats."""
    from airflow_mlplat.ranking.synthetic import SyntheticCtr

    frame = SyntheticCtr(**{**GENERATOR, "seed": seed}).generate(np.arange(count))
    rows = []
    for i, record in enumerate(frame.to_dict("records")):
        row = {k: record[k] for k in ("item", "c01", "c02", "c03", "c04", "n1", "n2")}
        row["hist_items"] = [str(v) for v in record["hist_items"]]
        if i % 17 == 0:
            row["c02"] = None
        if i % 23 == 0:
            row["item"] = "never-seen-item"
        if i % 29 == 0:
            row["n1"] = int(round(row["n1"]))
        if i % 31 == 0:
            row["hist_items"] = []
        rows.append(row)
    return rows


def torch_probabilities(published: Path, rows: list[dict]) -> np.ndarray:
    """The training framework's own outputs: the network rebuilt from ``model.pt``, on the encoded rows."""
    import torch

    from airflow_mlplat.ranking.feature_map import FeatureMap
    from airflow_mlplat.ranking.models import build_network

    saved = torch.load(published / "model.pt", weights_only=False)
    feature_map = FeatureMap.from_json((published / "feature_map.json").read_text())
    network = build_network(saved["model"], feature_map, saved["params"])
    network.load_state_dict(saved["state_dict"])
    feed = feature_map.encode_records(rows)
    with torch.no_grad():
        return network.eval()(*(torch.from_numpy(feed[name]) for name in network.input_names)).numpy()[:, 0]


@pytest.fixture(scope="module")
def deep_models(ranking_tables, mlflow_server, tmp_path_factory):  # noqa: F811
    """v1 and v2 of NAME (aliases champion, challenger), v1's TorchScript uploaded as TORCHSCRIPT_NAME."""
    from mlflow import MlflowClient

    from airflow_mlplat.modelzoo.upload import upload_model
    from airflow_mlplat.ranking.registration import register_ranking_model
    from airflow_mlplat.ranking.train import run

    root = tmp_path_factory.mktemp("deep-serving")
    rows = raw_rows(ROWS, seed=101)
    published, expected = {}, {}
    for version, seed in (("1", 1), ("2", 2)):
        output = root / f"v{version}"
        config = {
            "model": "deepfm",
            "params": {"epochs": 1, "embedding_dim": 4, "hidden_units": [8], "batch_size": 256, "seed": seed},
            "train": ranking_tables.train,
            "validation": ranking_tables.validation,
            "feature_map": ranking_tables.encoder,
        }
        run(config, output=str(output))
        registered = register_ranking_model(output.as_uri(), name=NAME, tracking_uri=mlflow_server)
        assert str(registered["version"]) == version
        published[version], expected[version] = output, torch_probabilities(output, rows)
    client = MlflowClient(mlflow_server)
    client.set_registered_model_alias(NAME, "champion", "1")
    client.set_registered_model_alias(NAME, "challenger", "2")
    uploaded = upload_model(
        published["1"] / "model.torchscript.pt",
        name=TORCHSCRIPT_NAME,
        fmt="torchscript",
        tracking_uri=mlflow_server,
        feature_map=published["1"] / "feature_map.json",
    )
    assert uploaded["version"] == 1
    return {"uri": mlflow_server, "rows": rows, "expected": expected, "published": published}


def loaded_version(uri: str, name: str, version: str, cache: Path, **kwargs):
    from airflow_mlplat.serving.model import load_model_dir
    from airflow_mlplat.serving.registry import ModelRef, RegistryClient

    registry = RegistryClient(uri)
    info = registry.resolve(ModelRef.parse(f"models:/{name}/{version}"))
    return load_model_dir(registry.download(info, cache), name=name, version=version, slot="test", **kwargs)


@pytest.mark.parametrize(("name", "flavor"), [(NAME, "onnx"), (TORCHSCRIPT_NAME, "torchscript")])
def test_each_format_matches_pytorch_on_1000_raw_rows(deep_models, tmp_path, name, flavor):
    model = loaded_version(deep_models["uri"], name, "1", tmp_path)
    assert model.flavor == flavor
    answers = model.predict(model.validator.validate_python(deep_models["rows"]))
    served = np.array([a["p_label"] for a in answers])
    assert served.shape == (ROWS,)
    assert np.max(np.abs(served - deep_models["expected"]["1"])) <= TOLERANCE


def test_the_service_answers_raw_fields_splits_champion_and_challenger_and_names_a_bad_field(deep_models, serve):
    rows, expected = deep_models["rows"], deep_models["expected"]
    service = serve(f"models:/{NAME}@champion=0.5", f"models:/{NAME}@challenger=0.5", tracking_uri=deep_models["uri"])
    single = httpx.post(f"{service.url}/predict", json=rows[3], headers={"X-Model-Alias": "champion"}, timeout=10)
    assert single.status_code == 200 and single.headers["x-model-version"] == "1"
    assert abs(single.json()["p_label"] - expected["1"][3]) <= TOLERANCE
    batch = httpx.post(
        f"{service.url}/predict", json={"rows": rows}, headers={"X-Model-Version": "1"}, timeout=30
    ).json()["predictions"]
    assert np.max(np.abs(np.array([p["p_label"] for p in batch]) - expected["1"])) <= TOLERANCE
    by_alias = httpx.post(f"{service.url}/predict", json=rows[7], headers={"X-Model-Alias": "challenger"}).json()
    assert by_alias["version"] == "2" and abs(by_alias["p_label"] - expected["2"][7]) <= TOLERANCE
    with httpx.Client(base_url=service.url) as http:
        seen = [http.post("/predict", json=rows[7]).json()["version"] for _ in range(200)]
    assert 60 < seen.count("2") < 140, seen.count("2")

    bad = httpx.post(f"{service.url}/predict", json={**rows[0], "n1": "many"}, timeout=10)
    assert bad.status_code == 422 and "'n1'" in bad.json()["message"]
    nested = httpx.post(f"{service.url}/predict", json={**rows[0], "hist_items": [["x"]]}, timeout=10)
    assert nested.status_code == 422 and "'hist_items'" in nested.json()["message"]
    meta = httpx.get(f"{service.url}/metadata", timeout=10).json()
    assert meta["slots"]["champion"]["flavor"] == "onnx"
    assert meta["slots"]["champion"]["inputs"]["hist_items"] == "sequence"
    assert httpx.get(f"{service.url}/healthz", timeout=10).status_code == 200
    assert "mlplat_predict_requests_total" in httpx.get(f"{service.url}/metrics", timeout=10).text
    service.stop()

    scripted = serve(f"models:/{TORCHSCRIPT_NAME}/1", tracking_uri=deep_models["uri"])
    answers = httpx.post(f"{scripted.url}/predict", json={"rows": rows[:100]}, timeout=30).json()["predictions"]
    assert np.max(np.abs(np.array([p["p_label"] for p in answers]) - expected["1"][:100])) <= TOLERANCE
    assert httpx.get(f"{scripted.url}/metadata", timeout=10).json()["slots"]["v1"]["flavor"] == "torchscript"


def test_alias_move_under_load_with_micro_batching_fails_no_request(deep_models, serve):
    from mlflow import MlflowClient

    rows, expected = deep_models["rows"], deep_models["expected"]
    client = MlflowClient(deep_models["uri"])
    service = serve(
        f"models:/{NAME}@champion",
        tracking_uri=deep_models["uri"],
        poll=0.2,
        extra=("--batch-max-rows", "32", "--batch-max-wait-ms", "5"),
    )
    under_load: dict = {}

    def restore() -> None:  # read while version 2 serves: moving back loads version 1 with fresh counters
        under_load.update(httpx.get(f"{service.url}/metadata", timeout=10).json()["slots"]["champion"])
        client.set_registered_model_alias(NAME, "champion", "1")

    failures, answers = alias_move_under_load(
        service.url,
        rows,
        lambda: client.set_registered_model_alias(NAME, "champion", "2"),
        restore,
        spread=97,
    )
    assert failures == []
    versions = [a["version"] for _, a in answers]
    assert versions[0] == "1" and versions[-1] == "2"
    for i, answer in answers:  # each answer is its own row's, from the version that says it answered
        assert abs(answer["p_label"] - expected[answer["version"]][i]) <= TOLERANCE
    batching = under_load["batching"]
    assert under_load["version"] == "2"
    assert batching["max_rows"] == 32 and batching["rows"] > batching["batches"]  # requests were scored together


def test_a_tensor_model_without_feature_map_is_served_by_its_input_names(mlflow_server, tmp_path):
    import torch

    from airflow_mlplat.modelzoo.upload import upload_model

    torch.manual_seed(0)
    network = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.Tanh(), torch.nn.Linear(3, 2)).eval()
    path = tmp_path / "mlp.onnx"
    torch.onnx.export(
        network,
        (torch.zeros(2, 4),),
        str(path),
        dynamo=False,
        input_names=["x"],
        output_names=["scores"],
        dynamic_axes={"x": {0: "batch"}, "scores": {0: "batch"}},
    )
    upload_model(path, name="deep-serving-mlp", fmt="onnx", tracking_uri=mlflow_server)
    model = loaded_version(mlflow_server, "deep-serving-mlp", "1", tmp_path / "cache")
    x = np.random.default_rng(0).normal(size=(50, 4)).astype(np.float32)
    answers = model.predict(model.validator.validate_python([{"x": row.tolist()} for row in x]))
    with torch.no_grad():
        reference = network(torch.from_numpy(x)).numpy()
    assert np.max(np.abs(np.array([a["scores"] for a in answers]) - reference)) <= TOLERANCE

    from airflow_mlplat.serving.errors import InvalidInputError

    with pytest.raises(InvalidInputError, match=r"field 'x' \(row 0\): shape \[3\] does not fit \[4\]") as error:
        model.predict([{"x": [1.0, 2.0, 3.0]}])
    assert error.value.field == "x" and error.value.row == 0


def test_uploading_a_feature_map_that_does_not_fit_the_model_is_refused(deep_models, tmp_path):
    from airflow_mlplat.modelzoo.formats import UploadError
    from airflow_mlplat.modelzoo.upload import upload_model
    from airflow_mlplat.ranking.feature_map import FeatureMap

    published = deep_models["published"]["1"]
    fields = FeatureMap.from_json((published / "feature_map.json").read_text())
    fewer = FeatureMap.from_dict({**fields.to_dict(), "fields": [f.to_dict() for f in fields.fields][:-1]})
    (tmp_path / "fewer.json").write_text(fewer.to_json())
    with pytest.raises(UploadError, match="ONNX inputs .* are not the feature map's fields"):
        upload_model(
            published / "model.onnx",
            name="x",
            fmt="onnx",
            tracking_uri=deep_models["uri"],
            feature_map=tmp_path / "fewer.json",
        )
    (tmp_path / "broken.json").write_text("{not json")
    with pytest.raises(UploadError, match="broken.json: not a feature map"):
        upload_model(
            published / "model.onnx",
            name="x",
            fmt="onnx",
            tracking_uri=deep_models["uri"],
            feature_map=tmp_path / "broken.json",
        )
