"""Tuning must find parameters that beat the untuned configuration, and reject bad searches early."""

from __future__ import annotations

import json
import logging

import pytest

from airflow_mlplat.components import get_component
from airflow_mlplat.engine.runner import call_component
from tests.components.cases.tuning import classification_table, regression_table

# Strong L1 regularisation zeroes every coefficient: the untuned model cannot rank at all.
UNTUNED = {"elastic_net_param": 1.0, "reg_param": 0.5, "max_iter": 10}


def _run(name, ctx, inputs, **params):
    return call_component(get_component(name), ctx, inputs, params)


def _held_out_auc(ctx, model, test):
    scored = _run("predict", ctx, {"model": model, "data": test})["data"]
    return _run("binary_classification_evaluation", ctx, {"data": scored})["metrics"]["auc_roc"]


def test_grid_search_beats_the_untuned_model_on_held_out_data(spark, ctx, caplog):
    train = classification_table(spark, rows=80, seed=21).cache()
    test = classification_table(spark, rows=60, seed=22).cache()
    fixed = {k: v for k, v in UNTUNED.items() if k != "reg_param"}
    with caplog.at_level(logging.INFO, logger="airflow_mlplat.engine"):
        out = _run(
            "grid_search",
            ctx,
            {"data": train},
            estimator="logistic_regression",
            grid={"reg_param": [UNTUNED["reg_param"], 0.0]},
            fixed=fixed,
            metric="auc_roc",
            folds=2,
            seed=1,
        )
    assert any("trial 1/2" in m for m in caplog.messages) and any("trial 2/2" in m for m in caplog.messages)

    # The full trial table: one row per combination, ranked, with the per-fold scores.
    trials = out["trials"].orderBy("trial").collect()
    assert [(t.trial, t.param_reg_param) for t in trials] == [(1, 0.5), (2, 0.0)]
    assert sorted(t.rank for t in trials) == [1, 2] and all(len(t.fold_scores) == 2 for t in trials)
    assert trials[0].fold_scores == [0.5, 0.5]  # every coefficient zeroed: all rows tie
    winner = min(trials, key=lambda t: t.rank)
    assert winner.mean_score == max(t.mean_score for t in trials)

    best = out["best"]
    assert best["best_params"] == {"reg_param": 0.0} == json.loads(winner.params)
    assert best["best_score"] == winner.mean_score and best["metric"] == "auc_roc" and best["trials"] == 2
    assert out["model"].getRegParam() == 0.0 and out["model"].getElasticNetParam() == 1.0

    untuned = _run("logistic_regression", ctx, {"data": train}, **UNTUNED)["model"]
    tuned_auc, untuned_auc = _held_out_auc(ctx, out["model"], test), _held_out_auc(ctx, untuned, test)
    assert untuned_auc == 0.5
    assert tuned_auc > untuned_auc + 0.35, (tuned_auc, untuned_auc)
    train.unpersist()
    test.unpersist()


def test_random_search_draws_distinct_combinations_and_picks_the_lowest_error(spark, ctx):
    data = regression_table(spark, rows=24, seed=5)
    grid = {"reg_param": [2.0, 1.0, 0.0], "fit_intercept": [True, False]}
    out = _run(
        "random_search",
        ctx,
        {"data": data},
        estimator="linear_regression",
        grid=grid,
        n_trials=3,
        fixed={"elastic_net_param": 1.0, "max_iter": 10},
        metric="mae",
        folds=2,
        seed=4,
    )
    trials = out["trials"].orderBy("trial").collect()
    drawn = [(t.param_reg_param, t.param_fit_intercept) for t in trials]
    assert len(drawn) == 3 == len(set(drawn))
    assert all(r in grid["reg_param"] and i in grid["fit_intercept"] for r, i in drawn)
    winner = min(trials, key=lambda t: t.mean_score)  # mae: lower is better
    assert winner.rank == 1 and out["best"]["greater_is_better"] is False
    assert out["best"]["best_params"] == {
        "reg_param": winner.param_reg_param,
        "fit_intercept": winner.param_fit_intercept,
    }
    if (0.0, True) in drawn:
        assert out["best"]["best_params"] == {"reg_param": 0.0, "fit_intercept": True}


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"estimator": "no_such_learner"}, "grid_search: params.estimator 'no_such_learner' is not a registered"),
        ({"estimator": "predict"}, "grid_search: params.estimator 'predict' is not a learner"),
        ({"estimator": "kmeans"}, "grid_search: params.estimator 'kmeans' has no label_col parameter"),
        ({"grid": {"depth": [1]}}, "grid_search: params.grid key 'depth' is not a parameter of gbdt_classifier"),
        (
            {"grid": {"max_depth": [3, "deep"]}},
            "grid_search: params.grid['max_depth'] value 'deep': gbdt_classifier.max_depth must be an integer",
        ),
        ({"grid": {"max_depth": [99]}}, "params.grid['max_depth'] value 99: gbdt_classifier.max_depth must be"),
        ({"fixed": {"step_size": 0}}, "grid_search: params.fixed['step_size'] value 0: gbdt_classifier.step_size"),
        ({"grid": {"max_depth": []}}, "grid_search: params.grid['max_depth'] must list at least one value"),
        ({"grid": {}}, "grid_search: params.grid must name at least one parameter"),
        (
            {"grid": {"max_depth": [2]}, "fixed": {"max_depth": 3}},
            "grid_search: params.grid key 'max_depth' is also in params.fixed",
        ),
        ({"fixed": {"label_col": "bought"}}, "grid_search: input 'data' has no column 'bought'"),
    ],
)
def test_bad_searches_fail_before_any_fit_naming_the_key_and_value(spark, ctx, params, message):
    data = classification_table(spark, rows=8)
    search = {"estimator": "gbdt_classifier", "grid": {"max_depth": [1, 2]}, **params}
    with pytest.raises(ValueError) as info:
        _run("grid_search", ctx, {"data": data}, **search)
    assert message in str(info.value)


def test_a_classification_metric_needs_a_classifier(spark, ctx):
    with pytest.raises(ValueError, match="params.metric 'auc_roc' needs a binary classifier's probabilities"):
        _run(
            "train_validation_split",
            ctx,
            {"data": regression_table(spark, rows=12)},
            estimator="linear_regression",
            metric="auc_roc",
        )


def test_too_few_rows_for_the_folds(spark, ctx):
    with pytest.raises(ValueError, match=r"cross_validation: input 'data' has 2 row\(s\), too few to split into 5"):
        _run(
            "cross_validation",
            ctx,
            {"data": regression_table(spark, rows=2)},
            estimator="linear_regression",
            metric="rmse",
            folds=5,
        )
