"""The funnel flags a plan's Check part shows (pools behind, conversion drops), worked out by the refresh
job for the whole branch and each team and kept (FlagSet), read back by the plan page for the viewer's reach
only, and worked out on the page when none is kept or the kept one is stale."""

from __future__ import annotations

import datetime as dt
from typing import Any
from unittest import mock

from django.utils import translation

from tests.conftest import Cast
from tests.plans_data import MONTH, TODAY, at
from tests.test_plans_pdca import PREV, funnel, plan_of
from xiaodai.org.models import Team
from xiaodai.plans import deviations, pdca, targets, tasks
from xiaodai.plans.choices import FunnelStage
from xiaodai.plans.models import FigureRefresh, FlagSet, FunnelFact, Plan


def _funnel_refresh(cast: Cast, funnel_from: dt.date | None = PREV[0], hour: int = 10) -> FigureRefresh:
    """A refresh record as the rollup writes one (the funnel rows are written straight by the tests)."""
    return FigureRefresh.objects.create(
        branch=cast.branch,
        days_from=PREV[0],
        days_to=TODAY,
        funnel_from=funnel_from,
        as_of=TODAY,
        started_at=at(TODAY, hour),
        finished_at=at(TODAY, hour),
    )


def _flagged(cast: Cast) -> Plan:
    """A plan whose funnel shows a pool behind and a conversion drop (tele, team t1), refreshed."""
    plan = plan_of(cast)
    tele = cast.staff["tele"]
    funnel(tele, PREV[0], {FunnelStage.LISTED: 40, FunnelStage.CONTACTED: 50, FunnelStage.APPLIED: 10})
    funnel(tele, MONTH[0], {FunnelStage.LISTED: 60, FunnelStage.CONTACTED: 36, FunnelStage.APPLIED: 4})
    _funnel_refresh(cast)
    return plan


def _funnel_kinds(user: object, plan: Plan) -> list[tuple[str, str, object]]:
    found = pdca.deviations(user, plan, TODAY)
    subject = [d.subject.get("pool") or d.subject.get("staff_id") or d.subject["team_id"] for d in found]
    return sorted((d.kind, d.subject["scope"], who) for d, who in zip(found, subject, strict=True))


def test_kept_flags_are_those_the_page_would_work_out(cast: Cast) -> None:
    plan = _flagged(cast)
    head = cast.user("head")
    live = pdca.deviations(head, plan, TODAY)
    assert deviations.keep_flags(plan, TODAY) == 1 + Team.objects.filter(branch=cast.branch).count()
    assert pdca.deviations(head, plan, TODAY) == live
    assert {d.kind for d in live} == {"behind_pace", "conversion_drop"}


def test_the_page_reads_the_kept_flags_rather_than_the_funnel(cast: Cast) -> None:
    plan = _flagged(cast)
    live = _funnel_kinds(cast.user("head"), plan)
    deviations.keep_flags(plan, TODAY)
    FunnelFact.objects.all().delete()  # the kept set alone can still answer
    assert _funnel_kinds(cast.user("head"), plan) == live
    assert ("behind_pace", "pool", "approved_undrawn") in live
    assert ("conversion_drop", "team", cast.t1.pk) in live


def test_a_lead_reads_the_set_kept_for_their_team(cast: Cast) -> None:
    plan = _flagged(cast)
    deviations.keep_flags(plan, TODAY)
    FunnelFact.objects.all().delete()
    found = pdca.deviations(cast.user("lead"), plan, TODAY)
    assert {d.subject.get("team_id") for d in found} == {cast.t1.pk}  # a lead's pool flag names the team
    assert not pdca.deviations(cast.user("mgr2"), plan, TODAY)  # own reach: worked out, nothing left


def test_a_kept_set_is_read_only_by_its_own_reach(cast: Cast) -> None:
    plan = _flagged(cast)
    deviations.keep_flags(plan, TODAY)
    assert set(FlagSet.objects.for_staff(cast.user("head")).values_list("reach", flat=True)) == {"branch"}
    assert list(FlagSet.objects.for_staff(cast.user("lead")).values_list("reach", flat=True)) == [
        f"team:{cast.t1.pk}"
    ]
    assert not FlagSet.objects.for_staff(cast.user("tele")).exists()
    assert not FlagSet.objects.for_staff(cast.user("head_b")).exists()  # another branch's plan


def test_a_newer_funnel_refresh_makes_the_kept_set_stale(cast: Cast) -> None:
    plan = _flagged(cast)
    deviations.keep_flags(plan, TODAY)
    FunnelFact.objects.all().delete()
    _funnel_refresh(cast, hour=11)
    assert pdca.deviations(cast.user("head"), plan, TODAY) == []


def test_a_refresh_of_todays_figures_alone_keeps_the_set_good(cast: Cast) -> None:
    plan = _flagged(cast)
    deviations.keep_flags(plan, TODAY)
    FunnelFact.objects.all().delete()
    live = _funnel_kinds(cast.user("head"), plan)
    _funnel_refresh(cast, funnel_from=None, hour=11)  # the ten-minute refresh leaves the funnel alone
    assert _funnel_kinds(cast.user("head"), plan) == live != []


def test_a_set_kept_yesterday_is_not_read_today(cast: Cast) -> None:
    plan = _flagged(cast)
    deviations.keep_flags(plan, TODAY - dt.timedelta(1))
    FunnelFact.objects.all().delete()
    assert pdca.deviations(cast.user("head"), plan, TODAY) == []


def test_a_pool_is_named_in_the_readers_language(cast: Cast) -> None:
    plan = _flagged(cast)
    with translation.override("zh-hans"):
        deviations.keep_flags(plan, TODAY)
        chinese = next(d.who for d in pdca.deviations(cast.user("head"), plan, TODAY) if "pool" in d.subject)
    with translation.override("en"):
        english = next(d.who for d in pdca.deviations(cast.user("head"), plan, TODAY) if "pool" in d.subject)
    assert chinese != english
    assert english.isascii()


def test_nothing_is_kept_without_a_funnel_refresh_or_before_the_plan_starts(cast: Cast) -> None:
    plan = plan_of(cast)
    assert deviations.keep_flags(plan, TODAY) == 0
    _funnel_refresh(cast)
    assert deviations.keep_flags(plan, MONTH[0] - dt.timedelta(1)) == 0
    assert not FlagSet.objects.exists()


def test_keeping_again_replaces_the_plans_sets(cast: Cast) -> None:
    plan = _flagged(cast)
    deviations.keep_flags(plan, TODAY)
    deviations.keep_flags(plan, TODAY)
    assert FlagSet.objects.filter(plan=plan).count() == 1 + Team.objects.filter(branch=cast.branch).count()


def test_the_routine_refresh_keeps_the_running_plans_flags_only(cast: Cast) -> None:
    running = plan_of(cast)
    plan_of(cast, name="closed", status="closed")
    with mock.patch("django.utils.timezone.now", return_value=at(TODAY, 1)):
        tasks.keep_figures_fresh.call_local()
    assert set(FlagSet.objects.values_list("plan_id", flat=True)) == {running.pk}


def test_a_new_plan_has_its_flags_kept_once_it_is_saved(
    cast: Cast, django_capture_on_commit_callbacks: Any
) -> None:
    _funnel_refresh(cast)
    with (
        mock.patch("django.utils.timezone.now", return_value=at(TODAY)),
        django_capture_on_commit_callbacks(execute=True),
    ):
        plan = targets.create_plan(
            cast.staff["head"],
            {"name": "十一月", "kind": "month", "starts_on": MONTH[0], "ends_on": MONTH[1]},
        )
    assert (
        FlagSet.objects.filter(plan=plan, day=TODAY).count()
        == 1 + Team.objects.filter(branch=cast.branch).count()
    )


def _fragment(cast: Cast, plan: Plan, who: str = "head") -> str:
    with mock.patch("django.utils.timezone.now", return_value=at(TODAY)):
        response = cast.client(who).get(f"/plans/{plan.pk}/deviations/")
    assert response.status_code == 200
    return response.content.decode()


def test_the_check_part_asks_for_missing_flags_and_says_so(cast: Cast) -> None:
    plan = _flagged(cast)
    with mock.patch("xiaodai.plans.tasks.keep_plan_flags") as asked:  # a queue that runs jobs later
        first = _fragment(cast, plan)
        _fragment(cast, plan)
    assert 'data-testid="flags-pending"' in first
    assert 'data-kind="conversion_drop"' not in first
    assert asked.call_count == 1  # once, not per viewer


def test_the_check_part_shows_the_flags_a_queue_kept_at_once(cast: Cast) -> None:
    plan = _flagged(cast)
    page = _fragment(cast, plan)  # the tests' queue runs jobs at once
    assert 'data-testid="flags-pending"' not in page
    assert 'data-kind="conversion_drop"' in page
    assert FlagSet.objects.filter(plan=plan).exists()


def test_a_persons_own_flags_are_worked_out_on_the_page(cast: Cast) -> None:
    plan = _flagged(cast)
    with mock.patch("xiaodai.plans.tasks.keep_plan_flags") as asked:
        page = _fragment(cast, plan, "tele")
    assert asked.call_count == 0
    assert 'data-testid="flags-pending"' not in page
    assert 'data-kind="conversion_drop"' in page
