"""The live team board: per person, one Shanghai day, calls / reached / interested / applied / visits / WeChat
against the daily capacity, counted once per corrected contact, within the viewer's scope, in a fixed number
of queries, refreshing itself while the day is today."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import Any
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.test import Client

from tests import factories as f
from tests.conftest import Cast
from tests.factories_outreach import OutcomeFactory, correct
from xiaodai.org.models import Staff
from xiaodai.outreach import supervision as s

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 11, 30, 15, 0, tzinfo=SHANGHAI)
TODAY = NOW.date()
BOARD = "/supervision/"


@pytest.fixture(autouse=True)
def frozen() -> Iterator[None]:
    with mock.patch("django.utils.timezone.now", return_value=NOW.astimezone(dt.UTC)):
        yield


def contact(staff: Staff, outcome: str = "no_answer", channel: str = "phone", **kwargs: Any) -> Any:
    kwargs.setdefault("occurred_at", NOW - dt.timedelta(hours=1))
    kwargs.setdefault("customer", f.CustomerFactory(sub_branch=staff.sub_branch))
    return OutcomeFactory(staff=staff, outcome=outcome, channel=channel, **kwargs)


def _rows(user: Any, day: dt.date = TODAY) -> dict[str, s.PersonRow]:
    return {r.name: r for r in s.board(user, day).rows}


def _cell(body: str, staff: Staff, column: str) -> str:
    row = body.split(f'data-staff="{staff.pk}"', 1)[1].split("</tr>", 1)[0]
    return re.search(rf'data-testid="{column}">([^<]*)<', row).group(1).strip()  # type: ignore[union-attr]


# --- counting -----------------------------------------------------------------------------------------------


def test_calls_count_phone_contacts_of_the_person(cast: Cast) -> None:
    tele = cast.staff["tele"]
    for outcome in ("no_answer", "busy", "refused"):
        contact(tele, outcome)
    assert _rows(cast.user("lead"))["tele"].tally.calls == 3


def test_reached_leaves_out_no_answer_busy_and_wrong_number(cast: Cast) -> None:
    tele = cast.staff["tele"]
    for outcome in ("no_answer", "busy", "wrong_number", "refused", "not_now", "interested"):
        contact(tele, outcome)
    assert _rows(cast.user("lead"))["tele"].tally.reached == 3


def test_interested_counts_customers_on_any_channel(cast: Cast) -> None:
    tele = cast.staff["tele"]
    customer = f.CustomerFactory(sub_branch=cast.sub)
    contact(tele, "interested", customer=customer)
    contact(tele, "will_apply", customer=customer)  # the same customer again: still one
    contact(tele, "applied")
    contact(tele, "interested", channel="visit", visit_place="home")
    contact(tele, "not_now")
    tally = _rows(cast.user("lead"))["tele"].tally
    assert (tally.interested, tally.applied) == (3, 1)


def test_visits_and_wechat_are_counted_apart_from_calls(cast: Cast) -> None:
    mgr = cast.staff["mgr"]
    contact(mgr, "not_now", channel="visit", visit_place="workplace")
    contact(mgr, "interested", channel="wechat", wechat_kind="chat")
    contact(mgr, "no_answer", channel="wechat", wechat_kind="call")
    tally = _rows(cast.user("lead"))["mgr"].tally
    assert (tally.calls, tally.visits, tally.wechat) == (0, 1, 2)


def test_a_corrected_contact_counts_once_as_its_correction(cast: Cast) -> None:
    tele = cast.staff["tele"]
    original = contact(tele, "no_answer")
    correct(original, outcome="interested")
    tally = _rows(cast.user("lead"))["tele"].tally
    assert (tally.calls, tally.reached, tally.interested) == (1, 1, 1)


def test_a_correction_of_a_correction_counts_the_latest(cast: Cast) -> None:
    tele = cast.staff["tele"]
    first = contact(tele, "interested")
    second = correct(first, outcome="applied")
    correct(second, outcome="busy")
    tally = _rows(cast.user("lead"))["tele"].tally
    assert (tally.calls, tally.reached, tally.interested, tally.applied) == (1, 0, 0, 0)


def test_the_day_is_the_shanghai_day(cast: Cast) -> None:
    tele = cast.staff["tele"]
    contact(tele, occurred_at=dt.datetime(2026, 11, 30, 0, 30, tzinfo=SHANGHAI))  # 16:30 UTC the day before
    contact(tele, occurred_at=dt.datetime(2026, 11, 29, 23, 30, tzinfo=SHANGHAI))
    assert _rows(cast.user("lead"))["tele"].tally.calls == 1
    assert _rows(cast.user("lead"), dt.date(2026, 11, 29))["tele"].tally.calls == 1


def test_progress_is_calls_against_the_daily_capacity(cast: Cast) -> None:
    tele = cast.staff["tele"]
    Staff.objects.filter(pk=tele.pk).update(daily_capacity=8)
    for _i in range(2):
        contact(tele)
    tally = _rows(cast.user("lead"))["tele"].tally
    assert (tally.capacity, tally.progress, tally.bar) == (8, 25, 25)


def test_progress_bar_stops_at_its_end_when_the_plan_is_passed(cast: Cast) -> None:
    tele = cast.staff["tele"]
    Staff.objects.filter(pk=tele.pk).update(daily_capacity=2)
    for _i in range(3):
        contact(tele)
    tally = _rows(cast.user("lead"))["tele"].tally
    assert (tally.progress, tally.bar) == (150, 100)


def test_team_totals_add_up_the_people(cast: Cast) -> None:
    contact(cast.staff["tele"], "interested")
    contact(cast.staff["mgr"], "busy")
    contact(cast.staff["lead"], "applied")
    data = s.board(cast.user("lead"), TODAY)
    assert (data.total.calls, data.total.reached, data.total.interested, data.total.applied) == (3, 2, 2, 1)
    assert data.total.capacity == 3 * 80


# --- scope --------------------------------------------------------------------------------------------------


def test_team_lead_sees_their_team_only(cast: Cast) -> None:
    contact(cast.staff["mgr2"], "interested")
    assert set(_rows(cast.user("lead"))) == {"lead", "mgr", "tele"}
    assert s.board(cast.user("lead"), TODAY).total.interested == 0


def test_branch_head_sees_the_branch_but_never_another_branch(cast: Cast) -> None:
    contact(cast.staff["mgr2"], "interested")
    contact(cast.staff["mgr_b"], "applied")
    rows = _rows(cast.user("head"))
    assert {"lead", "mgr", "tele", "mgr2", "lobby"} <= set(rows)
    assert cast.staff["mgr_b"].name not in rows
    assert s.board(cast.user("head"), TODAY).total.applied == 0
    assert rows["mgr2"].tally.interested == 1


def test_people_without_a_calling_workload_are_left_out(cast: Cast) -> None:
    rows = _rows(cast.user("head"))
    assert not {"head", "ops", "auditor"} & set(rows)


def test_a_branch_head_who_called_today_gets_a_row(cast: Cast) -> None:
    contact(cast.staff["head"], "interested")
    assert _rows(cast.user("head"))["head"].tally.calls == 1


def test_branch_head_sees_per_team_totals(cast: Cast) -> None:
    contact(cast.staff["mgr2"], "busy")
    data = s.board(cast.user("head"), TODAY)
    teams = {t.name: t for t in data.teams}
    assert teams[cast.t2.name].tally.calls == 1
    assert teams[cast.t1.name].people == 3


def test_board_page_shows_the_counts(cast: Cast) -> None:
    tele = cast.staff["tele"]
    contact(tele, "interested")
    contact(tele, "no_answer")
    body = cast.client("lead").get(BOARD).content.decode()
    assert _cell(body, tele, "calls") == "2"
    assert _cell(body, tele, "interested") == "1"
    assert cast.staff["mgr2"].name not in body


def test_another_branchs_head_sees_none_of_this_branch(cast: Cast) -> None:
    contact(cast.staff["tele"], "interested")
    body = cast.client("head_b").get(BOARD).content.decode()
    assert f'data-staff="{cast.staff["tele"].pk}"' not in body


# --- the page -----------------------------------------------------------------------------------------------


def test_today_polls_every_30_seconds(cast: Cast) -> None:
    body = cast.client("lead").get(BOARD).content.decode()
    assert 'hx-trigger="every 30s"' in body


def test_another_day_does_not_poll(cast: Cast) -> None:
    body = cast.client("lead").get(BOARD + "?day=2026-11-27").content.decode()
    assert "every 30s" not in body
    assert 'value="2026-11-27"' in body


def test_htmx_gets_the_partial_only(cast: Cast) -> None:
    response = cast.client("lead").get(BOARD, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="board"')
    assert "<html" not in body
    assert "HX-Request" in response["Vary"]


@pytest.mark.parametrize("bad", ["2026-13-01", "yesterday", "2026-11-31"])
def test_an_unreadable_day_says_so_and_shows_today(cast: Cast, bad: str) -> None:
    response = cast.client("lead").get(BOARD, {"day": bad}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert response.context["board"].day == TODAY
    assert "YYYY-MM-DD" in response.context["error"]


def test_a_future_day_says_so_and_shows_today(cast: Cast) -> None:
    response = cast.client("lead").get(BOARD, {"day": "2026-12-01"}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.context["board"].day == TODAY
    assert "2026-12-01" in response.context["error"]


def test_sorting_by_calls_puts_the_busiest_first(cast: Cast) -> None:
    for _i in range(3):
        contact(cast.staff["mgr"])
    contact(cast.staff["tele"])
    response = cast.client("lead").get(BOARD, {"sort": "-calls"})
    names = [r.name for r in response.context["board"].rows]
    assert names[:2] == ["mgr", "tele"]


def test_an_unknown_sort_falls_back_to_the_team_order(cast: Cast) -> None:
    response = cast.client("lead").get(BOARD, {"sort": "password"})
    assert response.context["board"].sort == "team"


def test_query_count_does_not_grow_with_the_team(cast: Cast, django_assert_max_num_queries: Any) -> None:
    for i in range(15):
        person = f.StaffFactory(
            branch=cast.branch, sub_branch=cast.sub, team=cast.t1, role="telemarketer", name=f"坐席{i}"
        )
        for outcome in ("no_answer", "interested", "applied"):
            contact(person, outcome)
    client: Client = cast.client("head")
    client.get(BOARD)  # warm the session
    # Session, user, staff (the actor), the grouped counts, the people, the base layout's sub-branch and
    # branch, the session save (savepoint, update, release).
    with django_assert_max_num_queries(10):
        response = client.get(BOARD)
    assert response.context["board"].total.calls == 45
