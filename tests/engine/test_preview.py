"""Table previews: the first rows and a column profile of every table output, beside the run report.

Expected values come from pandas on the same Python values (or on the written output files), not
from Spark.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import math
from pathlib import Path

import pandas as pd
import pytest

from airflow_mlplat.engine.preview import PREVIEW_ROWS, TEXT_CHARS, TablePreview
from airflow_mlplat.engine.runner import run_pipeline
from airflow_mlplat.pipeline import validate_pipeline

INF = math.inf


@pytest.fixture(autouse=True)
def previews_on(monkeypatch):
    """Whatever the test session's default (``[mlplat] table_previews``), these runs write previews."""
    monkeypatch.setenv("AIRFLOW__MLPLAT__TABLE_PREVIEWS", "True")


#: Column -> its four values; the frame also gets a void column ``nothing``.
ODD = {
    "a.b": [1, None, 3, 4],
    "x y": [2.0, math.nan, None, 0.5],
    "inf`s": [INF, 1.0, -INF, 3.0],
    "dec": [decimal.Decimal("1.50"), None, decimal.Decimal("-2.25"), decimal.Decimal("10.00")],
    "day": [dt.date(2024, 1, 31), None, dt.date(2023, 5, 1), dt.date(2024, 2, 1)],
    "at": [dt.datetime(2024, 1, 1, 3), None, dt.datetime(2020, 1, 1), dt.datetime(2021, 6, 1, 12, 30)],
    "text": ["x" * 10_000, None, "b", "a"],
    "flag": [True, None, False, True],
    "big": [2**62, None, -5, 7],
    "tags": [["p", "q"], None, [], ["r"]],
    "m": [{"k": 1}, None, {}, {"j": 2}],
    "bin": [b"\x00\xff" * 300, None, b"", b"ab"],
}
SCHEMA = (
    "`a.b` int, `x y` double, `inf``s` double, dec decimal(10,2), day date, at timestamp, text string, "
    "flag boolean, big bigint, tags array<string>, m map<string,int>, bin binary"
)


def _odd_frame(spark):
    """``ODD``, a vector column ``v`` and a void column ``nothing``."""
    from pyspark.ml.linalg import Vectors, VectorUDT
    from pyspark.sql import functions as F

    vectors = [Vectors.dense([1.0, 2.0]), None, Vectors.sparse(3, [0], [1.0]), None]
    schema = spark.createDataFrame([], SCHEMA).schema.add("v", VectorUDT())
    rows = [(*row, vector) for row, vector in zip(zip(*ODD.values(), strict=True), vectors, strict=True)]
    return spark.createDataFrame(rows, schema).withColumn("nothing", F.lit(None))


def _by_name(document):
    return {column["name"]: column for column in document["profile"]}


def test_profile_and_rows_of_odd_types_agree_by_either_job(spark, tmp_path):
    from pyspark.sql import Observation

    frame = _odd_frame(spark)
    own = TablePreview(frame.schema)
    assert own.profile(frame) == 4
    in_the_pass = own.rows  # the profile's job kept the first rows: those a limit takes
    own.sample(frame)
    assert in_the_pass == own.rows
    # The same aggregates observed on an output write, the rows read back from the written files.
    observed = TablePreview(frame.schema)
    observation = Observation("profile")
    frame.observe(observation, *observed.aggregates(frame)).write.parquet(str(tmp_path / "written"))
    observed.observed(observation.get)
    observed.sample(spark.read.parquet(str(tmp_path / "written")))
    assert observed.column_profile() == own.column_profile()
    assert observed.rows == own.rows

    document = own.document("node", "data")
    json.dumps(document, allow_nan=False)  # strict JSON: no NaN or Infinity literals
    assert document["rows_total"] == 4 and document["columns_total"] == len(ODD) + 2
    profile = _by_name(document)
    for name in ("a.b", "x y", "inf`s", "big"):
        values = pd.Series(ODD[name], dtype="float64")
        assert profile[name]["missing"] == values.isna().sum(), name
        assert profile[name]["distinct"] == values.nunique(), name
    assert profile["x y"]["nan"] == 1 and profile["x y"]["missing"] == 2
    x_y = pd.Series(ODD["x y"], dtype="float64")
    assert (profile["x y"]["min"], profile["x y"]["max"], profile["x y"]["mean"]) == (x_y.min(), x_y.max(), x_y.mean())
    assert profile["a.b"]["mean"] == pd.Series(ODD["a.b"], dtype="float64").mean()
    # Infinities are values (min, max, mean), written as text; the histogram spans the finite ones.
    infinities = profile["inf`s"]
    assert (infinities["min"], infinities["max"], infinities["mean"]) == ("-Infinity", "Infinity", "NaN")
    assert profile["inf`s"]["histogram"]["edges"][0] == 1.0 and profile["inf`s"]["histogram"]["edges"][-1] == 3.0
    assert sum(profile["inf`s"]["histogram"]["counts"]) == 2
    # An integer column spanning fewer values than the bars: one bar per value (1, 2, 3, 4).
    assert profile["a.b"]["histogram"] == {"edges": [0.5, 1.5, 2.5, 3.5, 4.5], "counts": [1, 0, 1, 1]}
    decimals = pd.Series([float(v) for v in ODD["dec"] if v is not None])
    assert (profile["dec"]["min"], profile["dec"]["max"]) == ("-2.25", "10.00")  # exact, as text
    assert abs(profile["dec"]["mean"] - decimals.mean()) < 1e-12
    assert (profile["day"]["min"], profile["day"]["max"]) == ("2023-05-01", "2024-02-01")
    assert (profile["at"]["min"], profile["at"]["max"]) == ("2020-01-01 00:00:00", "2024-01-01 03:00:00")
    assert profile["text"]["min"] == "a" and profile["text"]["max"] == "x" * TEXT_CHARS + "…"
    assert profile["flag"]["mean"] == pd.Series([1.0, 0.0, 1.0]).mean()
    assert profile["big"]["max"] == str(2**62) and profile["big"]["min"] == -5  # beyond 2**53: text
    for name in ("tags", "m", "v"):  # arrays, maps and vectors: missing values only, no histogram
        assert set(profile[name]) == {"name", "type", "missing"}, profile[name]
    assert profile["v"]["type"] == "vector" and profile["v"]["missing"] == 2
    assert profile["nothing"] == {"name": "nothing", "type": "void", "missing": 4}

    rows = [dict(zip([c["name"] for c in document["columns"]], row, strict=True)) for row in document["rows"]]
    assert rows[0]["text"] == "x" * TEXT_CHARS + "…" and rows[3]["text"] == "a"
    assert [r["x y"] for r in rows] == [2.0, "NaN", None, 0.5]
    assert [r["inf`s"] for r in rows] == ["Infinity", 1.0, "-Infinity", 3.0]
    assert [r["dec"] for r in rows] == ["1.50", None, "-2.25", "10.00"]
    assert rows[0]["day"] == "2024-01-31" and rows[0]["at"] == "2024-01-01 03:00:00"
    assert rows[0]["big"] == str(2**62) and rows[2]["big"] == -5
    assert [r["v"] for r in rows] == ["[1.0,2.0]", None, "(3,[0],[1.0])", None]
    assert rows[0]["tags"] == "[p, q]" and rows[0]["m"] == "{k -> 1}"
    assert rows[0]["bin"].startswith("0x00ff00ff") and rows[0]["bin"].endswith("…") and rows[3]["bin"] == "0x6162"
    assert [r["flag"] for r in rows] == [True, None, False, True]


def test_a_preview_holds_at_most_100_rows_and_an_empty_table_has_none(spark):
    from pyspark.sql import functions as F

    frame = spark.range(0, 1000, 1, 3).withColumn("weekday", F.col("id") % 7)
    preview = TablePreview(frame.schema)
    preview.profile(frame)  # the first partition holds 333 rows: the first 100 come with the profile
    document = preview.document("node", "data")
    assert len(document["rows"]) == PREVIEW_ROWS and document["rows_total"] == 1000
    assert [row[0] for row in document["rows"]] == list(range(PREVIEW_ROWS))
    ids, weekdays = _by_name(document)["id"], _by_name(document)["weekday"]
    assert (ids["min"], ids["max"], ids["mean"]) == (0, 999, pd.Series(range(1000)).mean())
    assert sum(ids["histogram"]["counts"]) == 1000 and len(ids["histogram"]["counts"]) == 10
    # seven values, at most the histogram's centroids: exact counts, one bar per value
    expected = pd.Series(range(1000)).mod(7).value_counts().sort_index().tolist()
    assert weekdays["histogram"]["counts"] == expected

    # 100 partitions of 10 rows: the first ones hold too few, so a limit takes them.
    scattered = spark.range(0, 1000, 1, 100)
    preview = TablePreview(scattered.schema)
    preview.profile(scattered)
    assert preview.rows is None
    preview.sample(scattered)
    assert [row[0] for row in preview.rows] == list(range(PREVIEW_ROWS))

    empty = spark.range(0).withColumn("name", F.lit("x"))
    preview = TablePreview(empty.schema)
    preview.profile(empty)  # no rows to take: no job for them
    document = preview.document("node", "data")
    assert document["rows"] == [] and document["rows_total"] == 0
    assert _by_name(document)["id"] == {
        "name": "id",
        "type": "bigint",
        "missing": 0,
        "distinct": 0,
        "min": None,
        "max": None,
        "mean": None,
        "histogram": None,
    }


def test_columns_named_alike_are_profiled_by_position(spark):
    frame = spark.range(3).selectExpr("id AS a", "id * 2 AS A")
    preview = TablePreview(frame.schema)
    assert preview.aggregates(frame) is None  # Spark would not tell them apart by name
    preview.profile(frame)
    assert [(c["name"], c["max"]) for c in preview.column_profile()] == [("a", 2), ("A", 4)]


def _pipeline(behaviour: str, **fields) -> dict:
    """Read, cast two columns, split; ``split.test`` is read twice (cached), ``split.train`` only written."""
    return {
        "name": "previews",
        **fields,
        "nodes": [
            {"id": "data", "component": "read_table", "params": {"path": behaviour, "format": "parquet"}},
            {
                "id": "cast",
                "component": "cast_columns",
                "inputs": {"data": "data.data"},
                "params": {"columns": ["duration", "page_views"], "to_type": "double"},
            },
            {"id": "split", "component": "random_split", "inputs": {"data": "cast.data"}, "params": {"seed": 3}},
            {"id": "dedupe", "component": "drop_duplicates", "inputs": {"data": "split.test"}},
        ],
        "outputs": {"train": "split.train", "test": "split.test"},
    }


def _run(doc, out, spark):
    return run_pipeline(validate_pipeline(doc), str(out), spark=spark)


def test_a_run_writes_a_preview_of_every_table_output_beside_its_report(spark, behaviour, tmp_path):
    report = _run(_pipeline(behaviour), tmp_path, spark)

    previews = {(node, port): url for node, entry in report["nodes"].items() for port, url in entry["previews"].items()}
    assert set(previews) == {
        ("data", "data"),
        ("cast", "data"),
        ("split", "train"),
        ("split", "test"),
        ("dedupe", "data"),
    }
    assert all(not entry["preview_errors"] for entry in report["nodes"].values())
    documents = {key: json.loads(Path(url).read_text()) for key, url in previews.items()}
    for (node, port), document in documents.items():
        assert previews[node, port] == str(tmp_path / "previews" / node / f"{port}.json")
        assert document["rows_total"] == report["nodes"][node]["rows"][port]  # the report's rows, for free
        assert len(document["rows"]) == min(PREVIEW_ROWS, document["rows_total"])
    # Where the profile came from: a job of its own only where the run makes none that reads the table.
    assert {key: d["profiled_in"] for key, d in documents.items()} == {
        ("data", "data"): "own job",
        ("cast", "data"): "own job",
        ("split", "train"): "output write",
        ("split", "test"): "cache fill",
        ("dedupe", "data"): "own job",
    }
    assert documents["data", "data"]["rows_total"] == 4000
    # Jobs of their own: the profile where no job of the run reads the table (the rows within it, as the
    # first partitions hold 100), and a limit over the written files of an output.
    assert {key: sorted(d["seconds"]) for key, d in documents.items()} == {
        ("data", "data"): ["profile"],
        ("cast", "data"): ["profile"],
        ("split", "train"): ["rows"],
        ("split", "test"): ["profile"],  # the cache fill, which counted the rows before
        ("dedupe", "data"): ["profile"],
    }
    # The written training part, read by pandas, has the profile the write observed.
    train = pd.read_parquet(tmp_path / "outputs" / "train")
    profile = _by_name(documents["split", "train"])
    assert documents["split", "train"]["rows_total"] == len(train)
    for column in ("duration", "page_views"):
        values = train[column].astype("float64")
        assert profile[column]["type"] == "double"
        assert profile[column]["missing"] == values.isna().sum()
        assert (profile[column]["min"], profile[column]["max"]) == (values.min(), values.max())
        assert math.isclose(profile[column]["mean"], values.mean(), rel_tol=1e-12)
        assert sum(profile[column]["histogram"]["counts"]) == values.notna().sum()
    assert (profile["user_id"]["min"], profile["user_id"]["max"]) == (train.user_id.min(), train.user_id.max())
    assert abs(profile["user_id"]["distinct"] - len(train)) <= 0.05 * len(train)  # a sketch: 1.6% standard error
    assert (
        profile["duration"]["type"] == "double" and _by_name(documents["data", "data"])["duration"]["type"] == "string"
    )
    # Written like the report: each file moved into place whole, no temporary siblings left.
    assert sorted(p.name for p in (tmp_path / "previews" / "split").iterdir()) == ["test.json", "train.json"]


def test_previews_cost_at_most_one_spark_job_per_table_output(spark, behaviour, tmp_path):
    """Counted from Spark's status tracker, per node (each node's jobs run in its job group)."""
    tracker = spark.sparkContext.statusTracker()
    nodes = [node["id"] for node in _pipeline(behaviour)["nodes"]]

    def jobs(preview: bool) -> tuple[int, dict]:
        before = {node: set(tracker.getJobIdsForGroup(node)) for node in nodes}
        report = _run(_pipeline(behaviour, preview=preview), tmp_path / str(preview), spark)
        return sum(len(set(tracker.getJobIdsForGroup(node)) - before[node]) for node in nodes), report

    without, _ = jobs(False)
    with_previews, report = jobs(True)
    outputs = sum(len(entry["previews"]) for entry in report["nodes"].values())
    assert outputs == 5
    assert with_previews - without <= outputs, (with_previews, without)


def test_preview_false_writes_none_and_a_failing_preview_never_fails_the_run(spark, behaviour, tmp_path, monkeypatch):
    report = _run(_pipeline(behaviour, preview=False), tmp_path / "off", spark)
    assert report["status"] == "success" and not (tmp_path / "off" / "previews").exists()
    assert all(entry["previews"] == {} for entry in report["nodes"].values())
    assert report["nodes"]["split"]["rows"]["train"] > 0  # the write still counts its rows
    reader = {"name": "reader", "nodes": _pipeline(behaviour)["nodes"][:1]}
    with monkeypatch.context() as deployment:  # a deployment that wants none, whatever the pipeline says
        deployment.setenv("AIRFLOW__MLPLAT__TABLE_PREVIEWS", "False")
        report = _run(reader, tmp_path / "deployment", spark)
    assert report["nodes"]["data"]["previews"] == {} and not (tmp_path / "deployment" / "previews").exists()

    blocked = tmp_path / "blocked"
    blocked.mkdir()
    (blocked / "previews").write_text("a file where the previews' folder would go")
    report = _run(reader, blocked, spark)
    assert report["status"] == "success" and report["nodes"]["data"]["previews"] == {}
    assert "previews" in report["nodes"]["data"]["preview_errors"]["data"]  # the path it could not write
    assert (blocked / "previews").read_text().startswith("a file")


@pytest.mark.parametrize("value", ["no", 0, None])
def test_preview_must_be_a_boolean(value):
    from airflow_mlplat.pipeline import PipelineValidationError

    with pytest.raises(PipelineValidationError) as error:
        validate_pipeline(_pipeline("/data", preview=value))
    assert [str(p) for p in error.value.problems] == [f"preview: input should be a valid boolean, got {value!r}"]
