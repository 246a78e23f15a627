"""The pieces under every model: the holdout metrics, the business-rule baseline, the time split, the reasons
(path contributions against LightGBM's exact ones), rules v1, the product's features as of a day, and the
wording of a reason."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import duckdb
import lightgbm as lgb
import numpy as np
import pyarrow as pa
import pytest
from django.utils import translation

from tests import scoring_data as d
from xiaodai.scoring import explain, learn, prior, product
from xiaodai.scoring.frame import Feature, Frame
from xiaodai.scoring.wording import reason_text, reasons_text

# --- metrics ------------------------------------------------------------------------------------------------


def test_capture_of_the_whole_list_is_everything() -> None:
    rng = np.random.default_rng(4)
    y = (rng.random(200) < 0.1).astype(np.int8)
    result = learn.metrics(y, rng.random(200))
    assert learn.capture(y, rng.random(200), 100) == 1.0
    assert result["gains"][-1] == 1.0
    assert len(result["gains"]) == 20


def test_a_perfect_score_has_auc_one_and_puts_every_conversion_first() -> None:
    y = np.array([0, 1, 0, 0, 0, 0, 1, 0, 0, 0], dtype=np.int8)
    result = learn.metrics(y, y + np.linspace(0, 0.1, 10))
    assert result["auc"] == 1.0
    assert result["ap"] == 1.0
    assert (result["capture"]["10"], result["capture"]["20"]) == (0.5, 1.0)


def test_capture_counts_the_top_share_of_the_list() -> None:
    y = np.array([1, 0, 0, 1, 0, 0, 0, 0, 0, 1], dtype=np.int8)
    score = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.0])
    assert [learn.capture(y, score, p) for p in (10, 30, 40, 90)] == [1 / 3, 1 / 3, 2 / 3, 2 / 3]


# --- the business rule --------------------------------------------------------------------------------------


def test_the_rule_puts_earlier_success_then_fewer_contacts_then_recent_contact_first() -> None:
    rows = {  # name: (earlier successes, contacts in 90 days, days since the last contact)
        "never contacted": (0, 0, np.nan),
        "busy": (0, 2, 1.0),
        "succeeded before": (1, 5, 100.0),
        "contacted long ago": (0, 0, 50.0),
        "contacted lately": (0, 0, 10.0),
    }
    frame = d.frame(
        {
            "h_prev_pos": [r[0] for r in rows.values()],
            "h_prev_n_90": [r[1] for r in rows.values()],
            "h_days_since_prev": [r[2] for r in rows.values()],
        }
    )
    score = learn.rule_score(frame)
    ranked = [name for _, name in sorted(zip(-score, rows, strict=True))]
    assert ranked == ["succeeded before", "contacted lately", "contacted long ago", "never contacted", "busy"]


# --- the time split -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("share", [0.2, 0.35, 0.5])
def test_the_time_split_keeps_each_moment_on_one_side_and_tests_on_the_later(share: float) -> None:
    rng = np.random.default_rng(8)
    moments = [d.START + dt.timedelta(days=int(k)) for k in rng.integers(0, 12, 300)]  # many ties
    frame = d.frame({"x": list(rng.random(300))}, times=moments)
    before, after = learn.time_split(frame, share)
    assert sorted([*before, *after]) == list(range(300))
    assert frame.times[before].max() < frame.times[after].min()
    assert not set(frame.times[before]) & set(frame.times[after])
    assert abs(len(after) / 300 - share) < 0.15


# --- reasons: path contributions ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def dominated() -> tuple[lgb.Booster, np.ndarray]:
    """A booster where x0 decides most of the outcome, x1 a little, x2 (a category) and x3 nothing."""
    rng = np.random.default_rng(11)
    n = 2000
    x = np.column_stack([rng.random(n), rng.random(n), rng.integers(0, 4, n).astype(float), rng.random(n)])
    x[rng.random(n) < 0.05, 1] = np.nan
    logit = 6 * (x[:, 0] - 0.5) + 0.8 * np.nan_to_num(x[:, 1] - 0.5) + 0.3 * (x[:, 2] == 2)
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    params = {**learn.PARAMS, "min_data_in_leaf": 20, "seed": 3}
    booster = lgb.train(params, lgb.Dataset(x, y, categorical_feature=[2]), 80)
    return booster, x


def test_path_contributions_add_up_to_the_raw_score(dominated: tuple[lgb.Booster, np.ndarray]) -> None:
    booster, x = dominated
    explainer = explain.PathContributions(booster)
    contrib = explainer(x)
    raw = booster.predict(x, raw_score=True)
    assert contrib.shape == x.shape
    assert np.abs(explainer.base + contrib.sum(axis=1) - raw).max() < 1e-9


def test_the_leading_reason_mostly_agrees_with_treeshap(dominated: tuple[lgb.Booster, np.ndarray]) -> None:
    booster, x = dominated
    path = explain.top_features(explain.contributions(booster, x))[:, 0]
    exact = explain.top_features(explain.contributions(booster, x, exact=True))[:, 0]
    assert np.mean(path == exact) > 0.85
    assert np.mean(exact == 0) > 0.4  # the dominant feature does lead (the comparison is not vacuous)


def test_top_features_list_only_positive_contributions() -> None:
    contrib = np.array([[0.5, -0.2, 0.1, 0.0], [-0.1, -0.3, -0.2, -0.4]])
    assert explain.top_features(contrib).tolist() == [[0, 2, -1], [-1, -1, -1]]


# --- rules v1 -----------------------------------------------------------------------------------------------

IDLE_LINE = {"line_limit": 200_000.0, "line_idle_days": 95.0, "line_never_drawn": 0.0}


def test_a_story_resting_on_a_value_the_row_lacks_is_not_chosen_as_a_reason() -> None:
    features = [
        Feature("app_days", "number", "derived"),
        Feature("h_days_since_prev", "number", "derived"),
        Feature("card_limit", "number", "derived"),
    ]
    table = pa.table(
        {"app_days": [None, 5.0], "h_days_since_prev": [None, 9.0], "card_limit": [30000.0, 30000.0]}
    )
    frame = Frame(np.arange(2), np.zeros(2, dtype="datetime64[us]"), features, table)
    contrib = np.array([[0.9, 0.5, 0.1], [0.9, 0.5, 0.1]])  # no application pushes row 0 up the most
    reasons = [json.loads(r) for r in explain.product_reasons(frame, features, contrib).to_pylist()]
    assert [code for code, _ in reasons[0]] == ["last_contact", "card"]  # never contacted is a fact
    assert [code for code, _ in reasons[1]] == ["application", "last_contact", "card"]


def test_an_idle_line_gets_the_approved_undrawn_base_rate() -> None:
    p, reasons = prior.score(d.product_frame([IDLE_LINE]))
    assert p[0] == pytest.approx(prior.POOL_PRIOR["approved_undrawn"])
    assert reasons[0] == [["pool", {"pool": "approved_undrawn"}]]


def test_recent_interest_doubles_the_chance() -> None:
    p, reasons = prior.score(d.product_frame([{**IDLE_LINE, "h_days_since_keen": 20.0}]))
    assert p[0] == pytest.approx(2 * prior.POOL_PRIOR["approved_undrawn"])
    assert reasons[0][0] == ["keen_before", {"days": 20}]


def test_a_recent_refusal_cuts_the_chance() -> None:
    row = {**IDLE_LINE, "h_prev_refused": 1.0, "h_days_since_prev": 30.0, "h_days_since_refused": 30.0}
    p, reasons = prior.score(d.product_frame([row]))
    assert p[0] == pytest.approx(prior.REFUSED_FACTOR * prior.POOL_PRIOR["approved_undrawn"])
    assert ["refused_recently", {}] in reasons[0]


def test_a_row_in_no_pool_gets_the_floor_and_says_so() -> None:
    p, reasons = prior.score(d.product_frame([{"age": 40.0}]))
    assert (p[0], reasons[0]) == (prior.OTHER, [["no_pool", {}]])


def test_prior_reasons_are_code_and_params_lists() -> None:
    rows = [IDLE_LINE, {**IDLE_LINE, "h_days_since_keen": 3.0, "is_payroll": 1.0}, {"age": 30.0}]
    _, reasons = prior.score(d.product_frame(rows))
    for mine in reasons:
        assert 1 <= len(mine) <= 3
        assert all(isinstance(code, str) and isinstance(params, dict) for code, params in mine)


def test_an_old_refusal_does_not_cut_the_chance() -> None:
    con = duckdb.connect()
    d.product_inputs(
        con,
        customers=[d.customer(1)],
        credit_lines=[d.line(1)],
        contacts=[
            {"customer_id": 1, "contacted_on": dt.date(2025, 2, 1), "outcome": "refused"},
            {"customer_id": 1, "contacted_on": dt.date(2025, 11, 20), "outcome": "no_answer"},
        ],
    )
    p, reasons = prior.score(product.scoring_frame(con, [1], dt.date(2025, 11, 28)))
    assert ["refused_recently", {}] not in reasons[0]
    assert p[0] == pytest.approx(prior.POOL_PRIOR["approved_undrawn"])


# --- the product's features and target ----------------------------------------------------------------------


def _training(**tables: list[d.Row]) -> Any:
    con = duckdb.connect()
    d.product_inputs(con, **tables)
    return product.training_frame(con, dt.date(2026, 6, 1))


def test_an_application_within_thirty_days_of_a_contact_is_its_conversion() -> None:
    frame = _training(
        customers=[d.customer(1), d.customer(2)],
        contacts=[
            {"customer_id": 1, "contacted_on": dt.date(2026, 3, 1), "outcome": "interested"},
            {"customer_id": 1, "contacted_on": dt.date(2026, 3, 12), "outcome": "applied"},
            {"customer_id": 2, "contacted_on": dt.date(2026, 3, 1), "outcome": "interested"},
            {"customer_id": 2, "contacted_on": dt.date(2026, 4, 20), "outcome": "applied"},
        ],
    )
    assert dict(zip(frame.ids.tolist(), frame.y.tolist(), strict=True)) == {1: 1, 2: 0}


def test_an_application_on_the_day_of_the_contact_is_its_conversion() -> None:
    frame = _training(
        customers=[d.customer(1)],
        contacts=[
            {"customer_id": 1, "contacted_on": dt.date(2026, 3, 1), "outcome": "interested"},
            {"customer_id": 1, "contacted_on": dt.date(2026, 3, 1), "outcome": "applied"},
        ],
    )
    assert frame.y.tolist() == [1]


def test_contact_features_use_only_earlier_days() -> None:
    frame = _training(
        customers=[d.customer(1)],
        contacts=[
            {"customer_id": 1, "contacted_on": dt.date(2026, 2, 1), "outcome": "no_answer"},
            {"customer_id": 1, "contacted_on": dt.date(2026, 3, 1), "outcome": "refused"},
            {"customer_id": 1, "contacted_on": dt.date(2026, 3, 1), "outcome": "interested"},
            {"customer_id": 1, "contacted_on": dt.date(2026, 3, 5), "outcome": "applied"},
        ],
    )
    rows = frame.table.select(["t", "h_prev_n", "h_prev_refused", "h_prev_keen", "h_prev_pos"]).to_pylist()
    assert [
        (r["t"], r["h_prev_n"], r["h_prev_refused"], r["h_prev_keen"], r["h_prev_pos"]) for r in rows
    ] == [
        (dt.date(2026, 2, 1), 0, 0, 0, 0),
        (dt.date(2026, 3, 1), 1, 0, 0, 0),
        (dt.date(2026, 3, 1), 1, 0, 0, 0),
    ]


def test_a_later_drawdown_does_not_change_the_line_features_of_an_earlier_contact() -> None:
    contacts = [{"customer_id": 1, "contacted_on": dt.date(2026, 3, 1), "outcome": "interested"}]
    seen = []
    for last_drawn in (dt.date(2026, 1, 1), dt.date(2026, 4, 1)):  # drawn before the call; and again after
        frame = _training(
            customers=[d.customer(1)],
            credit_lines=[d.line(1, last_drawn_on=last_drawn)],
            loans=[
                d.consumer_loan(1, disbursed_on=dt.date(2026, 1, 1))
            ],  # the drop's record of the January draw
            contacts=contacts,
        )
        seen.append(frame.table.select(["line_never_drawn", "line_idle_days"]).to_pylist())
    assert seen[0][0]["line_never_drawn"] == 0
    assert seen[1] == seen[0] or seen[1][0]["line_never_drawn"] is None


def test_age_counts_birthdays_passed() -> None:
    con = duckdb.connect()
    d.product_inputs(con, customers=[d.customer(1, birth_date=dt.date(1988, 12, 31))])
    frame = product.scoring_frame(con, [1], dt.date(2026, 2, 28))
    assert frame.table["age"].to_pylist() == [37]


# --- wording ------------------------------------------------------------------------------------------------

LINE = {"limit": 200000.0, "days": 95, "never": 0}


def test_a_line_reason_reads_in_chinese() -> None:
    with translation.override("zh-hans"):
        text = reason_text("line", LINE)
    assert "20万元" in text
    assert "95天" in text


def test_a_line_reason_reads_in_english() -> None:
    with translation.override("en"):
        assert reason_text("line", LINE) == "Credit line of CNY 200,000 idle for 95 days"


def test_every_reason_the_step_writes_has_a_sentence() -> None:
    reasons: list[list[Any]] = [
        ["non_personalised", {}],
        ["pool", {"pool": "approved_undrawn"}],
        ["keen_before", {"days": 12}],
        ["refused_recently", {}],
        ["no_pool", {}],
    ]
    with translation.override("en"):
        texts = reasons_text(reasons)
    assert texts[0] == "Ranked by pool only: declined personalised marketing"
    assert "12 days ago" in texts[2]
    assert all(t and t not in {code for code, _ in reasons} for t in texts)


def test_a_reason_resting_on_a_missing_value_is_left_out() -> None:
    reasons: list[list[Any]] = [
        ["application", {"days": None, "amount": None}],  # no application: its absence pushed the score up
        ["applied_before", {"days": None}],
        ["keen_before", {"days": 12}],
    ]
    with translation.override("en"):
        assert reasons_text(reasons) == ["Showed interest at the last marketing contact (12 days ago)"]


def test_a_customer_never_contacted_reads_so() -> None:
    with translation.override("en"):
        assert reasons_text([["last_contact", {"days": None}]]) == ["Not contacted before"]


def test_a_count_reads_singular_or_plural_in_english() -> None:
    with translation.override("en"):
        assert reasons_text([["contacts", {"n": 1}], ["contacts", {"n": 2}]]) == [
            "Contacted 1 time in the last 90 days",
            "Contacted 2 times in the last 90 days",
        ]
    with translation.override("zh-hans"):
        assert reasons_text([["contacts", {"n": 1}]]) == ["近90天联系1次"]


def test_a_zero_count_reads_as_what_it_means() -> None:
    reasons: list[list[Any]] = [["past_loans", {"n": 0}], ["contacts", {"n": 0}], ["flow_lender", {"n": 0}]]
    with translation.override("en"):
        assert reasons_text(reasons) == ["No consumer loan with us yet", "Not contacted in the last 90 days"]


def test_no_repayment_to_another_lender_is_not_chosen_as_a_reason() -> None:
    features = [Feature("sig_lender_n90", "number", "derived"), Feature("card_limit", "number", "derived")]
    table = pa.table({"sig_lender_n90": [0, 3], "card_limit": [30000.0, 30000.0]})
    frame = Frame(np.arange(2), np.zeros(2, dtype="datetime64[us]"), features, table)
    contrib = np.array([[0.9, 0.1], [0.9, 0.1]])
    reasons = [json.loads(r) for r in explain.product_reasons(frame, features, contrib).to_pylist()]
    assert [[code for code, _ in row] for row in reasons] == [["card"], ["flow_lender", "card"]]
