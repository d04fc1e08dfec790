"""Dataset components: generated tables for demos, tests and benchmarks."""

from __future__ import annotations

from typing import Annotated

from airflow_mlplat.components.registry import component
from airflow_mlplat.components.spec import Interval, Table

#: The behaviour features of ``synthetic_purchase_intent``, in column order (all strings).
PURCHASE_INTENT_FEATURES = (
    "duration",
    "freqs_rank",
    "page_views",
    "visit_days",
    "compare_clicks",
    "dealer_calls",
    "price_views",
    "image_views",
)


@component(category="datasets", outputs={"data": Table})
def synthetic_purchase_intent(
    ctx,
    *,
    rows: Annotated[int, Interval(1, None)] = 200_000,
    seed: int = 7,
    partitions: Annotated[int, Interval(1, None)] = 4,
    missing_rate: Annotated[float, Interval(0.0, 1.0, closed="left")] = 0.0,
):
    """Generate a car website's purchase-intent table: browsing behaviour and whether the user bought a car.

    The table is made in Spark (``spark.range`` plus seeded ``rand``/``randn`` expressions), so
    it scales with the cluster and is the same for the same ``rows``, ``seed`` and
    ``partitions``. A hidden purchase intent drives every behaviour feature; the label is drawn
    from a logistic model of the observed features, so it is learnable but noisy (a GBDT reaches
    a test AUC of about 0.85) and about one user in five is positive.

    Columns: ``user_id`` (string), the behaviour features ``duration`` (seconds on site),
    ``freqs_rank`` (visit-frequency rank, 1 = most frequent), ``page_views``, ``visit_days``,
    ``compare_clicks``, ``dealer_calls``, ``price_views``, ``image_views`` (all numbers stored
    as strings, like the raw log tables they imitate), ``city_tier`` (``tier1``..``tier4``) and
    the integer ``label`` (1 = bought a car).

    Args:
        rows: number of users (rows) to generate.
        seed: random seed; the same seed, rows and partitions give the same table.
        partitions: number of Spark partitions the rows are generated in.
        missing_rate: probability that any one behaviour feature value is missing (null), to exercise cleaning.
        data: the generated table.
    """
    from pyspark.sql import functions as F

    spark = ctx.spark
    base = seed * 1009

    def gauss(k: int):
        return F.randn(base + k)

    def uniform(k: int):
        return F.rand(base + k)

    def log1p(column):
        return F.log1p(column)

    intent = F.col("_intent")
    frame = spark.range(0, rows, 1, partitions).select(
        F.format_string("u%09d", F.col("id")).alias("user_id"),
        gauss(0).alias("_intent"),
        *[gauss(k).alias(f"_z{k}") for k in range(1, 10)],
        *[uniform(k).alias(f"_u{k}") for k in range(6, 12)],
    )
    z = {k: F.col(f"_z{k}") for k in range(1, 10)}
    u = {k: F.col(f"_u{k}") for k in range(6, 12)}
    frame = frame.select(
        "user_id",
        F.round(F.exp(4.5 + 0.35 * intent + 0.9 * z[3]), 1).alias("duration"),
        (1 + F.floor(999 / (1 + F.exp(0.7 * intent + 0.8 * z[4])))).cast("int").alias("freqs_rank"),
        (1 + F.floor(F.exp(1.6 + 0.4 * intent + 0.7 * z[2]))).cast("int").alias("page_views"),
        F.least(F.lit(30), 1 + F.floor(F.exp(0.9 + 0.45 * intent + 0.6 * z[1]))).cast("int").alias("visit_days"),
        F.floor(F.exp(-0.5 + 0.55 * intent + 0.8 * z[5])).cast("int").alias("compare_clicks"),
        F.when(u[6] < 1 / (1 + F.exp(3.0 - intent)), 1 + F.floor(3 * u[7]))
        .otherwise(0)
        .cast("int")
        .alias("dealer_calls"),
        F.floor(F.exp(0.5 + 0.5 * intent + 0.7 * z[8])).cast("int").alias("price_views"),
        F.floor(F.exp(1.8 + 0.2 * intent + 0.9 * z[9])).cast("int").alias("image_views"),
        F.when(u[10] < 0.2, "tier1")
        .when(u[10] < 0.5, "tier2")
        .when(u[10] < 0.8, "tier3")
        .otherwise("tier4")
        .alias("city_tier"),
        u[11].alias("_u_label"),
    )
    tier_effect = (
        F.when(F.col("city_tier") == "tier1", 0.6)
        .when(F.col("city_tier") == "tier2", 0.3)
        .when(F.col("city_tier") == "tier3", 0.0)
        .otherwise(-0.4)
    )
    logit = (
        -6.6
        + 0.9 * log1p(F.col("visit_days"))
        + 0.7 * log1p(F.col("page_views"))
        + 0.5 * log1p(F.col("duration"))
        - 0.6 * F.log10(F.col("freqs_rank"))
        + 1.0 * log1p(F.col("compare_clicks"))
        + 1.6 * (F.col("dealer_calls") > 0).cast("double")
        + 0.7 * log1p(F.col("price_views"))
        + 0.1 * log1p(F.col("image_views"))
        + tier_effect
    )
    label = (F.col("_u_label") < 1 / (1 + F.exp(-logit))).cast("int").alias("label")

    def as_text(index: int, name: str):
        text = F.col(name).cast("string")
        if missing_rate > 0:
            text = F.when(F.rand(base + 100 + index) >= missing_rate, text)
        return text.alias(name)

    return frame.select(
        "user_id",
        *[as_text(i, name) for i, name in enumerate(PURCHASE_INTENT_FEATURES)],
        "city_tier",
        label,
    )


@component(category="datasets", outputs={"data": Table})
def synthetic_ctr(
    ctx,
    *,
    rows: Annotated[int, Interval(1, None)] = 100_000,
    fields: Annotated[int, Interval(2, 200)] = 20,
    max_cardinality: Annotated[int, Interval(16, 10_000_000)] = 10_000,
    cardinality_exponent: Annotated[float, Interval(0.0, 4.0)] = 1.0,
    max_history: Annotated[int, Interval(1, 200)] = 20,
    interest_clusters: Annotated[int, Interval(2, 64)] = 8,
    seed: int = 7,
    partitions: Annotated[int, Interval(1, None)] = 4,
):
    """Generate click logs for ranking models whose true click probability is known.

    Columns: the row ``id``, the target ``item`` and categorical fields ``c01``.. (``fields`` in all, with
    power-law cardinalities ``max_cardinality / (f + 1) ** cardinality_exponent`` and power-law
    value popularity), numbers ``n1``, ``n2``, the user's recent items ``hist_items`` (an array,
    oldest first), the click ``label``, a rarer correlated ``label2`` (for multi-task models), and
    their true probabilities ``true_ctr`` and ``true_cvr``. The true logit adds first-order
    terms, pairwise factorised interactions, a nonlinear term and target attention between the
    item and the behaviour sequence (see ``airflow_mlplat.ranking.synthetic``), so the oracle
    AUC (of ``true_ctr`` on held-out rows) is the ceiling a model is measured against. Rows are
    made on the executors from a counter-based hash of the row id: the same ``seed`` gives the
    same rows for any ``partitions``.

    Args:
        rows: number of rows (impressions) to generate.
        fields: number of categorical fields, the target item included.
        max_cardinality: the number of distinct items (the largest field).
        cardinality_exponent: how fast the fields' cardinalities fall (field f has max_cardinality / (f + 1) ** this).
        max_history: the longest behaviour sequence (lengths are uniform from 1 to this).
        interest_clusters: item clusters; a user's behaviour comes from 1 to 4 of them.
        seed: random seed of the true model and of the rows.
        partitions: number of Spark partitions the rows are generated in.
    """
    from pyspark.sql import types as T

    from airflow_mlplat.ranking.synthetic import SyntheticCtr

    generator = SyntheticCtr(
        fields=fields,
        max_cardinality=max_cardinality,
        cardinality_exponent=cardinality_exponent,
        max_history=max_history,
        interest_clusters=interest_clusters,
        seed=seed,
    )
    schema = T.StructType(
        [T.StructField("id", T.LongType(), False)]
        + [T.StructField(name, T.StringType(), False) for name in generator.categorical]
        + [T.StructField(name, T.DoubleType(), False) for name in ("n1", "n2")]
        + [T.StructField("hist_items", T.ArrayType(T.StringType(), False), False)]
        + [T.StructField(name, T.IntegerType(), False) for name in ("label", "label2")]
        + [T.StructField(name, T.DoubleType(), False) for name in ("true_ctr", "true_cvr")]
    )

    def generate(batches):
        for ids in batches:
            yield generator.generate(ids["id"].to_numpy())

    return ctx.spark.range(0, rows, 1, partitions).mapInPandas(generate, schema)
