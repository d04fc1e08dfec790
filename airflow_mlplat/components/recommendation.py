"""Recommendation and association components: collaborative filtering (ALS), frequent
itemsets and association rules (FP-growth), frequent sequential patterns (PrefixSpan)."""

from __future__ import annotations

from typing import Annotated, Any

from airflow_mlplat.components._common import fit_logged, quote, require_columns, require_numeric
from airflow_mlplat.components.registry import component
from airflow_mlplat.components.spec import Interval, Model, Options, Table


def _ensure_checkpoint_dir(ctx: Any) -> None:
    """Give Spark a checkpoint directory if it has none: a temporary one in local mode."""
    import tempfile

    context = ctx.spark.sparkContext
    if context.getCheckpointDir():
        return
    if context.master.startswith("local"):
        directory = tempfile.mkdtemp(prefix="mlplat-checkpoints-")
        context.setCheckpointDir(directory)
        ctx.log.info("%s: no checkpoint directory was set; checkpointing to %s", ctx.node_id, directory)
    else:
        ctx.log.warning(
            "%s: no checkpoint directory is set (spark.checkpoint.dir): long ALS runs may overflow the stack",
            ctx.node_id,
        )


@component(category="recommendation", outputs={"model": Model})
def als(
    ctx,
    data: Table,
    *,
    user_col: str = "user",
    item_col: str = "item",
    rating_col: str = "rating",
    rank: Annotated[int, Interval(1, None)] = 10,
    max_iter: Annotated[int, Interval(1, None)] = 10,
    reg_param: Annotated[float, Interval(0.0, None)] = 0.1,
    implicit_prefs: bool = False,
    alpha: Annotated[float, Interval(0.0, None)] = 1.0,
    nonnegative: bool = False,
    cold_start_strategy: Annotated[str, Options("drop", "nan")] = "drop",
    num_blocks: Annotated[int, Interval(1, None)] = 10,
    checkpoint_interval: Annotated[int, Interval(1, None)] = 10,
    seed: int = 42,
):
    """Collaborative filtering by alternating least squares (Spark's ALS): user and item factors.

    Explicit feedback fits the ratings themselves; implicit feedback (``implicit_prefs``)
    treats the rating column as a confidence (clicks, plays, purchases) that the user likes
    the item. User and item ids must be integers (index string ids with ``string_indexer``).

    Args:
        data: the interactions table: one row per (user, item) with a rating or count.
        user_col: the user id column (integer values).
        item_col: the item id column (integer values).
        rating_col: the rating (explicit) or interaction strength (implicit) column.
        rank: the number of latent factors.
        max_iter: the most alternating iterations.
        reg_param: regularisation strength.
        implicit_prefs: the ratings are implicit feedback (confidence), not explicit ratings.
        alpha: implicit feedback only: how fast confidence grows with the rating.
        nonnegative: constrain the factors to be non-negative.
        cold_start_strategy: what the model predicts for users or items it has not seen: drop
            those rows from its output, or predict NaN.
        num_blocks: the number of user blocks and of item blocks (parallelism of each iteration).
        checkpoint_interval: checkpoint the factors every this many iterations, which keeps the
            lineage short (many iterations without checkpoints overflow the JVM stack). Spark needs
            a checkpoint directory (``spark.checkpoint.dir``); in local mode a temporary one is
            made when none is set.
        seed: random seed (initial factors).
        model: the fitted ALSModel (predicts ``prediction`` for (user, item) pairs; see als_recommend).
    """
    from pyspark.ml.recommendation import ALS

    name = "als"
    user, item, rating = (
        require_columns(data, [user_col], component=name, param="user_col")[0],
        require_columns(data, [item_col], component=name, param="item_col")[0],
        require_columns(data, [rating_col], component=name, param="rating_col")[0],
    )
    hint = " (index string ids with string_indexer first)"
    for param, column in (("user_col", user), ("item_col", item)):
        data_type = data.schema[column].dataType.simpleString()
        if data_type not in ("tinyint", "smallint", "int", "bigint", "float", "double") and not data_type.startswith(
            "decimal"
        ):
            raise ValueError(
                f"{name}: params.{param} column {column!r} must hold integer ids, but it is {data_type}{hint}"
            )
    require_numeric(data, rating, component=name, param="rating_col")
    if len({user, item, rating}) != 3:
        raise ValueError(f"{name}: params.user_col, item_col and rating_col must name three different columns")
    estimator = ALS(
        userCol=user,
        itemCol=item,
        ratingCol=rating,
        rank=rank,
        maxIter=max_iter,
        regParam=reg_param,
        implicitPrefs=implicit_prefs,
        alpha=alpha,
        nonnegative=nonnegative,
        coldStartStrategy=cold_start_strategy,
        numUserBlocks=num_blocks,
        numItemBlocks=num_blocks,
        checkpointInterval=checkpoint_interval,
        seed=seed,
    )
    if max_iter > checkpoint_interval:
        _ensure_checkpoint_dir(ctx)
    return fit_logged(ctx, estimator, data, label_col=rating)


@component(category="recommendation", outputs={"recommendations": Table})
def als_recommend(
    ctx,
    model: Model,
    data: Table | None = None,
    exclude: Table | None = None,
    *,
    k: Annotated[int, Interval(1, None)] = 10,
    for_each: Annotated[str, Options("user", "item")] = "user",
):
    """Top-k recommendations of a fitted ALS model: items for each user, or users for each item.

    Without ``data`` every user (item) the model knows gets recommendations; with it, only
    the ids in its user (item) column do. ``exclude`` removes pairs, typically the
    interactions the model was fitted on, so already-rated items are not recommended again.

    Args:
        model: the fitted ALS model (the ``model`` output of als).
        data: optional: a table whose user column (``for_each`` user) or item column
            (``for_each`` item), named as in the model, lists the ids to recommend for.
        exclude: optional: a table of (user, item) pairs, columns named as in the model, that
            must not be recommended.
        k: how many recommendations per user (item).
        for_each: recommend items for each user, or users for each item.
        recommendations: one row per recommendation: the user (item) id, the recommended item
            (user) id, ``rating`` (float, the predicted rating) and ``rank`` (int, 1 = best), in
            that column order, named after the model's user and item columns.
    """
    from pyspark.ml.recommendation import ALSModel
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    name = "als_recommend"
    if not isinstance(model, ALSModel):
        raise ValueError(f"{name}: input 'model' must be a fitted ALS model, got {type(model).__name__}")
    user, item = model.getUserCol(), model.getItemCol()
    target, other = (user, item) if for_each == "user" else (item, user)

    ids = None
    if data is not None:
        if target not in data.columns:
            raise ValueError(
                f"{name}: input 'data' must have the model's {for_each} column {target!r} "
                f"(its columns: {', '.join(data.columns)})"
            )
        ids = data.select(F.col(quote(target)).cast("int").alias(target)).where(F.col(target).isNotNull()).distinct()

    excluded = None
    extra = 0
    if exclude is not None:
        missing = [c for c in (user, item) if c not in exclude.columns]
        if missing:
            raise ValueError(
                f"{name}: input 'exclude' must have the model's columns {user!r} and {item!r}, "
                f"it lacks {', '.join(map(repr, missing))} (its columns: {', '.join(exclude.columns)})"
            )
        excluded = exclude.select(F.col(quote(target)).cast("int").alias(target), F.col(quote(other)).cast("int"))
        excluded = excluded.distinct()
        if ids is not None:
            excluded = excluded.join(ids, on=target, how="left_semi")
        # Fetching k + (the most pairs excluded for one id) keeps at least k after removing them.
        extra = int(excluded.groupBy(target).count().agg(F.max("count")).first()[0] or 0)

    fetch = k + extra
    if for_each == "user":
        recs = model.recommendForAllUsers(fetch) if ids is None else model.recommendForUserSubset(ids, fetch)
    else:
        recs = model.recommendForAllItems(fetch) if ids is None else model.recommendForItemSubset(ids, fetch)
    ctx.log.info("%s: top %d %ss for each %s", ctx.node_id, k, "item" if for_each == "user" else "user", for_each)
    flat = recs.select(F.col(quote(target)), F.explode("recommendations").alias("rec")).select(
        target, F.col("rec")[other].alias(other), F.col("rec.rating").alias("rating")
    )
    if excluded is not None:
        flat = flat.join(excluded, on=[target, other], how="left_anti")
    order = Window.partitionBy(target).orderBy(F.col("rating").desc(), F.col(quote(other)))
    ranked = flat.withColumn("rank", F.row_number().over(order).cast("int")).where(F.col("rank") <= k)
    return ranked.select(target, other, "rating", "rank")


def _require_array(data: Any, column: str, *, component: str, param: str, what: str) -> Any:
    from pyspark.sql.types import ArrayType

    data_type = data.schema[column].dataType
    if not isinstance(data_type, ArrayType):
        raise ValueError(
            f"{component}: params.{param} column {column!r} must be an array column of {what}, "
            f"but it is {data_type.simpleString()} (split a delimited string with sql_transform's split())"
        )
    return data_type


@component(category="recommendation", outputs={"itemsets": Table, "rules": Table})
def fp_growth(
    ctx,
    data: Table,
    *,
    items_col: str = "items",
    min_support: Annotated[float, Interval(0.0, 1.0)] = 0.3,
    min_confidence: Annotated[float, Interval(0.0, 1.0)] = 0.8,
    num_partitions: Annotated[int, Interval(0, None)] = 0,
):
    """Frequent itemsets and association rules of baskets (Spark's FPGrowth).

    Each row is a transaction (a basket): an array of items. Repeated items in one basket
    count once, and null items are ignored. An itemset is frequent when at least
    ``min_support`` of the baskets contain it; a rule ``antecedent => consequent`` is kept
    when its confidence (the share of the baskets with the antecedent that also have the
    consequent) is at least ``min_confidence``.

    Args:
        data: the transactions: one basket per row, an array column of items.
        items_col: the array column of items.
        min_support: the smallest share of the baskets a frequent itemset occurs in.
        min_confidence: the smallest confidence of a rule.
        num_partitions: the number of partitions FP-growth works on; 0 keeps the input's.
        itemsets: ``items`` (array), ``freq`` (bigint, baskets containing it), ``support``
            (double, freq / baskets) and ``size`` (int), most frequent first.
        rules: ``antecedent`` (array), ``consequent`` (array of one item), ``confidence``,
            ``lift`` and ``support`` (doubles), most confident first.
    """
    from pyspark.ml.fpm import FPGrowth
    from pyspark.sql import functions as F

    name = "fp_growth"
    (items,) = require_columns(data, [items_col], component=name, param="items_col")
    _require_array(data, items, component=name, param="items_col", what="items")
    baskets = data.select(F.array_distinct(F.array_compact(F.col(quote(items)))).alias("items")).where(
        F.col("items").isNotNull()
    )
    baskets = baskets.cache()
    try:
        total = baskets.count()
        if not total:
            raise ValueError(f"{name}: input 'data' has no baskets (no non-null {items!r} arrays)")
        estimator = FPGrowth(itemsCol="items", minSupport=min_support, minConfidence=min_confidence)
        if num_partitions:
            estimator.setNumPartitions(num_partitions)
        model = fit_logged(ctx, estimator, baskets)
        itemsets = model.freqItemsets.select(
            "items",
            F.col("freq").cast("bigint").alias("freq"),
            (F.col("freq") / F.lit(total)).alias("support"),
            F.size("items").cast("int").alias("size"),
        ).orderBy(F.col("freq").desc(), F.col("size"), F.col("items").cast("string"))
        rules = model.associationRules.select(
            "antecedent",
            "consequent",
            F.col("confidence").cast("double"),
            F.col("lift").cast("double"),
            F.col("support").cast("double"),
        ).orderBy(F.col("confidence").desc(), F.col("support").desc(), F.col("antecedent").cast("string"))
    finally:
        baskets.unpersist()
    ctx.details["baskets"] = total
    ctx.log.info("%s: mined %d baskets (min_support=%g)", ctx.node_id, total, min_support)
    return {"itemsets": itemsets, "rules": rules}


@component(category="recommendation", outputs={"patterns": Table})
def prefix_span(
    ctx,
    data: Table,
    *,
    sequence_col: str = "sequence",
    min_support: Annotated[float, Interval(0.0, 1.0)] = 0.1,
    max_pattern_length: Annotated[int, Interval(1, None)] = 10,
    max_local_proj_db_size: Annotated[int, Interval(1, None)] = 32000000,
):
    """Frequent sequential patterns (Spark's PrefixSpan), e.g. the orders in which pages are visited.

    Each row is a sequence: an array of itemsets (arrays of items that happen together), or
    a plain array of items, read as one-item steps. A pattern is frequent when at least
    ``min_support`` of the sequences contain it, in order (other steps may come between).

    Args:
        data: one sequence per row.
        sequence_col: the sequence column: an array of arrays of items, or an array of items.
        min_support: the smallest share of the sequences a frequent pattern occurs in.
        max_pattern_length: the longest pattern (in items) searched for.
        max_local_proj_db_size: the most items a projected database may hold before PrefixSpan
            switches to processing it locally.
        patterns: ``sequence`` (array of arrays), ``freq`` (bigint, sequences containing it),
            ``support`` (double, freq / sequences) and ``length`` (int, items in the pattern),
            most frequent first.
    """
    from pyspark.ml.fpm import PrefixSpan
    from pyspark.sql import functions as F
    from pyspark.sql.types import ArrayType

    name = "prefix_span"
    (column,) = require_columns(data, [sequence_col], component=name, param="sequence_col")
    data_type = _require_array(data, column, component=name, param="sequence_col", what="itemsets or items")
    sequence = F.col(quote(column))
    if not isinstance(data_type.elementType, ArrayType):
        sequence = F.transform(sequence, lambda item: F.array(item))
    sequences = data.select(sequence.alias("sequence")).where(F.col("sequence").isNotNull()).cache()
    try:
        total = sequences.count()
        if not total:
            raise ValueError(f"{name}: input 'data' has no sequences (no non-null {column!r} arrays)")
        finder = PrefixSpan(
            minSupport=min_support,
            maxPatternLength=max_pattern_length,
            maxLocalProjDBSize=max_local_proj_db_size,
            sequenceCol="sequence",
        )
        ctx.log.info("%s: mining %d sequences (min_support=%g)", ctx.node_id, total, min_support)
        patterns = (
            finder.findFrequentSequentialPatterns(sequences)
            .select(
                "sequence",
                F.col("freq").cast("bigint").alias("freq"),
                (F.col("freq") / F.lit(total)).alias("support"),
                F.aggregate("sequence", F.lit(0), lambda acc, step: acc + F.size(step)).cast("int").alias("length"),
            )
            .orderBy(F.col("freq").desc(), F.col("length"), F.col("sequence").cast("string"))
        )
    finally:
        sequences.unpersist()
    ctx.details["sequences"] = total
    return patterns
