"""Events held: recording one (organiser, team, audit), each bad input refused with nothing written, the
list scoped to the viewer with a pinned query count, and the 'events held' figure counting them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import Cast
from tests.outreach_data import frozen
from tests.plans_data import TODAY, refresh
from xiaodai.audit.choices import Action
from xiaodai.audit.models import AuditEvent
from xiaodai.plans.events import record_event
from xiaodai.plans.exceptions import PlanError
from xiaodai.plans.models import FigureFact, MarketingEvent

URL = "/plans/events/"


@pytest.fixture(autouse=True)
def _today() -> Iterator[None]:
    with frozen():  # "today" is 2026-11-30 in Shanghai
        yield


def good(**kw: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "title": "装修贷沙龙",
        "held_on": dt.date(2026, 11, 28),
        "place": "社区活动中心",
        "attendees": 35,
    }
    data.update(kw)
    return data


def test_recording_an_event_keeps_the_organiser_and_their_team(cast: Cast) -> None:
    tele = cast.staff["tele"]
    event = record_event(tele, good())
    assert (event.organiser, event.team, event.sub_branch, event.branch) == (
        tele,
        cast.t1,
        cast.sub,
        cast.branch,
    )
    assert (event.title, event.attendees, event.place) == ("装修贷沙龙", 35, "社区活动中心")


def test_recording_an_event_is_audited(cast: Cast) -> None:
    event = record_event(cast.staff["tele"], good())
    audit = AuditEvent.objects.get(action=Action.EVENT_RECORD)
    assert audit.object_id == str(event.pk)
    assert audit.user_id == cast.user("tele").pk
    assert audit.detail == {"held_on": "2026-11-28", "attendees": 35}


def test_title_and_place_are_trimmed_and_attendees_default_to_zero(cast: Cast) -> None:
    event = record_event(cast.staff["tele"], good(title="  沙龙 ", place=" ", attendees=None))
    assert (event.title, event.place, event.attendees) == ("沙龙", "", 0)


def test_an_event_today_and_one_31_days_ago_are_fine(cast: Cast) -> None:
    record_event(cast.staff["tele"], good(held_on=TODAY))
    record_event(cast.staff["tele"], good(held_on=TODAY - dt.timedelta(31)))
    assert MarketingEvent.objects.count() == 2


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"title": ""}, "title_required"),
        ({"title": "   "}, "title_required"),
        ({"title": "沙" * 101}, "title_too_long"),
        ({"place": "地" * 101}, "place_too_long"),
        ({"held_on": None}, "held_on_required"),
        ({"held_on": TODAY + dt.timedelta(1)}, "future"),
        ({"held_on": TODAY - dt.timedelta(32)}, "too_old"),
        ({"attendees": -1}, "attendees"),
        ({"attendees": 100_001}, "attendees"),
        ({"attendees": "12"}, "attendees"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_written(cast: Cast, change: dict[str, Any], code: str) -> None:
    with pytest.raises(PlanError) as err:
        record_event(cast.staff["tele"], good(**change))
    assert err.value.code == code
    assert err.value.message  # a message for people, in the active language
    assert not MarketingEvent.objects.exists()
    assert not AuditEvent.objects.filter(action=Action.EVENT_RECORD).exists()


def test_the_page_records_an_event_and_returns_to_the_list(cast: Cast) -> None:
    data = {"title": "进企业宣讲", "held_on": "2026-11-27", "place": "科技园", "attendees": "60"}
    response = cast.client("mgr").post(URL, data)
    assert response.status_code == 302
    assert response["Location"] == URL
    event = MarketingEvent.objects.get()
    assert (event.organiser, event.held_on, event.attendees) == (cast.staff["mgr"], dt.date(2026, 11, 27), 60)


@pytest.mark.parametrize(
    ("data", "code"),
    [
        ({"title": "", "held_on": "2026-11-27"}, "title_required"),
        ({"title": "沙龙", "held_on": "2026-12-01"}, "future"),
        ({"title": "沙龙", "held_on": "2026-10-01"}, "too_old"),
        ({"title": "沙龙", "held_on": "2026-11-27", "attendees": "-5"}, "attendees"),
        ({"title": "沙龙", "held_on": "27/11/2026"}, "invalid"),
        ({"title": "沙龙", "held_on": "2026-11-27", "attendees": "many"}, "invalid"),
    ],
)
def test_the_page_refuses_bad_input_with_its_reason(cast: Cast, data: dict[str, str], code: str) -> None:
    response = cast.client("tele").post(URL, data)
    assert response.status_code == 400
    assert f'data-code="{code}"' in response.content.decode()
    assert not MarketingEvent.objects.exists()


def _listed(cast: Cast, name: str) -> set[int]:
    response = cast.client(name).get(URL)
    assert response.status_code == 200
    return {e.pk for e in response.context["page"]}


def test_the_list_is_scoped_to_the_viewer(cast: Cast) -> None:
    ids = {
        name: record_event(cast.staff[name], good(title=name)).pk for name in ("tele", "mgr", "mgr2", "mgr_b")
    }
    assert _listed(cast, "head") == {ids["tele"], ids["mgr"], ids["mgr2"]}
    assert _listed(cast, "lead") == {ids["tele"], ids["mgr"]}
    assert _listed(cast, "tele") == {ids["tele"]}
    assert _listed(cast, "head_b") == {ids["mgr_b"]}


def test_the_list_query_count_is_pinned(cast: Cast, django_assert_max_num_queries: Any) -> None:
    for i in range(30):
        record_event(cast.staff["tele" if i % 2 else "mgr2"], good(title=f"活动{i}"))
    client = cast.client("head")
    with django_assert_max_num_queries(12):
        response = client.get(URL)
    assert response.status_code == 200
    assert len(response.context["page"]) == 25
    assert response.content.decode().count('data-testid="event-row"') == 25


def test_roles_without_the_permission_cannot_record(cast: Cast) -> None:
    for name in ("ops", "auditor", "postloan"):
        assert cast.client(name).post(URL, {"title": "x", "held_on": "2026-11-27"}).status_code == 403
    assert not MarketingEvent.objects.exists()


def test_an_event_counts_in_the_events_figure(cast: Cast) -> None:
    tele = cast.staff["tele"]
    record_event(tele, good())
    refresh(cast.branch.pk)
    fact = FigureFact.objects.get(figure="events")
    assert (fact.staff, fact.team, fact.day, fact.value) == (tele, cast.t1, dt.date(2026, 11, 28), 1)
