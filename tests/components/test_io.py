from __future__ import annotations

import functools
import http.server
import threading
from pathlib import Path

import pytest
from pyspark.sql import functions as F

from airflow_mlplat.components.io import read_table, write_table
from airflow_mlplat.components.processing import cast_columns, fill_missing

# the same folder as tests/conftest.py's SHARED_DATA (conftest is not importable as a module)
SHARED_DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
CRITEO = SHARED_DATA / "criteo_sample.txt"


def _rows(df, *columns):
    return sorted(tuple(r) for r in df.select(*columns).collect())


def test_read_csv_keeps_strings_unless_inferring(ctx, tmp_path):
    source = tmp_path / "people.csv"
    source.write_text("name;age\nann;31\nbob;\n")
    data = read_table(ctx, path=str(source), delimiter=";")
    assert data.dtypes == [("name", "string"), ("age", "string")]
    assert _rows(data, "name", "age") == [("ann", "31"), ("bob", None)]
    inferred = read_table(ctx, path=f"file://{source}", delimiter=";", infer_schema=True)
    assert dict(inferred.dtypes)["age"] == "int"
    headerless = read_table(ctx, path=str(source), delimiter=";", header=False)
    assert headerless.count() == 3 and headerless.columns == ["_c0", "_c1"]


def test_read_criteo_sample_then_cast_and_fill(ctx):
    data = read_table(ctx, path=str(CRITEO))
    integer_cols = [f"I{i}" for i in range(1, 14)]
    assert data.count() == 200
    assert data.columns == ["label", *integer_cols, *[f"C{i}" for i in range(1, 27)]]
    numeric = cast_columns(ctx, data, columns=["label", *integer_cols], to_type="double")
    assert all(t == "double" for c, t in numeric.dtypes if c in integer_cols)
    missing_before = numeric.where(F.col("I1").isNull()).count()
    assert missing_before > 0  # the real sample has blanks
    expected_mean = numeric.select(F.avg("I1")).first()[0]
    filled = fill_missing(ctx, numeric, strategy="mean", columns=integer_cols)
    assert filled.where(F.greatest(*[F.col(c).isNull() for c in integer_cols])).count() == 0
    values = [r.I1 for r in filled.select("I1").collect()]
    assert values.count(pytest.approx(expected_mean)) >= missing_before
    # the hashed categorical columns keep their blanks as nulls and can be filled with a constant
    categorical = fill_missing(ctx, data, strategy="constant", columns=["C20"], value="unknown")
    assert categorical.where(F.col("C20") == "unknown").count() == data.where(F.col("C20").isNull()).count() > 0


def test_read_from_a_catalogue_table_or_view(ctx, spark):
    spark.createDataFrame([(1, "a"), (2, "b")], "id int, v string").createOrReplaceTempView("io_test_view")
    try:
        assert _rows(read_table(ctx, table="io_test_view"), "id", "v") == [(1, "a"), (2, "b")]
    finally:
        spark.catalog.dropTempView("io_test_view")


def test_read_needs_exactly_one_of_path_and_table(ctx, tmp_path):
    with pytest.raises(ValueError, match=r"params\.path and params\.table \(neither is set\)"):
        read_table(ctx)
    with pytest.raises(ValueError, match=r"params\.path and params\.table \(both are set\)"):
        read_table(ctx, path=str(tmp_path), table="t")
    with pytest.raises(ValueError, match=r"params\.path .*does not exist"):
        read_table(ctx, path=str(tmp_path / "nothing-here.csv"))
    with pytest.raises(ValueError, match=r"params\.table 'no_such_table_xyz' does not exist"):
        read_table(ctx, table="no_such_table_xyz")


def test_read_over_http(ctx, tmp_path):
    (tmp_path / "served_people.csv").write_text("name,age\nann,31\nbob,40\n")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/served_people.csv"
        data = read_table(ctx, path=url)
        assert _rows(data, "name", "age") == [("ann", "31"), ("bob", "40")]
        assert read_table(ctx, path=url).count() == 2  # a second read of the same URL works too
    finally:
        server.shutdown()
        server.server_close()


def test_write_and_read_back_each_format(ctx, spark, tmp_path):
    data = spark.createDataFrame([(1, "a", 0.5), (2, "b", 1.5)], "id int, name string, x double")
    for fmt in ("parquet", "json", "orc", "csv"):
        target = tmp_path / f"out_{fmt}"
        assert write_table(ctx, data, path=str(target), format=fmt) is data
        back = read_table(ctx, path=str(target), format=fmt, infer_schema=True)
        assert _rows(back.select(F.col("id").cast("int"), "name", F.col("x").cast("double")), "*") == [
            (1, "a", 0.5),
            (2, "b", 1.5),
        ], fmt


def test_overwrite_replaces_through_a_temporary_sibling(ctx, spark, tmp_path):
    target = tmp_path / "warehouse" / "table"
    old = spark.createDataFrame([(1,)], "id int")
    new = spark.createDataFrame([(2,), (3,)], "id int")
    write_table(ctx, old, path=str(target))
    write_table(ctx, new, path=f"file://{target}", mode="overwrite")
    assert _rows(read_table(ctx, path=str(target), format="parquet"), "id") == [(2,), (3,)]
    assert [p.name for p in target.parent.iterdir()] == ["table"]  # no temporary sibling left behind


def test_failed_overwrite_keeps_the_old_files(ctx, spark, tmp_path):
    target = tmp_path / "kept"
    write_table(ctx, spark.createDataFrame([(1,)], "id int"), path=str(target))

    @F.udf("int")
    def explode_on_write(value):
        raise RuntimeError("boom")

    failing = spark.createDataFrame([(5,)], "id int").select(explode_on_write("id").alias("id"))
    with pytest.raises(Exception, match="boom"):
        write_table(ctx, failing, path=str(target))
    assert _rows(read_table(ctx, path=str(target), format="parquet"), "id") == [(1,)]
    assert [p.name for p in tmp_path.iterdir()] == ["kept"]


def test_append_error_mode_and_partitions(ctx, spark, tmp_path):
    data = spark.createDataFrame([(1, "x"), (2, "y")], "id int, part string")
    target = tmp_path / "parts"
    write_table(ctx, data, path=str(target), partition_by=["part"])
    assert sorted(p.name for p in target.iterdir() if p.is_dir()) == ["part=x", "part=y"]
    write_table(ctx, data, path=str(target), mode="append", partition_by=["part"])
    assert read_table(ctx, path=str(target), format="parquet").count() == 4
    with pytest.raises(ValueError, match=r"params\.path .* already exists and params\.mode is 'error'"):
        write_table(ctx, data, path=str(target), mode="error")
    with pytest.raises(ValueError, match=r"params\.partition_by names column 'nope'"):
        write_table(ctx, data, path=str(tmp_path / "other"), partition_by=["nope"])
    with pytest.raises(ValueError, match=r"exactly one of params\.path and params\.table"):
        write_table(ctx, data)


def test_save_as_table_and_read_it_back(ctx, spark, tmp_path):
    location = Path(tmp_path) / "db"
    spark.sql(f"CREATE DATABASE IF NOT EXISTS mlplat_io_test LOCATION '{location}'")
    try:
        data = spark.createDataFrame([(1, "a"), (2, "b")], "id int, v string")
        write_table(ctx, data, table="mlplat_io_test.items", mode="overwrite")
        write_table(ctx, data.limit(1), table="mlplat_io_test.items", mode="append")
        assert _rows(read_table(ctx, table="mlplat_io_test.items"), "id", "v") == [(1, "a"), (1, "a"), (2, "b")]
    finally:
        spark.sql("DROP DATABASE IF EXISTS mlplat_io_test CASCADE")
