"""The pool rules on DuckDB, one behaviour each, on hand-built snapshots (no database needed)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from xiaodai.pipeline.engines import connect
from xiaodai.pools.choices import Block, Channels
from xiaodai.pools.compute import compute
from xiaodai.pools.services import PoolConfig
from xiaodai.pools.tests import inputs as i
from xiaodai.pools.tests.inputs import DAY, consent, customer

Run = Callable[..., tuple[list[dict[str, Any]], list[dict[str, Any]]]]


@pytest.fixture
def run(tmp_path: Path) -> Run:
    def go(config: PoolConfig | None = None, **tables: list[dict[str, Any]]) -> Any:
        files = i.write(tmp_path / "in", **tables)
        with connect("duckdb") as con:
            members, figures = compute(con, files, DAY, config or i.config(), prefix="t")
        return members.sort_by([("customer_id", "ascending"), ("pool", "ascending")]).to_pylist(), _rows(
            figures
        )

    return go


def _rows(table: pa.Table) -> list[dict[str, Any]]:
    return table.to_pylist()


def pools_of(members: list[dict[str, Any]], cid: int) -> set[str]:
    return {m["pool"] for m in members if m["customer_id"] == cid}


def line(cid: int, **values: Any) -> dict[str, Any]:
    base = {
        "customer_id": cid,
        "limit": 20_000_000,
        "drawn": 0,
        "approved_on": dt.date(2026, 5, 1),
        "expires_on": dt.date(2027, 5, 1),
        "last_drawn_on": None,
        "status": "active",
    }
    base.update(values)
    return base


def loan(cid: int, **values: Any) -> dict[str, Any]:
    base = {
        "customer_id": cid,
        "kind": "consumer",
        "amount": 10_000_000,
        "balance": 8_000_000,
        "status": "normal",
        "overdue_days": 0,
        "disbursed_on": dt.date(2025, 12, 1),
        "matures_on": dt.date(2027, 12, 1),
    }
    base.update(values)
    return base


# --- approved, not drawn ---------------------------------------------------------------------------------


def test_an_idle_unused_line_is_approved_undrawn(run: Run) -> None:
    members, _ = run(customers=[customer(1)], credit_lines=[line(1)], consents=[consent(1)])
    (m,) = members
    assert (m["pool"], m["potential"], m["basis"], m["days"]) == (
        "approved_undrawn",
        20_000_000,
        20_000_000,
        211,
    )


def test_a_well_used_line_is_not_approved_undrawn(run: Run) -> None:
    members, _ = run(customers=[customer(1)], credit_lines=[line(1, drawn=5_000_000)])
    assert members == []


def test_a_line_drawn_last_week_is_not_idle(run: Run) -> None:
    members, _ = run(
        customers=[customer(1)], credit_lines=[line(1, last_drawn_on=DAY - dt.timedelta(days=7))]
    )
    assert members == []


def test_an_expired_line_is_not_approved_undrawn(run: Run) -> None:
    members, _ = run(customers=[customer(1)], credit_lines=[line(1, expires_on=DAY)])
    assert members == []


def test_utilisation_threshold_is_a_parameter(run: Run) -> None:
    config = i.config(approved_undrawn={"max_utilisation": Decimal("0.30")})
    members, _ = run(config, customers=[customer(1)], credit_lines=[line(1, drawn=5_000_000)])
    assert pools_of(members, 1) == {"approved_undrawn"}


# --- unfinished applications -----------------------------------------------------------------------------


def application(cid: int, **values: Any) -> dict[str, Any]:
    base = {
        "customer_id": cid,
        "amount": 5_000_000,
        "stage": "income",
        "status": "in_progress",
        "started_on": DAY - dt.timedelta(days=20),
        "last_step_on": DAY - dt.timedelta(days=7),
    }
    base.update(values)
    return base


def test_a_stalled_application_is_unfinished(run: Run) -> None:
    members, _ = run(customers=[customer(1)], applications=[application(1)])
    (m,) = members
    assert (m["pool"], m["detail"], m["days"], m["potential"]) == (
        "unfinished_application",
        "income",
        7,
        5_000_000,
    )


@pytest.mark.parametrize(
    "change",
    [
        {"stage": "rejected", "status": "declined"},
        {"status": "completed", "stage": "disbursed"},
        {"last_step_on": DAY},
        {"started_on": DAY - dt.timedelta(days=200), "last_step_on": DAY - dt.timedelta(days=150)},
    ],
)
def test_finished_fresh_or_old_applications_are_not_unfinished(run: Run, change: dict[str, Any]) -> None:
    members, _ = run(customers=[customer(1)], applications=[application(1, **change)])
    assert members == []


def test_the_latest_stalled_application_speaks_for_the_customer(run: Run) -> None:
    older = application(1, stage="identity", last_step_on=DAY - dt.timedelta(days=15))
    members, _ = run(customers=[customer(1)], applications=[older, application(1)])
    assert [(m["detail"], m["days"]) for m in members] == [("income", 7)]


# --- borrowers -------------------------------------------------------------------------------------------


def test_a_loan_maturing_soon_is_a_renewal(run: Run) -> None:
    members, _ = run(customers=[customer(1)], loans=[loan(1, matures_on=DAY + dt.timedelta(days=30))])
    (m,) = members
    assert (m["pool"], m["potential"], m["days"]) == ("current_borrower", 10_000_000, 30)


def test_a_half_repaid_loan_is_a_top_up(run: Run) -> None:
    members, _ = run(customers=[customer(1)], loans=[loan(1, balance=4_000_000)])
    assert [(m["pool"], m["potential"]) for m in members] == [("current_borrower", 6_000_000)]


def test_a_young_loan_far_from_maturity_is_not_current_borrower(run: Run) -> None:
    members, _ = run(customers=[customer(1)], loans=[loan(1)])
    assert members == []


def test_a_loan_repaid_cleanly_makes_a_good_past_borrower(run: Run) -> None:
    repaid = loan(1, status="settled", balance=0, matures_on=dt.date(2025, 6, 1))
    members, _ = run(customers=[customer(1)], loans=[repaid])
    assert [(m["pool"], m["basis"], m["on_date"]) for m in members] == [
        ("good_past_borrower", 10_000_000, dt.date(2025, 6, 1))
    ]


def test_a_past_borrower_with_a_loan_now_is_not_good_past(run: Run) -> None:
    repaid = loan(1, status="settled", balance=0, matures_on=dt.date(2025, 6, 1))
    members, _ = run(customers=[customer(1)], loans=[repaid, loan(1)])
    assert "good_past_borrower" not in pools_of(members, 1)


def test_a_seasoned_mortgage_counts_with_an_income_estimate(run: Run) -> None:
    mortgage = loan(1, kind="mortgage", disbursed_on=dt.date(2020, 3, 1), matures_on=dt.date(2050, 3, 1))
    members, _ = run(customers=[customer(1)], loans=[mortgage])
    (m,) = members
    assert (m["pool"], m["potential"]) == ("mortgage_holder", 15_000_000)  # 10 months of 15,000 yuan


def test_a_new_mortgage_is_not_seasoned(run: Run) -> None:
    mortgage = loan(1, kind="mortgage", disbursed_on=DAY - dt.timedelta(days=100))
    members, _ = run(customers=[customer(1)], loans=[mortgage])
    assert members == []


# --- cards, deposits, payroll, scenario lists ------------------------------------------------------------


def card(cid: int, **values: Any) -> dict[str, Any]:
    base = {
        "customer_id": cid,
        "tier": "platinum",
        "limit": 8_000_000,
        "used": 1_000_000,
        "delinquent_cycles": 0,
    }
    base.update(values)
    return base


def test_a_good_card_is_premium(run: Run) -> None:
    members, _ = run(customers=[customer(1)], cards=[card(1)])
    assert [(m["pool"], m["basis"], m["detail"]) for m in members] == [
        ("premium_card", 8_000_000, "platinum")
    ]


def test_any_delinquent_card_keeps_the_customer_out_of_premium_card(run: Run) -> None:
    members, _ = run(customers=[customer(1)], cards=[card(1), card(1, tier="standard", delinquent_cycles=1)])
    assert "premium_card" not in pools_of(members, 1)


def test_aum_over_the_threshold_is_premium_deposit(run: Run) -> None:
    members, _ = run(customers=[customer(1, aum=52_000_000), customer(2, aum=19_999_900)])
    assert [(m["customer_id"], m["pool"], m["basis"]) for m in members] == [
        (1, "premium_deposit", 52_000_000)
    ]


def test_the_estimate_is_capped(run: Run) -> None:
    members, _ = run(customers=[customer(1, aum=52_000_000, monthly_income=10_000_000)])
    assert members[0]["potential"] == 30_000_000


def test_recent_partner_payroll_is_payroll_staff(run: Run) -> None:
    pay = {
        "customer_id": 1,
        "monthly_amount": 1_800_000,
        "last_paid_on": DAY - dt.timedelta(days=13),
        "partner": True,
    }
    members, _ = run(customers=[customer(1)], payroll=[pay, {**pay, "customer_id": 2, "partner": False}])
    assert [(m["customer_id"], m["pool"], m["potential"]) for m in members] == [
        (1, "payroll_staff", 21_600_000)
    ]


def test_a_recent_scenario_lead_puts_the_customer_in_the_channel_pool(run: Run) -> None:
    lead = {"customer_id": 1, "scenario": "renovation", "consented_on": DAY - dt.timedelta(days=8)}
    old = {"customer_id": 2, "scenario": "car", "consented_on": DAY - dt.timedelta(days=100)}
    members, _ = run(customers=[customer(1), customer(2)], leads=[lead, old])
    assert [(m["customer_id"], m["pool"], m["detail"]) for m in members] == [
        (1, "scenario_channel", "renovation")
    ]


def test_a_switched_off_pool_is_not_computed(run: Run) -> None:
    config = i.config()
    config.priorities.pop("premium_deposit")
    members, _ = run(config, customers=[customer(1, aum=52_000_000)])
    assert members == []


# --- primary pool and eligibility ------------------------------------------------------------------------


def test_the_primary_pool_follows_priority(run: Run) -> None:
    members, _ = run(customers=[customer(1, aum=52_000_000)], credit_lines=[line(1)], consents=[consent(1)])
    assert {m["pool"]: m["is_primary"] for m in members} == {
        "approved_undrawn": True,
        "premium_deposit": False,
    }


def _blocked(run: Run, cust: dict[str, Any], **tables: Any) -> int:
    members, _ = run(customers=[cust], credit_lines=[line(cust["customer_id"])], **tables)
    return int(members[0]["blocked"])


def test_a_consented_adult_is_workable_on_the_consented_channel(run: Run) -> None:
    members, _ = run(
        customers=[customer(1)], credit_lines=[line(1)], consents=[consent(1), consent(1, "sms")]
    )
    assert (members[0]["blocked"], members[0]["channels"]) == (0, Channels.PHONE | Channels.SMS)


def test_no_consent_is_not_workable(run: Run) -> None:
    assert _blocked(run, customer(1)) == Block.NO_CONSENT


def test_a_withdrawn_consent_is_not_workable(run: Run) -> None:
    withdrawn = consent(1, consent_id=11, granted=False, recorded_at=dt.datetime(2026, 6, 1))
    assert _blocked(run, customer(1), consents=[consent(1), withdrawn]) == Block.NO_CONSENT


def test_an_expired_consent_is_not_workable(run: Run) -> None:
    assert _blocked(run, customer(1), consents=[consent(1, expires_on=DAY)]) == Block.NO_CONSENT


def test_an_opt_out_from_everything_blocks(run: Run) -> None:
    opt = [{"customer_id": 1, "channel": ""}]
    assert _blocked(run, customer(1), consents=[consent(1)], opt_outs=opt) == Block.OPTED_OUT


def test_an_opt_out_from_the_only_consented_channel_leaves_no_channel(run: Run) -> None:
    opt = [{"customer_id": 1, "channel": "phone"}]
    assert _blocked(run, customer(1), consents=[consent(1)], opt_outs=opt) == Block.NO_CONSENT


def test_a_minor_is_not_workable(run: Run) -> None:
    minor = customer(1, birth_date=dt.date(2008, 11, 29))  # 18 tomorrow
    assert _blocked(run, minor, consents=[consent(1)]) == Block.UNDER_AGE


def test_an_eighteen_year_old_is_workable(run: Run) -> None:
    adult = customer(1, birth_date=dt.date(2008, 11, 28))
    assert _blocked(run, adult, consents=[consent(1)]) == 0


def test_a_vulnerable_customer_is_not_workable(run: Run) -> None:
    assert _blocked(run, customer(1, is_vulnerable=True), consents=[consent(1)]) == Block.VULNERABLE


def test_an_overdue_loan_blocks_and_says_so(run: Run) -> None:
    late = loan(1, overdue_days=12, status="overdue")
    assert _blocked(run, customer(1), consents=[consent(1)], loans=[late]) == Block.OVERDUE


def test_reasons_add_up(run: Run) -> None:
    assert _blocked(run, customer(1, is_vulnerable=True)) == Block.VULNERABLE | Block.NO_CONSENT


# --- funnel, coverage, change since the previous run -----------------------------------------------------


def contact(cid: int, days_ago: int, outcome: str) -> dict[str, Any]:
    return {"customer_id": cid, "contacted_on": DAY - dt.timedelta(days=days_ago), "outcome": outcome}


def test_funnel_flags_come_from_contacts_and_holdings(run: Run) -> None:
    contacts = [contact(1, 40, "no_answer"), contact(1, 35, "interested")]
    members, _ = run(
        customers=[customer(1)],
        credit_lines=[line(1, approved_on=DAY - dt.timedelta(days=60))],
        consents=[consent(1)],
        contacts=contacts,
    )
    m = members[0]
    got = {k: m[k] for k in ("covered", "contacted", "reached", "interested", "applied", "approved", "drawn")}
    assert got == {
        "covered": 0,
        "contacted": 1,
        "reached": 1,
        "interested": 1,
        "applied": 0,
        "approved": 1,
        "drawn": 0,
    }


def test_an_unanswered_call_is_contacted_not_reached(run: Run) -> None:
    members, _ = run(customers=[customer(1)], credit_lines=[line(1)], contacts=[contact(1, 3, "busy")])
    assert (members[0]["contacted"], members[0]["reached"], members[0]["covered"]) == (1, 0, 1)


def _figure(figures: list[dict[str, Any]], pool: str, level: str, **keys: Any) -> dict[str, Any]:
    (row,) = [
        f
        for f in figures
        if f["pool"] == pool and f["level"] == level and all(f[k] == v for k, v in keys.items())
    ]
    return row


def test_figures_count_per_level(run: Run) -> None:
    people = [
        customer(1),
        customer(2, sub_branch_id=11, team_id=101, owner_id=1001),
        customer(3, owner_id=None, team_id=None),
    ]
    lines = [line(1), line(2), line(3)]
    _, figures = run(customers=people, credit_lines=lines, consents=[consent(1), consent(2)])
    branch = _figure(figures, "approved_undrawn", "branch")
    assert (branch["customers"], branch["workable"], branch["potential"]) == (3, 2, 60_000_000)
    assert _figure(figures, "approved_undrawn", "sub_branch", sub_branch_id=11)["customers"] == 1
    assert _figure(figures, "approved_undrawn", "owner", owner_id=1000)["team_id"] == 100
    assert len([f for f in figures if f["level"] == "owner"]) == 2  # nobody's customer 3 has no person row


def test_a_person_without_a_team_still_has_a_row(run: Run) -> None:
    _, figures = run(customers=[customer(1, team_id=None)], credit_lines=[line(1)])
    assert _figure(figures, "approved_undrawn", "owner", owner_id=1000)["team_id"] is None


def test_coverage_counts_workable_customers_contacted_recently(run: Run) -> None:
    _, figures = run(
        customers=[customer(1), customer(2)],
        credit_lines=[line(1), line(2)],
        consents=[consent(1), consent(2)],
        contacts=[contact(1, 5, "not_now"), contact(2, 45, "refused")],
    )
    branch = _figure(figures, "approved_undrawn", "branch")
    assert (branch["workable"], branch["covered"], branch["contacted"]) == (2, 1, 2)


def test_entered_and_left_compare_with_the_previous_run(run: Run) -> None:
    previous = [{"customer_id": 2, "pool": "approved_undrawn"}, {"customer_id": 1, "pool": "premium_card"}]
    members, figures = run(
        customers=[customer(1), customer(2)], credit_lines=[line(1), line(2)], previous=previous
    )
    assert {m["customer_id"]: m["is_new"] for m in members} == {1: True, 2: False}
    assert _figure(figures, "approved_undrawn", "branch")["entered"] == 1
    assert _figure(figures, "premium_card", "branch")["left"] == 1


def test_primary_totals_count_each_customer_once(run: Run) -> None:
    rich = customer(1, aum=52_000_000)
    _, figures = run(customers=[rich], credit_lines=[line(1)], consents=[consent(1)])
    au = _figure(figures, "approved_undrawn", "branch")
    pd = _figure(figures, "premium_deposit", "branch")
    assert (au["primary_workable"], au["primary_potential"]) == (1, 20_000_000)
    assert (pd["primary_workable"], pd["primary_potential"], pd["potential"]) == (0, 0, 15_000_000)
