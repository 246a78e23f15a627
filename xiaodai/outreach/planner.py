"""The campaign planner's arithmetic: how many dials a concentrated calling campaign (集中电销) needs, and
so how many days a given number of callers takes, or how many callers finish in a given number of days.

Pure functions, no database: the page (supervision_views.planner) only fills in the inputs.

The model. Every customer of the pool is dialled until reached or until the attempts run out. The first
attempt connects with the connect rate r; each retry connects less often (people who did not answer
once are harder to reach), at `retry_factor` times the previous attempt's rate: r, r·f, r·f², …
A customer reached on attempt k is not dialled again, so the dials are

    pool × (1 + q₁ + q₁q₂ + … + q₁…q_{A-1})      with q_k = 1 − r·f^(k−1), the chance attempt k misses,

and the customers reached are pool × (1 − q₁…q_A). One caller makes calls_per_hour × hours_per_day dials
a day; the campaign needs dials ÷ that many caller-days, rounded up.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

DEFAULT_CONNECT_RATE = 0.35  # when the branch has too few calls of its own to measure one
DEFAULT_ATTEMPTS = 3
DEFAULT_RETRY_FACTOR = 0.7
DEFAULT_CALLS_PER_HOUR = 12
DEFAULT_HOURS_PER_DAY = 6.0
MAX_ATTEMPTS = 10


MESSAGES = {
    "pool_size": _("The pool needs at least one customer."),
    "connect_rate": _("The connect rate is a percentage above 0 and at most 100."),
    "calls_per_hour": _("Calls per hour must be more than 0."),
    "hours_per_day": _("Calling hours per day must be more than 0 and fit in the calling window."),
    "attempts": _("Attempts per customer must be between 1 and 10."),
    "retry_factor": _("The retry connect share is a percentage from 0 to 100."),
    "callers": _("Give at least one caller."),
    "days": _("Give at least one day."),
}


class PlanError(ValueError):
    """Inputs the arithmetic cannot use; `field` names the input, for the form to put the message on."""

    def __init__(self, field: str) -> None:
        super().__init__(field)
        self.field = field

    @property
    def message(self) -> str:
        return str(MESSAGES[self.field])


@dataclass(frozen=True)
class Inputs:
    pool_size: int  # customers to call
    connect_rate: float  # share of first attempts that reach the customer, 0 < r ≤ 1
    calls_per_hour: float  # dials one caller makes in an hour, talk time included
    hours_per_day: float  # calling hours per caller per day
    attempts: int = DEFAULT_ATTEMPTS  # dials at most per customer
    retry_factor: float = DEFAULT_RETRY_FACTOR  # each retry connects at this share of the previous rate


@dataclass(frozen=True)
class Attempt:
    number: int  # 1 = first dial
    connect_rate: float
    dials: float  # customers still unreached when this attempt starts
    reached: float  # of them, reached by this attempt

    @property
    def connect_percent(self) -> float:
        return self.connect_rate * 100

    @property
    def whole_dials(self) -> int:
        return round(self.dials)

    @property
    def whole_reached(self) -> int:
        return round(self.reached)


@dataclass(frozen=True)
class Need:
    """What the pool needs, before anyone says how many callers or days."""

    inputs: Inputs
    attempts: list[Attempt]
    dials: float
    reached: float
    calls_per_caller_day: float

    @property
    def caller_days(self) -> float:
        return self.dials / self.calls_per_caller_day

    @property
    def reach_share(self) -> float:
        """Share of the pool reached at the end of the campaign."""
        return self.reached / self.inputs.pool_size if self.inputs.pool_size else 0.0

    @property
    def reach_percent(self) -> float:
        return self.reach_share * 100

    @property
    def whole_dials(self) -> int:
        return round(self.dials)

    @property
    def whole_reached(self) -> int:
        return round(self.reached)

    @property
    def dials_per_customer(self) -> float:
        return self.dials / self.inputs.pool_size if self.inputs.pool_size else 0.0


@dataclass(frozen=True)
class Plan:
    """A campaign shape: callers × days, and what it leaves spare."""

    need: Need
    callers: int
    days: int

    @property
    def capacity(self) -> float:
        """Dials the callers can make in the days."""
        return self.callers * self.days * self.need.calls_per_caller_day

    @property
    def utilisation(self) -> float:
        """Share of that capacity the campaign uses (below 1: the last day is not full)."""
        return self.need.dials / self.capacity if self.capacity else 0.0

    @property
    def utilisation_percent(self) -> float:
        return self.utilisation * 100

    @property
    def retries_share_a_day(self) -> bool:
        """Fewer days than attempts: some retries of a customer fall on the same day as an earlier dial."""
        return self.days < self.need.inputs.attempts


def validate(inputs: Inputs, max_hours: float = 24.0) -> None:
    """Refuse what the arithmetic cannot use, naming the input (the form shows the message on it)."""
    if inputs.pool_size < 1:
        raise PlanError("pool_size")
    if not 0 < inputs.connect_rate <= 1:
        raise PlanError("connect_rate")
    if inputs.calls_per_hour <= 0:
        raise PlanError("calls_per_hour")
    if not 0 < inputs.hours_per_day <= max_hours:
        raise PlanError("hours_per_day")
    if not 1 <= inputs.attempts <= MAX_ATTEMPTS:
        raise PlanError("attempts")
    if not 0 <= inputs.retry_factor <= 1:
        raise PlanError("retry_factor")


def need(inputs: Inputs, max_hours: float = 24.0) -> Need:
    """Dials and reached customers for the pool, attempt by attempt."""
    validate(inputs, max_hours)
    unreached = float(inputs.pool_size)
    rows: list[Attempt] = []
    for k in range(1, inputs.attempts + 1):
        rate = inputs.connect_rate * inputs.retry_factor ** (k - 1)
        reached = unreached * rate
        rows.append(Attempt(number=k, connect_rate=rate, dials=unreached, reached=reached))
        unreached -= reached
    return Need(
        inputs=inputs,
        attempts=rows,
        dials=sum(a.dials for a in rows),
        reached=sum(a.reached for a in rows),
        calls_per_caller_day=inputs.calls_per_hour * inputs.hours_per_day,
    )


def _ceil(value: float) -> int:
    # Float noise must not add a whole day: 29.000000000004 caller-days is 29.
    return max(1, math.ceil(round(value, 6)))


def days_for(need: Need, callers: int) -> Plan:
    """Given callers: the days the campaign takes (the last day may be part-full)."""
    if callers < 1:
        raise PlanError("callers")
    return Plan(need=need, callers=callers, days=_ceil(need.caller_days / callers))


def callers_for(need: Need, days: int) -> Plan:
    """Given days: the callers needed to finish in them."""
    if days < 1:
        raise PlanError("days")
    return Plan(need=need, callers=_ceil(need.caller_days / days), days=days)
