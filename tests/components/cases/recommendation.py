"""Cases for the recommendation and association components: planted preferences and patterns."""

from __future__ import annotations

from typing import Any

from tests.components.cases import Case


def _ratings(spark: Any) -> Any:
    """Users 0-3 love items 0-2 and dislike 3-5; users 4-7 the reverse.

    Each user leaves one loved and one disliked item unrated: user u skips items u % 3 and
    3 + u % 3. A recommender that learnt the two tastes recommends the unrated loved one.
    """
    rows = []
    for user in range(8):
        loved = {0, 1, 2} if user < 4 else {3, 4, 5}
        skipped = {user % 3, 3 + user % 3}
        for item in range(6):
            if item not in skipped:
                rows.append((user, item, 5.0 if item in loved else 1.0))
    return spark.createDataFrame(rows, "user int, item int, rating double")


_ALS_PARAMS = {"rank": 2, "max_iter": 10, "reg_param": 0.1, "num_blocks": 2, "seed": 1}


def _check_als(out: dict[str, Any], ctx: Any) -> None:
    from pyspark.ml.recommendation import ALSModel

    model = out["model"]
    assert isinstance(model, ALSModel) and model.rank == 2
    pairs = ctx.spark.createDataFrame([(0, 0), (0, 3), (4, 4), (4, 1), (99, 0)], "user int, item int")
    predicted = {(r.user, r.item): r.prediction for r in model.transform(pairs).collect()}
    assert (99, 0) not in predicted  # cold start: the unknown user is dropped
    assert predicted[(0, 0)] > 4.0 and predicted[(0, 3)] < 2.0, predicted  # unrated: loved vs disliked
    assert predicted[(4, 4)] > 4.0 and predicted[(4, 1)] < 2.0, predicted


def _recommend_inputs(spark: Any) -> dict[str, Any]:
    from pyspark.ml.recommendation import ALS

    ratings = _ratings(spark)
    model = ALS(rank=2, maxIter=10, regParam=0.1, numUserBlocks=2, numItemBlocks=2, seed=1).fit(ratings)
    users = spark.createDataFrame([(0,), (1,), (4,), (4,)], "user int")
    return {"model": model, "data": users, "exclude": ratings}


def _check_recommend(out: dict[str, Any], ctx: Any) -> None:
    recs = out["recommendations"]
    assert recs.columns == ["user", "item", "rating", "rank"]
    rows = recs.orderBy("user", "rank").collect()
    # The already-rated items are excluded: each user's top two are its unrated items, loved first.
    assert [(r.user, r.item, r.rank) for r in rows] == [
        (0, 0, 1),
        (0, 3, 2),
        (1, 1, 1),
        (1, 4, 2),
        (4, 4, 1),
        (4, 1, 2),
    ]
    assert all(r.rating > 4.0 for r in rows if r.rank == 1), rows
    assert all(r.rating < 2.0 for r in rows if r.rank == 2), rows


def _baskets(spark: Any) -> dict[str, Any]:
    rows = [(["a", "b", "c"],), (["a", "b", "a"],), (["a", "b", "d"],), (["a", "b", "c"],), (["c", "d"],), (None,)]
    return {"data": spark.createDataFrame(rows, "items array<string>")}


def _check_fp_growth(out: dict[str, Any], ctx: Any) -> None:
    itemsets = {tuple(sorted(r["items"])): (r.freq, r.support, r.size) for r in out["itemsets"].collect()}
    # The planted pair {a, b} is in 4 of the 5 baskets (the repeated "a" counts once).
    assert itemsets == {("a",): (4, 0.8, 1), ("b",): (4, 0.8, 1), ("a", "b"): (4, 0.8, 2), ("c",): (3, 0.6, 1)}
    rules = sorted((r.antecedent, r.consequent, r.confidence, r.lift, r.support) for r in out["rules"].collect())
    assert rules == [(["a"], ["b"], 1.0, 1.25, 0.8), (["b"], ["a"], 1.0, 1.25, 0.8)]
    assert ctx.details["baskets"] == 5


def _sequences(spark: Any) -> dict[str, Any]:
    rows = [
        ([["a"], ["b"], ["c"]],),
        ([["a"], ["x"], ["b"], ["c"]],),
        ([["a", "y"], ["b"], ["z"], ["c"]],),
        ([["c"], ["b"], ["a"]],),
    ]
    return {"data": spark.createDataFrame(rows, "sequence array<array<string>>")}


def _check_prefix_span(out: dict[str, Any], ctx: Any) -> None:
    patterns = {
        tuple(tuple(step) for step in r.sequence): (r.freq, r.support, r.length) for r in out["patterns"].collect()
    }
    assert patterns == {
        (("a",),): (4, 1.0, 1),
        (("b",),): (4, 1.0, 1),
        (("c",),): (4, 1.0, 1),
        (("a",), ("b",)): (3, 0.75, 2),
        (("a",), ("c",)): (3, 0.75, 2),
        (("b",), ("c",)): (3, 0.75, 2),
        (("a",), ("b",), ("c",)): (3, 0.75, 3),  # the planted sequence
    }
    first = out["patterns"].first()
    assert first.freq == 4


CASES = {
    "als": Case(
        inputs=lambda spark: {"data": _ratings(spark)},
        params=_ALS_PARAMS,
        check=_check_als,
    ),
    "als_recommend": Case(
        inputs=_recommend_inputs,
        params={"k": 2, "for_each": "user"},
        check=_check_recommend,
    ),
    "fp_growth": Case(
        inputs=_baskets,
        params={"min_support": 0.6, "min_confidence": 0.9},
        check=_check_fp_growth,
    ),
    "prefix_span": Case(
        inputs=_sequences,
        params={"min_support": 0.75, "max_pattern_length": 5},
        check=_check_prefix_span,
    ),
}
