"""Conversion by objection and rebuttal: how often each objection was raised, and per rebuttal (script
version + index, shown with its words) how often it was used and how those contacts ended."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from typing import Any
from unittest import mock
from zoneinfo import ZoneInfo

import pytest

from tests import factories as f
from tests.conftest import Cast
from tests.factories_outreach import OutcomeFactory, ScriptVersionFactory, correct
from xiaodai.org.models import Staff
from xiaodai.outreach import supervision as s
from xiaodai.outreach.models import ScriptVersion

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 11, 30, 15, 0, tzinfo=SHANGHAI)
PAGE = "/supervision/objections/"
LAST_30 = s.Period(dt.date(2026, 11, 1), NOW.date())


@pytest.fixture(autouse=True)
def frozen() -> Iterator[None]:
    with mock.patch("django.utils.timezone.now", return_value=NOW.astimezone(dt.UTC)):
        yield


@pytest.fixture
def version(cast: Cast) -> ScriptVersion:
    return ScriptVersionFactory(script__created_by=cast.staff["lead"], script__title="薪易贷开场", version=2)


def objection(
    staff: Staff, outcome: str, code: str = "rate_high", rebuttal: int | None = None, **kwargs: Any
) -> Any:
    kwargs.setdefault("occurred_at", NOW - dt.timedelta(days=1))
    return OutcomeFactory(
        staff=staff,
        customer=f.CustomerFactory(sub_branch=staff.sub_branch),
        outcome=outcome,
        objection=code,
        rebuttal=rebuttal,
        **kwargs,
    )


def _row(user: Any, code: str, period: s.Period = LAST_30) -> s.ObjectionRow:
    return next(r for r in s.objections(user, period).rows if r.code == code)


def test_times_raised_counts_every_contact_with_the_objection(cast: Cast, version: ScriptVersion) -> None:
    tele = cast.staff["tele"]
    objection(tele, "interested", rebuttal=0, script_version=version)
    objection(tele, "refused", rebuttal=1, script_version=version)
    objection(tele, "not_now")
    objection(tele, "not_now", code="no_need")
    assert _row(cast.user("lead"), "rate_high").raised == 3
    assert _row(cast.user("lead"), "no_need").raised == 1


def test_each_rebuttal_counts_its_uses_and_how_they_ended(cast: Cast, version: ScriptVersion) -> None:
    tele = cast.staff["tele"]
    for outcome in ("interested", "will_apply", "applied", "refused"):
        objection(tele, outcome, rebuttal=0, script_version=version)
    objection(tele, "not_now", rebuttal=1, script_version=version)
    row = _row(cast.user("lead"), "rate_high")
    first = next(b for b in row.rebuttals if b.index == 0)
    assert (first.used, first.interested, first.will_apply, first.applied) == (4, 1, 1, 1)
    assert (first.converted, first.rate) == (3, 75)
    second = next(b for b in row.rebuttals if b.index == 1)
    assert (second.used, second.converted, second.rate) == (1, 0, 0)


def test_the_rebuttal_shows_its_words_from_the_script_version(cast: Cast, version: ScriptVersion) -> None:
    objection(cast.staff["tele"], "interested", rebuttal=1, script_version=version)
    rebuttal = _row(cast.user("lead"), "rate_high").rebuttals[0]
    assert rebuttal.text == "按日计息，随借随还。"
    assert rebuttal.script == "薪易贷开场 v2"


def test_a_rebuttal_index_no_longer_in_the_script_says_so(cast: Cast, version: ScriptVersion) -> None:
    objection(cast.staff["tele"], "interested", rebuttal=7, script_version=version)
    assert "#8" in _row(cast.user("lead"), "rate_high").rebuttals[0].text


def test_contacts_without_a_rebuttal_are_their_own_row(cast: Cast, version: ScriptVersion) -> None:
    objection(cast.staff["tele"], "interested")
    objection(cast.staff["tele"], "refused")
    row = _row(cast.user("lead"), "rate_high")
    assert row.rebuttals == []
    assert row.none is not None
    assert (row.none.used, row.none.converted) == (2, 1)


def test_a_corrected_contact_counts_once_as_its_correction(cast: Cast, version: ScriptVersion) -> None:
    original = objection(cast.staff["tele"], "refused", rebuttal=0, script_version=version)
    correct(original, outcome="will_apply")
    rebuttal = _row(cast.user("lead"), "rate_high").rebuttals[0]
    assert (rebuttal.used, rebuttal.will_apply, rebuttal.converted) == (1, 1, 1)


def test_the_best_rebuttal_needs_enough_uses(cast: Cast, version: ScriptVersion) -> None:
    tele = cast.staff["tele"]
    for outcome in ["interested"] * 3 + ["refused"] * 2:  # 60% of 5
        objection(tele, outcome, rebuttal=0, script_version=version)
    for outcome in ["interested"] + ["refused"] * 4:  # 20% of 5
        objection(tele, outcome, rebuttal=1, script_version=version)
    objection(
        tele,
        "applied",
        code="rate_high",
        rebuttal=0,
        script_version=ScriptVersionFactory(script__created_by=cast.staff["lead"]),
    )  # 100%, but used once: not ranked
    row = _row(cast.user("lead"), "rate_high")
    best = [b for b in row.rebuttals if b.best]
    assert [(b.script_version_id, b.index) for b in best] == [(version.pk, 0)]


def test_outside_the_period_is_not_counted(cast: Cast) -> None:
    objection(cast.staff["tele"], "interested", occurred_at=NOW - dt.timedelta(days=45))
    assert s.objections(cast.user("lead"), LAST_30).rows == []


def test_a_team_lead_sees_their_teams_objections_only(cast: Cast) -> None:
    objection(cast.staff["mgr2"], "interested")
    objection(cast.staff["mgr_b"], "interested")
    assert s.objections(cast.user("lead"), LAST_30).rows == []
    assert _row(cast.user("head"), "rate_high").raised == 1  # mgr2's; branch B's never


def test_the_channel_filter_narrows_the_contacts(cast: Cast) -> None:
    objection(cast.staff["tele"], "interested")
    objection(cast.staff["tele"], "interested", channel="visit", visit_place="home")
    rows = s.objections(cast.user("lead"), LAST_30, "visit").rows
    assert rows[0].raised == 1


def test_page_shows_the_rebuttal_and_a_chart(cast: Cast, version: ScriptVersion) -> None:
    objection(cast.staff["tele"], "interested", rebuttal=0, script_version=version)
    body = cast.client("lead").get(PAGE).content.decode()
    assert "年化利率3.45%起，比信用卡分期低。" in body
    island = re.search(r'<script id="rebuttal-chart" type="application/json">(.*?)</script>', body, re.S)
    assert island is not None
    chart = json.loads(island.group(1))
    assert chart["series"][0]["data"] == [1]


def test_page_without_objections_says_so(cast: Cast) -> None:
    body = cast.client("lead").get(PAGE).content.decode()
    assert 'data-testid="no-objections"' in body


@pytest.mark.parametrize(
    ("params", "says"),
    [
        ({"from": "2026-02-30"}, "YYYY-MM-DD"),
        ({"from": "2026-11-20", "to": "2026-11-10"}, "starts after it ends"),
        ({"to": "2026-12-05"}, "after today"),
        ({"from": "2024-01-01", "to": "2026-11-30"}, "at most a year"),
    ],
)
def test_a_bad_period_says_why_and_shows_the_last_30_days(
    cast: Cast, params: dict[str, str], says: str
) -> None:
    response = cast.client("lead").get(PAGE, params, HTTP_ACCEPT_LANGUAGE="en")
    assert says in response.context["error"]
    assert response.context["data"].period == s.Period(dt.date(2026, 11, 1), dt.date(2026, 11, 30))


def test_an_unknown_channel_says_so(cast: Cast) -> None:
    response = cast.client("lead").get(PAGE, {"channel": "fax"})
    assert response.context["data"].channel == ""
    assert response.context["error"]


def test_query_count_is_fixed(cast: Cast, version: ScriptVersion, django_assert_max_num_queries: Any) -> None:
    for i in range(20):
        objection(
            cast.staff["tele"],
            "interested",
            code="rate_high" if i % 2 else "no_need",
            rebuttal=0,
            script_version=version,
        )
    client = cast.client("head")
    client.get(PAGE)
    # Session, user, staff, the grouped counts, the script versions, the layout's two, the session save (3).
    with django_assert_max_num_queries(10):
        client.get(PAGE)
