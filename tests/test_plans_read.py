"""The read side's arithmetic: time elapsed in working days, pace bands, the cumulative funnel."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from xiaodai.plans import read
from xiaodai.plans.choices import FunnelStage, Pace

NOV = (dt.date(2026, 11, 1), dt.date(2026, 11, 30))


def test_elapsed_counts_working_days() -> None:
    # November 2026 has 21 working days; by Friday the 13th ten of them have passed.
    assert read.working_days(*NOV) == 21
    assert read.elapsed_share(*NOV, dt.date(2026, 11, 13)) == Decimal(10) / Decimal(21)


@pytest.mark.parametrize(
    ("today", "share"), [(dt.date(2026, 10, 31), Decimal(0)), (dt.date(2026, 12, 5), Decimal(1))]
)
def test_elapsed_is_nothing_before_and_everything_after(today: dt.date, share: Decimal) -> None:
    assert read.elapsed_share(*NOV, today) == share


@pytest.mark.parametrize(
    ("actual", "expected"),
    [("44", Pace.BEHIND), ("45", Pace.ON), ("54", Pace.ON), ("55", Pace.AHEAD)],
)
def test_pace_is_a_ten_percent_band_around_the_time_elapsed(actual: str, expected: str) -> None:
    assert read.pace(Decimal(actual), Decimal(100), Decimal("0.5")) == expected


def test_no_target_has_no_pace() -> None:
    assert read.pace(Decimal(5), None, Decimal("0.5")) == Pace.NO_TARGET
    assert read.pace(Decimal(5), Decimal(0), Decimal("0.5")) == Pace.NO_TARGET


def test_funnel_steps_are_cumulative_with_conversion() -> None:
    steps = read.steps({FunnelStage.LISTED: 50, FunnelStage.REACHED: 30, FunnelStage.DRAWN: 20})
    assert [s.entries for s in steps] == [100, 50, 50, 20, 20, 20, 20, 20]
    assert [steps[0].rate, steps[1].rate, steps[3].rate] == [None, Decimal("50.0"), Decimal("40.0")]
    assert steps[-1].overall == Decimal("20.0")


def test_an_empty_funnel_has_no_rates() -> None:
    steps = read.steps({})
    assert all(s.entries == 0 and s.overall is None for s in steps)


def test_only_known_columns_may_narrow_the_figures() -> None:
    with pytest.raises(ValueError, match="customer_id"):
        read.flows(None, *NOV, by="customer_id")
