"""Training and honest evaluation, shared by the product's model and bring-your-own histories.

The holdout is always the latest part of the history (train on the past, test on what came after): random
cross-validation lets a model learn from the future of its test rows and overstates quality on marketing data.
On that one holdout the model is compared with random order, the obvious business rule and a logistic
regression; the model card shows all four.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import lightgbm as lgb
import numpy as np
from django.utils.translation import gettext as _
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score, roc_auc_score
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from xiaodai.scoring.exceptions import ScoringError
from xiaodai.scoring.frame import (
    DAYS_SINCE_CONTACT,
    PRIOR_SUCCESS,
    RECENT_CONTACTS,
    Feature,
    Frame,
    learn_categories,
    matrix,
)
from xiaodai.scoring.methods import GAINS_STEP, METHODS

HOLDOUT_SHARE = 0.2  # the latest fifth of the rows, by time
VALID_SHARE = 0.15  # the latest part of the training rows stops the boosting (early stopping)
CAPTURE_AT = (10, 20, 30, 50)
MIN_ROWS = 50
PARAMS: dict[str, Any] = {
    "objective": "binary",
    "learning_rate": 0.08,
    "num_leaves": 15,
    "max_depth": 4,  # shallow trees: reasons (pred_contrib) cost grows with depth squared
    "min_data_in_leaf": 40,
    "feature_fraction": 0.9,
    "bagging_fraction": 0.8,
    "bagging_freq": 1,
    "lambda_l2": 1.0,
    "max_bin": 63,
    "cat_smooth": 10,
    "num_threads": 2,
    "deterministic": True,
    "force_row_wise": True,
    "verbose": -1,
}
MAX_ROUNDS = 150  # the scores step must score a million customers in 20 s: cost grows with the trees
EARLY_STOP = 30
MIN_VALID_POSITIVES = 100
SMALL_ROUNDS, SMALL_RATE = 120, 0.04


@dataclass
class Trained:
    """A fitted model with what it needs to score new rows and the evaluation that the card shows."""

    booster: lgb.Booster
    features: list[Feature]
    categories: dict[str, list[str]]
    params: dict[str, Any]
    evaluation: dict[str, dict[str, Any]]
    window: dict[str, str]
    rows: dict[str, int]
    notes: list[dict[str, Any]] = field(default_factory=list)
    holdout: Frame | None = None  # kept in memory for comparing with the active model; never stored

    def predict(self, frame: Frame) -> np.ndarray:
        return predict(self.booster, frame, self.features, self.categories)


def predict(booster: lgb.Booster, frame: Frame, features: list[Feature], cats: dict[str, list[str]]) -> Any:
    if not len(frame):
        return np.empty(0)
    return booster.predict(matrix(frame, features, cats), num_threads=PARAMS["num_threads"])


# --- metrics ------------------------------------------------------------------------------------------------


def capture(y: np.ndarray, score: np.ndarray, percent: float) -> float:
    """Share of all conversions in the top `percent` % of the list ordered by score (ties: list order)."""
    total = float(y.sum())
    if not total:
        return 0.0
    top = math.ceil(len(y) * percent / 100)
    order = np.argsort(-score, kind="stable")
    return float(y[order[:top]].sum()) / total


def metrics(y: np.ndarray, score: np.ndarray) -> dict[str, Any]:
    return {
        "auc": float(roc_auc_score(y, score)),
        "ap": float(average_precision_score(y, score)),
        "capture": {str(p): capture(y, score, p) for p in CAPTURE_AT},
        "gains": [round(capture(y, score, p), 4) for p in range(GAINS_STEP, 101, GAINS_STEP)],
    }


def rule_score(frame: Frame) -> np.ndarray:
    """The business rule as a score: earlier success first, then fewer recent contacts, then the most recent
    contact first (never contacted last). Higher is earlier on the list."""
    prior = np.nan_to_num(frame.column(PRIOR_SUCCESS), nan=0.0)
    recent = np.nan_to_num(frame.column(RECENT_CONTACTS), nan=0.0)
    since = np.nan_to_num(frame.column(DAYS_SINCE_CONTACT), nan=1e9)
    order = np.lexsort((since, recent, -prior))  # the last key sorts first
    score = np.empty(len(order), dtype=np.float64)
    score[order] = np.arange(len(order), 0, -1, dtype=np.float64)
    return score


def _logistic(features: list[Feature]) -> Pipeline:
    numbers = [j for j, f in enumerate(features) if f.kind == "number"]
    categories = [j for j, f in enumerate(features) if f.kind == "category"]
    steps: list[tuple[str, Any, list[int]]] = []
    if numbers:
        scaled = make_pipeline(SimpleImputer(strategy="median", keep_empty_features=True), StandardScaler())
        steps.append(("numbers", scaled, numbers))
    if categories:
        coded = make_pipeline(
            SimpleImputer(strategy="constant", fill_value=-1, keep_empty_features=True),
            OneHotEncoder(handle_unknown="ignore"),
        )
        steps.append(("categories", coded, categories))
    return make_pipeline(ColumnTransformer(steps), LogisticRegression(max_iter=300, C=1.0))


# --- training -----------------------------------------------------------------------------------------------


def time_split(frame: Frame, share: float) -> tuple[np.ndarray, np.ndarray]:
    """Index of the earlier rows and of the later ones; rows of the same moment stay on one side."""
    order = np.argsort(frame.times, kind="stable")
    cut_at = frame.times[order[min(len(order) - 1, int(len(order) * (1 - share)))]]
    before = order[frame.times[order] < cut_at]
    after = order[frame.times[order] >= cut_at]
    return before, after


def _check_classes(y: np.ndarray, part: str) -> None:
    positives = int(y.sum())
    if positives == 0 or positives == len(y):
        raise ScoringError(
            _("The %(part)s period has only one class of target (%(pos)s of %(n)s rows positive).")
            % {"part": part, "pos": positives, "n": len(y)}
        )


def train(frame: Frame, *, seed: int = 7) -> Trained:
    """Fit on the past, evaluate on the latest period against the three baselines."""
    if frame.y is None or len(frame) < MIN_ROWS:
        raise ScoringError(_("At least %(n)s history rows are needed to train.") % {"n": MIN_ROWS})
    _check_classes(frame.y, _("whole"))
    fit_idx, test_idx = time_split(frame, HOLDOUT_SHARE)
    if not len(fit_idx) or not len(test_idx):
        raise ScoringError(_("All history rows share one moment: there is no later period to test on."))
    fit, test = frame.take(fit_idx), frame.take(test_idx)
    assert fit.y is not None
    assert test.y is not None
    _check_classes(fit.y, _("training"))
    _check_classes(test.y, _("holdout"))
    learn_idx, valid_idx = time_split(fit, VALID_SHARE)
    # Early stopping on a handful of conversions stops at noise (two trees on a small branch): below
    # MIN_VALID_POSITIVES the model trains on every training row for a fixed, slower schedule instead.
    if int(fit.y[valid_idx].sum()) < MIN_VALID_POSITIVES or len(set(fit.y[learn_idx].tolist())) < 2:
        learn_idx, valid_idx = np.arange(len(fit)), np.empty(0, dtype=np.int64)
    cats = learn_categories(fit)
    features = frame.features
    x_fit = matrix(fit, features, cats)
    cat_cols = [j for j, f in enumerate(features) if f.kind == "category"]
    params = {**PARAMS, "seed": seed}
    names = [f.name for f in features]
    train_set = lgb.Dataset(
        x_fit[learn_idx],
        fit.y[learn_idx],
        feature_name=names,
        categorical_feature=cat_cols,
        free_raw_data=False,
    )
    callbacks: list[Any] = []
    valid_sets = []
    if len(valid_idx):
        valid_sets = [train_set.create_valid(x_fit[valid_idx], fit.y[valid_idx])]
        callbacks = [lgb.early_stopping(EARLY_STOP, verbose=False)]
    if not valid_sets:
        params = {**params, "learning_rate": SMALL_RATE}
    rounds = MAX_ROUNDS if valid_sets else SMALL_ROUNDS
    booster = lgb.train(
        {**params, "metric": "auc"}, train_set, rounds, valid_sets=valid_sets, callbacks=callbacks
    )
    if booster.best_iteration:
        booster = booster.model_from_string(booster.model_to_string(num_iteration=booster.best_iteration))
    x_test = matrix(test, features, cats)
    scores = {
        "random": np.random.default_rng(seed).random(len(test)),
        "rule": rule_score(test),
        "model": np.asarray(booster.predict(x_test, num_threads=params["num_threads"])),
    }
    logistic = _logistic(features).fit(x_fit, fit.y)
    scores["logistic"] = logistic.predict_proba(x_test)[:, 1]
    evaluation = {method: metrics(test.y, scores[method]) for method in METHODS}
    trained = Trained(
        booster=booster,
        features=features,
        categories=cats,
        params={**params, "rounds": booster.num_trees()},
        evaluation=evaluation,
        window=_window(fit, test),
        rows={
            "train": len(fit),
            "train_positive": int(fit.y.sum()),
            "holdout": len(test),
            "holdout_positive": int(test.y.sum()),
        },
        holdout=test,
    )
    trained.notes = card_notes(evaluation)
    return trained


def _window(fit: Frame, test: Frame) -> dict[str, str]:
    def day(t: Any) -> str:
        return str(np.datetime64(t, "D"))

    return {
        "train_from": day(fit.times.min()),
        "train_to": day(fit.times.max()),
        "holdout_from": day(test.times.min()),
        "holdout_to": day(test.times.max()),
    }


def beats_baselines(evaluation: dict[str, dict[str, Any]]) -> bool:
    """The product's bar: better than every baseline on AUC and on capture at 20 % and 50 %."""
    model = evaluation["model"]
    for base in ("random", "rule", "logistic"):
        other = evaluation[base]
        if model["auc"] <= other["auc"]:
            return False
        if any(model["capture"][p] <= other["capture"][p] for p in ("20", "50")):
            return False
    return True


def card_notes(evaluation: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """What the card must say plainly: where the model does not beat a baseline (rendered by note_text)."""
    notes: list[dict[str, Any]] = []
    model = evaluation["model"]
    for base in ("random", "rule", "logistic"):
        other = evaluation[base]
        for metric in ("auc", "20", "50"):
            mine = model["auc"] if metric == "auc" else model["capture"][metric]
            theirs = other["auc"] if metric == "auc" else other["capture"][metric]
            if mine <= theirs:
                notes.append({"base": base, "metric": metric, "mine": mine, "theirs": theirs})
    mine, theirs = model["capture"]["10"], evaluation["rule"]["capture"]["10"]
    if mine < theirs:
        notes.append({"base": "rule", "metric": "10", "mine": mine, "theirs": theirs})
    return notes
