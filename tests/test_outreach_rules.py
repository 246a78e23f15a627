"""Contact rules (compliance C-01, C-03, C-04, C-05): consent per channel, opt-outs, the refusal freeze,
the contact window on Chinese working days, and frequency caps across staff."""

from __future__ import annotations

import datetime as dt
import random

import chinese_calendar
import pytest

from tests import factories as f
from tests.conftest import Cast
from tests.outreach_data import NOW, SHANGHAI, call, workable_customer
from xiaodai.outreach import rules
from xiaodai.outreach.models import ContactPolicy


def _codes(problems: list[rules.Problem]) -> set[str]:
    return {p.code for p in problems}


def test_make_up_saturday_is_a_working_day() -> None:
    saturday = next(
        d
        for d in (dt.date(2026, 1, 1) + dt.timedelta(days=n) for n in range(365))
        if d.weekday() == 5 and chinese_calendar.is_workday(d)
    )
    assert rules.is_working_day(saturday)


def test_national_day_is_not_a_working_day() -> None:
    assert not rules.is_working_day(dt.date(2026, 10, 1))


def test_years_the_calendar_does_not_know_fall_back_to_weekdays() -> None:
    assert rules.is_working_day(dt.date(2031, 3, 3))  # a Monday
    assert not rules.is_working_day(dt.date(2031, 3, 2))  # a Sunday


@pytest.mark.parametrize(
    ("hour", "minute", "inside"),
    [(8, 59, False), (9, 0, True), (12, 30, True), (19, 59, True), (20, 0, False), (23, 0, False)],
)
def test_window_edges(hour: int, minute: int, inside: bool) -> None:
    policy = ContactPolicy()
    at = dt.datetime(2026, 11, 30, hour, minute, tzinfo=SHANGHAI)
    assert rules.in_window(policy, at) is inside


def test_window_reads_utc_times_in_shanghai() -> None:
    # 01:00 UTC is 09:00 in Shanghai (UTC+8 all year, no daylight saving).
    assert rules.in_window(ContactPolicy(), dt.datetime(2026, 11, 30, 1, 0, tzinfo=dt.UTC))
    assert not rules.in_window(ContactPolicy(), dt.datetime(2026, 11, 30, 0, 59, tzinfo=dt.UTC))


def test_holidays_allowed_opens_rest_days() -> None:
    sunday = dt.datetime(2026, 11, 29, 10, 0, tzinfo=SHANGHAI)
    assert not rules.in_window(ContactPolicy(), sunday)
    assert rules.in_window(ContactPolicy(holidays_allowed=True), sunday)


def test_window_property_random_moments() -> None:
    """C-04 property: a moment is inside exactly when it is a working day and 09:00 <= local time < 20:00."""
    rng = random.Random(7)
    policy = ContactPolicy()
    start = dt.datetime(2026, 1, 1, tzinfo=SHANGHAI)  # the calendar package knows 2026
    for _ in range(1000):
        at = start + dt.timedelta(seconds=rng.randrange(360 * 86400))
        local = at.astimezone(SHANGHAI)
        expected = chinese_calendar.is_workday(local.date()) and dt.time(9) <= local.time() < dt.time(20)
        assert rules.in_window(policy, at) is expected


def test_next_window_start_after_the_evening_is_the_next_working_morning() -> None:
    friday_night = dt.datetime(2026, 11, 27, 21, 0, tzinfo=SHANGHAI)
    assert rules.next_window_start(ContactPolicy(), friday_night) == dt.datetime(
        2026, 11, 30, 9, 0, tzinfo=SHANGHAI
    )


@pytest.mark.parametrize(
    ("consents", "phone_ok"),
    [
        ([], False),
        ([("phone", True, None)], True),
        ([("sms", True, None)], False),
        ([("phone", True, None), ("phone", False, None)], False),  # withdrawn: the latest wins
        ([("phone", True, -1)], False),  # expired yesterday
    ],
    ids=["none", "phone-only", "sms-only", "withdrawn", "expired"],
)
def test_consent_states_for_a_phone_call(
    cast: Cast, consents: list[tuple[str, bool, int | None]], phone_ok: bool
) -> None:
    customer = f.CustomerFactory(sub_branch=cast.sub)
    for n, (channel, granted, expires_in) in enumerate(consents):
        f.ConsentFactory(
            customer=customer,
            channel=channel,
            granted=granted,
            recorded_at=NOW - dt.timedelta(days=10 - n),
            expires_at=NOW + dt.timedelta(days=expires_in) if expires_in is not None else None,
        )
    problems = _codes(rules.check(customer, "phone", NOW))
    assert ("no_consent" not in problems and "consent_expired" not in problems) is phone_ok


def test_opt_out_on_all_channels_blocks(cast: Cast) -> None:
    customer = workable_customer(cast.staff["tele"])
    f.OptOutFactory(customer=customer, channel="", recorded_at=NOW - dt.timedelta(days=1))
    assert "opted_out" in _codes(rules.check(customer, "phone", NOW))


def test_opt_out_on_another_channel_does_not_block(cast: Cast) -> None:
    customer = workable_customer(cast.staff["tele"])
    f.OptOutFactory(customer=customer, channel="sms", recorded_at=NOW - dt.timedelta(days=1))
    assert rules.check(customer, "phone", NOW) == []


def test_vulnerable_customer_is_never_contacted(cast: Cast) -> None:
    customer = workable_customer(cast.staff["tele"])
    customer.is_vulnerable = True
    assert "vulnerable" in _codes(rules.check(customer, "phone", NOW))


@pytest.mark.parametrize(("days", "frozen"), [(179, True), (181, False)])
def test_refusal_freeze(cast: Cast, days: int, frozen: bool) -> None:
    customer = workable_customer(cast.staff["tele"])
    call(cast.staff["tele"], customer, "refused")
    problems = _codes(rules.check(customer, "phone", NOW + dt.timedelta(days=days)))
    assert ("frozen" in problems) is frozen
    assert "opted_out" in problems  # the refusal opted the customer out: still excluded after the freeze


def test_new_consent_after_a_refusal_lifts_the_freeze(cast: Cast) -> None:
    customer = workable_customer(cast.staff["tele"])
    call(cast.staff["tele"], customer, "refused")
    f.ConsentFactory(customer=customer, channel="phone", recorded_at=NOW + dt.timedelta(days=5))
    assert "frozen" not in _codes(rules.check(customer, "phone", NOW + dt.timedelta(days=6)))


def test_daily_cap_counts_across_staff(cast: Cast) -> None:
    """C-05: two people calling one customer share the cap (default 2 phone attempts a day)."""
    customer = workable_customer(cast.staff["tele"])
    call(cast.staff["tele"], customer, "no_answer")
    call(cast.staff["lead"], customer, "busy", at=NOW + dt.timedelta(hours=1))
    problems = _codes(rules.check(customer, "phone", NOW + dt.timedelta(hours=2)))
    assert "cap_day" in problems


def test_daily_cap_resets_the_next_day(cast: Cast) -> None:
    customer = workable_customer(cast.staff["tele"])
    call(cast.staff["tele"], customer, "no_answer")
    call(cast.staff["lead"], customer, "busy", at=NOW + dt.timedelta(hours=1))
    assert rules.check(customer, "phone", NOW + dt.timedelta(days=1)) == []


def test_thirty_day_cap(cast: Cast) -> None:
    customer = workable_customer(cast.staff["tele"])
    policy = rules.policy_for(customer.branch_id)
    policy.phone_per_30d = 3
    policy.save()
    for day in (0, 1, 2):
        call(cast.staff["tele"], customer, "no_answer", at=NOW + dt.timedelta(days=day))
    problems = _codes(rules.check(customer, "phone", NOW + dt.timedelta(days=3)))
    assert "cap_30d" in problems
