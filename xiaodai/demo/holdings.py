"""What one demo customer holds: deposits and wealth, a credit card, consumer credit lines, loans and
applications. Each function reads the customer's profile and appends rows to the chunk; amounts follow
income and age so the book hangs together (who borrows, how much, at what price)."""

from __future__ import annotations

import calendar
import math
import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from stdnum import luhn

from xiaodai.customers import choices as c
from xiaodai.demo import reference as ref
from xiaodai.demo.rows import (
    ApplicationRow,
    CardRow,
    ConsentRow,
    CreditLineRow,
    CustomerChunk,
    DepositRow,
    LoanRow,
)

CREDIT_WORDING = "征信查询授权书 v2022.1"
DAY = timedelta(days=1)


def money(cents: int) -> Decimal:
    """Yuan with exactly two places, from integer cents (never via float)."""
    return Decimal(cents).scaleb(-2)


def pct(units: int) -> Decimal:
    """A yearly rate in percent with four places, from integer units of 0.0001 %."""
    return Decimal(units).scaleb(-4)


def shift_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February in a common year
        return day.replace(year=day.year + years, day=28)


def add_months(day: date, months: int) -> date:
    year, month0 = divmod(day.year * 12 + day.month - 1 + months, 12)
    return date(year, month0 + 1, min(day.day, calendar.monthrange(year, month0 + 1)[1]))


def at(day: date, r: random.Random) -> datetime:
    """A moment in business hours (09:00-20:00 Asia/Shanghai) on `day`, stored in UTC."""
    return datetime(day.year, day.month, day.day, 1, tzinfo=UTC) + timedelta(seconds=r.randrange(11 * 3600))


def between(r: random.Random, first: date, last: date) -> date:
    if last <= first:
        return first
    return first + timedelta(days=r.randrange((last - first).days + 1))


def round_cents(cents: float, step_yuan: int) -> int:
    step = step_yuan * 100
    return max(step, round(cents / step) * step)


@dataclass(slots=True)
class Profile:
    """The facts about one customer that drive what they hold."""

    seq: int  # 1-based number of the customer in the drop; account numbers derive from it
    customer_no: str
    age: int
    female: bool
    occupation: str
    employer_kind: str
    income: int  # monthly, cents
    payroll: bool
    new_citizen: bool
    opened_on: date
    sub_code: str
    owner_no: str | None
    aum: int = 0
    mortgage_active: bool = False
    mortgage_ever: bool = False
    has_line: bool = False
    overdue: bool = False
    loans: int = 0  # loans numbered so far

    def loan_no(self) -> str:
        self.loans += 1
        return f"LN{self.seq:010d}{self.loans:02d}"


def deposits(r: random.Random, p: Profile, last: date, out: CustomerChunk) -> None:
    """Split the customer's AUM over a demand account and, as it grows, time deposits and wealth products.
    The parts are whole cents that add up exactly, so `customer.aum` equals the sum of the balances."""
    annual = max(p.income * 12, 1_000_000 if p.occupation == "学生" else 2_000_000)
    multiple = (
        0.1 if p.age < 25 else 0.25 if p.age < 35 else 0.5 if p.age < 45 else 0.8 if p.age < 60 else 1.2
    )
    if p.new_citizen:
        multiple *= 0.5
    if p.employer_kind in ("owner", "self"):
        multiple *= 1.5
    if r.random() < 0.06:  # dormant: a near-empty account
        total = r.randrange(200_000)
    else:
        total = min(int(annual * multiple * math.exp(r.gauss(0, 1.1))), 8_000_000_000)
    kinds: list[tuple[str, float]] = [(c.DepositKind.DEMAND, 0.1 + r.random() * 0.4)]
    if total > 3_000_000 and r.random() < (0.75 if p.age >= 55 else 0.45):
        kinds.append((c.DepositKind.TIME, 0.5 + r.random()))
    if total > 10_000_000 and r.random() < (0.55 if p.age >= 45 else 0.35):
        kinds.append((c.DepositKind.WEALTH, 0.5 + r.random()))
    if total > 5_000_000 and p.age < 60 and r.random() < 0.25:
        kinds.append((c.DepositKind.FUND, 0.2 + r.random() * 0.6))
    if total > 8_000_000 and r.random() < 0.15:
        kinds.append((c.DepositKind.INSURANCE, 0.2 + r.random() * 0.5))
    weight_sum = sum(w for _, w in kinds)
    parts = [int(total * w / weight_sum) for _, w in kinds[1:]]
    parts.insert(0, total - sum(parts))  # the demand account takes the rounding remainder
    for k, ((kind, _), cents) in enumerate(zip(kinds, parts, strict=True)):
        opened, matures = p.opened_on, None
        if kind in (c.DepositKind.TIME, c.DepositKind.WEALTH):
            months = r.choice((3, 6, 12, 24, 36, 60) if kind == c.DepositKind.TIME else (3, 6, 12))
            opened = max(p.opened_on, last - timedelta(days=r.randrange(months * 30)))
            matures = add_months(opened, months)
        elif kind != c.DepositKind.DEMAND:
            opened = between(r, p.opened_on, last)
        out.deposits.append(
            DepositRow(p.customer_no, f"6217{p.seq:010d}{k:02d}", kind, money(cents), opened, matures)
        )
    p.aum = total


_TIERS: tuple[tuple[int, str, int, int], ...] = (  # (score below, tier, limit range in thousands of yuan)
    (1_000_000, c.CardTier.STANDARD, 5, 20),
    (2_500_000, c.CardTier.GOLD, 20, 60),
    (6_000_000, c.CardTier.PLATINUM, 60, 150),
    (10**15, c.CardTier.DIAMOND, 150, 500),
)


def card(r: random.Random, p: Profile, last: date, out: CustomerChunk) -> None:
    """A credit card for working-age customers with income or savings; tier and limit follow both."""
    if not 20 <= p.age <= 65 or (p.income < 400_000 and p.aum < 5_000_000):
        return
    if r.random() >= 0.2 + min(0.35, p.income / 6_000_000):
        return
    score = p.income + p.aum // 60
    tier, low, high = next((t, lo, hi) for below, t, lo, hi in _TIERS if score < below)
    limit = r.randint(low, high) * 100_000
    used = 0 if r.random() < 0.2 else int(limit * r.betavariate(1.1, 3.5))
    u = r.random()
    cycles = 0 if u >= 0.027 else r.randint(1, 2) if u < 0.02 else r.randint(3, 6)
    if cycles and used == 0:
        used = limit // 10
    body = f"625965{p.seq:09d}"
    out.cards.append(
        CardRow(
            p.customer_no,
            body + luhn.calc_check_digit(body),
            tier,
            money(limit),
            money(used),
            cycles,
            between(r, p.opened_on, last),
        )
    )


def _price(r: random.Random, product: str, income: int) -> tuple[int, int]:
    """Rate and APR in 0.0001 % units: better incomes get lower rates; some products add a fee, so the
    APR (年化利率, all costs included) is above the rate, never below."""
    low, high = ref.CREDIT_PRODUCTS[product]
    quality = min(1.0, income / 4_000_000)
    rate = low + int((high - low) * r.random() * (1 - 0.6 * quality)) // 500 * 500
    apr = rate if r.random() < 0.65 else rate + r.randint(1, 24) * 500
    return rate, apr


def pick_product(r: random.Random, p: Profile) -> str:
    if p.payroll:
        return "薪享贷"
    if p.employer_kind in ("gov", "edu", "health"):
        return "优职贷"
    if p.mortgage_active:
        return "安居消费贷"
    return "消费快贷" if r.random() < 0.5 else "e享贷"


def credit_consent(r: random.Random, p: Profile, when: date, out: CustomerChunk) -> None:
    """The written credit-report authorisation an application or an approval needs (C-08)."""
    counter = r.random() < 0.35
    out.consents.append(
        ConsentRow(
            p.customer_no,
            c.ConsentPurpose.CREDIT_REPORT,
            "",
            True,
            at(when, r),
            c.ConsentSource.COUNTER if counter else c.ConsentSource.MOBILE_BANK,
            CREDIT_WORDING,
            p.owner_no if counter else None,
            p.sub_code if counter else None,
            None,
        )
    )


def _consumer_loan(
    r: random.Random, p: Profile, product: str, amount: int, balance: int, on: date
) -> LoanRow:
    rate, apr = _price(r, product, p.income)
    matures = add_months(on, r.choice((12, 24, 36)))
    status, days = c.LoanStatus.NORMAL, 0
    if balance == 0:
        status = c.LoanStatus.SETTLED
    elif r.random() < 0.015:
        status, days, p.overdue = c.LoanStatus.OVERDUE, min(360, 1 + int(r.expovariate(1 / 25))), True
    return LoanRow(
        p.customer_no,
        p.loan_no(),
        c.LoanKind.CONSUMER,
        product,
        money(amount),
        money(balance),
        pct(rate),
        pct(apr),
        status,
        days,
        on,
        matures,
    )


def credit_lines(r: random.Random, p: Profile, last: date, out: CustomerChunk) -> None:
    """Consumer credit lines (授信) and what was drawn (用信) on them; many stay undrawn (已授信未用信)."""
    if p.occupation in ("学生", "退休人员") or not 20 <= p.age <= 60 or p.income < 400_000:
        return
    odds = 0.06 + 0.14 * p.payroll + 0.08 * p.mortgage_active + min(0.08, p.income / 20_000_000)
    if p.employer_kind in ("gov", "edu", "health"):
        odds += 0.05
    if r.random() >= odds:
        return
    product = pick_product(r, p)
    cap = 50_000_000 if product in ("薪享贷", "优职贷") else 30_000_000
    limit = min(cap, max(1_000_000, round_cents(p.income * r.uniform(6, 24), 1000)))
    years = r.choice((1, 2, 2, 3))
    approved = max(p.opened_on, last - timedelta(days=r.randrange(5, years * 365 + 180)))
    expires = shift_years(approved, years)
    rate, apr = _price(r, product, p.income)
    drawn, last_drawn = 0, None
    u = r.random()
    if expires <= last:
        status = c.CreditLineStatus.EXPIRED
        if u < 0.4:
            last_drawn = between(r, approved, expires)
    else:
        status = c.CreditLineStatus.ACTIVE
        if 0.45 <= u < 0.53:  # drew once and paid it all back
            last_drawn = between(r, approved, last)
            amount = round_cents(limit * r.uniform(0.1, 0.8), 100)
            out.loans.append(_consumer_loan(r, p, product, amount, 0, last_drawn))
        elif u >= 0.53:
            drawn = limit if r.random() < 0.12 else round_cents(limit * r.uniform(0.05, 1.0), 100)
            drawn = min(drawn, limit)
            last_drawn = between(r, approved, last)
            amount = min(limit, round_cents(drawn * r.uniform(1.0, 1.3), 100))
            out.loans.append(_consumer_loan(r, p, product, amount, drawn, last_drawn))
        if p.overdue or r.random() < 0.015:
            status = c.CreditLineStatus.FROZEN
    p.has_line = True
    credit_consent(r, p, max(p.opened_on, approved - timedelta(days=r.randint(1, 6))), out)
    out.credit_lines.append(
        CreditLineRow(
            p.customer_no,
            f"CL{p.seq:010d}01",
            product,
            money(limit),
            money(drawn),
            approved,
            expires,
            last_drawn,
            pct(rate),
            pct(apr),
            status,
        )
    )


def _overdue(r: random.Random, p: Profile, odds: float, mean_days: int) -> tuple[str, int]:
    if r.random() < odds:
        p.overdue = True
        return c.LoanStatus.OVERDUE, min(360, 1 + int(r.expovariate(1 / mean_days)))
    return c.LoanStatus.NORMAL, 0


def mortgage(r: random.Random, p: Profile, last: date, out: CustomerChunk) -> None:
    """A housing mortgage (按揭), paid down on an equal-instalment schedule; some already settled."""
    if not 27 <= p.age <= 62 or p.income < 700_000:
        return
    odds = (0.10 + min(0.25, p.income / 10_000_000)) * (0.4 if p.new_citizen else 1.0)
    if r.random() >= odds:
        return
    years = r.choice((20, 25, 25, 30, 30, 30))
    earliest = max(p.opened_on, shift_years(last, 24 - p.age), shift_years(last, -20))
    disbursed = between(r, earliest, last - timedelta(days=30))
    amount = min(600_000_000, max(30_000_000, round_cents(p.income * r.uniform(70, 160), 10_000)))
    rate = r.randrange(30_500, 39_500, 500)
    matures = shift_years(disbursed, years)
    months_paid = (last.year - disbursed.year) * 12 + last.month - disbursed.month
    m, n = rate / 1_200_000, years * 12
    remaining = ((1 + m) ** n - (1 + m) ** months_paid) / ((1 + m) ** n - 1)
    balance = int(amount * remaining * r.uniform(0.85, 1.0))
    status: str = c.LoanStatus.NORMAL
    days = 0
    if matures <= last or balance <= 0 or r.random() < 0.08:  # repaid early or run to term
        status, balance = c.LoanStatus.SETTLED, 0
    else:
        status, days = _overdue(r, p, 0.006, 20)
        p.mortgage_active = True
    p.mortgage_ever = True
    out.loans.append(
        LoanRow(
            p.customer_no,
            p.loan_no(),
            c.LoanKind.MORTGAGE,
            ref.MORTGAGE_PRODUCT,
            money(amount),
            money(balance),
            pct(rate),
            pct(rate),
            status,
            days,
            disbursed,
            matures,
        )
    )


def business_loan(r: random.Random, p: Profile, last: date, out: CustomerChunk) -> None:
    """Business loans (经营贷) for shopkeepers and business owners."""
    if p.employer_kind not in ("self", "owner") or r.random() >= (
        0.35 if p.employer_kind == "owner" else 0.25
    ):
        return
    amount = min(500_000_000, max(5_000_000, round_cents(p.income * r.uniform(10, 60), 10_000)))
    years = r.choice((1, 2, 3))
    rate = r.randrange(34_500, 58_000, 500)
    apr = rate + (r.randint(1, 10) * 500 if r.random() < 0.3 else 0)  # a guarantee fee on some
    disbursed = max(p.opened_on, last - timedelta(days=r.randrange(years * 365 + 400)))
    matures = shift_years(disbursed, years)
    status: str = c.LoanStatus.SETTLED
    days = balance = 0
    if matures > last:
        status, days = _overdue(r, p, 0.03, 30)
        balance = amount if r.random() < 0.5 else round_cents(amount * r.uniform(0.5, 1.0), 100)
    out.loans.append(
        LoanRow(
            p.customer_no,
            p.loan_no(),
            c.LoanKind.BUSINESS,
            r.choice(ref.BUSINESS_PRODUCTS),
            money(amount),
            money(balance),
            pct(rate),
            pct(apr),
            status,
            days,
            disbursed,
            matures,
        )
    )


def past_consumer_loan(r: random.Random, p: Profile, last: date, out: CustomerChunk) -> None:
    """A consumer loan repaid in full a while ago: the good-past-borrower pool (过往资信良好)."""
    if p.has_line or p.occupation == "学生" or not 23 <= p.age <= 65 or p.income < 300_000:
        return
    if r.random() >= 0.07:
        return
    months = r.choice((12, 24, 36))
    disbursed = max(p.opened_on, last - timedelta(days=r.randrange(months * 30 + 30, months * 30 + 1500)))
    product = "消费快贷"
    rate, apr = _price(r, product, p.income)
    amount = min(30_000_000, round_cents(p.income * r.uniform(2, 10), 1000))
    out.loans.append(
        LoanRow(
            p.customer_no,
            p.loan_no(),
            c.LoanKind.CONSUMER,
            product,
            money(amount),
            money(0),
            pct(rate),
            pct(apr),
            c.LoanStatus.SETTLED,
            0,
            disbursed,
            min(add_months(disbursed, months), last),
        )
    )


S, St = c.ApplicationStage, c.ApplicationStatus
FLOW: tuple[str, ...] = (S.STARTED, S.IDENTITY, S.INCOME, S.CREDIT_AUTH, S.SUBMITTED, S.APPROVED, S.DISBURSED)

# Every stage and every status of an application, so the unfinished-application pool has all shapes.
# The first customers of a drop get one each; the rest are drawn with these weights.
APPLICATION_SHAPES: tuple[tuple[str, str, int], ...] = (
    (S.STARTED, St.IN_PROGRESS, 4),
    (S.IDENTITY, St.IN_PROGRESS, 3),
    (S.INCOME, St.IN_PROGRESS, 3),
    (S.CREDIT_AUTH, St.IN_PROGRESS, 2),
    (S.SUBMITTED, St.IN_PROGRESS, 4),
    (S.APPROVED, St.IN_PROGRESS, 2),
    (S.STARTED, St.ABANDONED, 14),
    (S.IDENTITY, St.ABANDONED, 10),
    (S.INCOME, St.ABANDONED, 10),
    (S.CREDIT_AUTH, St.ABANDONED, 8),
    (S.APPROVED, St.COMPLETED, 8),
    (S.DISBURSED, St.COMPLETED, 22),
    (S.REJECTED, St.DECLINED, 15),
)
_SHAPE_WEIGHTS = [w for _, _, w in APPLICATION_SHAPES]


def applications(r: random.Random, p: Profile, last: date, out: CustomerChunk, forced: int | None) -> None:
    """Loan applications at every stage; unfinished ones were abandoned at various steps.

    `forced` picks the shape by index (the first customers cover every shape); otherwise a few percent
    of customers applied, more often in the borrowing ages.
    """
    if forced is None:
        if r.random() >= (0.10 if 22 <= p.age <= 55 else 0.03):
            return
        count = 2 if r.random() < 0.05 else 1
    else:
        count = 1
    for k in range(count):
        index = forced if forced is not None else r.choices(range(len(APPLICATION_SHAPES)), _SHAPE_WEIGHTS)[0]
        stage, status, _ = APPLICATION_SHAPES[index]
        _application(r, p, last, out, k, stage, status)


def _application(
    r: random.Random, p: Profile, last: date, out: CustomerChunk, k: int, stage: str, status: str
) -> None:
    recency: dict[str, tuple[int, int]] = {St.IN_PROGRESS: (0, 4), St.ABANDONED: (5, 120)}
    ago = recency.get(status, (3, 365))
    last_step = at(max(p.opened_on, last - timedelta(days=r.randrange(*ago))), r)
    step = FLOW.index(stage) if stage in FLOW else FLOW.index(S.APPROVED)
    # Online steps take minutes; review after submission takes days.
    elapsed = timedelta(minutes=sum(r.randint(2, 30) for _ in range(min(step, 4))))
    if step >= FLOW.index(S.APPROVED):
        elapsed += timedelta(days=r.randint(1, 5), hours=r.randint(0, 6))
    started = last_step - elapsed
    product = pick_product(r, p)
    base = max(p.income, 300_000)
    amount = min(30_000_000, max(500_000, round_cents(base * r.uniform(3, 20), 1000)))
    out.applications.append(
        ApplicationRow(
            p.customer_no, f"AP{p.seq:010d}{k:02d}", product, money(amount), stage, status, started, last_step
        )
    )
    if step > FLOW.index(S.CREDIT_AUTH):  # got past the credit-report authorisation step
        moment = started + (last_step - started) / 3
        out.consents.append(
            ConsentRow(
                p.customer_no,
                c.ConsentPurpose.CREDIT_REPORT,
                "",
                True,
                moment.replace(microsecond=0),
                c.ConsentSource.MOBILE_BANK,
                CREDIT_WORDING,
                None,
                None,
                None,
            )
        )
    day = last_step.date()
    if stage == S.DISBURSED:
        balance = round_cents(amount * r.uniform(0.3, 1.0), 100)
        out.loans.append(_consumer_loan(r, p, product, amount, min(balance, amount), day))
    elif stage == S.APPROVED and status == St.COMPLETED and not p.has_line:
        # Approved and never drawn: exactly the 已授信未用信 customer the short-term plays go after.
        rate, apr = _price(r, product, p.income)
        limit = round_cents(amount * r.uniform(1.0, 1.5), 1000)
        out.credit_lines.append(
            CreditLineRow(
                p.customer_no,
                f"CL{p.seq:010d}02",
                product,
                money(limit),
                money(0),
                day,
                shift_years(day, 1),
                None,
                pct(rate),
                pct(apr),
                c.CreditLineStatus.ACTIVE,
            )
        )
        p.has_line = True
