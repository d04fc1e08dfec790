"""The SDK's component functions, for IDEs and type checkers.

Generated from the component registry by `airflow-mlplat components stub`: do not edit.
"""

from typing import Any, Literal, NamedTuple, TypedDict

from airflow_mlplat.sdk.handles import MetricsOutput, ModelOutput, ParamRef, Stored, TableOutput

class RankingLauncher(TypedDict, total=False):
    workers: int
    cpu: str
    memory: str
    gpu: float
    gpu_type: str | None
    image: str
    timeout: float

def add_column(
    data: TableOutput | Stored,
    *,
    id: str | None = None,
    description: str | None = None,
    column: str | ParamRef,
    expression: str | ParamRef,
    replace: bool | ParamRef = False,
) -> TableOutput:
    """Add a column computed by a Spark SQL expression over the other columns.

    Args:
        data: the input table.
        column: the new column's name.
        expression: a Spark SQL expression, e.g. ``price / area``, ``CASE WHEN age < 18 THEN 'minor'
            ELSE 'adult' END``.
        replace: allow ``column`` to be an existing column, whose values are replaced (in place).

    Returns:
        data: a table
    """

def aft_survival_regression(
    data: TableOutput | Stored,
    *,
    id: str | None = None,
    description: str | None = None,
    features_col: str | ParamRef = "features",
    label_col: str | ParamRef = "label",
    censor_col: str | ParamRef = "censor",
    quantile_probabilities: list[float] | None | ParamRef = None,
    quantiles_col: str | None | ParamRef = None,
    max_iter: int | ParamRef = 100,
    tol: float | ParamRef = 1e-06,
    fit_intercept: bool | ParamRef = True,
) -> ModelOutput:
    """Accelerated failure time survival regression, Weibull distribution (Spark's
    AFTSurvivalRegression).

    Learns how the features stretch or shrink the time until an event (churn, purchase,
    failure) from rows whose event was observed (``censor`` 1) or not yet (0: the label is
    only a lower bound). The model predicts the expected time and, with ``quantiles_col``,
    the time by which each ``quantile_probabilities`` share of such rows has had the event.

    Args:
        data: training table with a features vector column, a positive time label and a censor
            column.
        features_col: the features vector column.
        label_col: the time-to-event column (positive).
        censor_col: 1 if the event happened at the label's time, 0 if the row was censored then.
        quantile_probabilities: the probabilities (each in (0, 1)) whose time quantiles the model
            predicts; unset: 0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99.
        quantiles_col: the output vector column of those quantiles; unset adds none.
        max_iter: the most optimiser iterations.
        tol: the convergence tolerance.
        fit_intercept: fit an intercept term.

    Returns:
        model: the fitted AFTSurvivalRegressionModel.
    """

def als(
    data: TableOutput | Stored,
    *,
    id: str | None = None,
    description: str | None = None,
    user_col: str | ParamRef = "user",
    item_col: str | ParamRef = "item",
    rating_col: str | ParamRef = "rating",
    rank: int | ParamRef = 10,
    max_iter: int | ParamRef = 10,
    reg_param: float | ParamRef = 0.1,
    implicit_prefs: bool | ParamRef = False,
    alpha: float | ParamRef = 1.0,
    nonnegative: bool | ParamRef = False,
    cold_start_strategy: Literal["drop", "nan"] | ParamRef = "drop",
    num_blocks: int | ParamRef = 10,
    checkpoint_interval: int | ParamRef = 10,
    seed: int | ParamRef = 42,
) -> ModelOutput:
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
        cold_start_strategy: what the model predicts for users or items it has not seen: drop those
            rows from its output, or predict NaN.
        num_blocks: the number of user blocks and of item blocks (parallelism of each iteration).
        checkpoint_interval: checkpoint the factors every this many iterations, which keeps the
            lineage short (many iterations without checkpoints overflow the JVM stack). Spark needs
            a checkpoint directory (``spark.checkpoint.dir``); in local mode a temporary one is made
            when none is set.
        seed: random seed (initial factors).

    Returns:
        model: the fitted ALSModel (predicts ``prediction`` for (user, item) pairs; see
            als_recommend).
    """

def als_recommend(
    model: ModelOutput | Stored,
    data: TableOutput | Stored | None = None,
    exclude: TableOutput | Stored | None = None,
    *,
    id: str | None = None,
    description: str | None = None,
    k: int | ParamRef = 10,
    for_each: Literal["user", "item"] | ParamRef = "user",
) -> TableOutput:
    """Top-k recommendations of a fitted ALS model: items for each user, or users for each item.

    Without ``data`` every user (item) the model knows gets recommendations; with it, only
    the ids in its user (item) column do. ``exclude`` removes pairs, typically the
    interactions the model was fitted on, so already-rated items are not recommended again.

    Args:
        model: the fitted ALS model (the ``model`` output of als).
        data: optional: a table whose user column (``for_each`` user) or item column (``for_each``
            item), named as in the model, lists the ids to recommend for.
        exclude: optional: a table of (user, item) pairs, columns named as in the model, that must
            not be recommended.
        k: how many recommendations per user (item).
        for_each: recommend items for each user, or users for each item.

    Returns:
        recommendations: one row per recommendation: the user (item) id, the recommended item (user)
            id, ``rating`` (float, the predicted rating) and ``rank`` (int, 1 = best), in that
            column order, named after the model's user and item columns.
    """

def append_id(
    data: TableOutput | Stored,
    *,
    id: str | None = None,
    description: str | None = None,
    id_col: str | ParamRef = "id",
    method: Literal["monotonic", "row_number"] | ParamRef = "monotonic",
    order_by: list[str] | None | ParamRef = None,
    descending: bool | ParamRef = False,
) -> TableOutput:
    """Add a row id column (as the first column).

    ``monotonic`` ids are unique and increasing but not consecutive
    (``monotonically_increasing_id``: no shuffle, any table size). ``row_number`` numbers the rows
    1, 2, 3... in ``order_by`` order; it sorts all rows in one task, so keep it for tables of up
    to a few million rows. With ``monotonic``, ``order_by`` sorts the rows first, so the ids
    follow that order.

    Args:
        data: the input table.
        id_col: the name of the new column.
        method: unique increasing ids, or consecutive row numbers.
        order_by: the columns that order the rows (needed for ``row_number``; ties are numbered in
            any order).
        descending: order from the largest value down.

    Returns:
        data: a table
    """

def binarizer(
    data: TableOutput | Stored,
    *,
    id: str | None = None,
    description: str | None = None,
    input_cols: list[str] | ParamRef,
    output_cols: list[str] | None | ParamRef = None,
    suffix: str | ParamRef = "_binary",
    threshold: float | ParamRef = 0.0,
) -> TableOutput:
    """Turn numeric or vector columns into 0/1: 1.0 where the value is greater than the threshold, else
    0.0.

    Vector columns are binarised element by element.

    Args:
        data: the input table.
        input_cols: the numeric or vector columns to binarise.
        output_cols: names of the 0/1 columns, one per input column; empty means input name +
            suffix.
        suffix: appended to each input column's name when output_cols is empty.
        threshold: values strictly greater than this become 1.0.

    Returns:
        data: a table
    """

def binary_classification_evaluation(
    data: TableOutput | Stored,
    *,
    id: str | None = None,
    description: str | None = None,
    label_col: str | ParamRef = "label",
    probability_col: str | ParamRef = "probability",
    prediction_col: str | None | ParamRef = "prediction",
    threshold: float | ParamRef = 0.5,
    plots: bool | ParamRef = True,
    plot_bins: int | ParamRef = 100,
) -> MetricsOutput:
    """Evaluate a binary classifier's scored table: ranking quality, KS and the confusion matrix.

    The score is P(class 1): element 1 of a Spark probability vector, or a numeric column such
    as ``predict``'s ``score``. AUCs and KS use the score; the confusion matrix and the metrics
    derived from it use ``prediction_col`` (the classifier's own decision, at Spark's default
    threshold 0.5 unless the model was fitted with another), or, with ``prediction_col`` unset,
    ``score > threshold``. Labels must be 0 or 1, and both classes must occur.

    Metrics: ``auc_roc``, ``auc_pr``, ``ks`` (the largest gap between the true- and
    false-positive rates over all cut-offs), ``accuracy``, ``precision``, ``recall``, ``f1``,
    ``threshold``, ``confusion_matrix`` (``tp``, ``fp``, ``tn``, ``fn``), ``rows`` and
    ``positive_rate``; all plain floats and ints.

    With ``plots``, four PNGs are saved: ``roc_curve``, ``precision_recall_curve``,
    ``confusion_matrix`` and ``score_distribution`` (the score histogram of each class). The
    curves are drawn from ``plot_bins`` equal-width score bins; the AUCs in their legends are
    the exact ones.

    Everything comes from one Spark aggregation: class and confusion counts per score key (a
    score's binary exponent and top 16 mantissa bits, so near-equal scores on any scale share a
    key), one row per key to the driver. AUCs and KS are those of Spark's
    ``BinaryClassificationEvaluator`` without down-sampling, scores closer than 2**-16 of their
    magnitude counting as tied.

    Args:
        data: a scored table with the label and the classifier's probability (and prediction)
            columns.
        label_col: the true label column (0 or 1).
        probability_col: the probability vector column (or a numeric score column).
        prediction_col: the predicted label column (0 or 1); unset to predict ``score > threshold``
            instead.
        threshold: the cut-off reported as ``threshold`` and, with prediction_col unset, applied to
            the score.
        plots: save the ROC, precision-recall, confusion-matrix and score-distribution PNGs.
        plot_bins: the number of score bins the curves and the score distribution are drawn from.

    Returns:
        metrics: the metrics dict.
    """

class BisectingKmeansOutputs(NamedTuple):
    data: TableOutput
    model: ModelOutput

def bisecting_kmeans(
    data: TableOutput | Stored,
    *,
    id: str | None = None,
    description: str | None = None,
    features_col: str | ParamRef = "features",
    k: int | ParamRef = 4,
    max_iter: int | ParamRef = 20,
    min_divisible_cluster_size: float | ParamRef = 1.0,
    distance_measure: Literal["euclidean", "cosine"] | ParamRef = "euclidean",
    weight_col: str | None | ParamRef = None,
    cluster_col: str | ParamRef = "cluster",
    seed: int | ParamRef = 42,
) -> BisectingKmeansOutputs:
    """Bisecting k-means (Spark's BisectingKMeans): split the largest divisible cluster in two, top
    down.

    Often faster than k-means for large ``k`` and gives a hierarchy of clusters. The run's
    details record the cluster sizes and the training cost.

    Args:
        data: a table with a features vector column.
        features_col: the features vector column.
        k: the number of leaf clusters wanted (fewer when no cluster can be divided further).
        max_iter: the most k-means iterations of each split.
        min_divisible_cluster_size: the fewest rows (>= 1) or the smallest share of all rows (< 1) a
            cluster needs to be split.
        distance_measure: the distance between rows and centres.
        weight_col: an optional column of row weights.
        cluster_col: the name of the cluster column (0 .. k-1) added to the output.
        seed: random seed.

    Returns:
        data: a table
        model: the fitted BisectingKMeansModel.
    """

def bucketizer(
    data: TableOutput | Stored,
    *,
    id: str | None = None,
    description: str | None = None,
    input_cols: list[str] | ParamRef,
    splits: list[float] | None | ParamRef = None,
    column_splits: dict[str, str] | None | ParamRef = None,
    output_cols: list[str] | None | ParamRef = None,
    suffix: str | ParamRef = "_bucket",
    open_ends: bool | ParamRef = True,
    handle_invalid: Literal["error", "skip", "keep"] | ParamRef = "keep",
) -> TableOutput:
    """Bucket numeric columns at explicit split points: bucket i holds values in [split i, split i+1).

    The last bucket also holds its upper split. Bucket numbers are doubles 0, 1, ...
    With ``open_ends`` the outer buckets reach to -inf and +inf; without it a value outside
    the splits fails the run.

    Args:
        data: the input table.
        input_cols: the numeric columns to bucket.
        splits: increasing split points shared by every input column without its own column_splits.
        column_splits: per-column split points as comma-separated numbers, e.g. ``{"age": "18, 30,
            65"}`` (``-inf`` and ``inf`` are allowed); overrides splits for that column.
        output_cols: names of the bucket columns, one per input column; empty means input name +
            suffix.
        suffix: appended to each input column's name when output_cols is empty.
        open_ends: add -inf and +inf as the outermost splits, so every number falls in a bucket.
        handle_invalid: what to do with NaN values: put them in an extra bucket (``keep``), drop the
            row (``skip``, which drops rows with nulls too) or fail (``error``); else a null stays
            null.

    Returns:
        data: a table
    """

_CastColumnsToType = Literal["double", "float", "int", "bigint", "string", "boolean", "date", "timestamp"]

def cast_columns(
    data: TableOutput | Stored,
    *,
    id: str | None = None,
    description: str | None = None,
    columns: list[str] | ParamRef,
    to_type: _CastColumnsToType | ParamRef = "double",
) -> TableOutput:
    """Convert columns to another type, e.g. numbers stored as strings to doubles.

    Values that cannot be converted (``'abc'`` as a double, ``''``) become null instead of
    failing the run (``try_cast`` semantics, whether or not Spark's ANSI mode is on). The
    column order is kept.

    Args:
        data: the input table.
        columns: the columns to convert.
        to_type: the type to convert them to.

    Returns:
        data: a table
    """

def chi_square_test(
    data: TableOutput | Stored,
    *,
    id: str | None = None,
    description: str | None = None,
    features_col: str | ParamRef = "features",
    label_col: str | ParamRef = "label",
    columns: list[str] | None | ParamRef = None,
) -> TableOutput:
    """Pearson's chi-squared test of independence of each categorical feature and the label.

    Spark ML's ``ChiSquareTest`` builds the contingency table of every feature against the
    label (both must be categorical: a few distinct numeric values). The features are the
    elements of ``features_col``, or the numeric ``columns`` when given. Rows with a missing
    value are not allowed.

    Args:
        data: the input table.
        features_col: the features vector column (used when ``columns`` is empty).
        label_col: the categorical numeric label column.
        columns: numeric categorical columns to test instead of a features vector.

    Returns:
        result: one row per feature: ``feature`` (its name), ``index``, ``statistic``,
            ``degrees_of_freedom`` and ``p_value``.
    """

def cluster_profile(
    data: TableOutput | Stored,
    *,
    id: str | None = None,
    description: str | None = None,
    cluster_col: str | ParamRef = "cluster",
    columns: list[str] | None | ParamRef = None,
) -> TableOutput:
    """Describe clusters: each cluster's size, share of the rows and the mean of each numeric column.

    Also saves the ``cluster_sizes`` bar chart.

    Args:
        data: a clustered table (e.g. the ``data`` output of kmeans) with a cluster column.
        cluster_col: the cluster column.
        columns: the numeric columns to average per cluster; unset averages every numeric column
            except ``cluster_col``.

    Returns:
        profile: one row per cluster, ordered by cluster: ``cluster``, ``size`` (bigint), ``share``
            (double, of all rows) and ``<column>_mean`` (double) for each column.
    """

class ClusteringEvaluationOutputs(NamedTuple):
    metrics: MetricsOutput
    sizes: TableOutput

def clustering_evaluation(
    data: TableOutput | Stored,
    *,
    id: str | None = None,
    description: str | None = None,
    features_col: str | ParamRef = "features",
    prediction_col: str | ParamRef = "cluster",
    distance_measure: Literal["squaredEuclidean", "cosine"] | ParamRef = "squaredEuclidean",
    plot: bool | ParamRef = True,
) -> ClusteringEvaluationOutputs:
    """Evaluate a clustering: the silhouette (Spark's ``ClusteringEvaluator``) and the cluster sizes.

    The silhouette is the mean over rows of (b - a) / max(a, b), where a is the row's mean
    distance to the rest of its cluster and b the smallest mean distance to another cluster;
    Spark measures distance as the squared Euclidean distance or the cosine distance. It lies
    in [-1, 1]; higher is better. It needs at least two clusters. With ``plot``,
    ``cluster_sizes.png`` shows the rows per cluster.

    Metrics: ``silhouette``, ``clusters``, ``rows``, ``largest_cluster_share``.

    Args:
        data: a clustered table with the features vector and the cluster id (e.g. kmeans' data, or
            predict's).
        features_col: the features vector column the clustering used.
        prediction_col: the cluster id column (the clustering components write ``cluster``).
        distance_measure: the distance the silhouette is measured in.
        plot: save the cluster sizes as ``cluster_sizes.png``.

    Returns:
        metrics: the metrics dict.
        sizes: ``cluster``, ``rows``, ``share`` per cluster, largest first.
    """

def correlation(
    data: TableOutput | Stored,
    *,
    id: str | None = None,
    description: str | None = None,
    columns: list[str] | None | ParamRef = None,
    method: Literal["pearson", "spearman"] | ParamRef = "pearson",
) -> TableOutput:
    """The correlation matrix of numeric columns (Spark ML's ``Correlation``), Pearson or Spearman.

    Rows with a missing value in any of the columns are left out. A constant column's
    correlations are NaN. Spearman ranks each column (ties get their average rank) and
    correlates the ranks.

    Args:
        data: the input table.
        columns: the numeric columns to correlate (at least two); empty means every numeric column.
        method: ``pearson`` (linear) or ``spearman`` (rank, monotonic).

    Returns:
        correlation: a square table: ``column`` names the row, then one double column per input
            column.
    """

class CountVectorizerOutputs(NamedTuple):
    data: TableOutput
    model: ModelOutput

def count_vectorizer(
    data: TableOutput | Stored,
    *,
    id: str | None = None,
    description: str | None = None,
    input_col: str | ParamRef = "tokens",
    output_col: str | ParamRef = "term_counts",
    vocab_size: int | ParamRef = 262144,
    min_df: float | ParamRef = 1.0,
    max_df: float | None | ParamRef = None,
    min_tf: float | ParamRef = 1.0,
    binary: bool | ParamRef = False,
) -> CountVectorizerOutputs:
    """Learn a vocabulary from token lists and count each document's terms into a sparse vector.

    The vocabulary holds the ``vocab_size`` terms most frequent over the corpus, most frequent
    first (slot 0); its size is listed in the run report.

    Args:
        data: the table to fit on and transform.
        input_col: the token column (an array of strings).
        output_col: the new vector column of term counts.
        vocab_size: the most terms the vocabulary keeps.
        min_df: a term must appear in at least this many documents (a number >= 1) or this share of
            them (below 1) to enter the vocabulary.
        max_df: a term in more than this many documents (>= 1) or this share of them (below 1) is
            left out, e.g. 0.9 drops terms nearly every document has; empty means no limit.
        min_tf: in each document, terms counted fewer times (a number >= 1) or making up a smaller
            share of its terms (below 1) are ignored.
        binary: record 1.0 for a present term instead of its count.

    Returns:
        data: a table
        model: the fitted CountVectorizerModel, to count other tables' terms with the same
            vocabulary.
    """

def covariance(
    data: TableOutput | Stored,
    *,
    id: str | None = None,
    description: str | None = None,
    columns: list[str] | None | ParamRef = None,
    sample: bool | ParamRef = True,
) -> TableOutput:
    """The covariance matrix of numeric columns, computed in one aggregation.

    Rows with a missing value in any of the columns are left out, so every entry is computed
    on the same rows.

    Args:
        data: the input table.
        columns: the numeric columns (at least one); empty means every numeric column.
        sample: the sample covariance (divide by n - 1); false for the population covariance (divide
            by n).

    Returns:
        covariance: a square table: ``column`` names the row, then one double column per input
            column.
    """

class CrossValidationOutputs(NamedTuple):
    model: ModelOutput
    best: MetricsOutput
    trials: TableOutput

def cross_validation(
    data: TableOutput | Stored,
    *,
    id: str | None = None,
    description: str | None = None,
    estimator: str | ParamRef,
    fixed: dict[str, Any] | None | ParamRef = None,
    grid: dict[str, list[Any]] | None | ParamRef = None,
    metric: Literal["auc_roc", "auc_pr", "f1", "accuracy", "rmse", "mae", "r2"] | ParamRef = "auc_roc",
    folds: int | ParamRef = 5,
    seed: int | ParamRef = 42,
) -> CrossValidationOutputs:
    """K-fold cross-validation of a learner (Spark's CrossValidator): how well it generalises.

    Without a grid the estimator is evaluated with the ``fixed`` parameters alone: ``best``
    holds the mean and spread of the metric over the folds, ``trials`` the score of each
    fold. With a grid every combination is cross-validated and the best one wins (as in
    ``grid_search``). The model is refitted on all the data.

    Args:
        data: the training table, as the estimator takes it (features vector and label).
        estimator: the name of the learner component to evaluate.
        fixed: the estimator's parameters, e.g. ``{"max_depth": 3, "max_iter": 50}``.
        grid: optional: values to try per parameter, cross-validating every combination.
        metric: the score: binary classifiers auc_roc, auc_pr, f1, accuracy; regressors rmse, mae,
            r2.
        folds: the number of folds (rows are assigned at random).
        seed: random seed of the fold assignment.

    Returns:
        model: the estimator refitted on all the data (with the best parameters).
        best: ``metric``, ``greater_is_better``, ``best_score`` (mean over the folds), ``best_std``,
            ``best_params``, ``best_trial``, ``trials`` and ``splits``.
        trials: one row per trial: ``trial`` (int), ``params`` (its grid values as JSON),
            ``param_<key>`` per grid key, ``mean_score`` and ``std_score`` over the splits,
            ``fold_scores`` (array, one score per split), ``seconds`` and ``rank`` (int, 1 = best).
    """

def crosstab(
    data: TableOutput | Stored,
    *,
    id: str | None = None,
    description: str | None = None,
    row_col: str | ParamRef,
    column_col: str | ParamRef,
    normalize: Literal["none", "row", "all"] | ParamRef = "none",
) -> TableOutput:
    """A contingency table of two columns (Spark's ``DataFrame.stat.crosstab``).

    Values are shown as text; null appears as ``null``. Spark caps the number of distinct
    pairs at one million.

    Args:
        data: the input table.
        row_col: the column whose distinct values become rows.
        column_col: the column whose distinct values become columns.
        normalize: ``none`` for counts; ``row`` for shares of each row's total; ``all`` for shares
            of all rows.

    Returns:
        crosstab: first column named ``row_col`` (its values, ordered), then one column per distinct
            value of ``column_col`` (ordered by name): counts (bigint) or shares (double).
    """

class CtrFeatureEncoderOutputs(NamedTuple):
    data: TableOutput
    model: ModelOutput

def ctr_feature_encoder(
    data: TableOutput | Stored,
    *,
    id: str | None = None,
    description: str | None = None,
    categorical_cols: list[str] | None | ParamRef = None,
    numeric_cols: list[str] | None | ParamRef = None,
    bucketize_cols: list[str] | None | ParamRef = None,
    sequence_cols: list[str] | None | ParamRef = None,
    share_vocabulary: dict[str, str] | None | ParamRef = None,
    label_cols: list[str] | None | ParamRef = None,
    passthrough_cols: list[str] | None | ParamRef = None,
    min_count: int | ParamRef = 1,
    normalizer: Literal["standard", "minmax"] | ParamRef = "standard",
    num_buckets: int | ParamRef = 10,
    max_sequence_length: int | ParamRef = 20,
    sequence_separator: str | ParamRef = ",",
) -> CtrFeatureEncoderOutputs:
    """Encode raw click-log columns for the deep ranking models and fit their feature map.

    Categorical values become indices (values seen fewer than ``min_count`` times share the
    out-of-vocabulary index 1; missing is 0; the rest from 2, most frequent first); numeric
    columns are normalised (``numeric_cols``) or cut into ``num_buckets`` quantile buckets that
    are then indexed (``bucketize_cols``); behaviour sequences (arrays, or delimited strings,
    oldest first) keep their last ``max_sequence_length`` items as indices, padded with 0.
    The feature map (field, kind, vocabulary size, vocabulary) travels inside ``model``:
    ``predict`` with it encodes other tables (the test split, new days) exactly the same way,
    and the ranking trainer and the prediction service read it from the saved model's
    ``feature_map.json``.

    Args:
        data: the raw table.
        categorical_cols: string, integer or boolean columns to index.
        numeric_cols: numeric columns to normalise (missing values become 0, the mean after
            standardising).
        bucketize_cols: numeric columns to cut into quantile buckets and index.
        sequence_cols: behaviour-sequence columns (arrays, or strings split on sequence_separator).
        share_vocabulary: sequence column -> the categorical column whose vocabulary it uses (a
            user's clicked items and the target item; both columns' values build it).
        label_cols: 0/1 label columns (one per task), copied as floats. Default: ["label"].
        passthrough_cols: columns copied unchanged (ids, known true probabilities for evaluation).
        min_count: the fewest occurrences a value needs for its own index.
        normalizer: standard (mean 0, standard deviation 1) or minmax (0 to 1) for numeric_cols.
        num_buckets: the number of quantile buckets of each bucketize_cols column.
        max_sequence_length: the encoded length of every sequence column.
        sequence_separator: the delimiter of sequences held as strings.

    Returns:
        data: a table
        model: the fitted encoder (its feature map); apply it with predict.
    """

def data_profile(
    data: TableOutput | Stored,
    *,
    id: str | None = None,
    description: str | None = None,
    columns: list[str] | None | ParamRef = None,
    plot: bool | ParamRef = True,
) -> TableOutput:
    """A profile of a table: per column its type, missing values, distinct values, range, mean and most
    frequent value.

    One aggregation gives the counts, ranges and means; one shuffle of (column, value) pairs
    gives the exact distinct counts and the most frequent values (ties: the smallest as text).
    Values are compared as text for ``distinct`` and ``top_value``; ``min`` and ``max`` use the
    column's own order and are shown as text. Vector, array, map and struct columns are not
    profiled. With ``plot``, ``data_profile.png`` shows the missing share and the distinct
    count of every column.

    Args:
        data: the input table.
        columns: the columns to profile; empty means every column of a simple type.
        plot: also draw the overview as ``data_profile.png``.

    Returns:
        profile: one row per column: ``column``, ``type``, ``rows``, ``missing`` (null, or NaN in
            float columns), ``missing_share``, ``distinct``, ``min``, ``max``, ``mean`` (numeric
            columns, else null), ``top_value``, ``top_count``.
    """

def dct(
    data: TableOutput | Stored,
    *,
    id: str | None = None,
    description: str | None = None,
    input_col: str | ParamRef = "features",
    output_col: str | ParamRef = "dct_features",
    inverse: bool | ParamRef = False,
) -> TableOutput:
    """Discrete cosine transform (orthonormal DCT-II) of a vector column, e.g. to turn a signal into
    frequencies.

    Args:
        data: the input table.
        input_col: the vector column to transform (read as a sequence, e.g. values over time).
        output_col: the new column for the transformed vector (same size).
        inverse: apply the inverse transform (DCT-III) instead.

    Returns:
        data: a table
    """

def decision_tree_classifier(
    data: TableOutput | Stored,
    *,
    id: str | None = None,
    description: str | None = None,
    features_col: str | ParamRef = "features",
    label_col: str | ParamRef = "label",
    max_depth: int | ParamRef = 5,
    max_bins: int | ParamRef = 32,
    min_instances_per_node: int | ParamRef = 1,
    min_info_gain: float | ParamRef = 0.0,
    impurity: Literal["gini", "entropy"] | ParamRef = "gini",
    seed: int | ParamRef = 42,
) -> ModelOutput:
    """A single decision tree classifier, binary or multiclass (Spark's DecisionTreeClassifier).

    Args:
        data: training table with a features vector column and a numeric label (0, 1, ...).
        features_col: the features vector column.
        label_col: the label column.
        max_depth: the depth of the tree.
        max_bins: the most bins continuous features are discretised into.
        min_instances_per_node: the fewest rows a leaf may hold.
        min_info_gain: the least information gain a split must bring.
        impurity: the split criterion.
        seed: random seed.

    Returns:
        model: the fitted DecisionTreeClassificationModel.
    """

def decision_tree_regressor(
    data: TableOutput | Stored,
    *,
    id: str | None = None,
    description: str | None = None,
    features_col: str | ParamRef = "features",
    label_col: str | ParamRef = "label",
    max_depth: int | ParamRef = 5,
    max_bins: int | ParamRef = 32,
    min_instances_per_node: int | ParamRef = 1,
    min_info_gain: float | ParamRef = 0.0,
    seed: int | ParamRef = 42,
) -> ModelOutput:
    """A single regression tree (Spark's DecisionTreeRegressor, variance impurity).

    Args:
        data: training table with a features vector column and a numeric label.
        features_col: the features vector column.
        label_col: the label column.
        max_depth: the depth of the tree.
        max_bins: the most bins continuous features are discretised into.
        min_instances_per_node: the fewest rows a leaf may hold.
        min_info_gain: the least variance reduction a split must bring.
        seed: random seed.

    Returns:
        model: the fitted DecisionTreeRegressionModel.
    """

def distance_outliers(
    data: TableOutput | Stored,
    *,
    id: str | None = None,
    description: str | None = None,
    features_col: str | ParamRef = "features",
    clusters: int | ParamRef = 2,
    fraction: float | ParamRef = 0.05,
    threshold: float | None | ParamRef = None,
    max_iter: int | ParamRef = 20,
    seed: int | ParamRef = 42,
    score_col: str | ParamRef = "outlier_score",
    flag_col: str | ParamRef = "is_outlier",
    drop_outliers: bool | ParamRef = False,
) -> TableOutput:
    """Flag rows far from their k-means centroid in feature space.

    Spark ML's ``KMeans`` groups the feature vectors into ``clusters`` clusters; a row's
    score is the Euclidean distance from its vector to its cluster's centroid. With
    ``threshold`` set, rows scoring above it are flagged; otherwise the rows scoring above
    the (1 - ``fraction``) quantile of the scores (Spark's ``percentile_approx``), i.e. about
    ``fraction`` of the rows (fewer on ties or small tables). Scale the features first
    (``standard_scaler``) so no feature dominates the distance.

    Args:
        data: the input table with a features vector column (no missing vectors).
        features_col: the features vector column.
        clusters: k, the number of k-means clusters.
        fraction: without threshold: the share of rows to flag, those with the largest distances.
        threshold: flag rows whose distance is above it (overrides fraction).
        max_iter: the most k-means iterations.
        seed: random seed of the k-means initialisation.
        score_col: the name of the distance column to add (double).
        flag_col: the name of the flag column to add (boolean).
        drop_outliers: drop the flagged rows (the score and flag columns stay).

    Returns:
        data: a table
    """

def drop_columns(
    data: TableOutput | Stored,
    *,
    id: str | None = None,
    description: str | None = None,
    columns: list[str] | ParamRef,
    ignore_missing: bool | ParamRef = False,
) -> TableOutput:
    """Remove columns.

    Args:
        data: the input table.
        columns: the columns to remove.
        ignore_missing: skip names the table does not have instead of failing.

    Returns:
        data: a table
    """

def drop_duplicates(
    data: TableOutput | Stored,
    *,
    id: str | None = None,
    description: str | None = None,
    subset: list[str] | None | ParamRef = None,
) -> TableOutput:
    """Remove duplicate rows, keeping one row of each group of duplicates.

    Args:
        data: the input table.
        subset: the columns that define a duplicate; empty means all columns.

    Returns:
        data: a table
    """

def drop_missing(
    data: TableOutput | Stored,
    *,
    id: str | None = None,
    description: str | None = None,
    how: Literal["any", "all"] | ParamRef = "any",
    subset: list[str] | None | ParamRef = None,
    threshold: int | None | ParamRef = None,
) -> TableOutput:
    """Remove rows with missing values (null, and NaN in float columns).

    Args:
        data: the input table.
        how: drop a row when any of the columns is missing, or only when all of them are.
        subset: the columns to look at; empty means all columns.
        threshold: keep a row only if at least this many of the columns have a value (replaces
            ``how``).

    Returns:
        data: a table
    """

def elementwise_product(
    data: TableOutput | Stored,
    *,
    id: str | None = None,
    description: str | None = None,
    input_col: str | ParamRef = "features",
    output_col: str | ParamRef = "weighted_features",
    scaling_vec: list[float] | ParamRef,
) -> TableOutput:
    """Multiply each element of a vector column by a fixed weight (the Hadamard product with
    scaling_vec).

    Args:
        data: the input table.
        input_col: the vector column to weight.
        output_col: the new column for the weighted vector.
        scaling_vec: one weight per element of the vector.

    Returns:
        data: a table
    """

def explode_column(
    data: TableOutput | Stored,
    *,
    id: str | None = None,
    description: str | None = None,
    column: str | ParamRef,
    delimiter: str | None | ParamRef = None,
    output_col: str | None | ParamRef = None,
    position_col: str | None | ParamRef = None,
    keep_empty: bool | ParamRef = False,
) -> TableOutput:
    """Make one row per element of a list: an array column, or a string column of delimited items.

    The other columns are repeated on each element's row. The elements replace the column in
    place unless ``output_col`` names a new column.

    Args:
        data: the input table.
        column: the array column, or the string column to split (with ``delimiter``).
        delimiter: for a string column: the text between items (taken literally, e.g. ``,`` or
            ``|``).
        output_col: put the elements in this new column and keep ``column`` as it is.
        position_col: also add the element's position in its list (from 0) as this column.
        keep_empty: keep rows whose list is null or empty (with a null element) instead of dropping
            them.

    Returns:
        data: a table
    """

def export_pmml(
    model: ModelOutput | Stored,
    data: TableOutput | Stored,
    *,
    id: str | None = None,
    description: str | None = None,
    path: str | None | ParamRef = None,
    verify_rows: int | ParamRef = 1000,
    tolerance: float | ParamRef = 1e-06,
) -> MetricsOutput:
    """Export a fitted Spark model (best: one PipelineModel from raw columns) as PMML, and verify it.

    JPMML-SparkML converts the model; then the first ``verify_rows`` rows of ``data`` (held-out
    rows with the model's raw input columns) are scored by Spark and by the PMML document
    (jpmml-evaluator), and the export fails, naming the row and the field, if any class
    probability (a regressor's prediction) differs by more than ``tolerance``: converters can
    be silently wrong. The document is saved as the node's ``model.pmml`` artifact, and at
    ``path`` when set. A StringIndexer output must not go through a scaler. Needs the optional
    ``pmml`` extra (pyspark2pmml, jpmml-evaluator: AGPL-3.0) and a SparkSession created with
    its jars (``engine.session.get_session`` adds them).

    Args:
        model: the fitted model, e.g. ``pipeline_model``'s.
        data: held-out rows with the model's raw input columns (and its label, kept in the PMML
            schema).
        path: also write the PMML document here (a local path or an fsspec URL); empty writes only
            the artifact.
        verify_rows: how many rows of ``data`` to score both ways.
        tolerance: the largest allowed absolute difference of a probability.

    Returns:
        metrics: ``verified_rows``, ``max_abs_diff``, ``tolerance`` and ``pmml_bytes``.
    """

def fast_gbdt_classifier(
    data: TableOutput | Stored,
    *,
    id: str | None = None,
    description: str | None = None,
    features_col: str | ParamRef = "features",
    label_col: str | ParamRef = "label",
    max_iter: int | ParamRef = 20,
    max_depth: int | ParamRef = 5,
    step_size: float | ParamRef = 0.1,
    subsampling_rate: float | ParamRef = 1.0,
    min_instances_per_node: int | ParamRef = 1,
    max_bins: int | ParamRef = 255,
    seed: int | ParamRef = 42,
    train_on: Literal["auto", "driver", "spark"] | ParamRef = "auto",
    max_driver_bytes: int | ParamRef = 2147483648,
    num_threads: int | ParamRef = 0,
    num_workers: int | ParamRef = 1,
) -> ModelOutput:
    """Gradient-boosted trees classifier that trains LightGBM on the driver when the table fits, else
    xgboost.spark.

    A drop-in for ``gbdt_classifier`` (same parameter names and tree semantics), many times
    faster: see the module docstring for how the path is chosen. Binary labels give
    ``probability`` ``[1 - p, p]``; labels 0..k-1 give a k-class softmax model. The chosen path
    and its reason appear in the run report under the node.

    Args:
        data: training table with a features vector column and a class-index label (0, 1, ...).
        features_col: the features vector column.
        label_col: the label column (0, 1, ...).
        max_iter: number of boosting rounds (trees, per class for more than two classes).
        max_depth: the most levels of each tree (LightGBM: num_leaves = 2**max_depth, capped at
            131072).
        step_size: the learning rate (shrinkage) of each tree.
        subsampling_rate: the share of rows each tree is trained on.
        min_instances_per_node: the fewest rows a leaf may hold (LightGBM's min_data_in_leaf;
            XGBoost has no row minimum and keeps its hessian minimum min_child_weight=1).
        max_bins: the most histogram bins per feature.
        seed: random seed (subsampling); LightGBM also runs in deterministic mode.
        train_on: auto (the driver when the table fits, else Spark), driver (LightGBM always) or
            spark (xgboost.spark always).
        max_driver_bytes: the largest estimated training table (rows x (features + 1) x 8 bytes)
            trained on the driver; the driver's peak is about twice this (Arrow table plus matrix).
        num_threads: LightGBM threads on the driver; 0: spark.driver.cores when set, else every core
            the driver may use.
        num_workers: xgboost.spark path: the number of Spark tasks that train together.

    Returns:
        model: the fitted model: a LightGBMClassificationModel or an XGBoostClassificationModel.
    """

def fast_gbdt_regressor(
    data: TableOutput | Stored,
    *,
    id: str | None = None,
    description: str | None = None,
    features_col: str | ParamRef = "features",
    label_col: str | ParamRef = "label",
    max_iter: int | ParamRef = 20,
    max_depth: int | ParamRef = 5,
    step_size: float | ParamRef = 0.1,
    subsampling_rate: float | ParamRef = 1.0,
    min_instances_per_node: int | ParamRef = 1,
    max_bins: int | ParamRef = 255,
    loss_type: Literal["squared", "absolute"] | ParamRef = "squared",
    seed: int | ParamRef = 42,
    train_on: Literal["auto", "driver", "spark"] | ParamRef = "auto",
    max_driver_bytes: int | ParamRef = 2147483648,
    num_threads: int | ParamRef = 0,
    num_workers: int | ParamRef = 1,
) -> ModelOutput:
    """Gradient-boosted trees regressor that trains LightGBM on the driver when the table fits, else
    xgboost.spark.

    A drop-in for ``gbdt_regressor`` (same parameter names and tree semantics): see the module
    docstring for how the path is chosen. The chosen path and its reason appear in the run
    report under the node.

    Args:
        data: training table with a features vector column and a numeric label.
        features_col: the features vector column.
        label_col: the label column.
        max_iter: number of boosting rounds (trees).
        max_depth: the most levels of each tree (LightGBM: num_leaves = 2**max_depth, capped at
            131072).
        step_size: the learning rate (shrinkage) of each tree.
        subsampling_rate: the share of rows each tree is trained on.
        min_instances_per_node: the fewest rows a leaf may hold (LightGBM's min_data_in_leaf;
            XGBoost has no row minimum and keeps its hessian minimum min_child_weight=1).
        max_bins: the most histogram bins per feature.
        loss_type: the loss minimised: squared error or absolute error.
        seed: random seed (subsampling); LightGBM also runs in deterministic mode.
        train_on: auto (the driver when the table fits, else Spark), driver (LightGBM always) or
            spark (xgboost.spark always).
        max_driver_bytes: the largest estimated training table (rows x (features + 1) x 8 bytes)
            trained on the driver; the driver's peak is about twice this (Arrow table plus matrix).
        num_threads: LightGBM threads on the driver; 0: spark.driver.cores when set, else every core
            the driver may use.
        num_workers: xgboost.spark path: the number of Spark tasks that train together.

    Returns:
        model: the fitted model: a LightGBMRegressionModel or an XGBoostRegressionModel.
    """

def feature_hasher(
    data: TableOutput | Stored,
    *,
    id: str | None = None,
    description: str | None = None,
    input_cols: list[str] | ParamRef,
    output_col: str | ParamRef = "features",
    num_features: int | ParamRef = 262144,
    categorical_cols: list[str] | None | ParamRef = None,
) -> TableOutput:
    """Hash columns of any mix of types into one fixed-size sparse feature vector (the hashing trick).

    A numeric column adds its value at the slot its name hashes to; a string or boolean column
    (and a numeric one listed in ``categorical_cols``) adds 1.0 at the slot of "column=value".
    Different inputs may share a slot; more slots make that rarer.

    Args:
        data: the input table.
        input_cols: the numeric, boolean and string columns to hash.
        output_col: the new vector column.
        num_features: the vector's size (a power of two spreads the slots evenly).
        categorical_cols: numeric columns among input_cols to treat as categories.

    Returns:
        data: a table
    """

def feature_importance(
    model: ModelOutput | Stored,
    data: TableOutput | Stored,
    *,
    id: str | None = None,
    description: str | None = None,
    features_col: str | ParamRef = "features",
    plots: bool | ParamRef = True,
) -> TableOutput:
    """The feature importances of a tree model, by feature name, most important first.

    The model is a tree ensemble or decision tree (GBDT, random forest), or a pipeline whose
    last stage with importances is used. Names come from the features vector's metadata
    (``vector_assembler`` records its input columns there). With ``plots``, also saves the
    ``feature_importance`` PNG: a horizontal bar chart of the (at most 30) most important features.

    Args:
        model: the fitted tree model (or a pipeline ending in one).
        data: a table with the features vector column the model was fitted on (e.g. the training
            table).
        features_col: the features vector column of ``data``.
        plots: save the bar chart PNG.

    Returns:
        importance: a table of ``feature`` (string), ``importance`` (double, summing to 1) and
            ``rank`` (int, 1 = most important).
    """

def fill_missing(
    data: TableOutput | Stored,
    *,
    id: str | None = None,
    description: str | None = None,
    strategy: Literal["mean", "median", "mode", "constant"] | ParamRef = "mean",
    columns: list[str] | None | ParamRef = None,
    value: str | None | ParamRef = None,
) -> TableOutput:
    """Replace missing values (null, and NaN in float columns) column by column.

    ``mean`` and ``median`` apply to numeric columns (integer columns get the statistic rounded
    half up, so their type is kept; the median is Spark's ``percentile_approx``, an actual value
    of the column, exact up to a rank error of 1/100 000); ``mode`` (the most frequent value, the
    smallest on ties)
    and ``constant`` apply to any column. A column with no values at all is left as it is.

    Args:
        data: the input table.
        strategy: what to fill with: the column's mean, median or most frequent value, or ``value``.
        columns: the columns to fill; empty means every column the strategy applies to (for
            ``constant``: every column ``value`` converts to).
        value: the fill value for ``constant``, as text (converted to each column's type).

    Returns:
        data: a table
    """

def filter_rows(
    data: TableOutput | Stored,
    *,
    id: str | None = None,
    description: str | None = None,
    condition: str | ParamRef,
) -> TableOutput:
    """Keep the rows for which an SQL condition holds.

    Args:
        data: the input table.
        condition: a Spark SQL boolean expression over the columns, e.g. ``age >= 18 AND city IS NOT
            NULL``.

    Returns:
        data: a table
    """

def fm_classifier(
    data: TableOutput | Stored,
    *,
    id: str | None = None,
    description: str | None = None,
    features_col: str | ParamRef = "features",
    label_col: str | ParamRef = "label",
    factor_size: int | ParamRef = 8,
    fit_intercept: bool | ParamRef = True,
    fit_linear: bool | ParamRef = True,
    reg_param: float | ParamRef = 0.0,
    mini_batch_fraction: float | ParamRef = 1.0,
    init_std: float | ParamRef = 0.01,
    max_iter: int | ParamRef = 100,
    step_size: float | ParamRef = 1.0,
    tol: float | ParamRef = 1e-06,
    solver: Literal["adamW", "gd"] | ParamRef = "adamW",
    seed: int | ParamRef = 42,
) -> ModelOutput:
    """Factorization machine for binary classification (Spark's FMClassifier): linear terms plus
    pairwise interactions.

    Each feature gets a ``factor_size``-dimensional latent vector; the interaction of two
    features is the dot product of their vectors, which suits sparse one-hot features (user,
    item, context) as in recommendation ranking.

    Args:
        data: training table with a features vector column and a 0/1 label.
        features_col: the features vector column.
        label_col: the label column (0 or 1).
        factor_size: the dimension of the feature factors.
        fit_intercept: fit a global bias term.
        fit_linear: fit the linear (one-way) terms.
        reg_param: L2 regularisation strength.
        mini_batch_fraction: the share of rows each optimiser step uses.
        init_std: the standard deviation of the initial factors.
        max_iter: the most optimiser iterations.
        step_size: the initial learning rate.
        tol: the convergence tolerance.
        solver: the optimiser: adamW or gradient descent.
        seed: random seed (initial factors, mini-batches).

    Returns:
        model: the fitted FMClassificationModel.
    """

def fm_regressor(
    data: TableOutput | Stored,
    *,
    id: str | None = None,
    description: str | None = None,
    features_col: str | ParamRef = "features",
    label_col: str | ParamRef = "label",
    factor_size: int | ParamRef = 8,
    fit_intercept: bool | ParamRef = True,
    fit_linear: bool | ParamRef = True,
    reg_param: float | ParamRef = 0.0,
    mini_batch_fraction: float | ParamRef = 1.0,
    init_std: float | ParamRef = 0.01,
    max_iter: int | ParamRef = 100,
    step_size: float | ParamRef = 1.0,
    tol: float | ParamRef = 1e-06,
    solver: Literal["adamW", "gd"] | ParamRef = "adamW",
    seed: int | ParamRef = 42,
) -> ModelOutput:
    """Factorization machine regressor (Spark's FMRegressor): a linear model plus factorised pairwise
    interactions.

    Each feature gets a ``factor_size``-dimensional latent vector; the interaction of two
    features is the dot product of their vectors (squared-error loss).

    Args:
        data: training table with a features vector column and a numeric label.
        features_col: the features vector column.
        label_col: the label column.
        factor_size: the dimension of the feature factors.
        fit_intercept: fit a global bias term.
        fit_linear: fit the linear (one-way) terms.
        reg_param: L2 regularisation strength.
        mini_batch_fraction: the share of rows each optimiser step uses.
        init_std: the standard deviation of the initial factors.
        max_iter: the most optimiser iterations.
        step_size: the initial learning rate.
        tol: the convergence tolerance.
        solver: the optimiser: adamW or gradient descent.
        seed: random seed (initial factors, mini-batches).

    Returns:
        model: the fitted FMRegressionModel.
    """

class FpGrowthOutputs(NamedTuple):
    itemsets: TableOutput
    rules: TableOutput

def fp_growth(
    data: TableOutput | Stored,
    *,
    id: str | None = None,
    description: str | None = None,
    items_col: str | ParamRef = "items",
    min_support: float | ParamRef = 0.3,
    min_confidence: float | ParamRef = 0.8,
    num_partitions: int | ParamRef = 0,
) -> FpGrowthOutputs:
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

    Returns:
        itemsets: ``items`` (array), ``freq`` (bigint, baskets containing it), ``support`` (double,
            freq / baskets) and ``size`` (int), most frequent first.
        rules: ``antecedent`` (array), ``consequent`` (array of one item), ``confidence``, ``lift``
            and ``support`` (doubles), most confident first.
    """

def ftrl_train(
    data: TableOutput | Stored,
    model: ModelOutput | Stored | None = None,
    *,
    id: str | None = None,
    description: str | None = None,
    features_col: str | ParamRef = "features",
    label_col: str | ParamRef = "label",
    alpha: float | ParamRef = 0.05,
    beta: float | ParamRef = 1.0,
    l1: float | ParamRef = 0.0,
    l2: float | ParamRef = 0.0,
    threshold: float | ParamRef = 0.5,
) -> ModelOutput:
    """FTRL-Proximal logistic regression, updated example by example on this window.

    With ``model`` set, learning continues from that model's state (its per-coordinate
    accumulators), under this node's hyper-parameters; without it, from zero. Rows are learnt in
    the table's order; rows with a missing features vector or label are skipped (counted in the
    run report). Binary labels only (0 or 1). The model scores like a logistic regression:
    ``rawPrediction``, ``probability`` and ``prediction`` columns.

    Args:
        data: the window: a features vector column and a 0/1 label.
        model: the updated FtrlModel, whose state the next window continues from.
        features_col: the features vector column (dense or sparse; hashed features are fine).
        label_col: the label column, 0 or 1.
        alpha: the per-coordinate learning rate scale.
        beta: the learning rate smoothing term.
        l1: L1 regularisation (sparsity); the intercept is not regularised.
        l2: L2 regularisation; the intercept is not regularised.
        threshold: predict 1 when P(1) exceeds it.

    Returns:
        model: a model
    """

class GaussianMixtureOutputs(NamedTuple):
    data: TableOutput
    model: ModelOutput

def gaussian_mixture(
    data: TableOutput | Stored,
    *,
    id: str | None = None,
    description: str | None = None,
    features_col: str | ParamRef = "features",
    k: int | ParamRef = 2,
    max_iter: int | ParamRef = 100,
    tol: float | ParamRef = 0.01,
    weight_col: str | None | ParamRef = None,
    cluster_col: str | ParamRef = "cluster",
    probability_col: str | ParamRef = "probability",
    seed: int | ParamRef = 42,
) -> GaussianMixtureOutputs:
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

    Returns:
        data: a table
        model: the fitted GaussianMixtureModel (``weights`` and ``gaussiansDF`` describe the
            components).
    """

def gbdt_classifier(
    data: TableOutput | Stored,
    *,
    id: str | None = None,
    description: str | None = None,
    features_col: str | ParamRef = "features",
    label_col: str | ParamRef = "label",
    max_iter: int | ParamRef = 20,
    max_depth: int | ParamRef = 5,
    step_size: float | ParamRef = 0.1,
    subsampling_rate: float | ParamRef = 1.0,
    min_instances_per_node: int | ParamRef = 1,
    max_bins: int | ParamRef = 32,
    seed: int | ParamRef = 42,
) -> ModelOutput:
    """Gradient-boosted decision trees for binary classification (Spark's GBTClassifier).

    Args:
        data: training table with a features vector column and a 0/1 label.
        features_col: the features vector column.
        label_col: the label column (0 or 1).
        max_iter: number of boosting rounds (trees).
        max_depth: the depth of each tree.
        step_size: the learning rate (shrinkage) of each tree.
        subsampling_rate: the share of rows each tree is trained on.
        min_instances_per_node: the fewest rows a leaf may hold.
        max_bins: the most bins continuous features are discretised into.
        seed: random seed (for subsampling).

    Returns:
        model: the fitted GBTClassificationModel.
    """

def gbdt_regressor(
    data: TableOutput | Stored,
    *,
    id: str | None = None,
    description: str | None = None,
    features_col: str | ParamRef = "features",
    label_col: str | ParamRef = "label",
    max_iter: int | ParamRef = 20,
    max_depth: int | ParamRef = 5,
    step_size: float | ParamRef = 0.1,
    subsampling_rate: float | ParamRef = 1.0,
    min_instances_per_node: int | ParamRef = 1,
    max_bins: int | ParamRef = 32,
    loss_type: Literal["squared", "absolute"] | ParamRef = "squared",
    seed: int | ParamRef = 42,
) -> ModelOutput:
    """Gradient-boosted decision trees for regression (Spark's GBTRegressor).

    Args:
        data: training table with a features vector column and a numeric label.
        features_col: the features vector column.
        label_col: the label column.
        max_iter: number of boosting rounds (trees).
        max_depth: the depth of each tree.
        step_size: the learning rate (shrinkage) of each tree.
        subsampling_rate: the share of rows each tree is trained on.
        min_instances_per_node: the fewest rows a leaf may hold.
        max_bins: the most bins continuous features are discretised into.
        loss_type: the loss minimised: squared error or absolute error.
        seed: random seed (for subsampling).

    Returns:
        model: the fitted GBTRegressionModel.
    """

_GlmRegressionLink = Literal["canonical", "identity", "log", "inverse", "logit", "probit", "cloglog", "sqrt"]

def glm_regression(
    data: TableOutput | Stored,
    *,
    id: str | None = None,
    description: str | None = None,
    features_col: str | ParamRef = "features",
    label_col: str | ParamRef = "label",
    family: Literal["gaussian", "binomial", "poisson", "gamma", "tweedie"] | ParamRef = "gaussian",
    link: _GlmRegressionLink | ParamRef = "canonical",
    variance_power: float | ParamRef = 0.0,
    link_power: float | None | ParamRef = None,
    max_iter: int | ParamRef = 25,
    reg_param: float | ParamRef = 0.0,
    fit_intercept: bool | ParamRef = True,
    tol: float | ParamRef = 1e-06,
    weight_col: str | None | ParamRef = None,
    offset_col: str | None | ParamRef = None,
) -> ModelOutput:
    """Generalized linear model: an exponential-family label through a link (Spark's
    GeneralizedLinearRegression).

    Families and their links: gaussian (identity, log, inverse), binomial (logit, probit,
    cloglog), poisson (log, identity, sqrt), gamma (inverse, identity, log); ``canonical``
    picks the first. ``tweedie`` takes ``variance_power`` (0 gaussian, 1 poisson, 2 gamma,
    between 1 and 2 compound Poisson-gamma) and ``link_power`` (0 = log; unset: 1 -
    variance_power) instead of ``link``. Fitted by iteratively reweighted least squares; the
    model's summary has standard errors and p-values.

    Args:
        data: training table with a features vector column and a numeric label.
        features_col: the features vector column.
        label_col: the label column.
        family: the label's distribution.
        link: the link function between the linear predictor and the label's mean (not for tweedie).
        variance_power: tweedie: the power in the variance function (0, or 1 and above).
        link_power: tweedie: the power link function's index (0 is log); unset: 1 - variance_power.
        max_iter: the most IRLS iterations.
        reg_param: L2 regularisation strength.
        fit_intercept: fit an intercept term.
        tol: the convergence tolerance.
        weight_col: an optional column of row weights.
        offset_col: an optional column added to the linear predictor with coefficient 1 (e.g. log
            exposure).

    Returns:
        model: the fitted GeneralizedLinearRegressionModel.
    """

class GridSearchOutputs(NamedTuple):
    model: ModelOutput
    best: MetricsOutput
    trials: TableOutput

def grid_search(
    data: TableOutput | Stored,
    *,
    id: str | None = None,
    description: str | None = None,
    estimator: str | ParamRef,
    grid: dict[str, list[Any]] | ParamRef,
    fixed: dict[str, Any] | None | ParamRef = None,
    metric: Literal["auc_roc", "auc_pr", "f1", "accuracy", "rmse", "mae", "r2"] | ParamRef = "auc_roc",
    folds: int | ParamRef = 3,
    seed: int | ParamRef = 42,
) -> GridSearchOutputs:
    """Exhaustive hyper-parameter search: every combination of the grid, scored by k-fold cross-
    validation.

    ``estimator`` names a learner component (e.g. ``gbdt_classifier``, ``logistic_regression``,
    ``linear_regression``); each key of ``grid`` is one of its parameters and each value must
    pass that parameter's declaration. Each combination is fitted on k-1 folds and scored on
    the held-out fold, k times; the combination with the best mean score is refitted on all
    the data. Higher is better for every metric except rmse and mae. At most 1000 combinations.

    Args:
        data: the training table, as the estimator takes it (features vector and label).
        estimator: the name of the learner component to tune.
        grid: the values to try per parameter, e.g. ``{"max_depth": [3, 5], "step_size": [0.05,
            0.1]}``.
        fixed: parameter values held in every trial, e.g. ``{"max_iter": 50, "label_col":
            "bought"}``.
        metric: the score compared: binary classifiers auc_roc, auc_pr, f1, accuracy; regressors
            rmse, mae, r2.
        folds: the number of cross-validation folds (rows are assigned at random).
        seed: random seed of the fold assignment.

    Returns:
        model: the estimator refitted on all the data with the best parameters.
        best: ``metric``, ``greater_is_better``, ``best_score`` (mean over the folds), ``best_std``,
            ``best_params`` (the winning grid values), ``best_trial``, ``trials`` and ``splits``.
        trials: one row per trial: ``trial`` (int), ``params`` (its grid values as JSON),
            ``param_<key>`` per grid key, ``mean_score`` and ``std_score`` over the splits,
            ``fold_scores`` (array, one score per split), ``seconds`` and ``rank`` (int, 1 = best).
    """

def group_aggregate(
    data: TableOutput | Stored,
    *,
    id: str | None = None,
    description: str | None = None,
    aggregations: dict[str, str] | ParamRef,
    group_by: list[str] | None | ParamRef = None,
) -> TableOutput:
    """Group rows by key columns and aggregate each group into one row.

    Args:
        data: the input table.
        aggregations: the output columns, as ``{name: Spark SQL aggregate expression}``, e.g.
            ``{"orders": "count(*)", "revenue": "sum(price * quantity)", "last_seen": "max(ts)"}``.
        group_by: the key columns; empty aggregates the whole table into one row.

    Returns:
        data: a table
    """

def grouped_outliers(
    data: TableOutput | Stored,
    *,
    id: str | None = None,
    description: str | None = None,
    group_cols: list[str] | ParamRef,
    columns: list[str] | None | ParamRef = None,
    method: Literal["zscore", "iqr"] | ParamRef = "zscore",
    threshold: float | ParamRef = 3.0,
    score_col: str | ParamRef = "outlier_score",
    flag_col: str | ParamRef = "is_outlier",
    drop_outliers: bool | ParamRef = False,
) -> TableOutput:
    """Flag outliers within groups: z-scores or IQR fences computed per value of the group key.

    Like ``zscore_outliers`` / ``iqr_outliers``, but each group (rows with equal
    ``group_cols``; null is a group of its own) has its own mean and standard deviation or
    quartiles, so a price normal in one city can be flagged in another. A group of one row
    scores 0 by z-score.

    Args:
        data: the input table.
        group_cols: the columns whose values form the groups.
        columns: the numeric columns to check; empty means every numeric column not in
            ``group_cols``.
        method: ``zscore`` (standard deviations from the group mean) or ``iqr`` (IQRs outside the
            group's quartiles).
        threshold: flag rows scoring above it: the z-score cut-off, or the IQR multiplier.
        score_col: the name of the score column to add (double; null when every value is missing).
        flag_col: the name of the flag column to add (boolean).
        drop_outliers: drop the flagged rows (the score and flag columns stay).

    Returns:
        data: a table
    """

def hashing_tf(
    data: TableOutput | Stored,
    *,
    id: str | None = None,
    description: str | None = None,
    input_col: str | ParamRef = "tokens",
    output_col: str | ParamRef = "term_frequencies",
    num_features: int | ParamRef = 262144,
    binary: bool | ParamRef = False,
) -> TableOutput:
    """Count terms into a fixed-size sparse vector by hashing each term to a slot (no vocabulary to
    fit).

    Different terms may share a slot; more slots make that rarer. count_vectorizer keeps a
    vocabulary instead.

    Args:
        data: the input table.
        input_col: the token column (an array of strings).
        output_col: the new vector column of term counts.
        num_features: the vector's size (a power of two spreads the slots evenly).
        binary: record 1.0 for a present term instead of its count.

    Returns:
        data: a table
    """

def histogram(
    data: TableOutput | Stored,
    *,
    id: str | None = None,
    description: str | None = None,
    columns: list[str] | None | ParamRef = None,
    bins: int | ParamRef = 10,
    plot: bool | ParamRef = True,
) -> TableOutput:
    """Equal-width histograms of numeric columns, as a table and a PNG (``histogram.png``).

    Each column's range [min, max] is cut into ``bins`` equal bins, the last one closed on
    both sides; a constant column gets one bin holding every value. Counting is one Spark
    shuffle for all columns together; missing values are not counted.

    Args:
        data: the input table.
        columns: the numeric columns; empty means every numeric column.
        bins: the number of bins per column.
        plot: also draw the histograms (one panel per column) as ``histogram.png``.

    Returns:
        histogram: one row per column and bin: ``column``, ``bin`` (0 = lowest), ``lower``,
            ``upper``, ``count``; empty bins are listed with count 0.
    """

class ImputerOutputs(NamedTuple):
    data: TableOutput
    model: ModelOutput

def imputer(
    data: TableOutput | Stored,
    *,
    id: str | None = None,
    description: str | None = None,
    input_cols: list[str] | ParamRef,
    output_cols: list[str] | None | ParamRef = None,
    strategy: Literal["mean", "median", "mode"] | ParamRef = "mean",
    missing_value: float | None | ParamRef = None,
    relative_error: float | ParamRef = 0.001,
) -> ImputerOutputs:
    """Fill missing values in numeric columns with each column's mean, median or most frequent value.

    Nulls always count as missing; so do NaN values, or instead the value ``missing_value``.
    Integer columns stay integer (a mean is truncated). The statistic is computed on the
    fitting table, and the model fills other tables with the same values.

    Args:
        data: the table to fit on and transform.
        input_cols: the numeric columns to fill.
        output_cols: names of the filled columns, one per input column; empty fills the input
            columns in place.
        strategy: the statistic that replaces a missing value.
        missing_value: a value that marks a missing entry besides null (e.g. -1); empty means NaN.
        relative_error: precision of the median (0 computes it exactly, which is expensive).

    Returns:
        data: a table
        model: the fitted ImputerModel, to fill other tables with the same values.
    """

def index_to_string(
    data: TableOutput | Stored,
    indexer: ModelOutput | Stored | None = None,
    *,
    id: str | None = None,
    description: str | None = None,
    input_col: str | ParamRef = "prediction",
    output_col: str | ParamRef = "predicted_label",
    labels: list[str] | None | ParamRef = None,
) -> TableOutput:
    """Map indices back to the original values, e.g. a classifier's predicted label index to the
    label's text.

    The labels come from ``params.labels`` when given, else from the ``indexer`` model
    (string_indexer's model), else from the index column's own metadata (a column made by
    string_indexer). An index outside the labels fails the run.

    Args:
        data: the input table.
        indexer: the StringIndexerModel that made the indices (optional).
        input_col: the numeric index column.
        output_col: the new column for the original values (strings).
        labels: the original values in index order (index 0 first); overrides the indexer.

    Returns:
        data: a table
    """

def inline_table(
    *,
    id: str | None = None,
    description: str | None = None,
    rows: list[Any] | ParamRef,
    schema: str | ParamRef,
) -> TableOutput:
    """Make a small table from rows written in the pipeline itself (lookup tables, test data).

    Each row is a list of values in the schema's column order, or an object keyed by column
    name (missing keys are null). Values are JSON: dates and timestamps as text
    (``"2024-01-31"``, ``"2024-01-31 08:00:00"``), arrays as lists, maps and structs as objects.
    A value that does not fit its column's type is an error naming the row and the column.

    Args:
        rows: the rows, e.g. ``[[1, "tier1"], [2, "tier2"]]``.
        schema: the columns as a Spark DDL string, e.g. ``id int, city_tier string, since date``.

    Returns:
        data: the table.
    """

def interaction(
    data: TableOutput | Stored,
    *,
    id: str | None = None,
    description: str | None = None,
    input_cols: list[str] | ParamRef,
    output_col: str | ParamRef = "interaction",
) -> TableOutput:
    """Multiply columns together: one element for every combination of one element from each column.

    Numeric columns count as one element; vector columns contribute each of theirs, e.g.
    a number a with vectors (b1, b2) and (c1, c2) gives (a·b1·c1, a·b1·c2, a·b2·c1, a·b2·c2).

    Args:
        data: the input table.
        input_cols: two or more numeric or vector columns.
        output_col: the new vector column of products.

    Returns:
        data: a table
    """

def iqr_outliers(
    data: TableOutput | Stored,
    *,
    id: str | None = None,
    description: str | None = None,
    columns: list[str] | None | ParamRef = None,
    multiplier: float | ParamRef = 1.5,
    score_col: str | ParamRef = "outlier_score",
    flag_col: str | ParamRef = "is_outlier",
    drop_outliers: bool | ParamRef = False,
) -> TableOutput:
    """Flag rows outside Tukey's fences: below Q1 - k·IQR or above Q3 + k·IQR in any column.

    The quartiles are Spark's ``percentile_approx`` (actual values of the column, rank error
    1/10 000). A row's score is its largest distance outside [Q1, Q3] in IQRs over the
    columns (0 inside; +infinity outside a column whose IQR is 0); it is flagged when the
    score exceeds ``multiplier``.

    Args:
        data: the input table.
        columns: the numeric columns to check; empty means every numeric column.
        multiplier: k: how many IQRs beyond the quartiles a value must lie to be flagged.
        score_col: the name of the score column to add (double; null when every value is missing).
        flag_col: the name of the flag column to add (boolean).
        drop_outliers: drop the flagged rows (the score and flag columns stay).

    Returns:
        data: a table
    """

def isotonic_regression(
    data: TableOutput | Stored,
    *,
    id: str | None = None,
    description: str | None = None,
    features_col: str | ParamRef = "features",
    label_col: str | ParamRef = "label",
    isotonic: bool | ParamRef = True,
    feature_index: int | ParamRef = 0,
    weight_col: str | None | ParamRef = None,
) -> ModelOutput:
    """Isotonic regression: the best monotone (non-decreasing or non-increasing) step function of one
    feature.

    Fitted with the pool-adjacent-violators algorithm (Spark's IsotonicRegression); predictions
    interpolate linearly between the fitted boundaries. Typical uses: calibrating a
    classifier's scores into probabilities, dose-response curves.

    Args:
        data: training table with a numeric label and a features column: a vector (the element at
            ``feature_index`` is used) or a numeric column.
        features_col: the feature column (vector or numeric).
        label_col: the label column.
        isotonic: fit a non-decreasing function; false fits a non-increasing (antitonic) one.
        feature_index: for a vector features column, the element to use.
        weight_col: an optional column of row weights.

    Returns:
        model: the fitted IsotonicRegressionModel.
    """

def join_tables(
    left: TableOutput | Stored,
    right: TableOutput | Stored,
    *,
    id: str | None = None,
    description: str | None = None,
    on: list[str] | ParamRef,
    right_on: list[str] | None | ParamRef = None,
    how: Literal["inner", "left", "right", "full", "semi", "anti"] | ParamRef = "inner",
    suffix: str | ParamRef = "_right",
) -> TableOutput:
    """Join two tables on equal key columns.

    The output has the key columns once (named as in ``left``; for ``full`` joins the key from
    whichever side has it), then the left table's other columns, then the right table's. A right
    column whose name the left table also has gets ``suffix``. ``semi`` keeps the left rows that
    have a match and ``anti`` those that have none (both only the left columns). Null keys
    never match.

    Args:
        left: the left table.
        right: the right table.
        on: the key columns of the left table (and of the right one, unless ``right_on`` is set).
        right_on: the right table's key columns, one per ``on`` column, when they are named
            differently.
        how: the join type: inner, left, right, full (outer), semi or anti.
        suffix: appended to the names of right columns that clash with left column names.

    Returns:
        data: a table
    """

class KmeansOutputs(NamedTuple):
    data: TableOutput
    model: ModelOutput

def kmeans(
    data: TableOutput | Stored,
    *,
    id: str | None = None,
    description: str | None = None,
    features_col: str | ParamRef = "features",
    k: int | ParamRef = 2,
    max_iter: int | ParamRef = 20,
    tol: float | ParamRef = 0.0001,
    init_mode: Literal["k-means||", "random"] | ParamRef = "k-means||",
    init_steps: int | ParamRef = 2,
    distance_measure: Literal["euclidean", "cosine"] | ParamRef = "euclidean",
    weight_col: str | None | ParamRef = None,
    cluster_col: str | ParamRef = "cluster",
    seed: int | ParamRef = 42,
) -> KmeansOutputs:
    """K-means clustering (Spark's KMeans): each row goes to the nearest of ``k`` centres.

    The run's details record the cluster sizes and the training cost (the sum of squared
    distances of the rows to their centres).

    Args:
        data: a table with a features vector column.
        features_col: the features vector column.
        k: the number of clusters (Spark may return fewer when the data has fewer distinct points).
        max_iter: the most iterations.
        tol: convergence: stop when no centre moves further than this.
        init_mode: how the first centres are chosen: k-means|| (a parallel k-means++) or random
            rows.
        init_steps: k-means|| only: its number of steps.
        distance_measure: the distance between rows and centres.
        weight_col: an optional column of row weights.
        cluster_col: the name of the cluster column (0 .. k-1) added to the output.
        seed: random seed (initial centres).

    Returns:
        data: a table
        model: the fitted KMeansModel.
    """

def kmeans_elbow(
    data: TableOutput | Stored,
    *,
    id: str | None = None,
    description: str | None = None,
    features_col: str | ParamRef = "features",
    k_min: int | ParamRef = 2,
    k_max: int | ParamRef = 10,
    max_iter: int | ParamRef = 20,
    seed: int | ParamRef = 42,
) -> TableOutput:
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

    Returns:
        scores: one row per k: ``k`` (int), ``cost`` (double), ``silhouette`` (double, -1 .. 1,
            higher is better; null when k-means found a single cluster).
    """

def ks_test(
    data: TableOutput | Stored,
    *,
    id: str | None = None,
    description: str | None = None,
    columns: list[str] | ParamRef,
    group_col: str | None | ParamRef = None,
    mean: float | ParamRef = 0.0,
    std: float | ParamRef = 1.0,
) -> TableOutput:
    """Kolmogorov-Smirnov test: each column against a normal distribution, or between two groups.

    Without ``group_col`` each column is tested against N(``mean``, ``std``) by Spark ML's
    ``KolmogorovSmirnovTest``. With it, the column's values in the group with the smaller
    ``group_col`` value are compared with those in the other group (exactly two groups): the
    statistic is the largest gap between the two empirical distribution functions, computed
    in Spark over the distinct values; the p-value is the asymptotic one (as scipy's
    ``ks_2samp(method='asymp')``). Missing values are left out.

    Args:
        data: the input table.
        columns: the numeric columns to test.
        group_col: a column with exactly two distinct values splitting the rows into two samples;
            unset for the one-sample test against a normal distribution.
        mean: one-sample test: the normal distribution's mean.
        std: one-sample test: the normal distribution's standard deviation.

    Returns:
        result: one row per column: ``column``, ``statistic``, ``p_value``, ``rows_1`` (the sample
            size; the first group's for two samples), ``rows_2`` (the second group's, null for one
            sample), ``group_1`` and ``group_2`` (the groups' values as text).
    """

class LdaOutputs(NamedTuple):
    data: TableOutput
    model: ModelOutput
    topics: TableOutput

def lda(
    data: TableOutput | Stored,
    vectorizer: ModelOutput | Stored | None = None,
    *,
    id: str | None = None,
    description: str | None = None,
    features_col: str | ParamRef = "features",
    k: int | ParamRef = 10,
    max_iter: int | ParamRef = 20,
    optimizer: Literal["online", "em"] | ParamRef = "online",
    subsampling_rate: float | ParamRef = 0.05,
    terms_per_topic: int | ParamRef = 10,
    topic_distribution_col: str | ParamRef = "topic_distribution",
    seed: int | ParamRef = 42,
) -> LdaOutputs:
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

    Returns:
        data: a table
        model: the fitted LDAModel.
        topics: one row per topic and term: ``topic`` (int), ``rank`` (int, 1 = the topic's most
            weighted term), ``term_index`` (int), ``term`` (string; null without ``vectorizer``) and
            ``weight`` (double, the term's probability within the topic).
    """

def lift_gain_table(
    data: TableOutput | Stored,
    *,
    id: str | None = None,
    description: str | None = None,
    label_col: str | ParamRef = "label",
    probability_col: str | ParamRef = "probability",
    bins: int | ParamRef = 10,
    plot: bool | ParamRef = True,
) -> TableOutput:
    """Lift and cumulative-gain table of a binary classifier: rows cut into equal-size score buckets.

    The cut-offs are the score's exact 1/bins, 2/bins, ... quantiles (the lowest score with at
    least that share of the rows at or below it), taken from the same one-aggregation score
    histogram as ``binary_classification_evaluation``, so each bucket holds about rows/bins
    rows; equal scores (and scores closer than 2**-16 of their magnitude) always share a
    bucket, so with ties buckets are uneven and empty ones are left out. Bucket 1 holds the
    highest scores. With ``plot``, ``gain_chart.png`` shows the cumulative gain against the
    share of rows targeted, and the lift per bucket.

    Args:
        data: a scored table with a 0/1 label and the classifier's probability (or a numeric score).
        label_col: the true label column (0 or 1).
        probability_col: the probability vector column (P(class 1) is element 1) or a numeric score
            column.
        bins: the number of buckets (10 for deciles).
        plot: save the gain chart as ``gain_chart.png``.

    Returns:
        lift: one row per bucket, highest scores first: ``bucket``, ``rows``, ``positives``,
            ``min_score``, ``max_score``, ``response_rate`` (positives / rows), ``lift`` (response
            rate / overall positive rate), ``cumulative_rows``, ``cumulative_positives``,
            ``cumulative_lift`` and ``cumulative_gain`` (the share of all positives in this bucket
            and the ones above it).
    """

def limit_rows(
    data: TableOutput | Stored,
    *,
    id: str | None = None,
    description: str | None = None,
    rows: int | ParamRef = 1000,
    order_by: list[str] | None | ParamRef = None,
    descending: bool | ParamRef = False,
) -> TableOutput:
    """Keep at most a number of rows: the first ones in an order, or any ones (e.g. a preview).

    Without ``order_by`` which rows are kept is up to Spark (usually the first partitions'
    rows); with it, the result is the top ``rows`` rows in that order.

    Args:
        data: the input table.
        rows: the most rows to keep.
        order_by: the columns that decide which rows come first; empty keeps any rows.
        descending: sort ``order_by`` from the largest value down (nulls last) instead of up (nulls
            first).

    Returns:
        data: a table
    """

def linear_regression(
    data: TableOutput | Stored,
    *,
    id: str | None = None,
    description: str | None = None,
    features_col: str | ParamRef = "features",
    label_col: str | ParamRef = "label",
    max_iter: int | ParamRef = 100,
    reg_param: float | ParamRef = 0.0,
    elastic_net_param: float | ParamRef = 0.0,
    fit_intercept: bool | ParamRef = True,
    standardization: bool | ParamRef = True,
    solver: Literal["auto", "normal", "l-bfgs"] | ParamRef = "auto",
    weight_col: str | None | ParamRef = None,
) -> ModelOutput:
    """Linear least-squares regression with optional L1/L2 regularisation (Spark's LinearRegression).

    Args:
        data: training table with a features vector column and a numeric label.
        features_col: the features vector column.
        label_col: the label column.
        max_iter: the most optimiser iterations (l-bfgs).
        reg_param: regularisation strength.
        elastic_net_param: the L1 share of the regularisation (0 = ridge, 1 = lasso).
        fit_intercept: fit an intercept term.
        standardization: standardise the features before fitting (coefficients are reported
            unscaled).
        solver: normal equations, l-bfgs, or auto (normal for up to 4096 features).
        weight_col: an optional column of row weights.

    Returns:
        model: the fitted LinearRegressionModel.
    """

def linear_svc(
    data: TableOutput | Stored,
    *,
    id: str | None = None,
    description: str | None = None,
    features_col: str | ParamRef = "features",
    label_col: str | ParamRef = "label",
    max_iter: int | ParamRef = 100,
    reg_param: float | ParamRef = 0.0,
    fit_intercept: bool | ParamRef = True,
    standardization: bool | ParamRef = True,
    threshold: float | ParamRef = 0.0,
    weight_col: str | None | ParamRef = None,
) -> ModelOutput:
    """Linear support vector machine for binary classification (hinge loss; Spark's LinearSVC).

    The model has ``rawPrediction`` (the margin) and ``prediction``, but no probability.

    Args:
        data: training table with a features vector column and a 0/1 label.
        features_col: the features vector column.
        label_col: the label column (0 or 1).
        max_iter: the most optimiser (OWL-QN) iterations.
        reg_param: L2 regularisation strength.
        fit_intercept: fit an intercept term.
        standardization: standardise the features before fitting (coefficients are reported
            unscaled).
        threshold: predict 1 when the margin exceeds it.
        weight_col: an optional column of row weights.

    Returns:
        model: the fitted LinearSVCModel.
    """

def load_model(
    *,
    id: str | None = None,
    description: str | None = None,
    path: str | ParamRef,
) -> ModelOutput:
    """Load a saved Spark ML model (as ``save_model`` or a pipeline output writes it).

    The model's class is read from the saved metadata, so any Spark ML model, pipeline or
    xgboost.spark model loads without naming its type.

    Args:
        path: where the model is: a local path or a file://, hdfs:// (or other Hadoop) URL.

    Returns:
        model: the loaded model.
    """

def logistic_regression(
    data: TableOutput | Stored,
    *,
    id: str | None = None,
    description: str | None = None,
    features_col: str | ParamRef = "features",
    label_col: str | ParamRef = "label",
    max_iter: int | ParamRef = 100,
    reg_param: float | ParamRef = 0.0,
    elastic_net_param: float | ParamRef = 0.0,
    fit_intercept: bool | ParamRef = True,
    standardization: bool | ParamRef = True,
    threshold: float | ParamRef = 0.5,
    family: Literal["auto", "binomial", "multinomial"] | ParamRef = "auto",
    weight_col: str | None | ParamRef = None,
) -> ModelOutput:
    """Logistic regression (binary or multinomial), Spark's LogisticRegression.

    Args:
        data: training table with a features vector column and a numeric label (0, 1, ...).
        features_col: the features vector column.
        label_col: the label column.
        max_iter: the most optimiser iterations.
        reg_param: regularisation strength.
        elastic_net_param: the L1 share of the regularisation (0 = L2 only, 1 = L1 only).
        fit_intercept: fit an intercept term.
        standardization: standardise the features before fitting (coefficients are reported
            unscaled).
        threshold: binary classification: predict 1 when P(1) exceeds it.
        family: the label distribution; auto picks binomial for two classes.
        weight_col: an optional column of row weights.

    Returns:
        model: the fitted LogisticRegressionModel.
    """

class MaxAbsScalerOutputs(NamedTuple):
    data: TableOutput
    model: ModelOutput

def max_abs_scaler(
    data: TableOutput | Stored,
    *,
    id: str | None = None,
    description: str | None = None,
    input_col: str | ParamRef = "features",
    output_col: str | ParamRef = "scaled_features",
) -> MaxAbsScalerOutputs:
    """Divide each element of a vector column by its largest absolute value, mapping it into [-1, 1].

    Nothing is shifted, so zeros stay zero and sparse vectors stay sparse.

    Args:
        data: the table to fit on and transform.
        input_col: the vector column to scale (make one with vector_assembler).
        output_col: the new column for the scaled vector.

    Returns:
        data: a table
        model: the fitted MaxAbsScalerModel, to scale other tables the same way.
    """

class MinMaxScalerOutputs(NamedTuple):
    data: TableOutput
    model: ModelOutput

def min_max_scaler(
    data: TableOutput | Stored,
    *,
    id: str | None = None,
    description: str | None = None,
    input_col: str | ParamRef = "features",
    output_col: str | ParamRef = "scaled_features",
    min_value: float | ParamRef = 0.0,
    max_value: float | ParamRef = 1.0,
) -> MinMaxScalerOutputs:
    """Rescale each element of a vector column linearly to [min_value, max_value].

    An element that is constant in the fitting data maps to the middle of the range.

    Args:
        data: the table to fit on and transform.
        input_col: the vector column to rescale (make one with vector_assembler).
        output_col: the new column for the rescaled vector.
        min_value: the lower end of the target range.
        max_value: the upper end of the target range (greater than min_value).

    Returns:
        data: a table
        model: the fitted MinMaxScalerModel, to rescale other tables the same way.
    """

def mlp_classifier(
    data: TableOutput | Stored,
    *,
    id: str | None = None,
    description: str | None = None,
    features_col: str | ParamRef = "features",
    label_col: str | ParamRef = "label",
    hidden_layers: list[int] | None | ParamRef = None,
    max_iter: int | ParamRef = 100,
    solver: Literal["l-bfgs", "gd"] | ParamRef = "l-bfgs",
    step_size: float | ParamRef = 0.03,
    block_size: int | ParamRef = 128,
    tol: float | ParamRef = 1e-06,
    seed: int | ParamRef = 42,
) -> ModelOutput:
    """Multilayer perceptron (feed-forward neural network) classifier (Spark's
    MultilayerPerceptronClassifier).

    The layers are: as many inputs as the features vector has elements, the hidden layers
    (sigmoid units), and one softmax output per class (the largest label + 1).

    Args:
        data: training table with a features vector column and a class-index label (0, 1, ...).
        features_col: the features vector column.
        label_col: the label column.
        hidden_layers: the sizes of the hidden layers, e.g. [16, 8]; unset: one hidden layer as wide
            as the input.
        max_iter: the most optimiser iterations.
        solver: the optimiser: l-bfgs or (mini-batch) gradient descent.
        step_size: the learning rate of gradient descent (gd only).
        block_size: rows stacked into one matrix for the computation.
        tol: the convergence tolerance.
        seed: random seed (initial weights).

    Returns:
        model: the fitted MultilayerPerceptronClassificationModel.
    """

class MulticlassEvaluationOutputs(NamedTuple):
    metrics: MetricsOutput
    per_class: TableOutput
    confusion_matrix: TableOutput

def multiclass_evaluation(
    data: TableOutput | Stored,
    *,
    id: str | None = None,
    description: str | None = None,
    label_col: str | ParamRef = "label",
    prediction_col: str | ParamRef = "prediction",
    probability_col: str | None | ParamRef = "probability",
    plot: bool | ParamRef = True,
) -> MulticlassEvaluationOutputs:
    """Evaluate a multiclass classifier's scored table: accuracy, weighted scores, log loss, per-class
    scores.

    The confusion counts are one Spark aggregation; every score follows from them as Spark's
    ``MulticlassClassificationEvaluator`` defines it: per class, precision = TP / predicted
    (0 when never predicted), recall = TP / support, F1 their harmonic mean; the weighted
    scores average them weighted by each class's support. Log loss is the mean of
    -log(max(p[label], 1e-15)), which needs integer labels 0..n-1 indexing the probability
    vector. With ``plot``, ``confusion_matrix.png`` shows the counts (up to 50 classes).

    Metrics: ``accuracy``, ``weighted_precision``, ``weighted_recall``, ``weighted_f1``,
    ``macro_f1`` (the plain mean of the F1 of the classes that occur as labels), ``log_loss``
    (only with ``probability_col``), ``rows``, ``classes``.

    Args:
        data: a scored table with the true label and the predicted label.
        label_col: the true label column (numeric class ids).
        prediction_col: the predicted label column.
        probability_col: the class-probability vector column, for log loss; unset to skip log loss.
        plot: save the confusion matrix as ``confusion_matrix.png``.

    Returns:
        metrics: the metrics dict.
        per_class: one row per class (true or predicted): ``label``, ``support`` (true rows),
            ``predicted``, ``true_positives``, ``precision``, ``recall``, ``f1``.
        confusion_matrix: ``label``, ``prediction``, ``count`` for every pair that occurs.
    """

def naive_bayes(
    data: TableOutput | Stored,
    *,
    id: str | None = None,
    description: str | None = None,
    features_col: str | ParamRef = "features",
    label_col: str | ParamRef = "label",
    model_type: Literal["multinomial", "complement", "bernoulli", "gaussian"] | ParamRef = "multinomial",
    smoothing: float | ParamRef = 1.0,
    weight_col: str | None | ParamRef = None,
) -> ModelOutput:
    """Naive Bayes classifier, binary or multiclass (Spark's NaiveBayes).

    ``multinomial`` and ``complement`` suit counts (e.g. term frequencies; features must be
    non-negative), ``bernoulli`` 0/1 features, ``gaussian`` continuous features.

    Args:
        data: training table with a features vector column and a numeric label (0, 1, ...).
        features_col: the features vector column.
        label_col: the label column.
        model_type: the features' distribution given the class.
        smoothing: additive (Laplace) smoothing of the counts (multinomial, complement, bernoulli).
        weight_col: an optional column of row weights.

    Returns:
        model: the fitted NaiveBayesModel.
    """

def ngram(
    data: TableOutput | Stored,
    *,
    id: str | None = None,
    description: str | None = None,
    input_col: str | ParamRef = "tokens",
    output_col: str | ParamRef = "ngrams",
    n: int | ParamRef = 2,
) -> TableOutput:
    """Turn token lists into lists of n consecutive tokens joined by spaces, e.g. bigrams "new york".

    A list shorter than n gives an empty list.

    Args:
        data: the input table.
        input_col: the token column (an array of strings).
        output_col: the new column for the n-grams (an array of strings).
        n: how many tokens each n-gram joins.

    Returns:
        data: a table
    """

def normalizer(
    data: TableOutput | Stored,
    *,
    id: str | None = None,
    description: str | None = None,
    input_col: str | ParamRef = "features",
    output_col: str | ParamRef = "normalized_features",
    p: float | ParamRef = 2.0,
) -> TableOutput:
    """Scale each row's vector to unit p-norm (p = 2: Euclidean length 1; p = 1: absolute values sum to
    1).

    A zero vector stays zero.

    Args:
        data: the input table.
        input_col: the vector column to normalise (make one with vector_assembler).
        output_col: the new column for the normalised vector.
        p: the norm's order.

    Returns:
        data: a table
    """

class OneHotEncoderOutputs(NamedTuple):
    data: TableOutput
    model: ModelOutput

def one_hot_encoder(
    data: TableOutput | Stored,
    *,
    id: str | None = None,
    description: str | None = None,
    input_cols: list[str] | ParamRef,
    output_cols: list[str] | None | ParamRef = None,
    suffix: str | ParamRef = "_vec",
    drop_last: bool | ParamRef = True,
    handle_invalid: Literal["error", "keep"] | ParamRef = "keep",
) -> OneHotEncoderOutputs:
    """Encode category indices as one-hot (sparse) vectors.

    The input columns hold non-negative integer indices (index string columns with
    string_indexer first).

    Args:
        data: the table to fit on and transform.
        input_cols: the category-index columns to encode.
        output_cols: names of the vector columns, one per input column; empty means input name +
            suffix.
        suffix: appended to each input column's name when output_cols is empty.
        drop_last: leave out the last slot (its vector is all zeros), so the columns are not
            collinear; with ``keep`` the last slot is the one for unseen indices.
        handle_invalid: what to do with indices unseen when fitting: give them an extra slot
            (``keep``) or fail (``error``).

    Returns:
        data: a table
        model: the fitted OneHotEncoderModel, to encode other tables the same way.
    """

def one_vs_rest(
    data: TableOutput | Stored,
    *,
    id: str | None = None,
    description: str | None = None,
    features_col: str | ParamRef = "features",
    label_col: str | ParamRef = "label",
    base_learner: Literal["logistic_regression", "linear_svc", "gbdt"] | ParamRef = "logistic_regression",
    max_iter: int | ParamRef = 100,
    reg_param: float | ParamRef = 0.0,
    num_rounds: int | ParamRef = 20,
    max_depth: int | ParamRef = 5,
    step_size: float | ParamRef = 0.1,
    parallelism: int | ParamRef = 1,
    seed: int | ParamRef = 42,
) -> ModelOutput:
    """Multiclass classification with one binary classifier per class (Spark's OneVsRest).

    Class ``k``'s classifier learns "``k`` against the rest"; a row gets the class whose
    classifier is most confident. Makes binary-only learners (linear SVM, GBDT) multiclass.

    Args:
        data: training table with a features vector column and a class-index label (0, 1, ...).
        features_col: the features vector column.
        label_col: the label column.
        base_learner: the binary classifier fitted per class.
        max_iter: logistic_regression and linear_svc: the most optimiser iterations.
        reg_param: logistic_regression and linear_svc: L2 regularisation strength.
        num_rounds: gbdt: boosting rounds (trees) per class.
        max_depth: gbdt: the depth of each tree.
        step_size: gbdt: the learning rate of each tree.
        parallelism: how many per-class classifiers are fitted at the same time.
        seed: gbdt: random seed.

    Returns:
        model: the fitted OneVsRestModel.
    """

class OnlineStandardScalerOutputs(NamedTuple):
    data: TableOutput
    model: ModelOutput

def online_standard_scaler(
    data: TableOutput | Stored,
    model: ModelOutput | Stored | None = None,
    *,
    id: str | None = None,
    description: str | None = None,
    input_col: str | ParamRef = "features",
    output_col: str | ParamRef = "scaled_features",
    with_mean: bool | ParamRef = True,
    with_std: bool | ParamRef = True,
) -> OnlineStandardScalerOutputs:
    """Standardise a vector column by its running mean and standard deviation.

    The window's count, mean and variance (one aggregation) are merged into the input model's, so
    after any number of windows the scaler equals one fitted on all of them at once. The window is
    scaled by the merged figures. A feature with zero deviation scales to 0.

    Args:
        data: the window with the scaled column.
        model: the scaler with the merged moments.
        input_col: the vector column to scale.
        output_col: the scaled vector column to add.
        with_mean: subtract the running mean.
        with_std: divide by the running (sample) standard deviation.

    Returns:
        data: a table
        model: a model
    """

class OutlierClippingOutputs(NamedTuple):
    data: TableOutput
    bounds: TableOutput

def outlier_clipping(
    data: TableOutput | Stored,
    fitted_bounds: TableOutput | Stored | None = None,
    *,
    id: str | None = None,
    description: str | None = None,
    input_cols: list[str] | None | ParamRef = None,
    method: Literal["iqr", "z_score"] | ParamRef = "iqr",
    iqr_multiplier: float | ParamRef = 1.5,
    z_threshold: float | ParamRef = 3.0,
    relative_error: float | ParamRef = 0.001,
) -> OutlierClippingOutputs:
    """Clip outliers in numeric columns to per-column bounds computed from the table (winsorising).

    ``iqr``: the bounds are the Tukey fences Q1 - m·IQR and Q3 + m·IQR (m = iqr_multiplier);
    ``z_score``: mean ± z·(sample standard deviation). Values below the lower bound become
    the lower bound, values above the upper bound the upper bound; nulls and NaN are left
    alone. Integer columns stay integer (their bounds are rounded inwards). To clip another
    table (test data) with the same bounds, connect this node's ``bounds`` output to that
    node's ``fitted_bounds`` input.

    Args:
        data: the input table.
        fitted_bounds: optional bounds to apply instead of computing them: an earlier
            outlier_clipping's ``bounds`` output (columns column, lower, upper).
        input_cols: the numeric columns to clip; empty means every numeric column (with
            fitted_bounds: every column it has bounds for).
        method: how the bounds are computed.
        iqr_multiplier: iqr: how many interquartile ranges the fences lie beyond the quartiles.
        z_threshold: z_score: how many standard deviations the bounds lie from the mean.
        relative_error: iqr: precision of the quartiles (0 computes them exactly, which is
            expensive).

    Returns:
        data: a table
        bounds: one row per clipped column: column, lower, upper (null where the column has no
            values).
    """

class PcaOutputs(NamedTuple):
    data: TableOutput
    model: ModelOutput

def pca(
    data: TableOutput | Stored,
    *,
    id: str | None = None,
    description: str | None = None,
    input_col: str | ParamRef = "features",
    output_col: str | ParamRef = "pca_features",
    k: int | ParamRef = 2,
) -> PcaOutputs:
    """Project a vector column onto its top k principal components (Spark's PCA).

    The data is not centred before projecting. The share of variance each component explains
    is logged and listed in the run report.

    Args:
        data: the table to fit on and transform.
        input_col: the vector column to project (standardise it first when the scales differ).
        output_col: the new column for the k-element projection.
        k: the number of principal components (at most the vector's size).

    Returns:
        data: a table
        model: the fitted PCAModel, to project other tables the same way.
    """

def percentiles(
    data: TableOutput | Stored,
    *,
    id: str | None = None,
    description: str | None = None,
    columns: list[str] | None | ParamRef = None,
    probabilities: list[float] | None | ParamRef = None,
    method: Literal["approximate", "exact"] | ParamRef = "approximate",
    accuracy: int | ParamRef = 10000,
) -> TableOutput:
    """Percentiles of numeric columns, approximate (scalable) or exact (interpolated).

    ``approximate`` is Spark's ``percentile_approx``: each result is an actual value of the
    column whose rank is within ``rows / accuracy`` of the exact rank. ``exact`` is Spark's
    ``percentile``: linear interpolation between the two nearest ranks (as numpy's default);
    it holds each column's values in memory per task, so keep it to moderate tables.

    Args:
        data: the input table.
        columns: the numeric columns; empty means every numeric column.
        probabilities: the percentiles to compute, as fractions between 0 and 1; empty means 0.01,
            0.05, 0.25, 0.5, 0.75, 0.95 and 0.99.
        method: ``approximate`` or ``exact``.
        accuracy: approximate: higher is more accurate and uses more memory (relative error
            1/accuracy).

    Returns:
        percentiles: one row per probability: ``percentile`` (the fraction), then one double column
            per input column.
    """

def pipeline_model(
    model: ModelOutput | Stored,
    prep_1: ModelOutput | Stored | None = None,
    prep_2: ModelOutput | Stored | None = None,
    prep_3: ModelOutput | Stored | None = None,
    vector_prep: ModelOutput | Stored | None = None,
    data: TableOutput | Stored | None = None,
    *,
    id: str | None = None,
    description: str | None = None,
    assemble_cols: list[str] | None | ParamRef = None,
    features_col: str | ParamRef = "features",
    handle_invalid: Literal["error", "skip", "keep"] | ParamRef = "keep",
) -> ModelOutput:
    """Compose fitted stages into one PipelineModel that goes from raw columns to predictions.

    The stages run in this order: ``prep_1``, ``prep_2``, ``prep_3`` (fitted column
    transformers such as ``imputer``, ``string_indexer``, ``one_hot_encoder``), a
    VectorAssembler of ``assemble_cols`` into ``features_col`` (when ``assemble_cols`` is
    set), ``vector_prep`` (a fitted vector transformer such as ``standard_scaler``), then
    ``model``. The result is what the model registry stores and the PMML export converts: one
    model whose input is the raw table. The stages' columns must chain: the vector that
    reaches ``model`` must be its features column. With ``data`` (a table with the raw
    columns, e.g. the held-out split), the composition is checked against its schema, which
    runs no Spark job. ``details`` lists the raw input columns.

    Args:
        model: the composed PipelineModel.
        prep_1: the first fitted column transformer.
        prep_2: the second fitted column transformer.
        prep_3: the third fitted column transformer.
        vector_prep: a fitted transformer of the assembled vector (a scaler, a selector).
        data: a table with the raw input columns to check the composed model against.
        assemble_cols: the columns to assemble into ``features_col``, in order; empty adds no
            assembler.
        features_col: the assembled vector column.
        handle_invalid: the assembler's treatment of null/NaN values: keep them as NaN, skip the row
            or fail.

    Returns:
        model: a model
    """

def pivot_table(
    data: TableOutput | Stored,
    *,
    id: str | None = None,
    description: str | None = None,
    index: list[str] | ParamRef,
    pivot_col: str | ParamRef,
    values_col: str | ParamRef,
    aggregate: Literal["sum", "avg", "min", "max", "count"] | ParamRef = "sum",
    pivot_values: list[str] | None | ParamRef = None,
    prefix: str | ParamRef = "",
    fill_value: float | None | ParamRef = None,
) -> TableOutput:
    """Turn the values of one column into columns: one row per index key, one column per pivot value.

    Each cell aggregates ``values_col`` over the rows with that key and pivot value. Without
    ``pivot_values`` Spark finds the distinct values first (one extra pass, at most 10 000
    values); list them to skip that pass and fix the output's columns.

    Args:
        data: the input table.
        index: the columns that identify an output row.
        pivot_col: the column whose values become columns.
        values_col: the column aggregated into the cells.
        aggregate: how the cell's values are combined.
        pivot_values: the pivot values to make columns for, as text, in order; empty means all of
            them, sorted.
        prefix: put before each new column's name (e.g. ``month_`` gives ``month_1``).
        fill_value: the value of cells with no rows; empty leaves them null.

    Returns:
        data: a table
    """

def polynomial_expansion(
    data: TableOutput | Stored,
    *,
    id: str | None = None,
    description: str | None = None,
    input_col: str | ParamRef = "features",
    output_col: str | ParamRef = "expanded_features",
    degree: int | ParamRef = 2,
) -> TableOutput:
    """Expand a vector into all products of its elements up to a degree, e.g. (x, y) -> (x, x², y, xy,
    y²).

    The size grows fast: n elements at degree d give C(n + d, d) - 1 elements.

    Args:
        data: the input table.
        input_col: the vector column to expand.
        output_col: the new column for the expanded vector.
        degree: the highest total degree of the products.

    Returns:
        data: a table
    """

def power_iteration_clustering(
    edges: TableOutput | Stored,
    *,
    id: str | None = None,
    description: str | None = None,
    src_col: str | ParamRef = "src",
    dst_col: str | ParamRef = "dst",
    weight_col: str | None | ParamRef = "weight",
    k: int | ParamRef = 2,
    max_iter: int | ParamRef = 20,
    init_mode: Literal["random", "degree"] | ParamRef = "random",
) -> TableOutput:
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

    Returns:
        assignments: one row per vertex: ``id`` (bigint) and ``cluster`` (int, 0 .. k-1).
    """

def predict(
    model: ModelOutput | Stored,
    data: TableOutput | Stored,
    *,
    id: str | None = None,
    description: str | None = None,
    score_col: str | ParamRef = "score",
) -> TableOutput:
    """Apply a fitted model (classifier, regressor, feature transformer or pipeline) to a table.

    For a binary classifier the output also gets ``score_col``: P(class 1) as a double, read
    from the probability vector, ready for ranking, thresholds and evaluation.

    Args:
        model: the fitted model.
        data: the table to apply it to; it needs the columns the model was fitted on.
        score_col: binary classifiers: the name of the P(class 1) column to add; empty adds none.

    Returns:
        data: a table
    """

def prefix_span(
    data: TableOutput | Stored,
    *,
    id: str | None = None,
    description: str | None = None,
    sequence_col: str | ParamRef = "sequence",
    min_support: float | ParamRef = 0.1,
    max_pattern_length: int | ParamRef = 10,
    max_local_proj_db_size: int | ParamRef = 32000000,
) -> TableOutput:
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

    Returns:
        patterns: ``sequence`` (array of arrays), ``freq`` (bigint, sequences containing it),
            ``support`` (double, freq / sequences) and ``length`` (int, items in the pattern), most
            frequent first.
    """

def progressive_evaluation(
    model: ModelOutput | Stored,
    data: TableOutput | Stored,
    history: MetricsOutput | Stored | None = None,
    *,
    id: str | None = None,
    description: str | None = None,
    label_col: str | ParamRef = "label",
    probability_col: str | ParamRef = "probability",
    keep_windows: int | ParamRef = 24,
) -> MetricsOutput:
    """Progressive validation: score this window with the model as it was before learning it.

    Wire ``model`` to the previous window's model (the one ``ftrl_train`` continues from), not to
    this window's, so every row is scored before the model has seen it. The window's AUC and log
    loss are added to ``history`` (the previous window's metrics): the running log loss over all
    rows and the AUCs of the last ``keep_windows`` windows.

    Args:
        model: the binary classifier before it learns this window.
        data: the window: the model's input columns and a 0/1 label.
        history: optional: the metrics of the previous window's progressive_evaluation.
        label_col: the label column, 0 or 1.
        probability_col: the probability vector column the model writes.
        keep_windows: how many recent window AUCs the metrics keep.

    Returns:
        metrics: window_auc (None when the window holds one class), window_log_loss, window_rows,
            rows, windows, log_loss (over all rows), recent_auc (a list) and mean_recent_auc.
    """

class QuantileDiscretizerOutputs(NamedTuple):
    data: TableOutput
    model: ModelOutput

def quantile_discretizer(
    data: TableOutput | Stored,
    *,
    id: str | None = None,
    description: str | None = None,
    input_cols: list[str] | ParamRef,
    output_cols: list[str] | None | ParamRef = None,
    suffix: str | ParamRef = "_bucket",
    num_buckets: int | ParamRef = 10,
    relative_error: float | ParamRef = 0.001,
    handle_invalid: Literal["error", "skip", "keep"] | ParamRef = "keep",
) -> QuantileDiscretizerOutputs:
    """Bucket numeric columns by quantiles: bucket i holds the values between the i-th and (i+1)-th
    quantile.

    Bucket numbers are doubles 0, 1, ...; fewer buckets are made where the column has fewer
    distinct values. Null and NaN values go to an extra bucket (``keep``), are dropped
    (``skip``) or fail the run (``error``).

    Args:
        data: the table to fit on and transform.
        input_cols: the numeric columns to bucket.
        output_cols: names of the bucket columns, one per input column; empty means input name +
            suffix.
        suffix: appended to each input column's name when output_cols is empty.
        num_buckets: how many buckets to make per column.
        relative_error: precision of the quantiles (0 computes them exactly, which is expensive).
        handle_invalid: what to do with null/NaN values.

    Returns:
        data: a table
        model: the fitted Bucketizer, to bucket other tables with the same splits.
    """

class RFormulaOutputs(NamedTuple):
    data: TableOutput
    model: ModelOutput

_RFormulaStringOrderType = Literal["frequencyDesc", "frequencyAsc", "alphabetDesc", "alphabetAsc"]

def r_formula(
    data: TableOutput | Stored,
    *,
    id: str | None = None,
    description: str | None = None,
    formula: str | ParamRef,
    features_col: str | ParamRef = "features",
    label_col: str | ParamRef = "label",
    handle_invalid: Literal["error", "skip", "keep"] | ParamRef = "error",
    string_order_type: _RFormulaStringOrderType | ParamRef = "frequencyDesc",
    force_index_label: bool | ParamRef = False,
) -> RFormulaOutputs:
    """Build the features vector and the label from an R model formula, e.g. ``bought ~ duration +
    city``.

    String columns are indexed and one-hot encoded (dropping the last category), numeric
    columns are used as they are. Supported: ``~`` (label ~ terms), ``+`` (add), ``-``
    (remove a term), ``.`` (every column but the label) and ``:`` (interaction). A string
    label is indexed to 0, 1, ...

    Args:
        data: the table to fit on and transform.
        formula: the R formula.
        features_col: the new features vector column.
        label_col: the label column to create.
        handle_invalid: what to do with nulls and with categories unseen when fitting: an extra
            category (``keep``), drop the row (``skip``) or fail (``error``).
        string_order_type: how a string column's values are ordered before indexing (the last is
            dropped).
        force_index_label: index the label even when it is numeric.

    Returns:
        data: a table
        model: the fitted RFormulaModel, to build the same features from other tables.
    """

def random_forest_classifier(
    data: TableOutput | Stored,
    *,
    id: str | None = None,
    description: str | None = None,
    features_col: str | ParamRef = "features",
    label_col: str | ParamRef = "label",
    num_trees: int | ParamRef = 20,
    max_depth: int | ParamRef = 5,
    subsampling_rate: float | ParamRef = 1.0,
    feature_subset_strategy: Literal["auto", "all", "onethird", "sqrt", "log2"] | ParamRef = "auto",
    min_instances_per_node: int | ParamRef = 1,
    max_bins: int | ParamRef = 32,
    seed: int | ParamRef = 42,
) -> ModelOutput:
    """Random forest classifier (Spark's RandomForestClassifier), binary or multiclass.

    Args:
        data: training table with a features vector column and a numeric label (0, 1, ...).
        features_col: the features vector column.
        label_col: the label column.
        num_trees: number of trees.
        max_depth: the depth of each tree.
        subsampling_rate: the share of rows each tree is trained on.
        feature_subset_strategy: how many features each split considers (auto = sqrt for
            classification).
        min_instances_per_node: the fewest rows a leaf may hold.
        max_bins: the most bins continuous features are discretised into.
        seed: random seed (bootstrap and feature sampling).

    Returns:
        model: the fitted RandomForestClassificationModel.
    """

def random_forest_regressor(
    data: TableOutput | Stored,
    *,
    id: str | None = None,
    description: str | None = None,
    features_col: str | ParamRef = "features",
    label_col: str | ParamRef = "label",
    num_trees: int | ParamRef = 20,
    max_depth: int | ParamRef = 5,
    subsampling_rate: float | ParamRef = 1.0,
    feature_subset_strategy: Literal["auto", "all", "onethird", "sqrt", "log2"] | ParamRef = "auto",
    min_instances_per_node: int | ParamRef = 1,
    max_bins: int | ParamRef = 32,
    seed: int | ParamRef = 42,
) -> ModelOutput:
    """Random forest regressor (Spark's RandomForestRegressor).

    Args:
        data: training table with a features vector column and a numeric label.
        features_col: the features vector column.
        label_col: the label column.
        num_trees: number of trees.
        max_depth: the depth of each tree.
        subsampling_rate: the share of rows each tree is trained on.
        feature_subset_strategy: how many features each split considers (auto = onethird for
            regression).
        min_instances_per_node: the fewest rows a leaf may hold.
        max_bins: the most bins continuous features are discretised into.
        seed: random seed (bootstrap and feature sampling).

    Returns:
        model: the fitted RandomForestRegressionModel.
    """

class RandomSearchOutputs(NamedTuple):
    model: ModelOutput
    best: MetricsOutput
    trials: TableOutput

def random_search(
    data: TableOutput | Stored,
    *,
    id: str | None = None,
    description: str | None = None,
    estimator: str | ParamRef,
    grid: dict[str, list[Any]] | ParamRef,
    n_trials: int | ParamRef = 10,
    fixed: dict[str, Any] | None | ParamRef = None,
    metric: Literal["auc_roc", "auc_pr", "f1", "accuracy", "rmse", "mae", "r2"] | ParamRef = "auc_roc",
    folds: int | ParamRef = 3,
    seed: int | ParamRef = 42,
) -> RandomSearchOutputs:
    """Random hyper-parameter search: ``n_trials`` distinct combinations drawn from the grid, scored by
    k-fold CV.

    Like ``grid_search``, but only ``n_trials`` combinations, drawn without repetition (all
    of them when the grid has no more), so large grids stay affordable. The same seed draws
    the same combinations.

    Args:
        data: the training table, as the estimator takes it (features vector and label).
        estimator: the name of the learner component to tune.
        grid: the values to draw from per parameter, e.g. ``{"max_depth": [2, 3, 4, 5, 6]}``.
        n_trials: how many combinations to try.
        fixed: parameter values held in every trial.
        metric: the score compared: binary classifiers auc_roc, auc_pr, f1, accuracy; regressors
            rmse, mae, r2.
        folds: the number of cross-validation folds (rows are assigned at random).
        seed: random seed of the draw and of the fold assignment.

    Returns:
        model: the estimator refitted on all the data with the best parameters.
        best: ``metric``, ``greater_is_better``, ``best_score`` (mean over the folds), ``best_std``,
            ``best_params`` (the winning grid values), ``best_trial``, ``trials`` and ``splits``.
        trials: one row per trial: ``trial`` (int), ``params`` (its grid values as JSON),
            ``param_<key>`` per grid key, ``mean_score`` and ``std_score`` over the splits,
            ``fold_scores`` (array, one score per split), ``seconds`` and ``rank`` (int, 1 = best).
    """

class RandomSplitOutputs(NamedTuple):
    train: TableOutput
    test: TableOutput

def random_split(
    data: TableOutput | Stored,
    *,
    id: str | None = None,
    description: str | None = None,
    ratio: float | ParamRef = 0.85,
    seed: int | ParamRef = 42,
    stratify_by: str | None | ParamRef = None,
) -> RandomSplitOutputs:
    """Split a table at random into a training and a test part.

    Without ``stratify_by`` each row goes to ``train`` with probability ``ratio``
    (``DataFrame.randomSplit``). With it, every value of that column (e.g. the label) is split
    exactly: ``round(ratio * n)`` of its ``n`` rows go to ``train``, chosen by a seeded random
    order, so both parts keep the column's proportions.

    Args:
        data: the input table.
        ratio: the share of rows that go to the training part.
        seed: random seed; the same seed splits the same table the same way.
        stratify_by: a column whose values are split separately and exactly (usually the label).

    Returns:
        train: the training part.
        test: the test part.
    """

def ranking_evaluation(
    data: TableOutput | Stored,
    *,
    id: str | None = None,
    description: str | None = None,
    prediction_col: str | ParamRef = "prediction",
    label_col: str | ParamRef = "label",
    k: int | ParamRef = 10,
) -> MetricsOutput:
    """Evaluate rankings (e.g. recommendations): NDCG@k, MAP, precision@k and recall@k.

    Each row holds one query's (user's) ranked predicted items and its relevant items, both
    arrays of numeric ids; Spark ML's ``RankingEvaluator`` averages each metric over the rows
    (binary relevance). A null array counts as empty. precision@k divides the hits in the top
    k by k; recall@k by the number of relevant items; MAP divides each row's summed
    precisions at the hits by its number of relevant items (MAP@k by min(k, relevant)).

    Metrics: ``ndcg_at_k``, ``map``, ``map_at_k``, ``precision_at_k``, ``recall_at_k``,
    ``k``, ``rows``.

    Args:
        data: a table with one row per query: the predicted ranking and the relevant items.
        prediction_col: the ranked predicted item ids (an array of numbers, best first).
        label_col: the relevant (true) item ids (an array of numbers).
        k: the cut-off rank of the @k metrics.

    Returns:
        metrics: the metrics dict.
    """

class RankingModelOutputs(NamedTuple):
    model: ModelOutput
    predictions: TableOutput

def ranking_model(
    train: TableOutput | Stored,
    validation: TableOutput | Stored,
    feature_map: ModelOutput | Stored,
    test: TableOutput | Stored | None = None,
    *,
    id: str | None = None,
    description: str | None = None,
    model: Literal["wide_deep", "deepfm", "dcn", "din", "mmoe"],
    launcher: RankingLauncher | None = None,
    embedding_dim: int | ParamRef = 16,
    hidden_units: list[int] | None | ParamRef = None,
    dropout: float | ParamRef = 0.0,
    learning_rate: float | ParamRef = 0.001,
    lr_decay: Literal["none", "step", "exponential"] | ParamRef = "none",
    lr_decay_factor: float | ParamRef = 0.5,
    lr_decay_epochs: int | ParamRef = 1,
    batch_size: int | ParamRef = 1024,
    epochs: int | ParamRef = 5,
    early_stopping_patience: int | ParamRef = 2,
    embedding_l2: float | ParamRef = 1e-06,
    label: str | None | ParamRef = None,
    seed: int | ParamRef = 2024,
    cross_layers: int | ParamRef = 3,
    attention_units: list[int] | None | ParamRef = None,
    sequence_field: str | None | ParamRef = None,
    num_experts: int | ParamRef = 4,
    tasks: list[str] | None | ParamRef = None,
    tower_units: list[int] | None | ParamRef = None,
) -> RankingModelOutputs:
    """Train a ranking model (Wide&Deep, DeepFM, DCN, DIN or MMoE) as a distributed PyTorch job.

    The node's ``model`` names the network, its ``params`` are the model's declared parameters and
    its ``launcher`` the job's settings (workers, CPU, memory, GPUs). It runs as its own task
    through the launcher, not in Spark.

    Args:
        train: the encoded training table (ctr_feature_encoder's data).
        validation: the encoded validation table (per-epoch AUC and log loss, early stopping).
        feature_map: ctr_feature_encoder's model; its feature map is saved with the trained model.
        test: an encoded test table, scored once after training into predictions.
        embedding_dim: the width of every field's embedding.
        hidden_units: the deep part's layer widths, input side first (MMoE: each expert's); default
            [256, 128].
        dropout: the dropout rate of the deep layers.
        learning_rate: Adam's learning rate at the first epoch.
        lr_decay: learning-rate decay after each epoch: none, step (times lr_decay_factor every
            lr_decay_epochs epochs) or exponential (times lr_decay_factor every epoch).
        lr_decay_factor: the factor of the learning-rate decay.
        lr_decay_epochs: step decay: epochs between two decays.
        batch_size: rows per step on each worker.
        epochs: the most passes over the training table.
        early_stopping_patience: stop after this many epochs without a better validation AUC and
            keep the best epoch's weights (0: train every epoch, keep the last).
        embedding_l2: L2 penalty on the embeddings.
        label: the label column to learn (single-task models); default the feature map's first.
        seed: random seed (weights, shuffling).
        cross_layers: the number of cross layers (DCN v2: a full-rank matrix per layer).
        attention_units: the layer widths of the attention unit that scores each behaviour; default
            [64, 16].
        sequence_field: the behaviour-sequence field to attend over; default the first sequence
            field that shares a categorical field's vocabulary (that field is the target).
        num_experts: the number of shared experts (each a deep network of hidden_units).
        tasks: the label columns, one task tower each (two or more); default every label of the
            feature map.
        tower_units: the layer widths of each task's tower; default [64].

    Returns:
        model: the published model folder (TorchScript, ONNX, feature map, metrics, training curve).
        predictions: the test rows with each task's label and its probability p_TASK.
    """

def read_hive_table(
    *,
    id: str | None = None,
    description: str | None = None,
    table: str | ParamRef,
    columns: list[str] | None | ParamRef = None,
    partition_filter: str | None | ParamRef = None,
    require_partition: bool | ParamRef = True,
) -> TableOutput:
    """Read a partitioned catalogue (Hive) table, only the partitions and columns asked for.

    The read is a Spark SQL scan of ``table`` with the partition filter pushed down (only the
    matching partition folders are listed and read) and the columns pruned (columnar formats
    read only those columns). The filter may use the partition columns only, so that it always
    prunes; filter other columns afterwards with ``filter_rows``.

    Args:
        table: the catalogue table (``db.table``).
        columns: the columns to keep, in order; empty keeps every column.
        partition_filter: a Spark SQL condition over the partition columns, e.g. ``dt >=
            '2024-01-01' AND dt < '2024-02-01'``; empty reads every partition.
        require_partition: fail when the filter matches no partition (checked in the catalogue,
            before any data is read), rather than returning an empty table.

    Returns:
        data: the rows of the chosen partitions, with the chosen columns.
    """

def read_jdbc(
    *,
    id: str | None = None,
    description: str | None = None,
    url: str | ParamRef,
    table: str | None | ParamRef = None,
    query: str | None | ParamRef = None,
    user: str | None | ParamRef = None,
    password_env: str | None | ParamRef = None,
    driver: str | None | ParamRef = None,
    partition_column: str | None | ParamRef = None,
    lower_bound: str | None | ParamRef = None,
    upper_bound: str | None | ParamRef = None,
    num_partitions: int | None | ParamRef = None,
    fetch_size: int | ParamRef = 1000,
    options: dict[str, str] | None | ParamRef = None,
) -> TableOutput:
    """Read a table or a query result from a database over JDBC.

    Exactly one of ``table`` and ``query`` must be set. The password is never a parameter: it
    is read from the environment variable that ``password_env`` names (on the Spark driver), so
    it stays out of pipeline files, logs and the run report. The JDBC driver's jar must be on
    Spark's classpath (``spark.jars``).

    With ``partition_column`` the read is split into ``num_partitions`` parallel queries over
    equal ranges of that column between ``lower_bound`` and ``upper_bound`` (the bounds only
    shape the ranges: rows outside them are still read, by the first and last query).

    Args:
        url: the JDBC URL, e.g. ``jdbc:postgresql://db:5432/sales``.
        table: the table (or view) to read, e.g. ``public.orders``.
        query: a SELECT statement to read the result of, instead of a table.
        user: the database user.
        password_env: the name of an environment variable that holds the password (not the
            password).
        driver: the JDBC driver class; empty lets ``java.sql.DriverManager`` pick it from the URL.
        partition_column: a numeric, date or timestamp column to split the read by.
        lower_bound: with ``partition_column``: the low end of its range, as text (``0``,
            ``2024-01-01``).
        upper_bound: with ``partition_column``: the high end of its range, as text.
        num_partitions: with ``partition_column``: how many parallel queries to run.
        fetch_size: rows fetched per round trip.
        options: further Spark JDBC options (e.g. ``{"sessionInitStatement": "..."}``); not the
            password.

    Returns:
        data: the rows read.
    """

def read_table(
    *,
    id: str | None = None,
    description: str | None = None,
    path: str | None | ParamRef = None,
    table: str | None | ParamRef = None,
    format: Literal["csv", "parquet", "json", "orc"] | ParamRef = "csv",
    header: bool | ParamRef = True,
    delimiter: str | ParamRef = ",",
    infer_schema: bool | ParamRef = False,
    options: dict[str, str] | None | ParamRef = None,
) -> TableOutput:
    """Read a table from files (local, file://, hdfs://, http(s)://) or from the Spark catalogue.

    Exactly one of ``path`` and ``table`` must be set. CSV columns are strings unless
    ``infer_schema`` is on (cast them explicitly with ``cast_columns``). An http(s) URL is
    downloaded once through ``SparkContext.addFile`` (meant for small reference files in local
    or client mode; put large data on HDFS).

    Args:
        path: where the files are: a local path, a file://, hdfs:// or http(s):// URL, or a folder
            of part files.
        table: a table or view name (``db.table``) to read through Spark SQL instead of files.
        format: the file format (ignored with ``table``).
        header: CSV only: the first line holds the column names.
        delimiter: CSV only: the field separator (e.g. ``\t`` for tab-separated files).
        infer_schema: CSV only: guess column types (one extra pass over the data); off keeps
            strings.
        options: further reader options passed to Spark as they are (e.g. ``{"nullValue": "NA"}``).

    Returns:
        data: the table read.
    """

def regex_tokenizer(
    data: TableOutput | Stored,
    *,
    id: str | None = None,
    description: str | None = None,
    input_col: str | ParamRef = "text",
    output_col: str | ParamRef = "tokens",
    pattern: str | ParamRef = "\\s+",
    gaps: bool | ParamRef = True,
    min_token_length: int | ParamRef = 1,
    to_lowercase: bool | ParamRef = True,
) -> TableOutput:
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

    Returns:
        data: a table
    """

def regression_evaluation(
    data: TableOutput | Stored,
    *,
    id: str | None = None,
    description: str | None = None,
    label_col: str | ParamRef = "label",
    prediction_col: str | ParamRef = "prediction",
) -> MetricsOutput:
    """Evaluate a regressor's scored table.

    Metrics (as Spark's RegressionEvaluator defines them): ``rmse``, ``mse``, ``mae``, ``r2``
    (1 - residual sum of squares / total sum of squares), ``explained_variance`` (the mean
    squared deviation of the predictions from the label mean, Spark's ``var``) and ``rows``;
    all plain floats and ints, computed in one pass.

    Args:
        data: a scored table with the true label and the prediction.
        label_col: the true value column.
        prediction_col: the predicted value column.

    Returns:
        metrics: the metrics dict.
    """

def rename_columns(
    data: TableOutput | Stored,
    *,
    id: str | None = None,
    description: str | None = None,
    mapping: dict[str, str] | ParamRef,
) -> TableOutput:
    """Rename columns; the others keep their names, and the column order is kept.

    Args:
        data: the input table.
        mapping: new names as ``{old: new}``.

    Returns:
        data: a table
    """

def replace_values(
    data: TableOutput | Stored,
    *,
    id: str | None = None,
    description: str | None = None,
    mapping: dict[str, str | None] | ParamRef,
    columns: list[str] | None | ParamRef = None,
) -> TableOutput:
    """Replace given values by others, e.g. codes by labels, or sentinel values such as ``-999`` by
    null.

    The values are text, converted to each column's type (``"-999"`` matches the integer -999
    and the string "-999"); null as a replacement makes the value missing. Values compare
    exactly; other values, and nulls, stay as they are.

    Args:
        data: the input table.
        mapping: the replacements, as ``{old value: new value or null}``.
        columns: the columns to replace values in; empty means every column whose type the mapping's
            values convert to.

    Returns:
        data: a table
    """

class RobustScalerOutputs(NamedTuple):
    data: TableOutput
    model: ModelOutput

def robust_scaler(
    data: TableOutput | Stored,
    *,
    id: str | None = None,
    description: str | None = None,
    input_col: str | ParamRef = "features",
    output_col: str | ParamRef = "scaled_features",
    lower: float | ParamRef = 0.25,
    upper: float | ParamRef = 0.75,
    with_centering: bool | ParamRef = False,
    with_scaling: bool | ParamRef = True,
    relative_error: float | ParamRef = 0.001,
) -> RobustScalerOutputs:
    """Scale a vector column by quantiles, which outliers barely move: (x - median) / (upper - lower
    quantile).

    Args:
        data: the table to fit on and transform.
        input_col: the vector column to scale (make one with vector_assembler).
        output_col: the new column for the scaled vector.
        lower: the lower quantile of the range (0.25: the first quartile).
        upper: the upper quantile of the range (0.75: the third quartile); greater than lower.
        with_centering: subtract each element's median (makes sparse vectors dense).
        with_scaling: divide each element by its quantile range.
        relative_error: precision of the quantiles (0 computes them exactly, which is expensive).

    Returns:
        data: a table
        model: the fitted RobustScalerModel, to scale other tables the same way.
    """

def run_hiveql(
    data: TableOutput | Stored | None = None,
    *,
    id: str | None = None,
    description: str | None = None,
    statements: list[str] | ParamRef,
    view: str | ParamRef = "data",
) -> TableOutput:
    """Run HiveQL statements (DDL, INSERT, queries) on the session's Hive catalogue.

    The statements run in order; the output is the result of the last one (empty for DDL).

    Args:
        data: an optional input table, visible to the statements as the temporary view ``view``.
        statements: the statements, one per item, e.g. ``CREATE DATABASE IF NOT EXISTS sales``.
        view: the name under which the statements see ``data``.

    Returns:
        data: a table
    """

def sample_rows(
    data: TableOutput | Stored,
    *,
    id: str | None = None,
    description: str | None = None,
    fraction: float | ParamRef = 0.1,
    with_replacement: bool | ParamRef = False,
    seed: int | ParamRef = 42,
) -> TableOutput:
    """Take a random sample of the rows, each row independently (``DataFrame.sample``).

    The sample's size is about ``fraction`` times the input's, not exactly. The same seed on the
    same table (with the same partitions) gives the same sample.

    Args:
        data: the input table.
        fraction: without replacement: the probability that a row is kept (at most 1); with
            replacement: the expected number of times each row is drawn (may exceed 1).
        with_replacement: draw rows with replacement (a row may appear several times).
        seed: random seed.

    Returns:
        data: a table
    """

def save_model(
    model: ModelOutput | Stored,
    *,
    id: str | None = None,
    description: str | None = None,
    path: str | ParamRef,
    overwrite: bool | ParamRef = True,
) -> ModelOutput:
    """Save a fitted model (any Spark ML model or pipeline) to a path, atomically.

    The model is written to a hidden temporary sibling first and moved into place, so a
    failure never leaves a half-written model at ``path``; load it back with ``load_model``.

    Args:
        model: the fitted model; the output ``model`` passes it on unchanged, so later nodes can use
            it once it is saved.
        path: where to save it: a local path or a file://, hdfs:// (or other Hadoop) URL.
        overwrite: replace a model already at ``path``; off fails instead.

    Returns:
        model: a model
    """

def select_columns(
    data: TableOutput | Stored,
    *,
    id: str | None = None,
    description: str | None = None,
    columns: list[str] | None | ParamRef = None,
    rename: dict[str, str] | None | ParamRef = None,
) -> TableOutput:
    """Keep some columns, in the given order, and optionally rename them.

    Args:
        data: the input table.
        columns: the columns to keep, in order; empty keeps all columns.
        rename: new names for some of the kept columns, as ``{old: new}``.

    Returns:
        data: a table
    """

def sort_rows(
    data: TableOutput | Stored,
    *,
    id: str | None = None,
    description: str | None = None,
    columns: list[str] | ParamRef,
    descending: list[str] | None | ParamRef = None,
    nulls: Literal["default", "first", "last"] | ParamRef = "default",
) -> TableOutput:
    """Sort the rows by one or more columns.

    The order holds for the steps that keep it (``limit_rows``, ``write_table``, a collect);
    joins and aggregations after it do not keep it.

    Args:
        data: the input table.
        columns: the columns to sort by, the first one first.
        descending: those of ``columns`` to sort from the largest value down.
        nulls: where nulls go: Spark's default (first ascending, last descending), first or last.

    Returns:
        data: a table
    """

class SplitByTimeOutputs(NamedTuple):
    train: TableOutput
    test: TableOutput

def split_by_time(
    data: TableOutput | Stored,
    *,
    id: str | None = None,
    description: str | None = None,
    time_col: str | ParamRef,
    cutoff: str | None | ParamRef = None,
    ratio: float | ParamRef = 0.85,
) -> SplitByTimeOutputs:
    """Split a table by time: earlier rows train, later rows test (no look-ahead, unlike a random
    split).

    With ``cutoff`` the rows before it train and the rest test. Without it the split time is the
    ``ratio`` quantile of ``time_col`` (Spark's ``percentile_approx``, exact on small tables) and
    rows up to and including it train, so rows with the same time never land in both parts.
    Rows whose time is null are in neither part. The split time used is in the run report.

    Args:
        data: the input table.
        time_col: the time column: a timestamp, date or number (e.g. epoch seconds).
        cutoff: the first time of the test part, as text (``2024-03-01``, ``2024-03-01 12:00:00``,
            ``1709251200``).
        ratio: without ``cutoff``: the share of rows (the earliest) that train.

    Returns:
        train: the earlier rows.
        test: the later rows.
    """

class SqlFeatureOutputs(NamedTuple):
    data: TableOutput
    model: ModelOutput

def sql_feature(
    data: TableOutput | Stored,
    *,
    id: str | None = None,
    description: str | None = None,
    statement: str | ParamRef,
) -> SqlFeatureOutputs:
    """Derive features with a Spark SQL statement over ``__THIS__``, kept as a model for other tables.

    Unlike sql_transform, the statement becomes a model (Spark's SQLTransformer): ``predict``
    applies the same statement to test or scoring data, e.g.
    ``SELECT *, price / area AS price_per_m2 FROM __THIS__``.

    Args:
        data: the input table, visible to the statement as ``__THIS__``.
        statement: a SELECT statement that reads ``__THIS__``.

    Returns:
        data: a table
        model: the SQLTransformer, to apply the statement to other tables.
    """

def sql_transform(
    data: TableOutput | Stored,
    other: TableOutput | Stored | None = None,
    *,
    id: str | None = None,
    description: str | None = None,
    query: str | ParamRef,
    view: str | ParamRef = "data",
    other_view: str | ParamRef = "other",
) -> TableOutput:
    """Transform tables with a Spark SQL query.

    The inputs are registered as temporary views (``data`` and ``other`` unless renamed) for
    the query only; the query's result is the output.

    Args:
        data: the main input table, visible to the query as ``view``.
        other: an optional second table (e.g. for a join), visible as ``other_view``.
        query: a Spark SQL SELECT statement over the views, e.g. ``SELECT *, a + b AS c FROM data``.
        view: the name under which the query sees ``data``.
        other_view: the name under which the query sees ``other``.

    Returns:
        data: a table
    """

class StandardScalerOutputs(NamedTuple):
    data: TableOutput
    model: ModelOutput

def standard_scaler(
    data: TableOutput | Stored,
    *,
    id: str | None = None,
    description: str | None = None,
    input_col: str | ParamRef = "features",
    output_col: str | ParamRef = "scaled_features",
    with_mean: bool | ParamRef = False,
    with_std: bool | ParamRef = True,
) -> StandardScalerOutputs:
    """Standardise a vector column: subtract the mean and/or divide by the standard deviation per
    element.

    Args:
        data: the table to fit on and transform.
        input_col: the vector column to scale (make one with vector_assembler).
        output_col: the new column for the scaled vector.
        with_mean: centre each element on its mean (makes sparse vectors dense).
        with_std: divide each element by its (sample) standard deviation.

    Returns:
        data: a table
        model: the fitted StandardScalerModel, to scale other tables the same way.
    """

_StopWordsRemoverLanguage = Literal[
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
]

def stop_words_remover(
    data: TableOutput | Stored,
    *,
    id: str | None = None,
    description: str | None = None,
    input_col: str | ParamRef = "tokens",
    output_col: str | ParamRef = "filtered_tokens",
    language: _StopWordsRemoverLanguage | ParamRef = "english",
    extra_stop_words: list[str] | None | ParamRef = None,
    case_sensitive: bool | ParamRef = False,
) -> TableOutput:
    """Remove stop words (the, a, of, ...) from token lists, using Spark's list for a language.

    Args:
        data: the input table.
        input_col: the token column (an array of strings, from tokenizer or regex_tokenizer).
        output_col: the new column for the remaining tokens.
        language: whose stop-word list to use.
        extra_stop_words: more words to remove, e.g. words every document of the corpus has.
        case_sensitive: match stop words with case (by default "The" is removed like "the").

    Returns:
        data: a table
    """

def stratified_sample(
    data: TableOutput | Stored,
    *,
    id: str | None = None,
    description: str | None = None,
    column: str | ParamRef,
    fractions: dict[str, float] | None | ParamRef = None,
    fraction: float | None | ParamRef = None,
    method: Literal["bernoulli", "exact"] | ParamRef = "bernoulli",
    seed: int | ParamRef = 42,
) -> TableOutput:
    """Sample each stratum (value of a column, e.g. the label) with its own fraction.

    ``fractions`` gives the fraction of some strata (e.g. keep all buyers, a tenth of the
    others: ``{"1": 1.0, "0": 0.1}``); ``fraction`` is the fraction of every other stratum
    (none: they are dropped). ``bernoulli`` keeps each row independently with its stratum's
    fraction (like ``DataFrame.sampleBy``; sizes vary a little); ``exact`` keeps exactly
    ``round(fraction * n)`` of a stratum's ``n`` rows, chosen by a seeded random order.

    Args:
        data: the input table.
        column: the column whose values are the strata.
        fractions: fractions of given strata, as ``{value: fraction}`` (values as text, converted to
            the column's type).
        fraction: the fraction of the strata ``fractions`` does not list.
        method: independent per-row draws, or exact per-stratum counts.
        seed: random seed; the same seed samples the same table the same way.

    Returns:
        data: a table
    """

class StringIndexerOutputs(NamedTuple):
    data: TableOutput
    model: ModelOutput

_StringIndexerStringOrderType = Literal["frequencyDesc", "frequencyAsc", "alphabetDesc", "alphabetAsc"]

def string_indexer(
    data: TableOutput | Stored,
    *,
    id: str | None = None,
    description: str | None = None,
    input_cols: list[str] | ParamRef,
    output_cols: list[str] | None | ParamRef = None,
    suffix: str | ParamRef = "_index",
    string_order_type: _StringIndexerStringOrderType | ParamRef = "frequencyDesc",
    handle_invalid: Literal["error", "skip", "keep"] | ParamRef = "keep",
) -> StringIndexerOutputs:
    """Map the values of categorical columns to indices 0, 1, ... (by default the most frequent value
    gets 0).

    Args:
        data: the table to fit on and transform.
        input_cols: the categorical columns to index (strings or numbers).
        output_cols: names of the index columns, one per input column; empty means input name +
            suffix.
        suffix: appended to each input column's name when output_cols is empty.
        string_order_type: how values are ordered before numbering.
        handle_invalid: what to do with nulls and with values unseen when fitting: give them an
            extra index (``keep``), drop the row (``skip``) or fail (``error``).

    Returns:
        data: a table
        model: the fitted StringIndexerModel, to index other tables with the same mapping.
    """

def summary_statistics(
    data: TableOutput | Stored,
    *,
    id: str | None = None,
    description: str | None = None,
    columns: list[str] | None | ParamRef = None,
) -> TableOutput:
    """Per-column summary of numeric columns: count, missing, mean, standard deviation, min, quartiles,
    max.

    One aggregation computes everything. ``stddev`` is the sample standard deviation (null
    for fewer than two values); ``q1``, ``median`` and ``q3`` are Spark's ``percentile_approx``
    (actual values of the column, exact up to a rank error of 1/10 000).

    Args:
        data: the input table.
        columns: the numeric columns to describe; empty means every numeric column.

    Returns:
        summary: one row per column: ``column``, ``count`` (values present), ``missing`` (null or
            NaN), ``mean``, ``stddev``, ``min``, ``q1``, ``median``, ``q3``, ``max``.
    """

def synthetic_ctr(
    *,
    id: str | None = None,
    description: str | None = None,
    rows: int | ParamRef = 100000,
    fields: int | ParamRef = 20,
    max_cardinality: int | ParamRef = 10000,
    cardinality_exponent: float | ParamRef = 1.0,
    max_history: int | ParamRef = 20,
    interest_clusters: int | ParamRef = 8,
    seed: int | ParamRef = 7,
    partitions: int | ParamRef = 4,
) -> TableOutput:
    """Generate click logs for ranking models whose true click probability is known.

    Columns: the row ``id``, the target ``item`` and categorical fields ``c01``.. (``fields`` in
    all, with
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
        cardinality_exponent: how fast the fields' cardinalities fall (field f has max_cardinality /
            (f + 1) ** this).
        max_history: the longest behaviour sequence (lengths are uniform from 1 to this).
        interest_clusters: item clusters; a user's behaviour comes from 1 to 4 of them.
        seed: random seed of the true model and of the rows.
        partitions: number of Spark partitions the rows are generated in.

    Returns:
        data: a table
    """

def synthetic_purchase_intent(
    *,
    id: str | None = None,
    description: str | None = None,
    rows: int | ParamRef = 200000,
    seed: int | ParamRef = 7,
    partitions: int | ParamRef = 4,
    missing_rate: float | ParamRef = 0.0,
) -> TableOutput:
    """Generate a car website's purchase-intent table: browsing behaviour and whether the user bought a
    car.

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
        missing_rate: probability that any one behaviour feature value is missing (null), to
            exercise cleaning.

    Returns:
        data: the generated table.
    """

class TargetEncoderOutputs(NamedTuple):
    data: TableOutput
    model: ModelOutput

def target_encoder(
    data: TableOutput | Stored,
    *,
    id: str | None = None,
    description: str | None = None,
    input_cols: list[str] | ParamRef,
    label_col: str | ParamRef = "label",
    output_cols: list[str] | None | ParamRef = None,
    suffix: str | ParamRef = "_encoded",
    target_type: Literal["binary", "continuous"] | ParamRef = "binary",
    smoothing: float | ParamRef = 0.0,
    handle_invalid: Literal["error", "keep"] | ParamRef = "keep",
) -> TargetEncoderOutputs:
    """Replace each category by the mean of the label over its rows (target / mean encoding).

    For a 0/1 label that is the category's share of 1s. Smoothing pulls small categories
    towards the overall mean: (n·mean_category + s·mean_all) / (n + s). The input columns hold
    category indices (index string columns with string_indexer first).

    Args:
        data: the table to fit on and transform.
        input_cols: the category-index columns to encode.
        label_col: the numeric label column.
        output_cols: names of the encoded columns, one per input column; empty means input name +
            suffix.
        suffix: appended to each input column's name when output_cols is empty.
        target_type: a 0/1 label (``binary``) or a numeric one (``continuous``).
        smoothing: how strongly categories are pulled towards the overall mean (0: not at all).
        handle_invalid: categories unseen when fitting get the overall mean (``keep``) or fail the
            run (``error``).

    Returns:
        data: a table
        model: the fitted TargetEncoderModel, to encode other tables with the same means.
    """

class TfIdfOutputs(NamedTuple):
    data: TableOutput
    model: ModelOutput

def tf_idf(
    data: TableOutput | Stored,
    *,
    id: str | None = None,
    description: str | None = None,
    input_col: str | ParamRef = "tokens",
    output_col: str | ParamRef = "tfidf",
    term_frequency: Literal["hashing", "vocabulary"] | ParamRef = "hashing",
    num_features: int | ParamRef = 262144,
    min_doc_freq: int | ParamRef = 0,
    tf_col: str | ParamRef = "term_frequencies",
) -> TfIdfOutputs:
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

    Returns:
        data: a table
        model: the fitted pipeline (term counts, then IDF), to weight other tables the same way.
    """

def tokenizer(
    data: TableOutput | Stored,
    *,
    id: str | None = None,
    description: str | None = None,
    input_col: str | ParamRef = "text",
    output_col: str | ParamRef = "tokens",
) -> TableOutput:
    """Split text into lower-case words at whitespace.

    Runs of whitespace count as one separator and give no empty tokens; a null text gives a
    null token list. For other separators, or to drop punctuation, use regex_tokenizer.

    Args:
        data: the input table.
        input_col: the string column to split.
        output_col: the new column for the tokens (an array of strings).

    Returns:
        data: a table
    """

class TrainValidationSplitOutputs(NamedTuple):
    model: ModelOutput
    best: MetricsOutput
    trials: TableOutput

def train_validation_split(
    data: TableOutput | Stored,
    *,
    id: str | None = None,
    description: str | None = None,
    estimator: str | ParamRef,
    fixed: dict[str, Any] | None | ParamRef = None,
    grid: dict[str, list[Any]] | None | ParamRef = None,
    metric: Literal["auc_roc", "auc_pr", "f1", "accuracy", "rmse", "mae", "r2"] | ParamRef = "auc_roc",
    train_ratio: float | ParamRef = 0.75,
    seed: int | ParamRef = 42,
) -> TrainValidationSplitOutputs:
    """Hold-out validation (Spark's TrainValidationSplit): fit on one random part, score on the rest.

    Cheaper than cross-validation (one fit per combination instead of k) and noisier. Without
    a grid the estimator is evaluated with the ``fixed`` parameters; with a grid every
    combination is tried and the best one wins. The model is refitted on all the data.

    Args:
        data: the training table, as the estimator takes it (features vector and label).
        estimator: the name of the learner component to evaluate.
        fixed: the estimator's parameters held in every trial.
        grid: optional: values to try per parameter.
        metric: the score: binary classifiers auc_roc, auc_pr, f1, accuracy; regressors rmse, mae,
            r2.
        train_ratio: the share of the rows (drawn at random) to fit on; the rest is the validation
            part.
        seed: random seed of the split.

    Returns:
        model: the estimator refitted on all the data (with the best parameters).
        best: ``metric``, ``greater_is_better``, ``best_score`` (on the validation part),
            ``best_params``, ``best_trial``, ``trials`` and ``splits`` (1).
        trials: one row per trial: ``trial`` (int), ``params`` (its grid values as JSON),
            ``param_<key>`` per grid key, ``mean_score`` and ``std_score`` over the splits,
            ``fold_scores`` (array, one score per split), ``seconds`` and ``rank`` (int, 1 = best).
    """

def union_tables(
    data: TableOutput | Stored,
    other: TableOutput | Stored,
    *,
    id: str | None = None,
    description: str | None = None,
    by_name: bool | ParamRef = True,
    allow_missing_columns: bool | ParamRef = False,
    distinct: bool | ParamRef = False,
) -> TableOutput:
    """Stack the rows of two tables.

    By name, the columns are matched by name (the output has ``data``'s column order); by
    position, the n-th columns go together and the output has ``data``'s names. Column types
    are widened to a common type (int and double give double).

    Args:
        data: the first table.
        other: the table whose rows go below.
        by_name: match columns by name instead of by position.
        allow_missing_columns: by name only: a column that only one table has is null in the other's
            rows.
        distinct: remove duplicate rows from the result (SQL ``UNION`` rather than ``UNION ALL``).

    Returns:
        data: a table
    """

class UnivariateFeatureSelectorOutputs(NamedTuple):
    data: TableOutput
    model: ModelOutput

def univariate_feature_selector(
    data: TableOutput | Stored,
    *,
    id: str | None = None,
    description: str | None = None,
    features_col: str | ParamRef = "features",
    label_col: str | ParamRef = "label",
    output_col: str | ParamRef = "selected_features",
    feature_type: Literal["continuous", "categorical"] | ParamRef = "continuous",
    label_type: Literal["categorical", "continuous"] | ParamRef = "categorical",
    selection_mode: Literal["numTopFeatures", "percentile", "fpr", "fdr", "fwe"] | ParamRef = "numTopFeatures",
    selection_threshold: float | None | ParamRef = None,
) -> UnivariateFeatureSelectorOutputs:
    """Keep the features most related to the label, each tested on its own against the label.

    The test follows the types: categorical features and label: chi-squared; continuous
    features and categorical label: ANOVA F-test; both continuous: F-test of a linear
    regression. The kept features are listed in the run report.

    Args:
        data: the table to fit on and transform.
        features_col: the features vector column.
        label_col: the numeric label column.
        output_col: the new vector column of the kept features.
        feature_type: whether the features are categorical (small non-negative integers) or
            continuous.
        label_type: whether the label is categorical (class indices) or continuous.
        selection_mode: keep the best N features (``numTopFeatures``), the best share of them
            (``percentile``), or those whose p-value passes a false-positive-rate, false-discovery-
            rate or family-wise-error bound (``fpr``, ``fdr``, ``fwe``).
        selection_threshold: N for numTopFeatures (a whole number >= 1), the share in (0, 1] for
            percentile, the p-value bound in (0, 1] otherwise; empty means 50, 0.1 or 0.05.

    Returns:
        data: a table
        model: the fitted UnivariateFeatureSelectorModel, to select the same features from other
            tables.
    """

def value_counts(
    data: TableOutput | Stored,
    *,
    id: str | None = None,
    description: str | None = None,
    column: str | ParamRef,
    top_k: int | ParamRef = 20,
    include_null: bool | ParamRef = True,
) -> TableOutput:
    """The most frequent values of a column, with their counts and shares of all rows.

    Args:
        data: the input table.
        column: the column whose values are counted (any type).
        top_k: how many of the most frequent values to list.
        include_null: count null as a value of its own.

    Returns:
        counts: ``value`` (the column's type), ``count``, ``share`` (of all rows) and ``rank`` (1 =
            most frequent); ties are ordered by value.
    """

class VarianceThresholdSelectorOutputs(NamedTuple):
    data: TableOutput
    model: ModelOutput

def variance_threshold_selector(
    data: TableOutput | Stored,
    *,
    id: str | None = None,
    description: str | None = None,
    features_col: str | ParamRef = "features",
    output_col: str | ParamRef = "selected_features",
    variance_threshold: float | ParamRef = 0.0,
) -> VarianceThresholdSelectorOutputs:
    """Drop the features whose (sample) variance is not above a threshold; 0 drops the constant ones.

    The kept features are listed in the run report.

    Args:
        data: the table to fit on and transform.
        features_col: the features vector column.
        output_col: the new vector column of the kept features.
        variance_threshold: features with a variance at or below this are dropped.

    Returns:
        data: a table
        model: the fitted VarianceThresholdSelectorModel, to select the same features from other
            tables.
    """

def vector_assembler(
    data: TableOutput | Stored,
    *,
    id: str | None = None,
    description: str | None = None,
    input_cols: list[str] | ParamRef,
    output_col: str | ParamRef = "features",
    handle_invalid: Literal["error", "skip", "keep"] | ParamRef = "keep",
) -> TableOutput:
    """Combine numeric, boolean and vector columns into one feature vector column.

    The vector's metadata keeps the input column names, which ``feature_importance`` reports.

    Args:
        data: the input table.
        input_cols: the columns to combine, in order.
        output_col: the new vector column.
        handle_invalid: what to do with null/NaN values: keep them as NaN (``keep``), drop the row
            (``skip``) or fail (``error``).

    Returns:
        data: a table
    """

class VectorIndexerOutputs(NamedTuple):
    data: TableOutput
    model: ModelOutput

def vector_indexer(
    data: TableOutput | Stored,
    *,
    id: str | None = None,
    description: str | None = None,
    input_col: str | ParamRef = "features",
    output_col: str | ParamRef = "indexed_features",
    max_categories: int | ParamRef = 20,
    handle_invalid: Literal["error", "skip", "keep"] | ParamRef = "error",
) -> VectorIndexerOutputs:
    """Find the categorical elements of a feature vector and index their values 0, 1, ...

    An element with at most ``max_categories`` distinct values is taken as categorical; its
    values are renumbered (0.0 keeps index 0, the others follow in increasing order) and
    marked categorical in the vector's metadata, which tree learners read. Other elements pass
    through unchanged. The categorical elements are listed in the run report.

    Args:
        data: the table to fit on and transform.
        input_col: the features vector column.
        output_col: the new column for the indexed vector.
        max_categories: the most distinct values an element may have to be taken as categorical.
        handle_invalid: values of a categorical element unseen when fitting: an extra index
            (``keep``), drop the row (``skip``) or fail (``error``).

    Returns:
        data: a table
        model: the fitted VectorIndexerModel, to index other tables the same way.
    """

def vector_slicer(
    data: TableOutput | Stored,
    *,
    id: str | None = None,
    description: str | None = None,
    input_col: str | ParamRef = "features",
    output_col: str | ParamRef = "sliced_features",
    indices: list[int] | None | ParamRef = None,
    names: list[str] | None | ParamRef = None,
) -> TableOutput:
    """Keep some elements of a vector column, chosen by position and/or by name.

    The new vector holds the elements given by ``indices`` first, in that order, then those
    given by ``names``. Names are read from the vector's metadata, which vector_assembler
    writes.

    Args:
        data: the input table.
        input_col: the vector column to slice.
        output_col: the new column for the sliced vector.
        indices: 0-based positions of the elements to keep.
        names: names of the elements to keep (the columns that vector_assembler combined).

    Returns:
        data: a table
    """

def window_features(
    data: TableOutput | Stored,
    *,
    id: str | None = None,
    description: str | None = None,
    order_by: str | ParamRef,
    features: dict[str, str] | ParamRef,
    partition_by: list[str] | None | ParamRef = None,
    exclude_current: bool | ParamRef = False,
) -> TableOutput:
    """Add features computed over each key's earlier (or later) rows: lags, leads, rolling statistics.

    Each feature is ``output column: FUNCTION(column[, n])`` with the functions ``lag`` and
    ``lead`` (the value ``n`` rows before/after, default 1), ``rolling_mean``, ``rolling_sum``,
    ``rolling_min``, ``rolling_max``, ``rolling_std``, ``rolling_count`` (over the last ``n`` rows
    up
    to the current one), ``cumulative_sum`` and ``cumulative_count`` (over all rows up to the
    current one), e.g. ``{"amount_prev": "lag(amount)", "amount_mean_7": "rolling_mean(amount,
    7)"}``.
    Rows are ordered by ``order_by`` within each ``partition_by`` key. Rolling and cumulative
    statistics ignore nulls; at the start of a key they use the rows there are.

    Args:
        data: the input table.
        order_by: the column that orders each key's rows (usually a time).
        features: the features to add, as ``{output column: FUNCTION(column[, n])}``.
        partition_by: the key columns (e.g. the user id); empty treats the table as one sequence.
        exclude_current: leave the current row out of rolling and cumulative statistics (the last
            ``n`` rows before it), so a feature never sees the row's own value (e.g. its label).

    Returns:
        data: a table
    """

class Word2vecOutputs(NamedTuple):
    data: TableOutput
    model: ModelOutput
    vectors: TableOutput

def word2vec(
    data: TableOutput | Stored,
    *,
    id: str | None = None,
    description: str | None = None,
    input_col: str | ParamRef = "tokens",
    output_col: str | ParamRef = "document_vector",
    vector_size: int | ParamRef = 100,
    min_count: int | ParamRef = 5,
    window_size: int | ParamRef = 5,
    max_iter: int | ParamRef = 1,
    step_size: float | ParamRef = 0.025,
    num_partitions: int | ParamRef = 1,
    max_sentence_length: int | ParamRef = 1000,
    seed: int | ParamRef = 42,
) -> Word2vecOutputs:
    """Learn word embeddings (skip-gram Word2Vec); each document becomes the average of its words'
    vectors.

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

    Returns:
        data: a table
        model: the fitted Word2VecModel, to embed other tables' documents the same way.
        vectors: one row per vocabulary word: word, vector.
    """

def write_hive_table(
    data: TableOutput | Stored,
    *,
    id: str | None = None,
    description: str | None = None,
    table: str | ParamRef,
    partition_by: list[str] | None | ParamRef = None,
    partition: dict[str, str] | None | ParamRef = None,
    mode: Literal["overwrite_partitions", "append"] | ParamRef = "overwrite_partitions",
    format: Literal["parquet", "orc"] | ParamRef = "parquet",
) -> TableOutput:
    """Write a partitioned Hive table: replace the partitions the data holds, or append to them.

    The table is created (partitioned as asked) when it does not exist. ``overwrite_partitions``
    replaces exactly the partitions present in the data and leaves every other partition alone:
    Spark writes them to a staging folder and swaps each partition folder in when the job
    commits, so a failed write leaves the old partition in place. Columns are matched by name.

    Args:
        data: the rows to write; must hold every column of an existing table.
        table: the Hive table (``db.table``); the database must exist.
        partition_by: the partition columns, outermost first (e.g. ``["dt", "hm"]``).
        partition: fixed partition values for all rows, e.g. ``{"dt": "2024-05-01"}``; their columns
            are added to the data (as strings) and to ``partition_by``.
        mode: replace the data's partitions, or add rows to them.
        format: the file format of a new table. Returns the input table unchanged.

    Returns:
        data: a table
    """

def write_jdbc(
    data: TableOutput | Stored,
    *,
    id: str | None = None,
    description: str | None = None,
    url: str | ParamRef,
    table: str | ParamRef,
    user: str | None | ParamRef = None,
    password_env: str | None | ParamRef = None,
    driver: str | None | ParamRef = None,
    mode: Literal["append", "overwrite"] | ParamRef = "append",
    truncate: bool | ParamRef = True,
    batch_size: int | ParamRef = 1000,
    num_partitions: int | None | ParamRef = None,
    options: dict[str, str] | None | ParamRef = None,
) -> TableOutput:
    """Write a table to a database over JDBC, and pass it on unchanged.

    A missing target table is created from the data's schema. ``overwrite`` replaces the
    rows; with ``truncate`` (the default) it empties the existing table and keeps its
    definition (column types, indexes, grants), otherwise it drops and re-creates it. The
    password is read from the environment variable ``password_env`` names, as in ``read_jdbc``.

    Args:
        data: the table to write.
        url: the JDBC URL, e.g. ``jdbc:postgresql://db:5432/sales``.
        table: the target table, e.g. ``public.scores``.
        user: the database user.
        password_env: the name of an environment variable that holds the password (not the
            password).
        driver: the JDBC driver class; empty lets ``java.sql.DriverManager`` pick it from the URL.
        mode: add the rows to the table, or replace its rows.
        truncate: with ``overwrite``: empty the table instead of dropping and re-creating it.
        batch_size: rows sent per INSERT batch.
        num_partitions: at most this many parallel connections (the data is coalesced to it); empty
            keeps the data's partitions.
        options: further Spark JDBC options (e.g. ``{"createTableColumnTypes": "name
            VARCHAR(64)"}``); not the password. Returns the input table unchanged, so later nodes
            can go on from it.

    Returns:
        data: a table
    """

def write_table(
    data: TableOutput | Stored,
    *,
    id: str | None = None,
    description: str | None = None,
    path: str | None | ParamRef = None,
    table: str | None | ParamRef = None,
    format: Literal["csv", "parquet", "json", "orc"] | ParamRef = "parquet",
    mode: Literal["overwrite", "append", "error"] | ParamRef = "overwrite",
    partition_by: list[str] | None | ParamRef = None,
    header: bool | ParamRef = True,
) -> TableOutput:
    """Write a table to files or to the Spark catalogue, and pass it on unchanged.

    Exactly one of ``path`` and ``table`` must be set. Overwriting a path writes to a hidden
    temporary sibling first and swaps it in with a Hadoop FileSystem rename, so a failed write
    leaves the old files in place rather than half a table.

    Args:
        data: the table to write.
        path: the target folder: a local path or a file:// or hdfs:// URL.
        table: a catalogue table name (``db.table``) to save the data as, instead of a path.
        format: the file format.
        mode: what to do when the target exists: replace it, add to it, or fail.
        partition_by: columns to partition the files by (one sub-folder per value).
        header: CSV only: write a header line. Returns the input table unchanged, so later nodes can
            go on from it.

    Returns:
        data: a table
    """

def xgboost_classifier(
    data: TableOutput | Stored,
    *,
    id: str | None = None,
    description: str | None = None,
    features_col: str | ParamRef = "features",
    label_col: str | ParamRef = "label",
    n_estimators: int | ParamRef = 100,
    max_depth: int | ParamRef = 6,
    learning_rate: float | ParamRef = 0.3,
    subsample: float | ParamRef = 1.0,
    colsample_bytree: float | ParamRef = 1.0,
    min_child_weight: float | ParamRef = 1.0,
    reg_lambda: float | ParamRef = 1.0,
    reg_alpha: float | ParamRef = 0.0,
    scale_pos_weight: float | ParamRef = 1.0,
    max_bin: int | ParamRef = 256,
    num_workers: int | ParamRef = 1,
    seed: int | ParamRef = 42,
    weight_col: str | None | ParamRef = None,
) -> ModelOutput:
    """XGBoost gradient-boosted trees classifier trained on Spark (xgboost.spark, ``hist`` trees).

    Binary labels give a logistic model, labels 0..k-1 a softmax one. The model has Spark's
    ``rawPrediction``/``probability``/``prediction`` columns and ``featureImportances``
    (total gain, normalised), so ``predict`` and ``feature_importance`` work on it.

    Args:
        data: training table with a features vector column and a class-index label (0, 1, ...).
        features_col: the features vector column.
        label_col: the label column.
        n_estimators: number of boosting rounds.
        max_depth: the most levels of each tree (0: no limit).
        learning_rate: the shrinkage of each tree (eta).
        subsample: the share of rows each tree is trained on.
        colsample_bytree: the share of features each tree may use.
        min_child_weight: the least hessian sum a leaf must hold.
        reg_lambda: L2 regularisation of the leaf weights.
        reg_alpha: L1 regularisation of the leaf weights.
        scale_pos_weight: binary: the weight of positive rows relative to negative ones (for
            imbalanced labels).
        max_bin: the most histogram bins per feature.
        num_workers: the number of Spark tasks that train together (each uses spark.task.cpus
            threads).
        seed: random seed.
        weight_col: an optional column of row weights.

    Returns:
        model: the fitted XGBoostClassificationModel (an xgboost.spark SparkXGBClassifierModel).
    """

def xgboost_random_forest_classifier(
    data: TableOutput | Stored,
    *,
    id: str | None = None,
    description: str | None = None,
    features_col: str | ParamRef = "features",
    label_col: str | ParamRef = "label",
    num_trees: int | ParamRef = 100,
    max_depth: int | ParamRef = 6,
    subsample: float | ParamRef = 0.8,
    colsample_bynode: float | ParamRef = 0.8,
    min_child_weight: float | ParamRef = 1.0,
    max_bin: int | ParamRef = 256,
    num_workers: int | ParamRef = 1,
    seed: int | ParamRef = 42,
) -> ModelOutput:
    """Random forest classifier built by XGBoost on Spark (xgboost.spark ``hist`` trees, one round of
    parallel trees).

    XGBoost's random-forest mode: ``num_trees`` trees grown side by side in a single boosting
    round (learning rate 1), each on a row sample and choosing each split from a feature
    sample. Usually much faster than ``random_forest_classifier`` on large tables; the model
    has ``featureImportances`` like the other tree models.

    Args:
        data: training table with a features vector column and a class-index label (0, 1, ...).
        features_col: the features vector column.
        label_col: the label column.
        num_trees: number of trees in the forest.
        max_depth: the most levels of each tree (0: no limit).
        subsample: the share of rows each tree is trained on (below 1, or the trees are all alike).
        colsample_bynode: the share of features each split may choose from.
        min_child_weight: the least hessian sum a leaf must hold.
        max_bin: the most histogram bins per feature.
        num_workers: the number of Spark tasks that train together (each uses spark.task.cpus
            threads).
        seed: random seed (row and feature sampling).

    Returns:
        model: the fitted XGBoostClassificationModel (an xgboost.spark SparkXGBClassifierModel).
    """

_XgboostRegressorObjective = Literal[
    "reg:squarederror",
    "reg:absoluteerror",
    "reg:pseudohubererror",
    "reg:squaredlogerror",
    "count:poisson",
    "reg:gamma",
    "reg:tweedie",
]

def xgboost_regressor(
    data: TableOutput | Stored,
    *,
    id: str | None = None,
    description: str | None = None,
    features_col: str | ParamRef = "features",
    label_col: str | ParamRef = "label",
    objective: _XgboostRegressorObjective | ParamRef = "reg:squarederror",
    n_estimators: int | ParamRef = 100,
    max_depth: int | ParamRef = 6,
    learning_rate: float | ParamRef = 0.3,
    subsample: float | ParamRef = 1.0,
    colsample_bytree: float | ParamRef = 1.0,
    min_child_weight: float | ParamRef = 1.0,
    reg_lambda: float | ParamRef = 1.0,
    reg_alpha: float | ParamRef = 0.0,
    max_bin: int | ParamRef = 256,
    num_workers: int | ParamRef = 1,
    seed: int | ParamRef = 42,
    weight_col: str | None | ParamRef = None,
) -> ModelOutput:
    """XGBoost gradient-boosted trees regressor trained on Spark (xgboost.spark, ``hist`` trees).

    The model adds ``prediction`` and has ``featureImportances`` (total gain, normalised), so
    ``predict`` and ``feature_importance`` work on it.

    Args:
        data: training table with a features vector column and a numeric label.
        features_col: the features vector column.
        label_col: the label column (non-negative for count:poisson and reg:tweedie, positive for
            reg:gamma).
        objective: the loss: squared, absolute, pseudo-Huber or squared-log error, or a Poisson,
            gamma or Tweedie likelihood (log link).
        n_estimators: number of boosting rounds.
        max_depth: the most levels of each tree (0: no limit).
        learning_rate: the shrinkage of each tree (eta).
        subsample: the share of rows each tree is trained on.
        colsample_bytree: the share of features each tree may use.
        min_child_weight: the least hessian sum a leaf must hold.
        reg_lambda: L2 regularisation of the leaf weights.
        reg_alpha: L1 regularisation of the leaf weights.
        max_bin: the most histogram bins per feature.
        num_workers: the number of Spark tasks that train together (each uses spark.task.cpus
            threads).
        seed: random seed.
        weight_col: an optional column of row weights.

    Returns:
        model: the fitted XGBoostRegressionModel (an xgboost.spark SparkXGBRegressorModel).
    """

def zscore_outliers(
    data: TableOutput | Stored,
    *,
    id: str | None = None,
    description: str | None = None,
    columns: list[str] | None | ParamRef = None,
    threshold: float | ParamRef = 3.0,
    score_col: str | ParamRef = "outlier_score",
    flag_col: str | ParamRef = "is_outlier",
    drop_outliers: bool | ParamRef = False,
) -> TableOutput:
    """Flag rows with a value far from its column's mean, in standard deviations (z-score).

    A row's score is its largest |x - mean| / std over the columns (sample standard
    deviation; a constant column scores 0; missing values are skipped), and it is flagged
    when the score exceeds ``threshold``. With few rows the largest possible z-score is
    (n - 1) / sqrt(n), so small tables need a lower threshold.

    Args:
        data: the input table.
        columns: the numeric columns to check; empty means every numeric column.
        threshold: flag rows whose score is above this many standard deviations.
        score_col: the name of the score column to add (double; null when every value is missing).
        flag_col: the name of the flag column to add (boolean).
        drop_outliers: drop the flagged rows (the score and flag columns stay).

    Returns:
        data: a table
    """
