"""Cases for the clustering components: obvious groups must be recovered exactly."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.components.cases import Case, rows_equal

# Three tight, far-apart groups of four points each.
_CENTRES = {"a": (0.0, 0.0), "b": (10.0, 10.0), "c": (20.0, 0.0)}
_OFFSETS = [(0.0, 0.0), (0.5, 0.0), (0.0, 0.5), (0.5, 0.5)]


def _points(spark: Any) -> Any:
    from pyspark.ml.linalg import Vectors

    rows = [(group, Vectors.dense([x + dx, y + dy])) for group, (x, y) in _CENTRES.items() for dx, dy in _OFFSETS]
    return spark.createDataFrame(rows, ["group", "features"])


def _groups_recovered(df: Any, *, group_col: str = "group", cluster_col: str = "cluster") -> dict[str, int]:
    """Each group maps to exactly one cluster, and different groups to different clusters."""
    clusters: dict[str, set[int]] = {}
    for row in df.select(group_col, cluster_col).collect():
        clusters.setdefault(row[0], set()).add(row[1])
    assert all(len(found) == 1 for found in clusters.values()), clusters
    mapping = {group: next(iter(found)) for group, found in clusters.items()}
    assert len(set(mapping.values())) == len(mapping), mapping
    return mapping


def _check_kmeans(out: dict[str, Any], ctx: Any) -> None:
    from pyspark.ml.clustering import KMeansModel

    assert isinstance(out["model"], KMeansModel)
    mapping = _groups_recovered(out["data"])
    assert sorted(ctx.details["cluster_sizes"]) == [4, 4, 4]
    centre = out["model"].clusterCenters()[mapping["b"]]
    assert abs(centre[0] - 10.25) < 1e-9 and abs(centre[1] - 10.25) < 1e-9
    assert abs(ctx.details["training_cost"] - 12 * 0.125) < 1e-9  # each point is 0.25 off in x and y


def _check_bisecting(out: dict[str, Any], ctx: Any) -> None:
    from pyspark.ml.clustering import BisectingKMeansModel

    assert isinstance(out["model"], BisectingKMeansModel)
    _groups_recovered(out["data"])
    assert sorted(ctx.details["cluster_sizes"]) == [4, 4, 4]


def _check_mixture(out: dict[str, Any], ctx: Any) -> None:
    from pyspark.ml.clustering import GaussianMixtureModel

    assert isinstance(out["model"], GaussianMixtureModel)
    _groups_recovered(out["data"])
    for row in out["data"].select("probability").collect():
        assert max(row.probability) > 0.99  # the groups are far apart: membership is certain
    assert sorted(round(w, 6) for w in out["model"].weights) == [round(1 / 3, 6)] * 3


# Two topics with disjoint vocabularies: terms 0-2 ("sport") and terms 3-5 ("cooking").
_VOCABULARY = ["goal", "match", "team", "oven", "flour", "recipe"]


def _documents(spark: Any) -> dict[str, Any]:
    from pyspark.ml.feature import CountVectorizerModel
    from pyspark.ml.linalg import Vectors

    sport = [[4, 3, 5, 0, 0, 0], [3, 5, 4, 0, 0, 0], [5, 4, 3, 0, 0, 0], [4, 4, 4, 0, 0, 0]]
    cooking = [[0, 0, 0, 5, 3, 4], [0, 0, 0, 3, 4, 5], [0, 0, 0, 4, 5, 3], [0, 0, 0, 4, 4, 4]]
    rows = [("sport", Vectors.dense(v)) for v in sport] + [("cooking", Vectors.dense(v)) for v in cooking]
    return {
        "data": spark.createDataFrame(rows, ["group", "features"]),
        "vectorizer": CountVectorizerModel.from_vocabulary(_VOCABULARY, inputCol="words", outputCol="features"),
    }


def _check_lda(out: dict[str, Any], ctx: Any) -> None:
    from pyspark.ml.clustering import LDAModel

    assert isinstance(out["model"], LDAModel)
    dominant = out["data"].select("group", "topic_distribution").collect()
    by_group: dict[str, set[int]] = {}
    for row in dominant:
        weights = row.topic_distribution.toArray()
        assert weights.max() > 0.9, weights
        by_group.setdefault(row.group, set()).add(int(weights.argmax()))
    assert all(len(t) == 1 for t in by_group.values()) and by_group["sport"] != by_group["cooking"], by_group
    topics = out["topics"]
    assert topics.columns == ["topic", "rank", "term_index", "term", "weight"]
    assert topics.count() == 2 * 3
    for group, terms in (("sport", {"goal", "match", "team"}), ("cooking", {"oven", "flour", "recipe"})):
        (topic,) = by_group[group]
        rows = topics.where(f"topic = {topic}").orderBy("rank").collect()
        assert {r.term for r in rows} == terms, rows
        assert {r.term_index for r in rows} == {_VOCABULARY.index(t) for t in terms}
        assert [r.rank for r in rows] == [1, 2, 3]


def _edges(spark: Any) -> dict[str, Any]:
    # Two triangles {0, 1, 2} and {3, 4, 5} with strong affinities, joined by one weak edge.
    strong = [(0, 1), (0, 2), (1, 2), (3, 4), (3, 5), (4, 5)]
    rows = [(s, d, 1.0) for s, d in strong] + [(2, 3, 0.01)]
    return {"edges": spark.createDataFrame(rows, "src bigint, dst bigint, weight double")}


def _check_pic(out: dict[str, Any], ctx: Any) -> None:
    assignments = {row.id: row.cluster for row in out["assignments"].collect()}
    assert sorted(assignments) == [0, 1, 2, 3, 4, 5]
    assert assignments[0] == assignments[1] == assignments[2]
    assert assignments[3] == assignments[4] == assignments[5]
    assert assignments[0] != assignments[3]
    assert out["assignments"].dtypes == [("id", "bigint"), ("cluster", "int")]


def _png(url: str) -> bytes:
    data = Path(url).read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", url
    return data


def _check_elbow(out: dict[str, Any], ctx: Any) -> None:
    rows = out["scores"].orderBy("k").collect()
    assert [r.k for r in rows] == [2, 3, 4]
    costs = [r.cost for r in rows]
    assert costs[0] > 100 * costs[1]  # three real groups: the cost collapses at k = 3
    assert abs(costs[1] - 1.5) < 1e-9
    assert costs[2] <= costs[1]
    assert max(rows, key=lambda r: r.silhouette).k == 3
    assert [Path(u).name for u in ctx.artifacts] == ["elbow.png"]
    _png(ctx.artifacts[0])


def _clustered(spark: Any) -> dict[str, Any]:
    rows = [(0, 1.0, 10), (0, 3.0, 20), (1, 10.0, 5), (1, 20.0, 5), (1, 30.0, 5), (2, -1.0, 0)]
    return {"data": spark.createDataFrame(rows, "cluster int, x double, n int")}


def _check_profile(out: dict[str, Any], ctx: Any) -> None:
    profile = out["profile"]
    assert profile.columns == ["cluster", "size", "share", "x_mean", "n_mean"]
    rows_equal(
        profile,
        [(0, 2, 2 / 6, 2.0, 15.0), (1, 3, 3 / 6, 20.0, 5.0), (2, 1, 1 / 6, -1.0, 0.0)],
    )
    assert [Path(u).name for u in ctx.artifacts] == ["cluster_sizes.png"]
    _png(ctx.artifacts[0])


CASES = {
    "kmeans": Case(
        inputs=lambda spark: {"data": _points(spark)},
        params={"k": 3, "max_iter": 10, "seed": 1},
        check=_check_kmeans,
    ),
    "bisecting_kmeans": Case(
        inputs=lambda spark: {"data": _points(spark)},
        params={"k": 3, "max_iter": 10, "seed": 1},
        check=_check_bisecting,
    ),
    "gaussian_mixture": Case(
        inputs=lambda spark: {"data": _points(spark)},
        params={"k": 3, "max_iter": 20, "seed": 1},
        check=_check_mixture,
    ),
    "lda": Case(
        inputs=_documents,
        params={
            "k": 2,
            "max_iter": 10,
            "optimizer": "online",
            "subsampling_rate": 1.0,
            "terms_per_topic": 3,
            "seed": 3,
        },
        check=_check_lda,
    ),
    "power_iteration_clustering": Case(
        inputs=_edges,
        params={"k": 2, "max_iter": 5, "init_mode": "random"},
        check=_check_pic,
    ),
    "kmeans_elbow": Case(
        inputs=lambda spark: {"data": _points(spark)},
        params={"k_min": 2, "k_max": 4, "max_iter": 5, "seed": 1},
        check=_check_elbow,
    ),
    "cluster_profile": Case(
        inputs=_clustered,
        params={"columns": ["x", "n"]},
        check=_check_profile,
    ),
}
