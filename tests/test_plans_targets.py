"""Plans and targets services: creating plans, setting targets (reach, overlap, units), the split rules
(even, last period, pool potential) and saving a split, the hierarchy and the page's roll-up."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from tests.conftest import Cast
from tests.plans_data import MONTH, TODAY
from tests.pools_data import Member, publish_pools
from xiaodai.audit.models import AuditEvent
from xiaodai.org.models import Staff
from xiaodai.plans import targets as t
from xiaodai.plans.exceptions import PlanError
from xiaodai.plans.models import FigureFact, Plan, Target
from xiaodai.plans.target_views import plan_tree
from xiaodai.pools.models import PoolMember

OCT = dt.date(2026, 10, 15)


def _plan(cast: Cast, start: dt.date = MONTH[0], end: dt.date = MONTH[1], name: str = "11月计划") -> Plan:
    data = {"name": name, "kind": "month", "starts_on": start, "ends_on": end}
    return t.create_plan(cast.staff["head"], data)


def _code(exc: pytest.ExceptionInfo[PlanError]) -> str:
    return exc.value.code


def _values(rows: list[tuple[t.Node, Decimal]]) -> dict[str, Decimal]:
    return {n.key: v for n, v in rows}


def _key(scope: str, obj: Any) -> str:
    return f"{scope}:{obj.pk}"


# --- plans --------------------------------------------------------------------------------------------------


def test_head_creates_a_plan_and_it_is_audited(cast: Cast) -> None:
    plan = _plan(cast)
    assert plan.branch_id == cast.branch.pk
    assert AuditEvent.objects.filter(action="plans.plan_saved", object_id=str(plan.pk)).count() == 1


def test_a_team_lead_cannot_create_a_plan(cast: Cast) -> None:
    data = {"name": "x", "kind": "month", "starts_on": MONTH[0], "ends_on": MONTH[1]}
    with pytest.raises(PlanError) as exc:
        t.create_plan(cast.staff["lead"], data)
    assert _code(exc) == "head_only"
    assert not Plan.objects.exists()


def test_a_plan_cannot_end_before_it_starts(cast: Cast) -> None:
    with pytest.raises(PlanError) as exc:
        _plan(cast, MONTH[1], MONTH[0])
    assert _code(exc) == "bad_period"
    assert not Plan.objects.exists()


def test_a_plan_covers_at_most_366_days(cast: Cast) -> None:
    with pytest.raises(PlanError) as exc:
        _plan(cast, dt.date(2026, 1, 1), dt.date(2027, 1, 2))
    assert _code(exc) == "too_long"


@pytest.mark.parametrize(
    ("kind", "start", "end"),
    [
        ("month", dt.date(2026, 11, 1), dt.date(2026, 11, 30)),
        ("quarter", dt.date(2026, 10, 1), dt.date(2026, 12, 31)),
        ("campaign", TODAY, dt.date(2026, 11, 30)),
    ],
)
def test_default_periods(kind: str, start: dt.date, end: dt.date) -> None:
    assert t.default_period(kind, TODAY) == (start, end)


# --- setting targets ----------------------------------------------------------------------------------------


def test_set_target_creates_then_updates_the_one_target(cast: Cast) -> None:
    plan, head = _plan(cast), cast.staff["head"]
    t.set_target(head, plan, "team", cast.t1.pk, "calls", "300")
    t.set_target(head, plan, "team", cast.t1.pk, "calls", "400")
    target = Target.objects.get(plan=plan)
    assert (target.value, target.team_id, target.starts_on) == (Decimal(400), cast.t1.pk, MONTH[0])
    assert AuditEvent.objects.filter(action="plans.target_set").count() == 2


def test_money_targets_keep_two_decimals(cast: Cast) -> None:
    target = t.set_target(
        cast.staff["head"], _plan(cast), "branch", cast.branch.pk, "disbursed_amount", "1.005"
    )
    assert target.value == Decimal("1.01")


@pytest.mark.parametrize(
    ("figure", "value", "code"),
    [
        ("calls", "-1", "negative"),
        ("calls", "2.5", "not_whole"),
        ("calls", "abc", "not_a_number"),
        ("profit", "10", "unknown_figure"),
    ],
)
def test_bad_target_values_are_refused(cast: Cast, figure: str, value: str, code: str) -> None:
    plan = _plan(cast)
    with pytest.raises(PlanError) as exc:
        t.set_target(cast.staff["head"], plan, "branch", cast.branch.pk, figure, value)
    assert _code(exc) == code
    assert not Target.objects.exists()


def test_overlapping_plans_cannot_target_the_same_unit_and_figure(cast: Cast) -> None:
    head = cast.staff["head"]
    t.set_target(head, _plan(cast), "team", cast.t1.pk, "calls", "300")
    campaign = _plan(cast, dt.date(2026, 11, 20), dt.date(2026, 12, 10), name="冲刺")
    with pytest.raises(PlanError) as exc:
        t.set_target(head, campaign, "team", cast.t1.pk, "calls", "100")
    assert _code(exc) == "overlap"
    assert Target.objects.count() == 1


def test_plans_that_do_not_overlap_each_have_their_target(cast: Cast) -> None:
    head = cast.staff["head"]
    t.set_target(head, _plan(cast), "team", cast.t1.pk, "calls", "300")
    december = _plan(cast, dt.date(2026, 12, 1), dt.date(2026, 12, 31), name="12月")
    t.set_target(head, december, "team", cast.t1.pk, "calls", "100")
    t.set_target(head, _plan(cast, name="同期"), "team", cast.t2.pk, "calls", "100")  # another unit
    assert Target.objects.count() == 3


def test_a_lead_sets_their_team_and_their_people(cast: Cast) -> None:
    plan, lead = _plan(cast), cast.staff["lead"]
    t.set_target(lead, plan, "team", cast.t1.pk, "calls", "300")
    t.set_target(lead, plan, "staff", cast.staff["tele"].pk, "calls", "100")
    assert Target.objects.count() == 2


@pytest.mark.parametrize(("scope", "unit"), [("team", "t2"), ("staff", "mgr2"), ("sub_branch", "sub")])
def test_a_lead_cannot_reach_beyond_their_team(cast: Cast, scope: str, unit: str) -> None:
    obj = cast.staff[unit] if scope == "staff" else getattr(cast, unit)
    with pytest.raises(PlanError) as exc:
        t.set_target(cast.staff["lead"], _plan(cast), scope, obj.pk, "calls", "10")
    assert _code(exc) == "out_of_reach"
    assert not Target.objects.exists()


def test_a_unit_of_another_branch_is_refused(cast: Cast) -> None:
    with pytest.raises(PlanError) as exc:
        t.set_target(cast.staff["head"], _plan(cast), "staff", cast.staff["mgr_b"].pk, "calls", "10")
    assert _code(exc) == "bad_scope"


def test_a_child_target_links_to_its_parent(cast: Cast) -> None:
    plan, head = _plan(cast), cast.staff["head"]
    parent = t.set_target(head, plan, "team", cast.t1.pk, "calls", "300")
    child = t.set_target(head, plan, "staff", cast.staff["tele"].pk, "calls", "100")
    assert child.parent_id == parent.pk


# --- the hierarchy ------------------------------------------------------------------------------------------


def test_children_follow_the_hierarchy(cast: Cast) -> None:
    b = cast.branch.pk
    assert [n.key for n in t.children(b, "branch", b)] == [_key("sub_branch", cast.sub)]
    under_sub = [n.key for n in t.children(b, "sub_branch", cast.sub.pk)]
    loose = [_key("staff", cast.staff[n]) for n in ("lobby", "corporate", "wealth")]
    assert sorted(under_sub) == sorted([_key("team", cast.t1), _key("team", cast.t2), *loose])
    under_t1 = {n.key for n in t.children(b, "team", cast.t1.pk)}
    assert under_t1 == {_key("staff", cast.staff[n]) for n in ("lead", "mgr", "tele")}


def test_inactive_people_are_no_children(cast: Cast) -> None:
    tele = cast.staff["tele"]
    tele.user.is_active = False
    tele.user.save()
    assert _key("staff", tele) not in {n.key for n in t.children(cast.branch.pk, "team", cast.t1.pk)}


# --- proposing a split --------------------------------------------------------------------------------------


def test_even_split_adds_up_exactly_in_whole_units(cast: Cast) -> None:
    target = t.set_target(cast.staff["head"], _plan(cast), "team", cast.t1.pk, "calls", "7")
    values = sorted(_values(t.propose_split(cast.staff["head"], target, "even", TODAY)).values())
    assert values == [Decimal(2), Decimal(2), Decimal(3)]


def test_even_split_of_money_adds_up_to_the_fen(cast: Cast) -> None:
    target = t.set_target(cast.staff["head"], _plan(cast), "team", cast.t1.pk, "disbursed_amount", "100")
    values = list(_values(t.propose_split(cast.staff["head"], target, "even", TODAY)).values())
    assert sum(values) == Decimal("100.00")
    assert sorted(values) == [Decimal("33.33"), Decimal("33.33"), Decimal("33.34")]


def _fact(cast: Cast, who: str, figure: str, value: str, day: dt.date = OCT) -> None:
    s: Staff = cast.staff[who]
    FigureFact.objects.create(
        branch=cast.branch,
        day=day,
        sub_branch_id=s.sub_branch_id,
        team_id=s.team_id,
        staff=s,
        figure=figure,
        value=Decimal(value),
    )


def test_last_period_split_follows_last_months_shares(cast: Cast) -> None:
    _fact(cast, "mgr", "calls", "30")
    _fact(cast, "tele", "calls", "10")
    _fact(cast, "tele", "calls", "999", day=MONTH[0])  # this month: not last period
    head = cast.staff["head"]
    target = t.set_target(head, _plan(cast), "team", cast.t1.pk, "calls", "100")
    proposal = t.propose(head, target, "last_period", TODAY)
    assert not proposal.fallback
    values = _values(proposal.rows)
    assert values[_key("staff", cast.staff["mgr"])] == 75
    assert values[_key("staff", cast.staff["tele"])] == 25
    assert values[_key("staff", cast.staff["lead"])] == 0


def test_last_period_split_falls_back_to_even_without_history(cast: Cast) -> None:
    head = cast.staff["head"]
    target = t.set_target(head, _plan(cast), "team", cast.t1.pk, "calls", "90")
    proposal = t.propose(head, target, "last_period", TODAY)
    assert (proposal.fallback, proposal.rule) == (True, "even")
    assert set(_values(proposal.rows).values()) == {Decimal(30)}


def test_previous_period_of_a_month_is_the_month_before() -> None:
    assert t.previous_period(*MONTH) == (dt.date(2026, 10, 1), dt.date(2026, 10, 31))
    assert t.previous_period(dt.date(2026, 11, 10), dt.date(2026, 11, 19)) == (
        dt.date(2026, 10, 31),
        dt.date(2026, 11, 9),
    )


def test_pool_potential_split_follows_the_expected_value_held(cast: Cast) -> None:
    c = cast.customers
    publish_pools(
        cast.branch, [Member(c["own"], "approved_undrawn"), Member(c["other_team"], "approved_undrawn")]
    )
    PoolMember.objects.filter(customer=c["own"]).update(expected_value=Decimal("3000"))
    PoolMember.objects.filter(customer=c["other_team"]).update(expected_value=Decimal("1000"))
    head = cast.staff["head"]
    target = t.set_target(head, _plan(cast), "sub_branch", cast.sub.pk, "disbursed_amount", "100000")
    values = _values(t.propose_split(head, target, "pool_potential", TODAY))
    assert values[_key("team", cast.t1)] == Decimal("75000.00")
    assert values[_key("team", cast.t2)] == Decimal("25000.00")
    assert values[_key("staff", cast.staff["lobby"])] == 0


def test_pool_potential_split_falls_back_to_even_without_pools(cast: Cast) -> None:
    head = cast.staff["head"]
    target = t.set_target(head, _plan(cast), "team", cast.t1.pk, "calls", "3")
    assert t.propose(head, target, "pool_potential", TODAY).fallback


def test_a_target_with_nobody_below_cannot_be_split(cast: Cast) -> None:
    head = cast.staff["head"]
    target = t.set_target(head, _plan(cast), "staff", cast.staff["tele"].pk, "calls", "3")
    with pytest.raises(PlanError) as exc:
        t.propose_split(head, target, "even", TODAY)
    assert _code(exc) == "no_children"


# --- saving a split -----------------------------------------------------------------------------------------


def _t1_target(cast: Cast, value: str = "100") -> Target:
    return t.set_target(cast.staff["head"], _plan(cast), "team", cast.t1.pk, "calls", value)


def _parts(cast: Cast, lead: str, mgr: str, tele: str) -> dict[str, str]:
    s = cast.staff
    return {_key("staff", s["lead"]): lead, _key("staff", s["mgr"]): mgr, _key("staff", s["tele"]): tele}


def test_save_split_writes_the_children_and_audits(cast: Cast) -> None:
    target = _t1_target(cast)
    kids = t.save_split(cast.staff["head"], target, _parts(cast, "20", "50", "30"), "manual")
    assert sorted(k.value for k in kids) == [20, 30, 50]
    assert Target.objects.filter(parent=target, split_rule="manual").count() == 3
    assert AuditEvent.objects.filter(action="plans.target_split", object_id=str(target.pk)).count() == 1


def test_save_split_replaces_the_children(cast: Cast) -> None:
    target, head = _t1_target(cast), cast.staff["head"]
    t.save_split(head, target, _parts(cast, "20", "50", "30"), "even")
    s = cast.staff
    t.save_split(head, target, {_key("staff", s["mgr"]): "60", _key("staff", s["tele"]): "40"}, "manual")
    assert {k.staff_id: k.value for k in Target.objects.filter(parent=target)} == {
        s["mgr"].pk: 60,
        s["tele"].pk: 40,
    }


def test_a_split_must_add_up_to_the_parent(cast: Cast) -> None:
    target = _t1_target(cast)
    with pytest.raises(PlanError) as exc:
        t.save_split(cast.staff["head"], target, _parts(cast, "20", "50", "20"), "manual")
    assert _code(exc) == "split_mismatch"
    assert exc.value.params["difference"] == -10
    assert not Target.objects.filter(parent=target).exists()


def test_a_split_only_reaches_the_children(cast: Cast) -> None:
    target = _t1_target(cast)
    parts = {**_parts(cast, "20", "50", "20"), _key("staff", cast.staff["mgr2"]): "10"}
    with pytest.raises(PlanError) as exc:
        t.save_split(cast.staff["head"], target, parts, "manual")
    assert _code(exc) == "not_a_child"
    assert not Target.objects.filter(parent=target).exists()


def test_a_split_with_a_negative_part_is_refused(cast: Cast) -> None:
    target = _t1_target(cast)
    with pytest.raises(PlanError) as exc:
        t.save_split(cast.staff["head"], target, _parts(cast, "-10", "60", "50"), "manual")
    assert _code(exc) == "negative"


def test_a_split_respects_other_plans_targets(cast: Cast) -> None:
    head = cast.staff["head"]
    target = _t1_target(cast)
    campaign = _plan(cast, dt.date(2026, 11, 20), dt.date(2026, 11, 30), name="冲刺")
    t.set_target(head, campaign, "staff", cast.staff["tele"].pk, "calls", "5")
    with pytest.raises(PlanError) as exc:
        t.save_split(head, target, _parts(cast, "20", "50", "30"), "manual")
    assert _code(exc) == "overlap"
    assert not Target.objects.filter(parent=target).exists()


def test_a_lead_splits_their_team_only(cast: Cast) -> None:
    head, lead = cast.staff["head"], cast.staff["lead"]
    plan = _plan(cast)
    mine = t.set_target(head, plan, "team", cast.t1.pk, "calls", "100")
    other = t.set_target(head, plan, "team", cast.t2.pk, "calls", "10")
    t.save_split(lead, mine, _parts(cast, "20", "50", "30"), "manual")
    with pytest.raises(PlanError) as exc:
        t.save_split(lead, other, {_key("staff", cast.staff["mgr2"]): "10"}, "manual")
    assert _code(exc) == "out_of_reach"


# --- the page's tree ----------------------------------------------------------------------------------------


def test_a_unit_without_a_target_rolls_up_its_children(cast: Cast) -> None:
    plan, head = _plan(cast), cast.staff["head"]
    t.set_target(head, plan, "team", cast.t1.pk, "calls", "300")
    t.set_target(head, plan, "team", cast.t2.pk, "calls", "200")
    rows = {r.node.key: r for r in plan_tree(head, plan, TODAY)[0].rows}
    sub = rows[_key("sub_branch", cast.sub)]
    assert (sub.rolled_up, sub.value) == (True, Decimal(500))
    assert rows[_key("branch", cast.branch)].value == Decimal(500)
    assert rows[_key("team", cast.t1)].rolled_up is False


def test_the_tree_shows_only_the_viewers_scope(cast: Cast) -> None:
    plan, head = _plan(cast), cast.staff["head"]
    t.set_target(head, plan, "team", cast.t2.pk, "calls", "200")
    t.set_target(head, plan, "staff", cast.staff["mgr"].pk, "calls", "50")
    keys = [r.node.key for r in plan_tree(cast.staff["lead"], plan, TODAY)[0].rows]
    assert keys == [_key("team", cast.t1), _key("staff", cast.staff["mgr"])]
    assert plan_tree(cast.staff["tele"], plan, TODAY) == []
