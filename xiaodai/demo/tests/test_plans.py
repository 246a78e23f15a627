"""The demo's plans step: events, the rollup, two months' plans with targets split down to people, a PDCA
record on last month's plan and two competitions — complete, consistent and the same for a seed."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction
from django.db.models import Sum

from xiaodai.core.roles import Role
from xiaodai.demo import build_demo
from xiaodai.demo import plans as demo_plans
from xiaodai.demo.tests.conftest import AS_OF, SMALL
from xiaodai.org.models import Branch, Staff
from xiaodai.plans.choices import CompetitionStatus, Figure, ParticipantKind, ScopeKind
from xiaodai.plans.models import (
    Adjustment,
    Competition,
    FigureFact,
    FigureRefresh,
    Finding,
    FunnelFact,
    MarketingEvent,
    Plan,
    Target,
)

SEED = 7


@contextmanager
def _clock() -> Iterator[None]:
    """Events are recorded within a month of the real date: pin it to the demo's business date."""
    evening = dt.datetime.combine(AS_OF, dt.time(18), ZoneInfo("Asia/Shanghai"))
    with mock.patch("django.utils.timezone.now", return_value=evening.astimezone(dt.UTC)):
        yield


def _prepare() -> demo_plans.PlansResult:
    with _clock():
        return demo_plans.prepare(Branch.objects.get(), AS_OF, SEED)


@pytest.fixture(scope="module")
def built(
    django_db_setup: None, django_db_blocker: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[demo_plans.PlansResult]:
    """One small demo branch with its plans for the whole module (the step is the costly part), in a
    transaction rolled back at the end; each test runs in its own savepoint inside it (`db`)."""
    with django_db_blocker.unblock(), transaction.atomic(), pytest.MonkeyPatch.context() as patch:
        patch.setenv("XIAODAI_LAKE_DIR", str(tmp_path_factory.mktemp("lake")))
        with _clock():
            build_demo(customers=SMALL, seed=SEED, as_of=AS_OF)
        yield _prepare()
        transaction.set_rollback(True)


@pytest.fixture
def planned(built: demo_plans.PlansResult, db: None) -> demo_plans.PlansResult:
    return built


def _clear() -> None:
    """Remove what the step wrote (plans, competitions, events, figures), back to the demo it started on."""
    for model in (Adjustment, Plan, Competition, MarketingEvent, FigureFact, FunnelFact, FigureRefresh):
        model.objects.all().delete()


def _this_month() -> Plan:
    return Plan.objects.get(starts_on=AS_OF.replace(day=1))


def _last_month() -> Plan:
    return Plan.objects.get(starts_on=dt.date(2026, 10, 1))


def test_both_months_have_a_plan_made_by_the_head(planned: demo_plans.PlansResult) -> None:
    assert planned.plans == 2
    this, last = _this_month(), _last_month()
    assert (this.ends_on, last.ends_on) == (dt.date(2026, 11, 30), dt.date(2026, 10, 31))
    assert this.name == "2026年11月消费贷营销计划"
    assert this.resources
    assert this.actions
    assert {p.created_by.role for p in (this, last)} == {Role.BRANCH_HEAD}


def test_every_figure_has_a_branch_target_in_this_months_plan(planned: demo_plans.PlansResult) -> None:
    branch_targets = Target.objects.filter(plan=_this_month(), scope=ScopeKind.BRANCH)
    assert sorted(branch_targets.values_list("figure", flat=True)) == sorted(Figure.values)
    for t in branch_targets:
        assert t.value > 0
        if t.figure in (Figure.DISBURSED_AMOUNT, Figure.APPROVED_AMOUNT, Figure.BALANCE_GROWTH):
            assert t.value % 10_000 == 0  # money in tens of thousands of yuan


def test_the_children_of_each_split_add_up(planned: demo_plans.PlansResult) -> None:
    parents = Target.objects.filter(children__isnull=False).distinct()
    assert parents.filter(plan=_this_month(), scope=ScopeKind.TEAM).exists()  # split down to people
    for parent in parents:
        assert parent.children.aggregate(s=Sum("value"))["s"] == parent.value, parent


def test_this_months_targets_reach_every_level(planned: demo_plans.PlansResult) -> None:
    scopes = set(Target.objects.filter(plan=_this_month()).values_list("scope", flat=True))
    assert scopes == set(ScopeKind.values)
    assert planned.targets == Target.objects.count()


def test_team_leads_split_their_teams_targets_to_people(planned: demo_plans.PlansResult) -> None:
    people = Target.objects.filter(plan=_this_month(), scope=ScopeKind.STAFF, parent__scope=ScopeKind.TEAM)
    assert people.exists()
    for t in people.select_related("staff", "updated_by"):
        assert t.updated_by.role == Role.TEAM_LEAD
        assert t.updated_by.team_id == t.staff.team_id


def test_events_were_held_in_every_sub_branch_over_the_last_30_days(
    planned: demo_plans.PlansResult,
) -> None:
    events = MarketingEvent.objects.all()
    assert events.count() == planned.events > 0
    assert {e.held_on for e in events} <= {AS_OF - dt.timedelta(n) for n in range(31)}
    assert events.order_by().values("sub_branch_id").distinct().count() == 6
    assert {e.organiser.role for e in events} <= {Role.LOAN_MANAGER, Role.TEAM_LEAD}


def test_last_months_plan_has_findings_each_with_an_adjustment(planned: demo_plans.PlansResult) -> None:
    findings = Finding.objects.filter(plan=_last_month())
    assert 2 <= findings.count() == planned.findings <= 3
    for finding in findings:
        assert finding.adjustments.count() == 1
    assert Adjustment.objects.count() == planned.adjustments


def test_an_adjustment_changes_a_target_nothing_is_split_from(planned: demo_plans.PlansResult) -> None:
    changed = Adjustment.objects.get(target__isnull=False)
    assert changed.target is not None
    assert changed.new_value == changed.target.value < changed.old_value  # type: ignore[operator]
    assert changed.target.parent_id is None
    assert not changed.target.children.exists()


def test_this_months_telemarketing_sprint_is_running(planned: demo_plans.PlansResult) -> None:
    sprint = Competition.objects.get(starts_on=AS_OF.replace(day=1))
    assert sprint.status == CompetitionStatus.OPEN
    assert sprint.participant_kind == ParticipantKind.STAFF
    assert {s.role for s in sprint.staff.all()} == {Role.TELEMARKETER}
    assert {(r.figure, r.per, r.points) for r in sprint.rules.all()} == {
        (Figure.CALLS, Decimal(20), Decimal(1)),
        (Figure.REFERRALS, Decimal(1), Decimal(5)),
        (Figure.DISBURSED_AMOUNT, Decimal(10_000), Decimal(2)),
    }


def test_last_months_team_competition_is_final_with_standings(planned: demo_plans.PlansResult) -> None:
    final = Competition.objects.get(starts_on=dt.date(2026, 10, 1))
    assert final.status == CompetitionStatus.FINAL
    assert final.standings.count() == final.teams.count() > 0
    assert final.standings.order_by("rank").first().rank == 1  # type: ignore[union-attr]


def test_the_rollup_counts_the_events_and_the_drop(planned: demo_plans.PlansResult) -> None:
    assert FigureRefresh.objects.count() == 1
    facts = FigureFact.objects.all()
    assert planned.fact_rows > 0
    assert facts.filter(figure=Figure.EVENTS).aggregate(s=Sum("value"))["s"] == planned.events
    assert facts.filter(figure=Figure.DISBURSED_AMOUNT).exists()


def _snapshot() -> dict[str, Any]:
    return {
        "plans": list(Plan.objects.order_by("starts_on").values_list("name", "resources", "actions")),
        "targets": sorted(
            (t.plan.name, t.scope, str(t.scope_id), t.figure, t.value, t.split_rule, t.updated_by.employee_no)
            for t in Target.objects.select_related("plan", "updated_by")
        ),
        "events": sorted(MarketingEvent.objects.values_list("held_on", "title", "organiser__employee_no")),
        "findings": list(Finding.objects.order_by("id").values_list("kind", "text")),
        "adjustments": list(Adjustment.objects.order_by("id").values_list("kind", "text", "new_value")),
    }


def test_same_seed_same_plans_and_targets(planned: demo_plans.PlansResult) -> None:
    first = _snapshot()
    _clear()
    _prepare()
    assert _snapshot() == first


def test_a_branch_without_a_head_gets_its_events_and_figures_but_no_plan(
    planned: demo_plans.PlansResult,
) -> None:
    _clear()
    Staff.objects.filter(role=Role.BRANCH_HEAD).update(role=Role.TEAM_LEAD)
    done = _prepare()
    assert done.events > 0
    assert done.fact_rows > 0
    assert (done.plans, done.targets, done.competitions) == (0, 0, 0)
    assert not Plan.objects.exists()
