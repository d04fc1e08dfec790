"""The ``deepfm`` model of ``realtime_retrain`` without Airflow: the encoding of the behaviour features (the same
rows always give the same inputs, whichever copy of the map encodes them; unseen and missing values have their
buckets) and the warm start (the weights a replica starts from are exactly the champion's exported ones).
The DAG runs it in ``test_retrain_dag.py`` and in the Flink loop of ``test_realtime_loop.py``.
"""

from __future__ import annotations

import math
from datetime import datetime

import numpy as np
import pyarrow as pa
import pytest

from airflow_mlplat.ranking.feature_map import MISSING_INDEX, FeatureMap
from airflow_mlplat.realtime.deep_training import (
    FEATURE_BUCKETS,
    VALIDATION_PERCENT,
    DeepTrainingDataError,
    check_feature_map,
    encode_windows,
    fit_feature_map,
    validation_mask,
    write_encoded_tables,
)
from airflow_mlplat.realtime.events import EVENT_SCHEMA, FEATURES, window_events

START = datetime(2026, 11, 27, 9, 0)


def _table(n: int = 600, seed: int = 5, drift: float = 0.0) -> pa.Table:
    events = window_events(START, 10, n, seed=seed, drift=drift)
    columns = [name for name, _ in EVENT_SCHEMA if name != "event_time"]
    return pa.Table.from_pylist([{c: e[c] for c in columns} for e in events])


def test_a_fitted_map_buckets_each_feature_by_its_quantiles():
    feature_map = fit_feature_map(_table())
    assert feature_map.names == list(FEATURES) and list(feature_map.labels) == ["label"]
    assert check_feature_map(feature_map) == []
    for spec in feature_map.fields:
        assert spec.kind == "categorical" and spec.bucketised
        assert 1 <= len(spec.boundaries) <= FEATURE_BUCKETS - 1
        assert list(spec.boundaries) == sorted(set(spec.boundaries))
    # duration is continuous: every quantile is its own boundary; dealer calls are a few small counts
    assert len(feature_map.field("duration").boundaries) == FEATURE_BUCKETS - 1
    assert len(feature_map.field("dealer_calls").boundaries) < 5


def test_same_rows_give_the_same_inputs_from_the_frame_the_records_and_a_carried_copy_of_the_map():
    table = _table()
    feature_map = fit_feature_map(table)
    carried = FeatureMap.from_json(feature_map.to_json())  # what the champion's folder holds
    assert carried == feature_map
    assert fit_feature_map(table) == feature_map  # fitting is deterministic
    frame = feature_map.encode_frame(table.to_pandas())
    records = carried.encode_records(table.select(list(FEATURES)).to_pylist())  # what serving does
    for name in FEATURES:
        assert records[name].dtype == np.int64
        np.testing.assert_array_equal(frame[name].to_numpy(), records[name])
        assert records[name].min() >= 1  # every generated value is present
        assert records[name].max() < feature_map.field(name).vocab_size


def test_unseen_and_missing_values_have_their_buckets():
    feature_map = fit_feature_map(_table())
    spec = feature_map.field("page_views")
    low, high = spec.boundaries[0], spec.boundaries[-1]
    rows = [
        {"page_views": low - 1e6},  # below every boundary: the first bucket
        {"page_views": high + 1e6},  # far past the data: the last bucket
        {"page_views": math.inf},
        {"page_views": None},  # missing
        {"page_views": math.nan},
        {},  # the column itself is absent
        {"page_views": "many"},  # not a number
    ]
    encoded = feature_map.encode_records(rows)["page_views"].tolist()
    last = len(spec.boundaries) + 1
    assert encoded == [1, last, last, MISSING_INDEX, MISSING_INDEX, MISSING_INDEX, MISSING_INDEX]
    assert last == spec.vocab_size - 1  # inside the embedding table
    # the other fields of those rows are missing too
    assert set(feature_map.encode_records(rows)["duration"].tolist()) == {MISSING_INDEX}


def test_fitting_names_the_feature_it_cannot_fit():
    table = _table()
    with pytest.raises(DeepTrainingDataError, match="no column 'price_views'"):
        fit_feature_map(table.drop_columns(["price_views"]))
    empty = table.set_column(
        table.schema.get_field_index("duration"), "duration", pa.nulls(table.num_rows, pa.float64())
    )
    with pytest.raises(DeepTrainingDataError, match="feature 'duration': no value"):
        fit_feature_map(empty)
    with pytest.raises(DeepTrainingDataError, match="buckets must be an integer >= 2, got 1"):
        fit_feature_map(table, buckets=1)


def test_a_map_of_other_fields_is_not_an_encoding_of_the_events():
    feature_map = fit_feature_map(_table(), features=FEATURES[:3])
    assert check_feature_map(feature_map) == [f"its fields are {list(FEATURES[:3])}, not {list(FEATURES)}"]


def test_a_continued_model_encodes_with_its_previous_map_and_a_previous_folder_must_be_complete(tmp_path):
    fresh = encode_windows(_table(), tmp_path / "fresh", None, "fresh")
    assert fresh.warm_start is None
    previous = tmp_path / "previous"
    previous.mkdir()
    fresh.feature_map.save(str(previous / "feature_map.json"))
    with pytest.raises(ValueError, match=r"champion 7: its folder .*previous lacks model.torchscript.pt"):
        encode_windows(_table(), tmp_path / "continued", previous, "champion 7")
    (previous / "model.torchscript.pt").write_bytes(b"weights")
    continued = encode_windows(_table(seed=9, drift=1.0), tmp_path / "continued", previous, "champion 7")
    assert continued.warm_start == (previous / "model.torchscript.pt").as_uri()
    assert continued.feature_map.to_dict() == fresh.feature_map.to_dict()  # not refitted on the drifted rows
    other = fit_feature_map(_table(), features=FEATURES[:3])
    other.save(str(previous / "feature_map.json"))
    with pytest.raises(ValueError, match="champion 7: its feature map cannot encode the events: its fields are"):
        encode_windows(_table(), tmp_path / "other", previous, "champion 7")


def test_validation_rows_are_picked_by_event_id_the_same_way_every_time(tmp_path):
    table = _table(n=2000)
    ids = table.column("event_id").to_pylist()
    mask = validation_mask(ids)
    np.testing.assert_array_equal(mask, validation_mask(list(reversed(ids)))[::-1])  # by id, not by position
    assert abs(mask.mean() - VALIDATION_PERCENT / 100) < 0.03
    feature_map = fit_feature_map(table)
    written = write_encoded_tables(feature_map, table, tmp_path)
    assert (written["train_rows"], written["validation_rows"]) == (int((~mask).sum()), int(mask.sum()))
    import pyarrow.parquet as pq

    validation = pq.read_table(tmp_path / "validation")
    assert validation.column_names == [*FEATURES, "label"]
    assert validation.column("label").to_pylist() == [float(x) for x in np.asarray(table.column("label"))[mask]]


def test_rows_without_a_0_1_label_are_refused_naming_the_column(tmp_path):
    table = _table()
    labels = table.column("label").to_pylist()
    labels[7] = None
    table = table.set_column(table.schema.get_field_index("label"), "label", pa.array(labels, pa.int32()))
    with pytest.raises(DeepTrainingDataError, match="column 'label': 1 of 600 training rows have no 0/1 label"):
        write_encoded_tables(fit_feature_map(table), table, tmp_path)


def _network(feature_map: FeatureMap, **params):
    from airflow_mlplat.ranking.models import build_network
    from airflow_mlplat.ranking.params import resolve_params
    from airflow_mlplat.realtime.training import DEEPFM

    return build_network("deepfm", feature_map, resolve_params("deepfm", {**DEEPFM["params"], **params}))


def test_a_warm_start_loads_exactly_the_champions_exported_weights(tmp_path):
    import torch

    from airflow_mlplat.ranking.export import export_network
    from airflow_mlplat.ranking.train import warm_start

    table = _table()
    feature_map = fit_feature_map(table)
    champion = _network(feature_map, seed=1)
    with torch.no_grad():  # weights unlike any fresh initialisation
        for tensor in champion.parameters():
            tensor.add_(torch.randn_like(tensor))
    sample = feature_map.encode_records(table.select(list(FEATURES)).to_pylist()[:32])
    export_network(champion, sample, tmp_path / "champion")  # what the champion's folder holds
    candidate = _network(feature_map, seed=2)
    expected = champion.state_dict()
    assert any(not torch.equal(candidate.state_dict()[k], v) for k, v in expected.items())

    warm_start(candidate, (tmp_path / "champion" / "model.torchscript.pt").as_uri())
    loaded = candidate.state_dict()
    assert sorted(loaded) == sorted(expected)
    assert all(torch.equal(loaded[k], v) for k, v in expected.items())
    inputs = [torch.from_numpy(sample[name]) for name in feature_map.names]
    with torch.no_grad():
        assert torch.equal(candidate.eval()(*inputs), champion.eval()(*inputs))


def test_a_champion_whose_weights_do_not_fit_is_refused_naming_it(tmp_path):
    import torch

    from airflow_mlplat.ranking.train import WarmStartError, warm_start

    feature_map = fit_feature_map(_table())
    wider = _network(feature_map, embedding_dim=8)
    torch.save({"model": "deepfm", "state_dict": wider.state_dict()}, tmp_path / "model.pt")
    url = tmp_path.as_uri()  # a model folder: its model.pt is read
    with pytest.raises(WarmStartError, match=r"warm_start '.*': its weights do not fit this model .*other shapes"):
        warm_start(_network(feature_map), url)
    (tmp_path / "empty").mkdir()
    with pytest.raises(WarmStartError, match="the folder has none of model.pt, model.torchscript.pt"):
        warm_start(_network(feature_map), (tmp_path / "empty").as_uri())


def test_the_train_task_checks_its_ranking_models_when_it_is_made():
    from airflow_mlplat.realtime.training import DEEPFM, RealtimeTrainOperator

    def made(ranking):
        return RealtimeTrainOperator(task_id="train", pipelines={}, ranking=ranking)

    with pytest.raises(ValueError, match=r"'train': ranking\['deepfm'\]: params.epochs must be .*got 0"):
        made({"deepfm": {**DEEPFM, "params": {**DEEPFM["params"], "epochs": 0}}})
    with pytest.raises(ValueError, match=r"ranking\['deepfm'\]: launcher.workers must be .*got 0"):
        made({"deepfm": {**DEEPFM, "launcher": {"workers": 0}}})
    with pytest.raises(ValueError, match=r"ranking\['deepfm'\]: unknown keys \['buckets'\]"):
        made({"deepfm": {**DEEPFM, "buckets": 8}})
    with pytest.raises(ValueError, match=r"ranking\['fm'\]: model must be one of .*got 'fm'"):
        made({"fm": {"model": "fm"}})

    task = made({"deepfm": DEEPFM})
    run_params = {"model": "deepfm", "deepfm_epochs": 2, "deepfm_learning_rate": 0.05, "ftrl_alpha": 0.1}
    assert task._ranking_params(run_params, "deepfm") == {**DEEPFM["params"], "epochs": 2, "learning_rate": 0.05}
    with pytest.raises(ValueError, match=r"params.deepfm_depth sets 'depth', which is not a parameter of the deepfm"):
        task._ranking_params({"deepfm_depth": 3}, "deepfm")
