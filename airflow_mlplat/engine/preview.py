"""Previews of a run's tables: the first rows and a profile of every column, written beside the report.

For each table a node outputs, the engine writes ``OUT_DIR/previews/NODE/PORT.json`` (atomically,
unless the pipeline says ``"preview": false``): at most ``PREVIEW_ROWS`` rows and, per column, its
type, missing values (null, and NaN in float columns), distinct values, min, max, mean and, for
numbers, a histogram. The page serves that file as it is: opening a preview never starts Spark.

What it costs: one Spark job per table output at most, unless the table's first partitions hold
too few rows (below). The profile is one aggregation over the table, folded into a job the run
makes anyway where there is one (the job that fills a cached table's cache, or the write of a
pipeline output); elsewhere it is the one extra job. Either way it is computed as observed metrics
on a write (to Spark's no-op sink where the run writes nothing): one stage, where an aggregation
under adaptive execution runs its partial stage as a job of its own. The aggregation also keeps
the first rows of the first ``SAMPLE_PARTITIONS`` partitions, which are the rows a ``limit`` would
take when they hold ``PREVIEW_ROWS`` of them; otherwise, and after an observed write, the rows come
from a ``limit``, which reads only the first partitions (of the written files, where there are some).

Distinct values and histograms are estimates: exact ones would need a shuffle per column, or a
second pass once min and max are known. Distinct values come from a HyperLogLog sketch per column
(Apache DataSketches' ``hll_sketch_agg``: one 4 KB object per column and partition, about 1.6%
relative standard error); Spark's ``approx_count_distinct`` keeps its registers as aggregation-buffer
fields, whose generated code grew so large for a dozen columns at 1% that a 4-row profile took 10
seconds. A histogram comes from Spark's streaming histogram (``histogram_numeric``: Ben-Haim and
Tom-Tov's bounded set of centroids, merged across partitions within the same pass), its centroids'
counts put into ``HISTOGRAM_BARS`` equal-width bars between the column's finite min and max; an
integer column spanning fewer values than that gets one bar per value, exact while it holds at most
``HISTOGRAM_CENTROIDS`` distinct values.

Values JSON cannot hold as they are are written as text: decimals, dates, timestamps, binary (hex),
arrays, maps, structs and vectors (no histogram for those), integers beyond 2**53, NaN and the
infinities. Text is cut at ``TEXT_CHARS`` characters, in Spark, before it reaches the driver.
"""

from __future__ import annotations

import bisect
import datetime as dt
import decimal
import math
import time
from typing import Any

#: Rows a preview holds, columns it describes (the first ones), characters of one value it keeps.
PREVIEW_ROWS = 100
PREVIEW_COLUMNS = 200
TEXT_CHARS = 200
#: Centroids of the streaming histogram kept per column, and the bars they are drawn as.
HISTOGRAM_CENTROIDS = 32
HISTOGRAM_BARS = 10
#: log2 of the HyperLogLog sketch's buckets per column: 2**12 (a 4 KB sketch, about 1.6% relative standard error).
DISTINCT_LG_K = 12
#: The profile's job keeps the first rows of this many partitions: with ``PREVIEW_ROWS`` among them,
#: they are the rows a ``limit`` would take, with no job of their own.
SAMPLE_PARTITIONS = 8
_SAMPLE = "_sample"
#: Name of the row count among the profile's aggregates (also the runner's observed row count).
ROWS = "rows"
FORMAT = 1
APPROXIMATE = (
    "distinct values (a HyperLogLog sketch, about 1.6% relative standard error) and histograms (a streaming "
    f"histogram of {HISTOGRAM_CENTROIDS} centroids) are estimates from one pass; the other figures are exact"
)
_INTEGRAL_JSON = 2**53  # beyond this, a JavaScript number loses digits


def preview_url(out_dir: str, node_id: str, port: str) -> str:
    """Where the preview of ``node_id``'s table output ``port`` goes in a run's directory."""
    return f"{out_dir.rstrip('/')}/previews/{node_id}/{port}.json"


def _kind(data_type: Any) -> str:
    from pyspark.sql import types as T

    if isinstance(data_type, T.FloatType | T.DoubleType):
        return "float"
    if isinstance(data_type, T.ByteType | T.ShortType | T.IntegerType | T.LongType):
        return "integer"
    if isinstance(data_type, T.DecimalType):
        return "decimal"
    if isinstance(data_type, T.BooleanType):
        return "boolean"
    if isinstance(data_type, T.StringType | T.CharType | T.VarcharType):
        return "string"
    if isinstance(data_type, T.DateType | T.TimestampType | T.TimestampNTZType):
        return "temporal"
    if isinstance(data_type, T.BinaryType):
        return "binary"
    return "other"  # arrays, maps, structs, vectors and other user-defined types, intervals, void


def _cut(text: str) -> str:
    return text if len(text) <= TEXT_CHARS else text[:TEXT_CHARS] + "…"


def json_value(value: Any) -> Any:
    """``value`` (from a collected row or aggregate) as JSON: numbers JSON can hold, otherwise text."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value if abs(value) <= _INTEGRAL_JSON else str(value)
    if isinstance(value, float):
        if math.isfinite(value):
            return value
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, decimal.Decimal):
        return _cut(str(value))
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, bytes | bytearray):
        return _cut("0x" + bytes(value).hex())
    return _cut(str(value))


def _sketched(kind: str, value: Any) -> Any:
    """What the distinct-count sketch reads of a column: integers and text as they are, else a 64-bit hash."""
    from pyspark.sql import functions as F

    if kind == "integer":
        return value.cast("long")
    if kind in ("string", "binary"):
        return value
    return F.when(value.isNotNull(), F.xxhash64(value))  # the hash of null is not null


def _aggregates(fields: list[Any], columns: list[Any]) -> list[Any]:
    """The profile's aggregate columns: the row count, then ``_pI_STAT`` for column I."""
    from pyspark.sql import functions as F

    found = [F.count(F.lit(1)).alias(ROWS)]
    for index, (field, column) in enumerate(zip(fields, columns, strict=True)):
        kind = _kind(field.dataType)

        def add(stat: str, expression: Any, index: int = index) -> None:
            found.append(expression.alias(f"_p{index}_{stat}"))

        value = column
        if kind == "float":
            nan = F.isnan(column)
            value = F.when(~nan, column)  # null for NaN: min, max, mean and distinct skip it
            add("nan", F.count(F.when(nan, 1)))
            add("missing", F.count(F.when(column.isNull() | nan, 1)))
        else:
            add("missing", F.count(F.when(column.isNull(), 1)))
        if kind != "other":
            add("distinct", F.hll_sketch_estimate(F.hll_sketch_agg(_sketched(kind, value), DISTINCT_LG_K)))
        if kind in ("float", "integer", "decimal"):
            number = value.cast("double")
            add("min", F.min(value))
            add("max", F.max(value))
            add("mean", F.avg(number))
            if kind == "float":  # the histogram spans the finite values: their own min and max
                number = F.when(F.abs(number) < F.lit(math.inf), number)
                add("low", F.min(number))
                add("high", F.max(number))
            add("histogram", F.histogram_numeric(number, F.lit(HISTOGRAM_CENTROIDS)))
        elif kind == "boolean":
            add("mean", F.avg(value.cast("double")))  # the share of true
        elif kind == "string":
            add("min", F.substring(F.min(value), 1, TEXT_CHARS + 1))
            add("max", F.substring(F.max(value), 1, TEXT_CHARS + 1))
        elif kind == "temporal":
            add("min", F.min(value).cast("string"))
            add("max", F.max(value).cast("string"))
    return found


def _shown(field: Any, column: Any) -> Any:
    """``column`` as a preview row shows it: numbers and booleans as they are, the rest as cut text."""
    from pyspark.sql import functions as F

    kind = _kind(field.dataType)
    if kind in ("integer", "float", "boolean"):
        return column
    if kind == "string":
        return F.substring(column, 1, TEXT_CHARS + 1)
    if kind == "binary":
        return F.concat(F.lit("0x"), F.lower(F.hex(F.substring(column, 1, TEXT_CHARS // 2))))
    return F.substring(column.cast("string"), 1, TEXT_CHARS + 1)


def _bars(centroids: Any, low: Any, high: Any, integral: bool) -> dict[str, list[Any]] | None:
    """Equal-width bars ``{"edges", "counts"}`` over [low, high] from the histogram's centroids."""
    if not centroids or low is None or high is None:
        return None
    low, high = float(low), float(high)
    if integral and high - low < HISTOGRAM_BARS:
        edges = [low - 0.5 + k for k in range(int(high - low) + 2)]  # one bar per value
    elif high > low and math.isfinite(high - low):
        width = (high - low) / HISTOGRAM_BARS
        edges = [low + k * width for k in range(HISTOGRAM_BARS)] + [high]
    else:
        edges = [low, high]  # one value, or a range wider than a float holds
    counts = [0.0] * (len(edges) - 1)
    for x, y in centroids:
        bar = min(max(bisect.bisect_right(edges, x) - 1, 0), len(counts) - 1)
        counts[bar] += y
    return {"edges": [json_value(e) for e in edges], "counts": [round(c) for c in counts]}


def _positional(df: Any) -> Any:
    """``df`` with its columns named by position (``_c0``, ...), the first ``PREVIEW_COLUMNS`` only:
    names with dots, spaces, backquotes, and duplicate names, need no quoting."""
    from pyspark.sql import functions as F

    renamed = df.toDF(*[f"_c{i}" for i in range(len(df.columns))])
    return renamed.select(*[F.col(f"_c{i}") for i in range(min(len(df.columns), PREVIEW_COLUMNS))])


class TablePreview:
    """The preview of one table output, filled by the jobs that compute its profile and its rows.

    ``aggregates`` gives the profile as columns to fold into another job (an observed write);
    ``profile`` runs it as its own job; ``sample`` takes the rows. ``document`` is what is written.
    """

    def __init__(self, schema: Any) -> None:
        self.fields = list(schema.fields)[:PREVIEW_COLUMNS]
        self.columns_total = len(schema.fields)
        self.values: dict[str, Any] | None = None  # the profile's aggregates, once computed
        self.rows: list[list[Any]] | None = None
        #: Which job computed the profile: "cache fill", "output write" (observed) or "own job".
        self.profiled_in: str | None = None
        #: Seconds of the preview's own jobs: "profile" (with the rows, where it got them), "rows" (a limit).
        self.seconds: dict[str, float] = {}

    @property
    def rows_total(self) -> int | None:
        return int(self.values[ROWS]) if self.values is not None else None

    def aggregates(self, df: Any) -> list[Any] | None:
        """The profile's aggregates on ``df``'s columns by name (``ROWS`` the row count), to observe on a
        job that reads the whole table anyway; None when names repeat (Spark compares them ignoring case)."""
        from pyspark.sql import functions as F

        names = [field.name for field in self.fields]
        if len({name.lower() for name in df.columns}) != len(df.columns):
            return None
        return _aggregates(self.fields, [F.col("`" + name.replace("`", "``") + "`") for name in names])

    def profile(self, df: Any, profiled_in: str = "own job") -> int:
        """Compute the profile in one aggregation job over ``df``, the first rows in the same job where
        the first partitions hold enough of them (else ``sample`` takes them); return the row count."""
        from pyspark.sql import Observation
        from pyspark.sql import functions as F

        positional = _positional(df)
        columns = [F.col(name) for name in positional.columns]
        # A row's position: its partition in the upper bits, its place in the partition in the lower 33.
        position = F.col("_position")
        first = (F.shiftright(position, 33) < SAMPLE_PARTITIONS) & (position.bitwiseAND(2**33 - 1) < PREVIEW_ROWS)
        shown = [_shown(field, column) for field, column in zip(self.fields, columns, strict=True)]
        rows = F.collect_list(F.when(first, F.struct(position, *shown))).alias(_SAMPLE)
        indexed = positional.withColumn("_position", F.monotonically_increasing_id())
        started = time.perf_counter()
        observation = Observation()  # on a write that keeps nothing: one job (see the module's docstring)
        observed = indexed.observe(observation, *_aggregates(self.fields, columns), rows)
        observed.write.format("noop").mode("overwrite").save()
        values = dict(observation.get)
        self.seconds["profile"] = round(time.perf_counter() - started, 3)
        sample = sorted(values.pop(_SAMPLE) or [], key=lambda row: row[0])[:PREVIEW_ROWS]
        self.values = values
        self.profiled_in = profiled_in
        if len(sample) == min(PREVIEW_ROWS, self.rows_total or 0):  # the same rows a limit takes
            self.rows = [[json_value(value) for value in row[1:]] for row in sample]
        return int(values[ROWS])

    def observed(self, values: dict[str, Any]) -> None:
        """Take the profile from the observed metrics of a job that ran ``aggregates``."""
        self.values = dict(values)
        self.profiled_in = "output write"

    def sample(self, df: Any) -> None:
        """Take the first ``PREVIEW_ROWS`` rows of ``df`` (its values cut in Spark)."""
        from pyspark.sql import functions as F

        started = time.perf_counter()
        positional = _positional(df).limit(PREVIEW_ROWS)
        shown = [_shown(field, F.col(f"_c{i}")).alias(f"_c{i}") for i, field in enumerate(self.fields)]
        self.rows = [[json_value(value) for value in row] for row in positional.select(*shown).collect()]
        self.seconds["rows"] = round(time.perf_counter() - started, 3)

    def column_profile(self) -> list[dict[str, Any]]:
        assert self.values is not None
        profiles = []
        for index, field in enumerate(self.fields):
            kind = _kind(field.dataType)

            def stat(name: str, index: int = index) -> Any:
                return self.values.get(f"_p{index}_{name}")

            entry: dict[str, Any] = {"name": field.name, "type": _cut(field.dataType.simpleString())}
            entry["missing"] = int(stat("missing"))
            if kind == "float":
                entry["nan"] = int(stat("nan"))
            for name in ("distinct", "min", "max", "mean"):
                if f"_p{index}_{name}" in self.values:
                    entry[name] = json_value(stat(name))
            if f"_p{index}_histogram" in self.values:
                low, high = (stat("low"), stat("high")) if kind == "float" else (stat("min"), stat("max"))
                entry["histogram"] = _bars(stat("histogram"), low, high, kind == "integer")
            profiles.append(entry)
        return profiles

    def document(self, node_id: str, port: str) -> dict[str, Any]:
        """The preview as written: ``{"format", "node", "port", "rows_total", "columns_total", "columns",
        "rows", "profile", "approximate", "profiled_in", "seconds"}``. Call once the profile and rows are in."""
        assert self.values is not None and self.rows is not None
        return {
            "format": FORMAT,
            "node": node_id,
            "port": port,
            "rows_total": self.rows_total,
            "columns_total": self.columns_total,
            "columns": [{"name": f.name, "type": _cut(f.dataType.simpleString())} for f in self.fields],
            "rows": self.rows,
            "profile": self.column_profile(),
            "approximate": APPROXIMATE,
            "profiled_in": self.profiled_in,
            "seconds": self.seconds,
        }
