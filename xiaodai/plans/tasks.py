"""Jobs of the plans app: keeping the figure rollup fresh (see rollup.py), and the plans' funnel flags
worked out after each rebuild of the funnel (deviations.keep_flags)."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from xiaodai.ingest.choices import RunStatus
from xiaodai.ingest.models import ImportRun
from xiaodai.org.models import Branch
from xiaodai.plans import deviations, read, rollup
from xiaodai.plans.models import FigureRefresh, Plan

_EVERY_10_MINUTES = crontab(minute="*/10")


def rebuild(branch_id: int, *, everything: bool = False, today: dt.date | None = None) -> FigureRefresh:
    """The routine refresh (or everything from the first record), then the running plans' funnel flags
    worked out for the new funnel, so the plan pages read them rather than count them."""
    today = today or rollup.local_today()
    if everything:
        done = rollup.refresh_all(branch_id, today=today)
    else:
        done = rollup.refresh_routine(branch_id, today=today)
    deviations.keep_branch_flags(branch_id, today)
    return done


@db_task()
def refresh_branch(branch_id: int, routine: bool = True) -> None:
    """A refresh asked for from the page (routine) or after installing (everything)."""
    rebuild(branch_id, everything=not routine)


@db_task()
def keep_plan_flags(plan_id: int) -> None:
    """A new plan's funnel flags, so its page does not count them until the next refresh."""
    plan = Plan.objects.filter(pk=plan_id).first()
    if plan is not None:
        deviations.keep_flags(plan, rollup.local_today())


def _needs_routine(branch_id: int, today: dt.date) -> bool:
    """No routine refresh yet today (the night's), or a data drop loaded since the last one."""
    last = read.funnel_refreshes(branch_id).first()
    if last is None or timezone.localdate(last.finished_at, rollup.zone()) < today:
        return True
    return ImportRun.objects.filter(
        status__in=(RunStatus.LOADED, RunStatus.PARTIAL), finished_at__gt=last.finished_at
    ).exists()


@db_periodic_task(_EVERY_10_MINUTES)
def keep_figures_fresh() -> None:
    """Every ten minutes: today's figures; once a day and after every data drop, the routine refresh."""
    today = rollup.local_today()
    for branch_id in Branch.objects.values_list("pk", flat=True):
        if _needs_routine(branch_id, today):
            rebuild(branch_id, today=today)
        else:
            rollup.refresh_figures(branch_id, today, today)
