"""Text components: tokenising, stop words, n-grams, term counts, TF-IDF and word embeddings.

A text flows as a string column, then as a token column (an array of strings), then as a
vector column that the learners read. The fitted steps return the transformed table and the
fitted Spark model, so ``predict`` applies the same vocabulary and weights to other tables.
"""

from __future__ import annotations

from typing import Annotated, Any

from airflow_mlplat.components._common import column_type, fit_logged, new_columns, quote, require_columns
from airflow_mlplat.components.registry import component
from airflow_mlplat.components.spec import Interval, Model, Options, Table

#: The languages of Spark's built-in stop-word lists.
STOP_WORD_LANGUAGES = (
    "english",
    "danish",
    "dutch",
    "finnish",
    "french",
    "german",
    "hungarian",
    "italian",
    "norwegian",
    "portuguese",
    "russian",
    "spanish",
    "swedish",
    "turkish",
)


def _text_in_out(data: Any, input_col: str, output_col: str, *, component: str, tokens: bool) -> str:
    """Check the input column (a string, or with ``tokens`` an array of strings) and the new output column."""
    from pyspark.sql.types import ArrayType, StringType

    (column,) = require_columns(data, [input_col], component=component, param="input_col")
    data_type = column_type(data, column)
    if tokens:
        ok = isinstance(data_type, ArrayType) and isinstance(data_type.elementType, StringType)
        wanted, hint = "an array of strings (tokens)", " (split text into tokens with tokenizer first)"
    else:
        ok = isinstance(data_type, StringType)
        wanted, hint = "a string column", " (cast it with cast_columns first)"
    if not ok:
        if tokens and not isinstance(data_type, StringType):
            hint = ""
        raise ValueError(
            f"{component}: params.input_col column {column!r} must be {wanted}, "
            f"but it is {data_type.simpleString()}{hint}"
        )
    new_columns(data, {"output_col": output_col}, component=component)
    return column


def _split_tokens(text: Any, pattern: str, *, gaps: bool, min_length: int, lowercase: bool) -> Any:
    """Spark SQL for RegexTokenizer's split that keeps a null text null (RegexTokenizer fails on it)."""
    from pyspark.sql import functions as F

    if lowercase:
        text = F.lower(text)
    pieces = F.split(text, pattern, -1) if gaps else F.regexp_extract_all(text, F.lit(pattern), 0)
    return F.filter(pieces, lambda token: F.length(token) >= min_length)


@component(category="text", outputs={"data": Table})
def tokenizer(ctx, data: Table, *, input_col: str = "text", output_col: str = "tokens"):
    """Split text into lower-case words at whitespace.

    Runs of whitespace count as one separator and give no empty tokens; a null text gives a
    null token list. For other separators, or to drop punctuation, use regex_tokenizer.

    Args:
        data: the input table.
        input_col: the string column to split.
        output_col: the new column for the tokens (an array of strings).
    """
    from pyspark.sql import functions as F

    column = _text_in_out(data, input_col, output_col, component="tokenizer", tokens=False)
    tokens = _split_tokens(F.col(quote(column)), r"\s+", gaps=True, min_length=1, lowercase=True)
    return data.withColumn(output_col, tokens)


def _check_pattern(ctx: Any, pattern: str, *, component: str) -> None:
    """``ValueError`` unless ``pattern`` compiles as a Java regular expression (as Spark reads it)."""
    from pyspark.sql import functions as F

    try:
        ctx.spark.range(1).select(F.regexp_like(F.lit(""), F.lit(pattern))).collect()
    except Exception as exc:  # the JVM's PatternSyntaxException surfaces under several classes
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ValueError(
            f"{component}: params.pattern {pattern!r} is not a valid regular expression: {message}"
        ) from exc


@component(category="text", outputs={"data": Table})
def regex_tokenizer(
    ctx,
    data: Table,
    *,
    input_col: str = "text",
    output_col: str = "tokens",
    pattern: str = r"\s+",
    gaps: bool = True,
    min_token_length: Annotated[int, Interval(1, None)] = 1,
    to_lowercase: bool = True,
):
    """Split text into tokens with a regular expression (Java syntax, as Spark's RegexTokenizer).

    With ``gaps`` the pattern matches the separators (``\\s+``: runs of whitespace; ``\\W+``:
    anything but letters, digits and _); without it the pattern matches the tokens themselves
    (``\\w+``, ``[a-z]+``). A null text gives a null token list.

    Args:
        data: the input table.
        input_col: the string column to split.
        output_col: the new column for the tokens (an array of strings).
        pattern: the regular expression.
        gaps: the pattern matches separators (true) or tokens (false).
        min_token_length: shorter tokens are dropped.
        to_lowercase: lower-case the text before splitting.
    """
    from pyspark.sql import functions as F

    name = "regex_tokenizer"
    column = _text_in_out(data, input_col, output_col, component=name, tokens=False)
    if not pattern:
        raise ValueError(f"{name}: params.pattern must not be empty")
    _check_pattern(ctx, pattern, component=name)
    tokens = _split_tokens(
        F.col(quote(column)), pattern, gaps=gaps, min_length=min_token_length, lowercase=to_lowercase
    )
    return data.withColumn(output_col, tokens)


@component(category="text", outputs={"data": Table})
def stop_words_remover(
    ctx,
    data: Table,
    *,
    input_col: str = "tokens",
    output_col: str = "filtered_tokens",
    language: Annotated[str, Options(*STOP_WORD_LANGUAGES)] = "english",
    extra_stop_words: list[str] | None = None,
    case_sensitive: bool = False,
):
    """Remove stop words (the, a, of, ...) from token lists, using Spark's list for a language.

    Args:
        data: the input table.
        input_col: the token column (an array of strings, from tokenizer or regex_tokenizer).
        output_col: the new column for the remaining tokens.
        language: whose stop-word list to use.
        extra_stop_words: more words to remove, e.g. words every document of the corpus has.
        case_sensitive: match stop words with case (by default "The" is removed like "the").
    """
    from pyspark.ml.feature import StopWordsRemover

    column = _text_in_out(data, input_col, output_col, component="stop_words_remover", tokens=True)
    words = StopWordsRemover.loadDefaultStopWords(language) + list(extra_stop_words or [])
    remover = StopWordsRemover(inputCol=column, outputCol=output_col, stopWords=words, caseSensitive=case_sensitive)
    return remover.transform(data)


@component(category="text", outputs={"data": Table})
def ngram(
    ctx,
    data: Table,
    *,
    input_col: str = "tokens",
    output_col: str = "ngrams",
    n: Annotated[int, Interval(1, None)] = 2,
):
    """Turn token lists into lists of n consecutive tokens joined by spaces, e.g. bigrams "new york".

    A list shorter than n gives an empty list.

    Args:
        data: the input table.
        input_col: the token column (an array of strings).
        output_col: the new column for the n-grams (an array of strings).
        n: how many tokens each n-gram joins.
    """
    from pyspark.ml.feature import NGram

    column = _text_in_out(data, input_col, output_col, component="ngram", tokens=True)
    return NGram(inputCol=column, outputCol=output_col, n=n).transform(data)


@component(category="text", outputs={"data": Table})
def hashing_tf(
    ctx,
    data: Table,
    *,
    input_col: str = "tokens",
    output_col: str = "term_frequencies",
    num_features: Annotated[int, Interval(1, None)] = 262144,
    binary: bool = False,
):
    """Count terms into a fixed-size sparse vector by hashing each term to a slot (no vocabulary to fit).

    Different terms may share a slot; more slots make that rarer. count_vectorizer keeps a
    vocabulary instead.

    Args:
        data: the input table.
        input_col: the token column (an array of strings).
        output_col: the new vector column of term counts.
        num_features: the vector's size (a power of two spreads the slots evenly).
        binary: record 1.0 for a present term instead of its count.
    """
    from pyspark.ml.feature import HashingTF

    column = _text_in_out(data, input_col, output_col, component="hashing_tf", tokens=True)
    return HashingTF(inputCol=column, outputCol=output_col, numFeatures=num_features, binary=binary).transform(data)


@component(category="text", outputs={"data": Table, "model": Model})
def count_vectorizer(
    ctx,
    data: Table,
    *,
    input_col: str = "tokens",
    output_col: str = "term_counts",
    vocab_size: Annotated[int, Interval(1, None)] = 262144,
    min_df: Annotated[float, Interval(0.0, None)] = 1.0,
    max_df: float | None = None,
    min_tf: Annotated[float, Interval(0.0, None)] = 1.0,
    binary: bool = False,
):
    """Learn a vocabulary from token lists and count each document's terms into a sparse vector.

    The vocabulary holds the ``vocab_size`` terms most frequent over the corpus, most frequent
    first (slot 0); its size is listed in the run report.

    Args:
        data: the table to fit on and transform.
        input_col: the token column (an array of strings).
        output_col: the new vector column of term counts.
        vocab_size: the most terms the vocabulary keeps.
        min_df: a term must appear in at least this many documents (a number >= 1) or this share
            of them (below 1) to enter the vocabulary.
        max_df: a term in more than this many documents (>= 1) or this share of them (below 1)
            is left out, e.g. 0.9 drops terms nearly every document has; empty means no limit.
        min_tf: in each document, terms counted fewer times (a number >= 1) or making up a
            smaller share of its terms (below 1) are ignored.
        binary: record 1.0 for a present term instead of its count.
        model: the fitted CountVectorizerModel, to count other tables' terms with the same vocabulary.
    """
    from pyspark.ml.feature import CountVectorizer

    name = "count_vectorizer"
    column = _text_in_out(data, input_col, output_col, component=name, tokens=True)
    vectorizer = CountVectorizer(
        inputCol=column,
        outputCol=output_col,
        vocabSize=vocab_size,
        minDF=float(min_df),
        minTF=float(min_tf),
        binary=binary,
    )
    if max_df is not None:
        if max_df < 0:
            raise ValueError(f"{name}: params.max_df must be >= 0, got {max_df}")
        vectorizer.setMaxDF(float(max_df))
    model = fit_logged(ctx, vectorizer, data)
    ctx.details["vocabulary_size"] = len(model.vocabulary)
    ctx.log.info("%s: vocabulary of %d terms", ctx.node_id, len(model.vocabulary))
    return {"data": model.transform(data), "model": model}


@component(category="text", outputs={"data": Table, "model": Model})
def tf_idf(
    ctx,
    data: Table,
    *,
    input_col: str = "tokens",
    output_col: str = "tfidf",
    term_frequency: Annotated[str, Options("hashing", "vocabulary")] = "hashing",
    num_features: Annotated[int, Interval(1, None)] = 262144,
    min_doc_freq: Annotated[int, Interval(0, None)] = 0,
    tf_col: str = "term_frequencies",
):
    """Weight each document's term counts by inverse document frequency (TF-IDF).

    A term's weight is its count times log((m + 1) / (d + 1)), m documents, d of them with the
    term: a term in every document weighs 0, rare terms weigh most. The counts come from
    hashing (hashing_tf) or from a fitted vocabulary (count_vectorizer).

    Args:
        data: the table to fit on and transform.
        input_col: the token column (an array of strings).
        output_col: the new TF-IDF vector column.
        term_frequency: count terms by ``hashing`` them to slots or with a learnt ``vocabulary``.
        num_features: hashing: the vector's size; vocabulary: the most terms it keeps.
        min_doc_freq: terms in fewer documents get weight 0.
        tf_col: the new column for the term counts (kept next to the weights).
        model: the fitted pipeline (term counts, then IDF), to weight other tables the same way.
    """
    from pyspark.ml import Pipeline
    from pyspark.ml.feature import IDF, CountVectorizer, HashingTF

    name = "tf_idf"
    column = _text_in_out(data, input_col, output_col, component=name, tokens=True)
    new_columns(data, {"tf_col": tf_col, "output_col": output_col}, component=name)
    if term_frequency == "hashing":
        counts: Any = HashingTF(inputCol=column, outputCol=tf_col, numFeatures=num_features)
    else:
        counts = CountVectorizer(inputCol=column, outputCol=tf_col, vocabSize=num_features)
    idf = IDF(inputCol=tf_col, outputCol=output_col, minDocFreq=min_doc_freq)
    model = fit_logged(ctx, Pipeline(stages=[counts, idf]), data)
    return {"data": model.transform(data), "model": model}


@component(category="text", outputs={"data": Table, "model": Model, "vectors": Table})
def word2vec(
    ctx,
    data: Table,
    *,
    input_col: str = "tokens",
    output_col: str = "document_vector",
    vector_size: Annotated[int, Interval(1, None)] = 100,
    min_count: Annotated[int, Interval(0, None)] = 5,
    window_size: Annotated[int, Interval(1, None)] = 5,
    max_iter: Annotated[int, Interval(1, None)] = 1,
    step_size: Annotated[float, Interval(0.0, None, closed="neither")] = 0.025,
    num_partitions: Annotated[int, Interval(1, None)] = 1,
    max_sentence_length: Annotated[int, Interval(1, None)] = 1000,
    seed: int = 42,
):
    """Learn word embeddings (skip-gram Word2Vec); each document becomes the average of its words' vectors.

    Words that appear in similar contexts get similar vectors. With one partition and a fixed
    seed the result is reproducible; more partitions train faster but less exactly.

    Args:
        data: the table to fit on and transform.
        input_col: the token column (an array of strings).
        output_col: the new vector column: the average of the document's word vectors.
        vector_size: the size of each word vector.
        min_count: words seen fewer times are left out of the vocabulary.
        window_size: how many words on each side count as a word's context.
        max_iter: passes over the corpus.
        step_size: the learning rate.
        num_partitions: how many partitions train in parallel.
        max_sentence_length: longer token lists are cut into pieces of this length.
        seed: random seed.
        model: the fitted Word2VecModel, to embed other tables' documents the same way.
        vectors: one row per vocabulary word: word, vector.
    """
    from pyspark.ml.feature import Word2Vec

    column = _text_in_out(data, input_col, output_col, component="word2vec", tokens=True)
    estimator = Word2Vec(
        inputCol=column,
        outputCol=output_col,
        vectorSize=vector_size,
        minCount=min_count,
        windowSize=window_size,
        maxIter=max_iter,
        stepSize=float(step_size),
        numPartitions=num_partitions,
        maxSentenceLength=max_sentence_length,
        seed=seed,
    )
    model = fit_logged(ctx, estimator, data)
    return {"data": model.transform(data), "model": model, "vectors": model.getVectors()}
