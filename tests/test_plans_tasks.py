"""Keeping the figures fresh: the ten-minute job, the command, and the refresh button."""

from __future__ import annotations

import datetime as dt
from io import StringIO
from unittest import mock

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from tests.conftest import Cast
from tests.plans_data import TODAY, at, outcome
from xiaodai.audit.models import AuditEvent
from xiaodai.ingest.models import ImportRun
from xiaodai.plans import tasks
from xiaodai.plans.models import FigureFact, FigureRefresh

YESTERDAY = TODAY - dt.timedelta(1)


def _tick(now: dt.datetime) -> None:
    with mock.patch("django.utils.timezone.now", return_value=now):
        tasks.keep_figures_fresh.call_local()


def test_the_first_tick_of_a_day_runs_the_routine_refresh(cast: Cast) -> None:
    outcome(cast.staff["tele"], cast.customers["team"], "no_answer", YESTERDAY)
    _tick(at(TODAY, 1))
    done = FigureRefresh.objects.get(branch=cast.branch)
    assert done.funnel_from == TODAY - dt.timedelta(90)
    assert FigureFact.objects.filter(staff=cast.staff["tele"], day=YESTERDAY, figure="calls").exists()


def test_later_ticks_refresh_only_today(cast: Cast) -> None:
    _tick(at(TODAY, 1))
    outcome(cast.staff["tele"], cast.customers["team"], "no_answer", YESTERDAY)
    outcome(cast.staff["tele"], cast.customers["team"], "no_answer", TODAY)
    _tick(at(TODAY, 11))
    latest = FigureRefresh.objects.filter(branch=cast.branch).order_by("-id").first()
    assert latest is not None
    assert (latest.days_from, latest.funnel_from) == (TODAY, None)
    assert (
        FigureFact.objects.filter(staff=cast.staff["tele"], figure="calls")
        .values_list("day", flat=True)
        .get()
        == TODAY
    )


def test_a_data_drop_loaded_since_the_last_refresh_brings_the_routine_one(cast: Cast) -> None:
    _tick(at(TODAY, 1))
    ImportRun.objects.create(
        source="core",
        data_date=YESTERDAY,
        contract_version="1.1",
        fingerprint="x",
        status="loaded",
        trigger="cli",
        folder="drop",
        finished_at=at(TODAY, 7),
    )
    _tick(at(TODAY, 8))
    latest = FigureRefresh.objects.filter(branch=cast.branch).order_by("-id").first()
    assert latest is not None
    assert latest.funnel_from is not None
    assert latest.finished_at > at(TODAY, 7)


def test_the_command_refreshes_every_branch(cast: Cast) -> None:
    out = StringIO()
    call_command("refresh_figures", stdout=out)
    assert FigureRefresh.objects.count() == 2
    assert cast.branch.code in out.getvalue()


def test_the_command_refuses_an_unknown_branch(cast: Cast) -> None:
    with pytest.raises(CommandError):
        call_command("refresh_figures", branch="NOPE")
    assert not FigureRefresh.objects.exists()


def test_the_refresh_button_is_audited_and_returns_to_the_page(cast: Cast) -> None:
    response = cast.client("head").post("/plans/refresh/", {"next": "/performance/funnel/"})
    assert response.status_code == 302
    assert response["Location"] == "/performance/funnel/"
    assert AuditEvent.objects.filter(action="plans.figures_refreshed").count() == 1


def test_the_refresh_button_never_sends_you_off_site(cast: Cast) -> None:
    response = cast.client("head").post("/plans/refresh/", {"next": "https://evil.example/"})
    assert response["Location"] == "/performance/"


def test_people_without_the_permission_cannot_refresh(cast: Cast) -> None:
    assert cast.client("tele").post("/plans/refresh/").status_code == 403
    assert timezone.now()  # nothing queued: the transaction never committed a refresh
    assert not FigureRefresh.objects.exists()
