"""The rollup counts the source tables right: figures per day and person, attribution, corrections,
the balance stock and growth, the funnel's furthest stage; and a refresh replaces what it covers."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from tests import factories as f
from tests.conftest import Cast
from tests.plans_data import MONTH, TODAY, line, listed, loan, outcome, refresh
from xiaodai.plans import read
from xiaodai.plans.choices import Figure, FunnelStage
from xiaodai.plans.models import FigureFact, FunnelFact

D1 = dt.date(2026, 11, 2)
D2 = dt.date(2026, 11, 3)


def _facts(**kw: object) -> dict[str, Decimal]:
    return {r.figure: r.value for r in FigureFact.objects.filter(**kw)}


def test_process_figures_count_per_person_and_day(cast: Cast) -> None:
    tele, c = cast.staff["tele"], cast.customers["team"]
    outcome(tele, c, "no_answer", D1)
    outcome(tele, c, "interested", D1, hour=15)
    outcome(tele, c, "will_apply", D2, purpose="car")
    outcome(tele, c, "interested", D2, channel="visit", visit_place="home")
    refresh(cast.branch.pk)
    assert _facts(staff=tele, day=D1) == {"calls": 2, "reached": 1}
    assert _facts(staff=tele, day=D2) == {"calls": 1, "reached": 2, "visits": 1, "referrals": 1}


def test_a_corrected_contact_counts_once_as_its_correction(cast: Cast) -> None:
    tele, c = cast.staff["tele"], cast.customers["team"]
    first = outcome(tele, c, "no_answer", D1)
    outcome(tele, c, "interested", D1, corrects=first)
    refresh(cast.branch.pk)
    assert _facts(staff=tele, day=D1) == {"calls": 1, "reached": 1}


def test_a_day_is_the_local_day(cast: Cast) -> None:
    tele, c = cast.staff["tele"], cast.customers["team"]
    outcome(tele, c, "no_answer", D2, hour=7)  # 07:00 Shanghai is 23:00 UTC the day before
    refresh(cast.branch.pk)
    assert _facts(staff=tele, day=D2) == {"calls": 1}


def test_money_counts_for_the_customers_owner_in_its_sub_branch(cast: Cast) -> None:
    mgr = cast.staff["mgr"]
    c = f.CustomerFactory(sub_branch=cast.sub, owner=mgr)
    loan(c, D1, "80000")
    line(c, D2, "150000")
    refresh(cast.branch.pk)
    assert _facts(staff=mgr, day=D1) == {"disbursed_amount": Decimal("80000"), "new_drawdown_customers": 1}
    assert _facts(staff=mgr, day=D2) == {"approved_amount": Decimal("150000")}
    assert (
        FigureFact.objects.get(staff=mgr, day=D1, figure="disbursed_amount").sub_branch_id == c.sub_branch_id
    )


def test_a_second_loan_is_no_new_drawdown_customer(cast: Cast) -> None:
    c = cast.customers["own"]
    loan(c, dt.date(2026, 1, 5))
    loan(c, D1)
    refresh(cast.branch.pk)
    assert "new_drawdown_customers" not in _facts(staff=cast.staff["mgr"], day=D1)


def test_balance_growth_is_the_difference_of_two_stocks(cast: Cast) -> None:
    c, head = cast.customers["own"], cast.user("head")
    refresh(cast.branch.pk, as_of=dt.date(2026, 10, 31))  # the stock before the month: the cast's one loan
    before = read.growth(head, *MONTH)[0]
    assert before == {}  # one stock only: no growth yet
    loan(c, D1, "30000")
    refresh(cast.branch.pk, as_of=TODAY)
    grown, start, end = read.growth(head, *MONTH)
    assert (start, end) == (dt.date(2026, 10, 31), TODAY)
    assert grown[None][Figure.BALANCE_GROWTH] == Decimal("30000")


def test_funnel_counts_each_list_entry_at_its_furthest_stage(cast: Cast) -> None:
    tele, mgr = cast.staff["tele"], cast.staff["mgr"]
    a, b, d = (f.CustomerFactory(sub_branch=cast.sub) for _ in range(3))
    for c in (a, b, d):
        listed(c, tele, D1)
    outcome(tele, a, "no_answer", D1)
    outcome(tele, b, "interested", D2)
    loan(b, D2)  # disbursed after listing
    outcome(mgr, d, "interested", dt.date(2026, 10, 1))  # before listing: not counted
    refresh(cast.branch.pk)
    stages = {r.stage: r.entries for r in FunnelFact.objects.all()}
    assert stages == {FunnelStage.CONTACTED: 1, FunnelStage.DISBURSED: 1, FunnelStage.LISTED: 1}
    steps = read.funnel(cast.user("head"), *MONTH)
    assert [s.entries for s in steps] == [3, 2, 1, 1, 1, 1, 1, 0]
    assert steps[1].rate == Decimal("66.7")


def test_the_control_group_is_not_on_the_funnel(cast: Cast) -> None:
    listed(f.CustomerFactory(sub_branch=cast.sub), cast.staff["tele"], D1, control=True)
    refresh(cast.branch.pk)
    assert not FunnelFact.objects.exists()


def test_a_refresh_replaces_the_days_it_covers_and_keeps_the_others(cast: Cast) -> None:
    tele, c = cast.staff["tele"], cast.customers["team"]
    outcome(tele, c, "no_answer", D1)
    refresh(cast.branch.pk)
    outcome(tele, c, "no_answer", D2)
    refresh(cast.branch.pk, D2, D2)
    assert _facts(staff=tele, day=D1) == {"calls": 1}
    assert _facts(staff=tele, day=D2) == {"calls": 1}
    refresh(cast.branch.pk, D2, D2)
    assert FigureFact.objects.filter(staff=tele, figure="calls").count() == 2


def test_figures_are_scoped_to_the_viewer(cast: Cast) -> None:
    outcome(cast.staff["tele"], cast.customers["team"], "no_answer", D1)
    outcome(cast.staff["mgr2"], cast.customers["other_team"], "no_answer", D1)
    outcome(cast.staff["mgr_b"], cast.customers["other_branch"], "no_answer", D1)
    refresh(cast.branch.pk)
    refresh(cast.branch_b.pk)
    calls = {
        name: read.values(cast.user(name), *MONTH)[None]["calls"] for name in ("head", "lead", "tele", "mgr")
    }
    assert calls == {"head": 2, "lead": 1, "tele": 1, "mgr": 0}


def test_every_level_at_once_equals_each_level_read_alone(cast: Cast) -> None:
    outcome(cast.staff["tele"], cast.customers["team"], "interested", D1)
    outcome(cast.staff["mgr2"], cast.customers["other_team"], "no_answer", D2)
    loan(f.CustomerFactory(sub_branch=cast.sub, owner=cast.staff["mgr"]), D1)
    loan(f.CustomerFactory(sub_branch=cast.sub), D2)  # nobody's: the branch and sub-branch only
    refresh(cast.branch.pk, as_of=dt.date(2026, 10, 31))
    refresh(cast.branch.pk)
    for name in ("head", "lead", "tele"):
        user = cast.user(name)
        at_once = read.levels(user, *MONTH)
        for column in (None, *read.GROUPS):
            assert at_once[column] == read.values(user, *MONTH, by=column), (name, column)


def test_funnels_by_nested_groupings_at_once_equal_each_alone(cast: Cast) -> None:
    for who in ("tele", "mgr2", "mgr"):
        customer = f.CustomerFactory(sub_branch=cast.sub)
        listed(customer, cast.staff[who], D1)
        outcome(cast.staff[who], customer, "interested", D2)
    refresh(cast.branch.pk)
    head = cast.user("head")
    at_once = read.funnel_by_each(head, *MONTH, ("sub_branch_id", "team_id", "staff_id"))
    for by in ("sub_branch_id", "team_id", "staff_id"):
        assert at_once[by] == read.funnel_by(head, *MONTH, by), by
