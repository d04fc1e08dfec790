"""Clustering components: group rows by their features vector (k-means, bisecting k-means,
Gaussian mixtures), topics of documents (LDA), communities of a graph (power iteration
clustering), and helpers to choose k and describe the clusters found."""

from __future__ import annotations

from typing import Annotated, Any

from airflow_mlplat.components._common import (
    fit_logged,
    is_numeric,
    quote,
    require_columns,
    require_numeric,
    require_vector,
)
from airflow_mlplat.components.registry import component
from airflow_mlplat.components.spec import Interval, Model, Options, Table


def _features(data: Any, features_col: str, *, component: str) -> str:
    (column,) = require_columns(data, [features_col], component=component, param="features_col")
    require_vector(data, column, component=component, param="features_col")
    return column


def _new_column(data: Any, column: str, *, component: str, param: str) -> str:
    """``column`` as a name for a column the component adds; it must not exist yet."""
    if not column:
        raise ValueError(f"{component}: params.{param} must not be empty")
    if column in data.columns:
        raise ValueError(
            f"{component}: params.{param} {column!r} names an existing column of the input table; "
            "choose another name or drop the column first"
        )
    return column


def _weights(estimator: Any, data: Any, weight_col: str | None, *, component: str) -> None:
    if weight_col:
        (weights,) = require_columns(data, [weight_col], component=component, param="weight_col")
        require_numeric(data, weights, component=component, param="weight_col")
        estimator.setWeightCol(weights)


def _record_sizes(ctx: Any, sizes: list[int]) -> None:
    ctx.details["cluster_sizes"] = [int(s) for s in sizes]
    ctx.log.info("%s: cluster sizes %s", ctx.node_id, ctx.details["cluster_sizes"])


@component(category="clustering", outputs={"data": Table, "model": Model})
def kmeans(
    ctx,
    data: Table,
    *,
    features_col: str = "features",
    k: Annotated[int, Interval(2, None)] = 2,
    max_iter: Annotated[int, Interval(1, None)] = 20,
    tol: Annotated[float, Interval(0.0, None)] = 1e-4,
    init_mode: Annotated[str, Options("k-means||", "random")] = "k-means||",
    init_steps: Annotated[int, Interval(1, None)] = 2,
    distance_measure: Annotated[str, Options("euclidean", "cosine")] = "euclidean",
    weight_col: str | None = None,
    cluster_col: str = "cluster",
    seed: int = 42,
):
    """K-means clustering (Spark's KMeans): each row goes to the nearest of ``k`` centres.

    The run's details record the cluster sizes and the training cost (the sum of squared
    distances of the rows to their centres).

    Args:
        data: a table with a features vector column.
        features_col: the features vector column.
        k: the number of clusters (Spark may return fewer when the data has fewer distinct points).
        max_iter: the most iterations.
        tol: convergence: stop when no centre moves further than this.
        init_mode: how the first centres are chosen: k-means|| (a parallel k-means++) or random rows.
        init_steps: k-means|| only: its number of steps.
        distance_measure: the distance between rows and centres.
        weight_col: an optional column of row weights.
        cluster_col: the name of the cluster column (0 .. k-1) added to the output.
        seed: random seed (initial centres).
        model: the fitted KMeansModel.
    """
    from pyspark.ml.clustering import KMeans

    name = "kmeans"
    features = _features(data, features_col, component=name)
    cluster = _new_column(data, cluster_col, component=name, param="cluster_col")
    estimator = KMeans(
        featuresCol=features,
        predictionCol=cluster,
        k=k,
        maxIter=max_iter,
        tol=tol,
        initMode=init_mode,
        initSteps=init_steps,
        distanceMeasure=distance_measure,
        seed=seed,
    )
    _weights(estimator, data, weight_col, component=name)
    model = fit_logged(ctx, estimator, data)
    _record_sizes(ctx, model.summary.clusterSizes)
    ctx.details["training_cost"] = float(model.summary.trainingCost)
    return {"data": model.transform(data), "model": model}


@component(category="clustering", outputs={"data": Table, "model": Model})
def bisecting_kmeans(
    ctx,
    data: Table,
    *,
    features_col: str = "features",
    k: Annotated[int, Interval(2, None)] = 4,
    max_iter: Annotated[int, Interval(1, None)] = 20,
    min_divisible_cluster_size: Annotated[float, Interval(0.0, None, closed="neither")] = 1.0,
    distance_measure: Annotated[str, Options("euclidean", "cosine")] = "euclidean",
    weight_col: str | None = None,
    cluster_col: str = "cluster",
    seed: int = 42,
):
    """Bisecting k-means (Spark's BisectingKMeans): split the largest divisible cluster in two, top down.

    Often faster than k-means for large ``k`` and gives a hierarchy of clusters. The run's
    details record the cluster sizes and the training cost.

    Args:
        data: a table with a features vector column.
        features_col: the features vector column.
        k: the number of leaf clusters wanted (fewer when no cluster can be divided further).
        max_iter: the most k-means iterations of each split.
        min_divisible_cluster_size: the fewest rows (>= 1) or the smallest share of all rows (< 1)
            a cluster needs to be split.
        distance_measure: the distance between rows and centres.
        weight_col: an optional column of row weights.
        cluster_col: the name of the cluster column (0 .. k-1) added to the output.
        seed: random seed.
        model: the fitted BisectingKMeansModel.
    """
    from pyspark.ml.clustering import BisectingKMeans

    name = "bisecting_kmeans"
    features = _features(data, features_col, component=name)
    cluster = _new_column(data, cluster_col, component=name, param="cluster_col")
    estimator = BisectingKMeans(
        featuresCol=features,
        predictionCol=cluster,
        k=k,
        maxIter=max_iter,
        minDivisibleClusterSize=min_divisible_cluster_size,
        distanceMeasure=distance_measure,
        seed=seed,
    )
    _weights(estimator, data, weight_col, component=name)
    model = fit_logged(ctx, estimator, data)
    _record_sizes(ctx, model.summary.clusterSizes)
    ctx.details["training_cost"] = float(model.summary.trainingCost)
    return {"data": model.transform(data), "model": model}


@component(category="clustering", outputs={"data": Table, "model": Model})
def gaussian_mixture(
    ctx,
    data: Table,
    *,
    features_col: str = "features",
    k: Annotated[int, Interval(2, None)] = 2,
    max_iter: Annotated[int, Interval(1, None)] = 100,
    tol: Annotated[float, Interval(0.0, None)] = 0.01,
    weight_col: str | None = None,
    cluster_col: str = "cluster",
    probability_col: str = "probability",
    seed: int = 42,
):
    """Gaussian mixture model (Spark's GaussianMixture), fitted by expectation-maximisation.

    Each row gets the most likely component as its cluster and the vector of membership
    probabilities (soft clustering). The run's details record the cluster sizes and the
    log-likelihood of the data.

    Args:
        data: a table with a features vector column.
        features_col: the features vector column.
        k: the number of mixture components (clusters).
        max_iter: the most EM iterations.
        tol: convergence: stop when the log-likelihood improves by less than this.
        weight_col: an optional column of row weights.
        cluster_col: the name of the cluster column (0 .. k-1) added to the output.
        probability_col: the name of the membership-probability vector column added to the output.
        seed: random seed (initial components).
        model: the fitted GaussianMixtureModel (``weights`` and ``gaussiansDF`` describe the components).
    """
    from pyspark.ml.clustering import GaussianMixture

    name = "gaussian_mixture"
    features = _features(data, features_col, component=name)
    cluster = _new_column(data, cluster_col, component=name, param="cluster_col")
    probability = _new_column(data, probability_col, component=name, param="probability_col")
    if probability == cluster:
        raise ValueError(f"{name}: params.probability_col and params.cluster_col must differ, both are {cluster!r}")
    estimator = GaussianMixture(
        featuresCol=features,
        predictionCol=cluster,
        probabilityCol=probability,
        k=k,
        maxIter=max_iter,
        tol=tol,
        seed=seed,
    )
    _weights(estimator, data, weight_col, component=name)
    model = fit_logged(ctx, estimator, data)
    _record_sizes(ctx, model.summary.clusterSizes)
    ctx.details["log_likelihood"] = float(model.summary.logLikelihood)
    return {"data": model.transform(data), "model": model}


def _vocabulary(vectorizer: Any) -> list[str] | None:
    """The term list of a fitted CountVectorizerModel (or the last one inside a pipeline)."""
    if vectorizer is None:
        return None
    from pyspark.ml import PipelineModel

    stages = vectorizer.stages if isinstance(vectorizer, PipelineModel) else [vectorizer]
    for stage in reversed(stages):
        vocabulary = getattr(stage, "vocabulary", None)
        if vocabulary is not None:
            return list(vocabulary)
    raise ValueError(
        f"lda: input 'vectorizer' ({type(vectorizer).__name__}) has no vocabulary; "
        "pass the fitted CountVectorizerModel that made the term-count vectors"
    )


@component(category="clustering", outputs={"data": Table, "model": Model, "topics": Table})
def lda(
    ctx,
    data: Table,
    vectorizer: Model | None = None,
    *,
    features_col: str = "features",
    k: Annotated[int, Interval(2, None)] = 10,
    max_iter: Annotated[int, Interval(1, None)] = 20,
    optimizer: Annotated[str, Options("online", "em")] = "online",
    subsampling_rate: Annotated[float, Interval(0.0, 1.0, closed="right")] = 0.05,
    terms_per_topic: Annotated[int, Interval(1, None)] = 10,
    topic_distribution_col: str = "topic_distribution",
    seed: int = 42,
):
    """Latent Dirichlet allocation topic model (Spark's LDA) on term-count vectors.

    Each document (row) gets its mixture of ``k`` topics; the ``topics`` table lists each
    topic's most weighted terms. Term-count vectors come from a count vectoriser (or hashing
    term frequencies); pass the fitted vectoriser model to name the terms.

    Args:
        data: a table with a vector column of term counts per document.
        vectorizer: optional: the fitted CountVectorizerModel (or a pipeline with one) whose
            vocabulary names the term indices in the ``topics`` table.
        features_col: the term-count vector column.
        k: the number of topics.
        max_iter: the most iterations.
        optimizer: online variational Bayes (scales to large corpora) or expectation-maximisation.
        subsampling_rate: online only: the share of the documents each mini-batch iteration samples.
        terms_per_topic: how many of each topic's top terms the ``topics`` table lists.
        topic_distribution_col: the name of the topic-mixture vector column added to ``data``.
        seed: random seed.
        model: the fitted LDAModel.
        topics: one row per topic and term: ``topic`` (int), ``rank`` (int, 1 = the topic's most
            weighted term), ``term_index`` (int), ``term`` (string; null without ``vectorizer``)
            and ``weight`` (double, the term's probability within the topic).
    """
    from pyspark.ml.clustering import LDA

    name = "lda"
    features = _features(data, features_col, component=name)
    distribution = _new_column(data, topic_distribution_col, component=name, param="topic_distribution_col")
    vocabulary = _vocabulary(vectorizer)
    estimator = LDA(
        featuresCol=features,
        topicDistributionCol=distribution,
        k=k,
        maxIter=max_iter,
        optimizer=optimizer,
        subsamplingRate=subsampling_rate,
        seed=seed,
    )
    model = fit_logged(ctx, estimator, data)
    if vocabulary is not None and len(vocabulary) != model.vocabSize():
        raise ValueError(
            f"lda: input 'vectorizer' has {len(vocabulary)} terms, but params.features_col vectors "
            f"{features!r} have {model.vocabSize()}"
        )
    described = model.describeTopics(min(terms_per_topic, model.vocabSize())).collect()
    rows = []
    for topic in described:
        for rank, (index, weight) in enumerate(zip(topic.termIndices, topic.termWeights, strict=True), start=1):
            term = vocabulary[index] if vocabulary is not None else None
            rows.append((int(topic.topic), rank, int(index), term, float(weight)))
    topics = ctx.spark.createDataFrame(rows, "topic int, rank int, term_index int, term string, weight double")
    ctx.details["vocabulary_size"] = int(model.vocabSize())
    return {"data": model.transform(data), "model": model, "topics": topics}


_INTEGER_TYPES = ("int", "bigint")


@component(category="clustering", outputs={"assignments": Table})
def power_iteration_clustering(
    ctx,
    edges: Table,
    *,
    src_col: str = "src",
    dst_col: str = "dst",
    weight_col: str | None = "weight",
    k: Annotated[int, Interval(2, None)] = 2,
    max_iter: Annotated[int, Interval(1, None)] = 20,
    init_mode: Annotated[str, Options("random", "degree")] = "random",
):
    """Cluster the vertices of a weighted graph by power iteration (Spark's PowerIterationClustering).

    The graph is the edge table: each row links two vertex ids with a non-negative affinity
    (similarity). The graph is treated as undirected; give each pair once. Vertices that
    are strongly linked end up in the same cluster.

    Args:
        edges: the edge table: source id, destination id and (optionally) weight per row.
        src_col: the source vertex id column (int or bigint).
        dst_col: the destination vertex id column (int or bigint).
        weight_col: the non-negative edge weight column; unset gives every edge weight 1.
        k: the number of clusters.
        max_iter: the most power iterations.
        init_mode: the initial vector: random, or the normalised vertex degrees.
        assignments: one row per vertex: ``id`` (bigint) and ``cluster`` (int, 0 .. k-1).
    """
    from pyspark.ml.clustering import PowerIterationClustering
    from pyspark.sql import functions as F

    name = "power_iteration_clustering"
    (src,) = require_columns(edges, [src_col], component=name, param="src_col")
    (dst,) = require_columns(edges, [dst_col], component=name, param="dst_col")
    if src == dst:
        raise ValueError(f"{name}: params.src_col and params.dst_col must differ, both are {src!r}")
    for param, column in (("src_col", src), ("dst_col", dst)):
        type_name = edges.schema[column].dataType.simpleString()
        if type_name not in _INTEGER_TYPES:
            raise ValueError(
                f"{name}: params.{param} column {column!r} must hold integer vertex ids (int or bigint), "
                f"but it is {type_name} (index string ids with string_indexer and cast them to int)"
            )
    columns = [F.col(quote(src)).alias("src"), F.col(quote(dst)).alias("dst")]
    if weight_col:
        (weight,) = require_columns(edges, [weight_col], component=name, param="weight_col")
        require_numeric(edges, weight, component=name, param="weight_col")
        columns.append(F.col(quote(weight)).cast("double").alias("weight"))
    graph = edges.select(*columns)
    estimator = PowerIterationClustering(k=k, maxIter=max_iter, initMode=init_mode, srcCol="src", dstCol="dst")
    if weight_col:
        negative = graph.where((F.col("weight") < 0) | F.col("weight").isNull()).count()
        if negative:
            raise ValueError(
                f"{name}: params.weight_col column {weight_col!r} has {negative} negative or missing weight(s); "
                "affinities must be >= 0"
            )
        estimator.setWeightCol("weight")
    ctx.log.info("%s: clustering the graph into %d clusters", ctx.node_id, k)
    return estimator.assignClusters(graph).select(F.col("id").cast("bigint"), F.col("cluster").cast("int"))


@component(category="clustering", outputs={"scores": Table})
def kmeans_elbow(
    ctx,
    data: Table,
    *,
    features_col: str = "features",
    k_min: Annotated[int, Interval(2, None)] = 2,
    k_max: Annotated[int, Interval(2, 100)] = 10,
    max_iter: Annotated[int, Interval(1, None)] = 20,
    seed: int = 42,
):
    """Choose k for k-means: fit k-means for each k in a range and compare cost and silhouette.

    The cost (the sum of squared distances to the centres) always falls as k grows; the k
    after which it stops falling steeply (the "elbow"), or the k with the best silhouette,
    is a good choice. Also saves the ``elbow`` plot (cost and silhouette by k).

    Args:
        data: a table with a features vector column.
        features_col: the features vector column.
        k_min: the smallest k tried.
        k_max: the largest k tried (at least ``k_min``).
        max_iter: the most k-means iterations per fit.
        seed: random seed (initial centres), the same for every k.
        scores: one row per k: ``k`` (int), ``cost`` (double), ``silhouette`` (double, -1 .. 1,
            higher is better; null when k-means found a single cluster).
    """
    from matplotlib.figure import Figure
    from pyspark import StorageLevel
    from pyspark.ml.clustering import KMeans
    from pyspark.ml.evaluation import ClusteringEvaluator

    name = "kmeans_elbow"
    if k_max < k_min:
        raise ValueError(f"{name}: params.k_max ({k_max}) must be at least params.k_min ({k_min})")
    features = _features(data, features_col, component=name)
    points = data.select(features).persist(StorageLevel.MEMORY_AND_DISK)
    rows = []
    try:
        evaluator = ClusteringEvaluator(featuresCol=features, predictionCol="_cluster", metricName="silhouette")
        total = k_max - k_min + 1
        for index, k in enumerate(range(k_min, k_max + 1), start=1):
            estimator = KMeans(featuresCol=features, predictionCol="_cluster", k=k, maxIter=max_iter, seed=seed)
            model = estimator.fit(points)
            cost = float(model.summary.trainingCost)
            found = sum(1 for size in model.summary.clusterSizes if size)
            silhouette = float(evaluator.evaluate(model.transform(points))) if found >= 2 else None
            ctx.log.info("%s: k %d/%d: k=%d cost=%.6g silhouette=%s", ctx.node_id, index, total, k, cost, silhouette)
            rows.append((k, cost, silhouette))
    finally:
        points.unpersist()

    figure = Figure(figsize=(6, 4))
    axes = figure.add_subplot()
    ks = [r[0] for r in rows]
    axes.plot(ks, [r[1] for r in rows], marker="o", color="tab:blue")
    axes.set_xlabel("k")
    axes.set_ylabel("cost (sum of squared distances)", color="tab:blue")
    axes.set_xticks(ks)
    twin = axes.twinx()
    twin.plot(ks, [r[2] if r[2] is not None else float("nan") for r in rows], marker="s", color="tab:orange")
    twin.set_ylabel("silhouette", color="tab:orange")
    axes.set_title("k-means: cost and silhouette by k")
    ctx.save_figure(figure, "elbow")
    return ctx.spark.createDataFrame(rows, "k int, cost double, silhouette double")


@component(category="clustering", outputs={"profile": Table})
def cluster_profile(
    ctx,
    data: Table,
    *,
    cluster_col: str = "cluster",
    columns: list[str] | None = None,
):
    """Describe clusters: each cluster's size, share of the rows and the mean of each numeric column.

    Also saves the ``cluster_sizes`` bar chart.

    Args:
        data: a clustered table (e.g. the ``data`` output of kmeans) with a cluster column.
        cluster_col: the cluster column.
        columns: the numeric columns to average per cluster; unset averages every numeric
            column except ``cluster_col``.
        profile: one row per cluster, ordered by cluster: ``cluster``, ``size`` (bigint),
            ``share`` (double, of all rows) and ``<column>_mean`` (double) for each column.
    """
    from matplotlib.figure import Figure
    from pyspark.sql import functions as F
    from pyspark.sql.types import DoubleType, LongType, StructField, StructType

    name = "cluster_profile"
    (cluster,) = require_columns(data, [cluster_col], component=name, param="cluster_col")
    if columns is None:
        chosen = [c for c in data.columns if c != cluster and is_numeric(data.schema[c].dataType)]
    else:
        chosen = require_columns(data, columns, component=name, param="columns")
        for column in chosen:
            require_numeric(data, column, component=name, param="columns", allow_boolean=True)
        if cluster in chosen:
            raise ValueError(f"{name}: params.columns must not include params.cluster_col {cluster!r}")
    means = [F.avg(F.col(quote(c)).cast("double")).alias(f"{c}_mean") for c in chosen]
    grouped = data.groupBy(F.col(quote(cluster)).alias(cluster)).agg(F.count(F.lit(1)).alias("size"), *means)
    collected = grouped.orderBy(cluster).collect()  # one row per cluster: small
    total = sum(row["size"] for row in collected)
    schema = StructType(
        [
            grouped.schema[cluster],
            StructField("size", LongType(), False),
            StructField("share", DoubleType(), False),
            *[StructField(f"{c}_mean", DoubleType(), True) for c in chosen],
        ]
    )
    rows = [(row[cluster], row["size"], row["size"] / total, *[row[f"{c}_mean"] for c in chosen]) for row in collected]
    ctx.log.info("%s: %d clusters, %d columns profiled", ctx.node_id, len(collected), len(chosen))

    figure = Figure(figsize=(6, 0.8 + 0.35 * max(len(collected), 1)))
    axes = figure.add_subplot()
    labels = [str(row[cluster]) for row in collected]
    axes.barh(labels[::-1], [row["size"] for row in collected][::-1], color="tab:blue")
    axes.set_xlabel("rows")
    axes.set_ylabel(cluster)
    axes.set_title("cluster sizes")
    ctx.save_figure(figure, "cluster_sizes")
    return ctx.spark.createDataFrame(rows, schema)
