"""The demo branch's payroll links (代发, feed `payroll`): which partner enterprise pays which customer's
salary through us, how much a month, since when and until when.

Every customer with a `payroll_enterprise_code` has a link to that enterprise. The monthly amount is their
monthly income (exact to the cent for payroll customers). Each enterprise pays on its own day of the month
(mostly the 10th or the 15th), on the Friday before when that day falls on a weekend. The first salary is a
pay day after the customer opened their account: soon after for most (the enterprise opened it for the
payroll), any month since for the others (they joined the enterprise later). The last salary is the most
recent pay day before the as-of date; about 6 % lapsed (they left, or the enterprise stopped paying through
us) months earlier. A few customers who joined their employer long after opening their account also keep the
ended link of a previous employer, paid a little less.

Drawn from its own random streams: the other feeds of a seed are the same as without payroll.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import date, timedelta
from typing import TYPE_CHECKING

from xiaodai.demo import holdings as h
from xiaodai.demo.customergen import Weighted
from xiaodai.demo.rows import CustomerChunk, CustomerRow, PayrollRow

if TYPE_CHECKING:
    from xiaodai.demo.generator import Drop

# Days of the month an enterprise pays on; all after the fixed-date holidays of early January, May, October.
_PAY_DAYS: Weighted[int] = Weighted(((8, 1), (10, 4), (12, 1), (15, 4), (20, 1), (25, 1)))
OPENED_FOR_PAYROLL = 0.6  # account opened for the payroll: first salary that month or the next
LAPSED_SHARE = 0.065
LAPSE_MONTHS = 5.0  # mean months since the last salary beyond the minimum of two
PREVIOUS_SHARE = 0.12  # of customers who joined their employer 13+ months after opening their account


def _month(day: date) -> int:
    return day.year * 12 + day.month - 1


def _pay_day(month: int, day_of_month: int) -> date:
    """The salary day of `month` (a month number): Saturday and Sunday pay on the Friday before."""
    day = date(month // 12, month % 12 + 1, day_of_month)
    return day - timedelta(days=max(0, day.weekday() - 4))


def _first_month(day: date, day_of_month: int) -> int:
    """The first month whose salary day is on or after `day`."""
    month = _month(day)
    return month if _pay_day(month, day_of_month) >= day else month + 1


def _last_month(day: date, day_of_month: int) -> int:
    """The last month whose salary day is on or before `day`."""
    month = _month(day)
    return month if _pay_day(month, day_of_month) <= day else month - 1


class Payroll:
    """Adds each chunk's payroll links; holds only the enterprises' pay days and the partners by industry."""

    def __init__(self, drop: Drop) -> None:
        self.seed = drop.seed
        self.last = drop.as_of - timedelta(days=1)  # a T+1 drop: nothing on the data date itself
        days = random.Random(f"xiaodai-demo:{drop.seed}:paydays")
        self.pay_day = {e.code: _PAY_DAYS.pick(days) for e in drop.enterprises}
        self.industry = {e.code: e.industry for e in drop.enterprises}
        partners: dict[str, list[tuple[str, int]]] = {}
        for e in drop.enterprises:
            if e.is_payroll_partner:  # a previous employer paid through us too
                partners.setdefault(e.industry, []).append((e.code, e.employee_count))
        self.partners = {industry: Weighted(rows) for industry, rows in partners.items() if len(rows) > 1}

    def extend(self, chunks: Iterator[CustomerChunk]) -> Iterator[CustomerChunk]:
        for number, chunk in enumerate(chunks):
            r = random.Random(f"xiaodai-demo:{self.seed}:payroll:{number}")
            for row in chunk.customers:
                if row.payroll_enterprise_code is not None:
                    self._links(r, row, row.payroll_enterprise_code, chunk.payroll)
            yield chunk

    def _links(self, r: random.Random, row: CustomerRow, code: str, out: list[PayrollRow]) -> None:
        day = self.pay_day[code]
        opened, latest = _first_month(row.opened_on, day), _last_month(self.last, day)
        if opened > latest:  # opened after the enterprise's last pay day: a first salary paid off-cycle
            days = (row.opened_on + timedelta(days=k) for k in range((self.last - row.opened_on).days + 1))
            paid = r.choice([d for d in days if d.weekday() < 5] or [row.opened_on])  # on a working day
            out.append(PayrollRow(row.customer_no, code, row.monthly_income, paid, paid))
            return
        end = latest
        if latest - opened >= 2 and r.random() < LAPSED_SHARE:  # two months back: out of the 45-day window
            end = latest - min(latest - opened, 2 + int(r.expovariate(1 / LAPSE_MONTHS)))
        if r.random() < OPENED_FOR_PAYROLL:
            start = min(end, opened + (r.random() < 0.3))
        else:
            start = r.randint(opened, end)
        if start - opened >= 13 and r.random() < PREVIOUS_SHARE:
            self._previous(r, row, code, start, out)
        out.append(
            PayrollRow(row.customer_no, code, row.monthly_income, _pay_day(start, day), _pay_day(end, day))
        )

    def _previous(
        self, r: random.Random, row: CustomerRow, code: str, joined: int, out: list[PayrollRow]
    ) -> None:
        """The ended link of an earlier employer of the same industry: six months or more, ending at most
        three months before the first salary of the current one."""
        partners = self.partners.get(self.industry[code])
        if partners is None:
            return
        previous = partners.pick(r)
        if previous == code:
            return
        day = self.pay_day[previous]
        opened, end = _first_month(row.opened_on, day), joined - 1 - r.randrange(3)
        if end - 6 < opened:
            return
        start = r.randint(opened, end - 6)
        amount = h.money(int(int(row.monthly_income * 100) * r.uniform(0.65, 0.95)))
        out.append(PayrollRow(row.customer_no, previous, amount, _pay_day(start, day), _pay_day(end, day)))
