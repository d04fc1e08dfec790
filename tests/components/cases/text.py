"""Cases for the text components (airflow_mlplat/components/text.py)."""

from __future__ import annotations

import math
from typing import Any

import pytest

from tests.components.cases import Case


def _texts(spark: Any, texts: list[str | None]) -> Any:
    return spark.createDataFrame(list(enumerate(texts)), "id int, text string")


def _tokens(spark: Any, documents: list[str]) -> Any:
    return spark.createDataFrame([(i, d.split()) for i, d in enumerate(documents)], "id int, tokens array<string>")


def _values(df: Any, column: str) -> list[Any]:
    return [row[column] for row in df.orderBy("id").collect()]


def _check_tokenizer(out: dict[str, Any], ctx: Any) -> None:
    assert _values(out["data"], "tokens") == [["hello", "world"], ["spark", "ml", "2024"], None]


def _check_regex_tokenizer(out: dict[str, Any], ctx: Any) -> None:
    # the pattern splits at anything but word characters and hyphens; "s" (from "It's") is shorter than min_token_length
    assert _values(out["data"], "tokens") == [["hi", "there", "it", "2024"], ["a-b", "cd"]]


def _check_stop_words_remover(out: dict[str, Any], ctx: Any) -> None:
    # "the", "on", "The" are English stop words; "mat" is an extra one
    assert _values(out["data"], "filtered_tokens") == [["cat", "sat"], ["dog", "barked"]]


def _check_ngram(out: dict[str, Any], ctx: Any) -> None:
    assert _values(out["data"], "ngrams") == [["new york city", "york city hall"], []]


def _check_hashing_tf(out: dict[str, Any], ctx: Any) -> None:
    first, second = _values(out["data"], "term_frequencies")
    assert first.size == second.size == 1024
    assert sorted(first.values.tolist()) == [1.0, 2.0]  # "b" once, "a" twice
    assert second.values.tolist() == [3.0]
    slot_of_a = first.indices[first.values.tolist().index(2.0)]
    assert second.indices.tolist() == [slot_of_a]  # the same term hashes to the same slot


def _check_count_vectorizer(out: dict[str, Any], ctx: Any) -> None:
    # "c" is in one document only (min_df 2); the vocabulary is ordered by frequency
    assert out["model"].vocabulary == ["a", "b"]
    assert ctx.details["vocabulary_size"] == 2
    counts = [v.toArray().tolist() for v in _values(out["data"], "term_counts")]
    assert counts == [[2.0, 1.0], [1.0, 1.0], [1.0, 0.0]]


def _check_tf_idf(out: dict[str, Any], ctx: Any) -> None:
    # 3 documents; a is in 3, c in 2, b in 1: idf = log(4 / (d + 1))
    vocabulary = out["model"].stages[0].vocabulary
    assert vocabulary == ["a", "c", "b"]
    idf = out["model"].stages[-1].idf.toArray().tolist()
    assert idf == pytest.approx([0.0, math.log(4 / 3), math.log(2)])
    assert idf[2] > idf[1] > idf[0]  # the rarer the term, the heavier
    rows = out["data"].orderBy("id").collect()
    assert rows[0].tfidf.toArray().tolist() == pytest.approx([0.0, 0.0, math.log(2)])
    assert rows[1].tfidf.toArray().tolist() == pytest.approx([0.0, math.log(4 / 3), 0.0])
    assert rows[0].term_frequencies.toArray().tolist() == [1.0, 0.0, 1.0]


_CORPUS = ["cat dog pet", "dog cat pet", "pet cat dog", "car road wheel", "road car wheel", "wheel road car"] * 3


def _check_word2vec(out: dict[str, Any], ctx: Any) -> None:
    import numpy as np

    vectors = {row.word: np.array(row.vector.toArray()) for row in out["vectors"].collect()}
    assert set(vectors) == {"cat", "dog", "pet", "car", "road", "wheel"}
    assert {len(v) for v in vectors.values()} == {8}

    def cosine(a: str, b: str) -> float:
        return float(vectors[a] @ vectors[b] / np.linalg.norm(vectors[a]) / np.linalg.norm(vectors[b]))

    # words that share contexts end up closer than words that never meet
    assert cosine("cat", "dog") > 0.3
    assert cosine("cat", "dog") > cosine("cat", "road") + 0.5
    assert cosine("car", "road") > cosine("car", "pet") + 0.5
    first = out["data"].orderBy("id").first()
    assert first.document_vector.size == 8
    # a document's vector is the average of its words' vectors
    expected = (vectors["cat"] + vectors["dog"] + vectors["pet"]) / 3
    assert first.document_vector.toArray().tolist() == pytest.approx(expected.tolist(), abs=1e-6)


CASES: dict[str, Case] = {
    "tokenizer": Case(
        inputs=lambda spark: {"data": _texts(spark, ["Hello World", "Spark  ML\t2024 ", None])},
        check=_check_tokenizer,
    ),
    "regex_tokenizer": Case(
        inputs=lambda spark: {"data": _texts(spark, ["Hi, there! It's 2024", "A-B  cd"])},
        params={"pattern": r"[^\w-]+", "min_token_length": 2, "to_lowercase": True},
        check=_check_regex_tokenizer,
    ),
    "stop_words_remover": Case(
        inputs=lambda spark: {"data": _tokens(spark, ["the cat sat on The mat", "a dog barked"])},
        params={"extra_stop_words": ["mat"], "language": "english"},
        check=_check_stop_words_remover,
    ),
    "ngram": Case(
        inputs=lambda spark: {"data": _tokens(spark, ["new york city hall", "hi"])},
        params={"n": 3},
        check=_check_ngram,
    ),
    "hashing_tf": Case(
        inputs=lambda spark: {"data": _tokens(spark, ["a b a", "a a a"])},
        params={"num_features": 1024},
        check=_check_hashing_tf,
    ),
    "count_vectorizer": Case(
        inputs=lambda spark: {"data": _tokens(spark, ["a b a", "b a", "a c"])},
        params={"min_df": 2.0},
        check=_check_count_vectorizer,
    ),
    "tf_idf": Case(
        inputs=lambda spark: {"data": _tokens(spark, ["a b", "a c", "a a c"])},
        params={"term_frequency": "vocabulary"},
        check=_check_tf_idf,
    ),
    "word2vec": Case(
        inputs=lambda spark: {"data": _tokens(spark, _CORPUS)},
        params={"vector_size": 8, "min_count": 1, "window_size": 2, "max_iter": 20, "seed": 42},
        check=_check_word2vec,
    ),
}
