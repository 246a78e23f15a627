"""The demo branch's past outreach (`contact_history`) and its scenario-channel leads (`channel_leads`),
derived from what each customer of a chunk holds.

Contact history covers the year before the as-of date, busier in the last weeks (the current campaign push).
A contact is one step of an episode: a call-list entry is tried on up to three working days until someone
answers, an interested customer is followed up, and some of the year's applications, approvals and drawdowns
were led by contacts that end "applied" on the day it happened, so an outcome always matches the data.
Pool customers (credit line, unfinished application, mortgage, premium card, payroll) are worked far more
than the rest; idle lines and fresh unfinished applications convert best, overdue borrowers hardly at all.
The branch followed the rules: only on a channel with an active marketing consent (C-01), never after an
opt-out, a pause of 180 days after a refusal (C-03), 09:00-20:00 and no fixed-date public holidays (C-04),
one contact a day (C-05), none for the vulnerable, students or customers who declined personalised marketing.

Leads: a few customers (customer_no filled, their own name and mobile) and more people who are not customers,
each from a partner with the consent wording version and time (last 90 days). No credit data (C-10).

Both draw from their own random streams: the other feeds of a seed are the same as without them.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, NamedTuple, Protocol, TypeVar

from xiaodai.core.roles import Role
from xiaodai.customers import choices as c
from xiaodai.demo import holdings as h
from xiaodai.demo import reference as ref
from xiaodai.demo.customergen import Pools, Weighted
from xiaodai.demo.rows import (
    ApplicationRow,
    CardRow,
    ChannelLeadRow,
    ConsentRow,
    ContactHistoryRow,
    CreditLineRow,
    CustomerChunk,
    CustomerRow,
    LoanRow,
    OptOutRow,
)

if TYPE_CHECKING:
    from xiaodai.demo.generator import Drop


class _Owned(Protocol):
    @property
    def customer_no(self) -> str: ...


_T = TypeVar("_T", bound=_Owned)
OC, CH = c.ContactOutcome, c.Channel
HISTORY_DAYS = 365
PUSH_DAYS, PUSH_SHARE = 45, 0.35  # a share of the year's list episodes fall in the current push
REFUSAL_PAUSE = timedelta(days=180)  # C-03
LEAD_DAYS = 90
PROSPECT_SHARE = 0.025  # leads who are not customers, per customer of the book
BEIJING = timedelta(hours=8)
NEVER = datetime.max.replace(tzinfo=UTC)
_PUBLIC = frozenset({"公务员", "教师", "医生", "护士"})
_HOLIDAYS = frozenset({(1, 1), (5, 1), (5, 2), (5, 3), *((10, d) for d in range(1, 8))})  # fixed-date ones
_CALL_HOURS: Weighted[int] = Weighted(
    ((9, 8), (10, 12), (11, 11), (12, 4), (13, 6), (14, 11), (15, 12), (16, 11), (17, 9), (18, 6), (19, 4))
)
_VISIT_HOURS: Weighted[int] = Weighted(((9, 6), (10, 12), (11, 8), (14, 12), (15, 12), (16, 9), (17, 4)))
_LEAD_HOURS: Weighted[int] = Weighted((hour, 3 if 19 <= hour <= 21 else 2) for hour in range(8, 22))
_CHANNELS: tuple[tuple[str, float], ...] = ((CH.PHONE, 75), (CH.WECHAT, 12), (CH.VISIT, 8), (CH.SMS, 5))
_REACHED: dict[str, float] = {
    CH.PHONE: 0.42,
    CH.WECHAT: 0.55,
    CH.VISIT: 0.85,
    CH.SMS: 0.1,
}  # answered, replied, met
LED_BY_OUTREACH = 0.12  # share of the year's applications, approvals and drawdowns a contact led to
_RECOVERY: dict[str, float] = {c.ApplicationStatus.IN_PROGRESS: 0.4, c.ApplicationStatus.ABANDONED: 0.6}
_RANK: dict[str, int] = {OC.APPLIED: 0, OC.DO_NOT_CALL: 0}  # what a day keeps when two contacts fall on it


class _Contact(NamedTuple):
    at: datetime
    channel: str
    employee_no: str | None
    outcome: str
    product: str
    amount: Decimal | None


@dataclass(slots=True)
class _Customer:
    """One customer of the chunk with what they hold, and what the outreach derives from it."""

    row: CustomerRow
    mobile: str
    lines: Sequence[CreditLineRow]
    loans: Sequence[LoanRow]
    cards: Sequence[CardRow]
    apps: Sequence[ApplicationRow]
    consents: Sequence[ConsentRow]  # marketing consents
    opt_outs: Sequence[OptOutRow]
    # Where each channel may be used (consent granted → withdrawn or expired), and the opt-outs.
    windows: dict[str, tuple[datetime, datetime]] = field(default_factory=dict)
    stops: list[tuple[datetime, str]] = field(default_factory=list)
    product: str = ""
    fit: float = 1.0  # how readily they say yes
    rate: float = 0.0  # list episodes a year

    def allowed(self, channel: str, at: datetime, *, ending: bool = False) -> bool:
        """Consent active and no opt-out yet; `ending`: the contact in which the customer opts out."""
        window = self.windows.get(channel)
        if window is None or at < window[0] or at > window[1] or (at == window[1] and not ending):
            return False
        for when, ch in self.stops:
            if ch in ("", channel) and (when < at or (when == at and not ending)):
                return False
        return True


def _local_day(at: datetime) -> date:
    return (at + BEIJING).date()


def _moment(day: date, hour: int, r: random.Random) -> datetime:
    """A second within `hour` (Beijing time) on `day`, in UTC like the rest of the demo."""
    return (
        datetime(day.year, day.month, day.day, tzinfo=UTC)
        + timedelta(hours=hour, seconds=r.randrange(3600))
        - BEIJING
    )


def _working_day(r: random.Random, day: date, *, forward: bool) -> date:
    """Off fixed-date public holidays, and most contacts off the weekend (branches work some Saturdays).
    forward: the next working day (a retry, a follow-up); else a working day of the days before, spread."""
    for _ in range(20):
        if (day.month, day.day) in _HOLIDAYS:
            day += timedelta(days=1) if forward else -timedelta(days=r.randint(1, 10))
        elif day.weekday() >= 5 and r.random() < 0.75:
            if forward:
                day += timedelta(days=7 - day.weekday())
            else:
                day -= timedelta(days=day.weekday() - 4 + r.randrange(5))  # Monday to Friday before
        else:
            break
    return day


def _in_hours(r: random.Random, at: datetime) -> datetime:
    """`at`, or the next moment 09:00-20:00 when it falls outside (an application made at night)."""
    local = at + BEIJING
    if local.hour < 9:
        return _moment(local.date(), 9, r)
    if local.hour >= 20:
        return _moment(local.date() + timedelta(days=1), 9, r)
    return at


def _poisson(r: random.Random, mean: float) -> int:
    limit, k, p = math.exp(-mean), 0, r.random()
    while p > limit:
        k, p = k + 1, p * r.random()
    return k


def _cents(value: Decimal) -> int:
    return int(value * 100)


class Outreach:
    """Adds contact history and customer leads to each chunk; yields the leads who are not customers."""

    def __init__(self, drop: Drop, pools: Pools, mobile: Callable[[random.Random, int], str]) -> None:
        self.seed, self.count, self.as_of = drop.seed, drop.customer_count, drop.as_of
        self.last = drop.as_of - timedelta(days=1)  # a T+1 drop: nothing on the data date itself
        self.first = self.last - timedelta(days=HISTORY_DAYS - 1)
        self.pools, self.mobile = pools, mobile
        self.role_of = {s.employee_no: s.role for s in drop.staff}
        self.callers: dict[tuple[str, str], list[str]] = {}
        for s in drop.staff:  # the front line that works the lists
            if s.sub_branch_code and s.role in (Role.TELEMARKETER, Role.LOAN_MANAGER):
                self.callers.setdefault((s.sub_branch_code, s.role), []).append(s.employee_no)
        self.partners: Weighted[ref.Partner] = Weighted((p, p.share) for p in ref.PARTNERS)
        self.by_scenario: dict[str, Weighted[ref.Partner]] = {
            scenario: Weighted((p, p.share) for p in ref.PARTNERS if p.scenario == scenario)
            for scenario in dict.fromkeys(p.scenario for p in ref.PARTNERS)
        }

    def extend(self, chunks: Iterator[CustomerChunk]) -> Iterator[CustomerChunk]:
        for number, chunk in enumerate(chunks):
            history = random.Random(f"xiaodai-demo:{self.seed}:history:{number}")
            leads = random.Random(f"xiaodai-demo:{self.seed}:leads:{number}")
            for customer in _gather(chunk):
                self._history(history, customer, chunk.contact_history)
                self._customer_leads(leads, customer, chunk.channel_leads)
            yield chunk

    def prospects(self) -> Iterator[ChannelLeadRow]:
        """Leads who are not customers: names and mobiles outside the book; a few sent by two partners."""
        r = random.Random(f"xiaodai-demo:{self.seed}:prospects")
        for j in range(round(self.count * PROSPECT_SHARE)):
            number = self.count + 1 + j  # past every customer's seq: mobiles and lead ids of their own
            person = r.choice(self.pools.male if r.random() < 0.5 else self.pools.female)
            mobile = self.mobile(r, 2 * number)
            partner = self.partners.pick(r)
            yield self._lead(r, partner, 4 * number, person.name, mobile, "")
            if r.random() < 0.05:
                other = self.partners.pick(r)
                if other.code != partner.code:
                    yield self._lead(r, other, 4 * number + 1, person.name, mobile, "")

    # -- contact history ------------------------------------------------------------------------------

    def _history(self, r: random.Random, cu: _Customer, out: list[ContactHistoryRow]) -> None:
        row = cu.row
        if not cu.consents or row.is_vulnerable or row.no_personalised_marketing or row.occupation == "学生":
            return  # never asked for marketing consent, or not to be marketed to
        self._situation(r, cu)
        found: list[_Contact] = []
        self._opt_out_calls(r, cu, found)
        self._conversions(r, cu, found)
        for app in cu.apps:  # an unfinished application gets a call to pick it up again
            odds = _RECOVERY.get(app.status, 0.0)
            if odds and r.random() < odds:
                day = _working_day(
                    r, _local_day(app.last_step_at) + timedelta(days=r.randint(1, 7)), forward=True
                )
                self._episode(r, cu, day, min(4.0, cu.fit * 2.5), found)
        for _ in range(_poisson(r, cu.rate)):  # call-list episodes over the year
            back = r.randrange(PUSH_DAYS) if r.random() < PUSH_SHARE else r.randrange(HISTORY_DAYS)
            day = _working_day(r, self.last - timedelta(days=back), forward=False)
            self._episode(r, cu, day, cu.fit, found)
        if not found:
            return
        seq = int(row.customer_no[3:])
        for k, contact in enumerate(self._kept(found)[:99]):
            day = _local_day(contact.at)
            out.append(ContactHistoryRow(f"H{day:%Y%m%d}{seq:08d}{k:02d}", row.customer_no, *contact))

    def _situation(self, r: random.Random, cu: _Customer) -> None:
        """Pools, how likely a yes is, how often the branch calls, and what it offers."""
        row = cu.row
        active = [line for line in cu.lines if line.status == c.CreditLineStatus.ACTIVE]
        idle = any(line.drawn == 0 for line in active)
        unfinished = [
            a for a in cu.apps if a.status in (c.ApplicationStatus.IN_PROGRESS, c.ApplicationStatus.ABANDONED)
        ]
        mortgage = any(
            loan.kind == c.LoanKind.MORTGAGE and loan.status != c.LoanStatus.SETTLED for loan in cu.loans
        )
        premium = any(
            card.delinquent_cycles == 0
            and (card.tier in (c.CardTier.PLATINUM, c.CardTier.DIAMOND) or card.limit >= 50_000)
            for card in cu.cards
        )
        payroll = row.payroll_enterprise_code is not None
        overdue = any(loan.status == c.LoanStatus.OVERDUE for loan in cu.loans) or any(
            card.delinquent_cycles for card in cu.cards
        )
        pool = bool(active or unfinished or mortgage or premium or payroll)
        fit = 1.0 if pool else 0.5
        fit *= 2.5 if idle else 1.3 if active else 1.0
        fit *= 1.3 if payroll else 1.0
        fit *= 1.5 if unfinished else 1.0
        rate = (1.0 if pool else 0.12) + (1.0 if idle else 0.0)
        if overdue:  # collections, not marketing: rarely on a list, hardly ever a yes
            fit, rate = 0.1, rate * 0.3
        cu.fit, cu.rate = min(fit, 4.0), rate
        if active:
            cu.product = active[0].product
        elif cu.apps:
            cu.product = cu.apps[-1].product
        elif payroll:
            cu.product = "薪享贷"
        elif row.occupation in _PUBLIC:
            cu.product = "优职贷"
        elif mortgage:
            cu.product = "安居消费贷"
        else:
            cu.product = "消费快贷" if r.random() < 0.5 else "e享贷"
        for k in cu.consents:
            if k.granted:
                cu.windows[k.channel] = (k.recorded_at, k.expires_at or NEVER)
            elif k.channel in cu.windows:  # a withdrawal ends the window
                cu.windows[k.channel] = (cu.windows[k.channel][0], k.recorded_at)
        cu.stops = [(o.recorded_at, o.channel) for o in cu.opt_outs]

    def _amount(self, r: random.Random, cu: _Customer) -> Decimal:
        """What an interested customer speaks of: part of their line, their application, or a multiple of
        their income, in round ten thousands."""
        line = next((x for x in cu.lines if x.status == c.CreditLineStatus.ACTIVE), None)
        if line is not None:
            limit = _cents(line.limit)
            return h.money(min(limit, h.round_cents(limit * r.uniform(0.3, 1.0), 10_000)))
        if cu.apps:
            return cu.apps[-1].amount
        income = max(_cents(cu.row.monthly_income), 300_000)
        return h.money(min(30_000_000, h.round_cents(income * r.uniform(3, 15), 10_000)))

    def _caller(self, r: random.Random, cu: _Customer, channel: str) -> str | None:
        """The owner when they work lists, else a telemarketer (calls, texts) or a loan manager (visits,
        WeChat, some calls) of the customer's sub-branch."""
        owner = cu.row.owner_employee_no
        role = self.role_of.get(owner or "")
        works_it = role == Role.LOAN_MANAGER or (role == Role.TELEMARKETER and channel in (CH.PHONE, CH.SMS))
        if works_it and r.random() < 0.6:
            return owner
        if channel in (CH.VISIT, CH.WECHAT) or (channel == CH.PHONE and r.random() < 0.25):
            role = Role.LOAN_MANAGER
        else:
            role = Role.TELEMARKETER
        staff = self.callers.get((cu.row.sub_branch_code, role))
        return r.choice(staff) if staff else None

    def _channel(self, r: random.Random, cu: _Customer, day: date) -> tuple[str, datetime] | None:
        options = [(ch, w) for ch, w in _CHANNELS if ch in cu.windows]
        while options:
            channel = r.choices([ch for ch, _ in options], [w for _, w in options])[0]
            at = _moment(day, (_VISIT_HOURS if channel == CH.VISIT else _CALL_HOURS).pick(r), r)
            if cu.allowed(channel, at):
                return channel, at
            options = [(ch, w) for ch, w in options if ch != channel]
        return None

    def _episode(self, r: random.Random, cu: _Customer, day: date, fit: float, out: list[_Contact]) -> None:
        """A list entry: tried until answered (calls: up to three working days), then the answer and,
        for an interested customer, often a follow-up a few days later."""
        picked = self._channel(r, cu, day)
        if picked is None:
            return
        channel, at = picked
        who = self._caller(r, cu, channel)
        tries = 1
        if channel == CH.PHONE:
            tries += (r.random() < 0.7) + (r.random() < 0.45) + (r.random() < 0.25)
        for _ in range(tries):
            if not cu.allowed(channel, at):
                return
            if r.random() < _REACHED[channel]:
                break
            missed = OC.NO_ANSWER
            if channel == CH.PHONE:
                missed = r.choices((OC.NO_ANSWER, OC.BUSY, OC.WRONG_NUMBER), (72, 22, 6))[0]
            out.append(_Contact(at, channel, who, missed, cu.product, None))
            if missed == OC.WRONG_NUMBER:
                return
            day = _working_day(r, _local_day(at) + timedelta(days=r.randint(1, 2)), forward=True)
            at = _moment(day, _CALL_HOURS.pick(r), r)
        else:
            return
        outcome = self._answer(r, channel, fit)
        out.append(self._answered(r, cu, at, channel, who, outcome))
        if outcome not in (OC.INTERESTED, OC.WILL_APPLY) or r.random() >= 0.5:
            return
        day = _working_day(r, _local_day(at) + timedelta(days=r.randint(2, 10)), forward=True)
        channel = CH.WECHAT if CH.WECHAT in cu.windows and r.random() < 0.3 else CH.PHONE
        at = _moment(day, _CALL_HOURS.pick(r), r)
        if not cu.allowed(channel, at):
            return
        if r.random() >= 0.75:
            out.append(_Contact(at, channel, who, OC.NO_ANSWER, cu.product, None))
            return
        weights = (0.3 * fit, 0.15, 0.4, 0.15)
        outcome = r.choices((OC.WILL_APPLY, OC.INTERESTED, OC.NOT_NOW, OC.REFUSED), weights)[0]
        out.append(self._answered(r, cu, at, channel, who, outcome))

    def _answered(
        self, r: random.Random, cu: _Customer, at: datetime, channel: str, who: str | None, outcome: str
    ) -> _Contact:
        keen = outcome in (OC.INTERESTED, OC.WILL_APPLY)
        return _Contact(at, channel, who, outcome, cu.product, self._amount(r, cu) if keen else None)

    @staticmethod
    def _answer(r: random.Random, channel: str, fit: float) -> str:
        if channel == CH.SMS:  # a reply to a text
            return r.choices((OC.NOT_NOW, OC.INTERESTED, OC.WILL_APPLY), (0.5, 0.3 * fit, 0.1 * fit))[0]
        refused, keen = (0.15, 1.5) if channel == CH.VISIT else (0.3, 1.0)
        weights = (refused, 0.5, 0.06 * fit * keen, 0.02 * fit * keen)
        return r.choices((OC.REFUSED, OC.NOT_NOW, OC.INTERESTED, OC.WILL_APPLY), weights)[0]

    def _opt_out_calls(self, r: random.Random, cu: _Customer, out: list[_Contact]) -> None:
        """An opt-out taken on the phone in the year ends a call: that call's outcome is do-not-call."""
        for o in cu.opt_outs:
            local = o.recorded_at + BEIJING
            if o.source != c.ConsentSource.PHONE or o.channel not in ("", CH.PHONE):
                continue
            if not self.first <= local.date() <= self.last or not 9 <= local.hour < 20:
                continue
            if not cu.allowed(CH.PHONE, o.recorded_at, ending=True):
                continue
            who = o.recorded_by_employee_no
            if self.role_of.get(who or "") not in (Role.TELEMARKETER, Role.LOAN_MANAGER):
                who = self._caller(r, cu, CH.PHONE)
            out.append(_Contact(o.recorded_at, CH.PHONE, who, OC.DO_NOT_CALL, cu.product, None))

    def _conversions(self, r: random.Random, cu: _Customer, out: list[_Contact]) -> None:
        """Applications, approvals and drawdowns of the year, some led by outreach: interest some days
        before, sometimes a promise, then "applied" right after (the next working hour at the latest)."""
        events: list[tuple[datetime, str, Decimal]] = [(a.started_at, a.product, a.amount) for a in cu.apps]
        for line in cu.lines:
            if line.line_no.endswith("01"):  # lines approved outside the applications feed
                applied_on = line.approved_on - timedelta(days=r.randint(1, 6))
                events.append((_moment(applied_on, _CALL_HOURS.pick(r), r), line.product, line.limit))
            if line.last_drawn_on is not None and line.status == c.CreditLineStatus.ACTIVE:
                drawn = next((x.amount for x in cu.loans if x.disbursed_on == line.last_drawn_on), line.limit)
                events.append((_moment(line.last_drawn_on, _CALL_HOURS.pick(r), r), line.product, drawn))
        for when, product, amount in events:
            led = LED_BY_OUTREACH * min(1.0, cu.fit)  # hardly ever for an overdue borrower
            if not self.first <= _local_day(when) <= self.last or r.random() >= led:
                continue
            lead_day = _working_day(r, _local_day(when) - timedelta(days=r.randint(3, 21)), forward=False)
            picked = self._channel(r, cu, lead_day)
            if picked is None:
                continue
            channel, at = picked
            who = self._caller(r, cu, channel)
            first = OC.WILL_APPLY if r.random() < 0.3 else OC.INTERESTED
            out.append(_Contact(at, channel, who, first, product, amount))
            if first == OC.INTERESTED and r.random() < 0.4:
                day = _working_day(r, _local_day(when) - timedelta(days=r.randint(1, 2)), forward=False)
                at = _moment(day, _CALL_HOURS.pick(r), r)
                if cu.allowed(CH.PHONE, at):
                    out.append(_Contact(at, CH.PHONE, who, OC.WILL_APPLY, product, amount))
            at = _in_hours(r, when + timedelta(minutes=r.randint(5, 90)))
            if cu.allowed(channel, at):
                out.append(_Contact(at, channel, who, OC.APPLIED, product, amount))

    def _kept(self, found: list[_Contact]) -> list[_Contact]:
        """The year as it happened: one contact a day (an "applied" or a do-not-call wins its day), none
        before the year or after the last day, none within 180 days of a refusal."""
        days: dict[date, _Contact] = {}
        for contact in sorted(found, key=lambda x: (_RANK.get(x.outcome, 1), x.at)):
            day = _local_day(contact.at)
            if self.first <= day <= self.last:
                days.setdefault(day, contact)
        kept: list[_Contact] = []
        paused_until = datetime.min.replace(tzinfo=UTC)
        for contact in sorted(days.values(), key=lambda x: x.at):
            if contact.at < paused_until:
                continue
            kept.append(contact)
            if contact.outcome == OC.REFUSED:
                paused_until = contact.at + REFUSAL_PAUSE
        return kept

    # -- leads ----------------------------------------------------------------------------------------

    def _customer_leads(self, r: random.Random, cu: _Customer, out: list[ChannelLeadRow]) -> None:
        """About 1.5 % of customers come again through a partner; the scenario follows their life."""
        row = cu.row
        age = self.as_of.year - row.birth_date.year
        if r.random() >= (0.022 if 22 <= age <= 55 else 0.006):
            return
        tags = set(row.tag_codes)
        home = "circle_home_owner" in tags or "seg_mortgage" in tags
        weights = {
            "renovation": (1 + 3 * home) if 26 <= age <= 60 else 0.3,
            "car": 1 + 1.5 * (row.monthly_income >= 10_000),
            "provident_fund": 0.4 + 2.5 * (bool(row.payroll_enterprise_code) or row.occupation in _PUBLIC),
            "education": 0.3 + 2.5 * ("circle_mum" in tags or 32 <= age <= 48),
            "wedding": 0.1 + 4 * ("circle_newlywed" in tags) + (24 <= age <= 32),
            "travel": 0.8,
        }
        scenario = r.choices(list(weights), list(weights.values()))[0]
        partners = [self.by_scenario[scenario].pick(r)]
        if r.random() < 0.08:  # the same person on a second partner's list
            partners.append(self.partners.pick(r))
        seq = int(row.customer_no[3:])
        for k, partner in enumerate(dict.fromkeys(partners)):
            out.append(self._lead(r, partner, 4 * seq + k, row.name, cu.mobile, row.customer_no))

    def _lead(
        self, r: random.Random, partner: ref.Partner, number: int, name: str, mobile: str, customer_no: str
    ) -> ChannelLeadRow:
        day = self.last - timedelta(days=r.randrange(LEAD_DAYS))
        version = f"{partner.wording}-{day.year}.{1 if day.month <= 6 else 2}"
        lead_id = f"L{number * 3_486_784_401 % 10**10:010d}"  # a bijection: opaque like a partner's own ids
        at = _moment(day, _LEAD_HOURS.pick(r), r)
        return ChannelLeadRow(partner.code, lead_id, name, mobile, partner.scenario, version, at, customer_no)


def _gather(chunk: CustomerChunk) -> Iterator[_Customer]:
    """The chunk's rows per customer, in the chunk's order (most customers hold few kinds of rows)."""

    def by_customer(rows: Iterable[_T]) -> dict[str, list[_T]]:
        grouped: dict[str, list[_T]] = {}
        for row in rows:
            grouped.setdefault(row.customer_no, []).append(row)
        return grouped

    lines, loans, cards = by_customer(chunk.credit_lines), by_customer(chunk.loans), by_customer(chunk.cards)
    apps, opt_outs = by_customer(chunk.applications), by_customer(chunk.opt_outs)
    consents = by_customer(k for k in chunk.consents if k.purpose == c.ConsentPurpose.MARKETING)
    mobiles = {
        p.customer_no: p.value for p in chunk.contacts if p.is_primary and p.kind == c.ContactKind.MOBILE
    }
    for row in chunk.customers:
        no = row.customer_no
        yield _Customer(
            row,
            mobiles[no],
            lines.get(no, ()),
            loans.get(no, ()),
            cards.get(no, ()),
            apps.get(no, ()),
            consents.get(no, ()),
            opt_outs.get(no, ()),
        )
