"""Jobs of the plans app: keeping the figure rollup fresh (see rollup.py)."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from xiaodai.ingest.choices import RunStatus
from xiaodai.ingest.models import ImportRun
from xiaodai.org.models import Branch
from xiaodai.plans import rollup
from xiaodai.plans.models import FigureRefresh

_EVERY_10_MINUTES = crontab(minute="*/10")


@db_task()
def refresh_branch(branch_id: int, routine: bool = True) -> None:
    """A refresh asked for from the page (routine) or after installing (everything)."""
    if routine:
        rollup.refresh_routine(branch_id)
    else:
        rollup.refresh_all(branch_id)


def _needs_routine(branch_id: int, today: dt.date) -> bool:
    """No routine refresh yet today (the night's), or a data drop loaded since the last one."""
    last = (
        FigureRefresh.objects.filter(branch_id=branch_id, funnel_from__isnull=False)
        .order_by("-finished_at")
        .first()
    )
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
            rollup.refresh_routine(branch_id, today=today)
        else:
            rollup.refresh_figures(branch_id, today, today)
