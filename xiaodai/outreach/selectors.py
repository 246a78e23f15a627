"""Reads of the workbench: today's call list and the call screen's customer card."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Count, Exists, F, IntegerField, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from xiaodai.allocation import choices as ac
from xiaodai.allocation.models import Assignment
from xiaodai.core.access import actor_of
from xiaodai.core.roles import Domain, Level
from xiaodai.customers.choices import ConsentPurpose
from xiaodai.customers.models import Consent, Customer, OptOut
from xiaodai.org.models import Staff
from xiaodai.outreach import choices as c
from xiaodai.outreach import rules
from xiaodai.outreach.models import ContactPolicy, FollowUp, Outcome, ScriptVersion
from xiaodai.pools import rules as pool_rules
from xiaodai.pools.models import PoolMember
from xiaodai.pools.reasons import reason as pool_reason
from xiaodai.scoring.models import CustomerScore
from xiaodai.scoring.wording import reasons_text
from xiaodai.signals import wording
from xiaodai.signals.choices import script_scenario
from xiaodai.signals.models import Signal

CONTACTS_SHOWN = 10


@dataclass(frozen=True)
class ListRow:
    customer: Customer
    due_on: dt.date | None  # a follow-up due today or overdue
    pool: str
    reason: str
    expected_value: Decimal | None
    probability: float | None
    last_contact_at: dt.datetime | None

    @property
    def pool_name(self) -> str:
        pool = pool_rules.BY_CODE.get(self.pool)
        return str(pool.name) if pool else ""


@dataclass
class CallList:
    channel: str
    capacity: int
    made_today: int
    total: int  # eligible customers on the list today, beyond what fits the workload
    rows: list[ListRow] = field(default_factory=list)
    in_window: bool = True

    @property
    def remaining(self) -> int:
        return max(self.capacity - self.made_today, 0)

    @property
    def progress(self) -> int:
        return min(100, round(100 * self.made_today / self.capacity)) if self.capacity else 0


def _day_bounds(now: dt.datetime) -> tuple[dt.date, dt.datetime, dt.datetime]:
    local = now.astimezone(rules.local_zone())
    start = dt.datetime.combine(local.date(), dt.time(0), tzinfo=rules.local_zone())
    return local.date(), start, start + dt.timedelta(days=1)


def _count(qs: QuerySet[Outcome]) -> Any:
    """A correlated count of outcomes per customer (0 when there are none)."""
    counted = qs.filter(customer=OuterRef("pk")).values("customer").annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def open_follow_ups(staff: Staff) -> QuerySet[FollowUp]:
    """The person's open follow-ups of customers they may still open: one whose claim lapsed or was handed
    on is no longer theirs to call (the scope of customers, applied to the follow-ups' few rows)."""
    actor = actor_of(staff.user)
    mine = FollowUp.objects.filter(staff=staff, status=c.FollowUpStatus.OPEN)
    level = actor.level(Domain.CUSTOMER)
    if level == Level.BRANCH:
        return mine.filter(customer__branch_id=staff.branch_id)
    if level == Level.TEAM and staff.team_id is not None:
        return mine.filter(
            Q(customer__owner__team_id=staff.team_id) | Q(customer__worker__team_id=staff.team_id)
        )
    return mine.filter(Q(customer__owner_id=staff.pk) | Q(customer__worker_id=staff.pk))


def eligible(staff: Staff, channel: str, now: dt.datetime, policy: ContactPolicy) -> QuerySet[Customer]:
    """The person's workable customers for a channel today, best first: due follow-ups, then expected value.

    The contact rules of rules.check applied set-based: assigned to them (not held back as control) or a
    follow-up of theirs is due; not vulnerable; no opt-out; the latest marketing consent for the channel
    granted and unexpired (C-01); no refusal in the freeze period (C-03); under the frequency caps across all
    staff (C-05); not yet contacted by them today on this channel.
    """
    today, start, end = _day_bounds(now)
    assigned = Assignment.objects.filter(staff=staff, status=ac.Status.ACTIVE, control=False)
    due = open_follow_ups(staff).filter(due_on__lte=today, channel=channel)
    latest = Consent.objects.filter(
        customer=OuterRef("pk"), purpose=ConsentPurpose.MARKETING, channel=channel
    ).order_by("-recorded_at", "-id")
    effective = rules.effective(Outcome.objects.filter(channel=channel))
    per_day, per_30d = policy.caps(channel)
    freeze_since = now - dt.timedelta(days=policy.refusal_freeze_days)
    return (
        Customer.objects.filter(branch_id=staff.branch_id, is_vulnerable=False)
        # One IN over a UNION, not an OR of two INs: neither SQLite nor PostgreSQL can drive a query from an
        # OR of subqueries, and would test every customer of the branch against both lists.
        .filter(pk__in=assigned.order_by().values("customer_id").union(due.order_by().values("customer_id")))
        .exclude(Exists(OptOut.objects.filter(customer=OuterRef("pk"), channel__in=["", channel])))
        .exclude(
            Exists(
                rules.effective(Outcome.objects.all()).filter(
                    customer=OuterRef("pk"), outcome__in=c.STOPS, occurred_at__gt=freeze_since
                )
            )
        )
        .exclude(
            Exists(
                Outcome.objects.filter(
                    customer=OuterRef("pk"),
                    staff=staff,
                    channel=channel,
                    occurred_at__gte=start,
                    occurred_at__lt=end,
                )
            )
        )
        .annotate(
            consent_granted=Subquery(latest.values("granted")[:1]),
            consent_expires=Subquery(latest.values("expires_at")[:1]),
            contacts_today=_count(effective.filter(occurred_at__gte=start, occurred_at__lt=end)),
            contacts_30d=_count(effective.filter(occurred_at__gt=now - dt.timedelta(days=30))),
            due_on=Subquery(due.filter(customer=OuterRef("pk")).order_by("due_on").values("due_on")[:1]),
            ev=F("score__expected_value"),
            probability=F("score__probability"),
            last_contact_at=Subquery(
                Outcome.objects.filter(customer=OuterRef("pk"))
                .order_by("-occurred_at")
                .values("occurred_at")[:1]
            ),
        )
        .filter(consent_granted=True)
        .filter(Q(consent_expires__isnull=True) | Q(consent_expires__gt=now))
        .filter(contacts_today__lt=per_day, contacts_30d__lt=per_30d)
        .order_by(F("due_on").asc(nulls_last=True), F("ev").desc(nulls_last=True), "pk")
    )


def made_today(staff: Staff, channel: str, now: dt.datetime) -> int:
    _today, start, end = _day_bounds(now)
    return (
        rules.effective(Outcome.objects.filter(staff=staff, channel=channel))
        .filter(occurred_at__gte=start, occurred_at__lt=end)
        .count()
    )


def call_list(
    staff: Staff, channel: str, now: dt.datetime, *, more: bool = False, policy: ContactPolicy | None = None
) -> CallList:
    """Today's list, sized to what is left of the person's daily workload (all of it when `more`)."""
    policy = policy or rules.policy_for(staff.branch_id)
    qs = eligible(staff, channel, now, policy)
    result = CallList(
        channel=channel,
        capacity=staff.daily_capacity,
        made_today=made_today(staff, channel, now),
        total=qs.count(),
        in_window=rules.in_window(policy, now),
    )
    size = result.total if more else result.remaining
    customers = list(qs.select_related("sub_branch")[:size])
    members = {
        m.customer_id: m
        for m in PoolMember.objects.filter(customer_id__in=[x.pk for x in customers], is_primary=True)
    }
    for customer in customers:
        member = members.get(customer.pk)
        result.rows.append(
            ListRow(
                customer=customer,
                due_on=customer.due_on,  # type: ignore[attr-defined]
                pool=member.pool if member else "",
                reason=pool_reason(member) if member else "",
                expected_value=customer.ev,  # type: ignore[attr-defined]
                probability=customer.probability,  # type: ignore[attr-defined]
                last_contact_at=customer.last_contact_at,  # type: ignore[attr-defined]
            )
        )
    return result


def next_customer(staff: Staff, channel: str, now: dt.datetime, *, after: int | None = None) -> int | None:
    """The id of the first customer on the person's list (skipping `after`), or None when it is done."""
    qs = eligible(staff, channel, now, rules.policy_for(staff.branch_id))
    if after is not None:
        qs = qs.exclude(pk=after)
    return qs.values_list("pk", flat=True).first()


@dataclass(frozen=True)
class Holdings:
    credit_limit: Decimal
    credit_drawn: Decimal
    credit_lines: int
    consumer_balance: Decimal
    mortgage_balance: Decimal
    loans: int
    cards: int
    card_limit: Decimal
    aum: Decimal


@dataclass
class Card:
    """Everything the call screen shows about one customer."""

    customer: Customer
    channel: str
    memberships: list[tuple[PoolMember, str]]
    score: CustomerScore | None
    score_reasons: list[str]
    holdings: Holdings
    contacts: list[Outcome]
    follow_ups: list[FollowUp]
    script: ScriptVersion | None
    problems: list[rules.Problem]
    assignment: Assignment | None
    # Capital-flow signals (newest first): the signal, its evidence in a sentence, the suggested action.
    signals: list[tuple[Signal, str, str]] = field(default_factory=list)

    @property
    def primary_pool(self) -> str:
        return next((m.pool for m, _r in self.memberships if m.is_primary), "")

    @property
    def scenario_from_signal(self) -> bool:
        return bool(self.scenario) and not any(
            m.pool == "scenario_channel" and m.detail for m, _r in self.memberships
        )

    @property
    def scenario(self) -> str:
        """The scenario a channel named the customer for, else the one their money shows (the newest signal
        with a script scenario: a scenario payment, a provident-fund withdrawal)."""
        named = next(
            (m.detail for m, _r in self.memberships if m.pool == "scenario_channel" and m.detail), ""
        )
        return named or next(
            (s for s in (script_scenario(sig.kind, sig.detail) for sig, _r, _a in self.signals) if s), ""
        )


def holdings(customer: Customer) -> Holdings:
    lines = customer.credit_lines.filter(status="active").aggregate(
        n=Count("pk"), limit=Sum("limit"), drawn=Sum("drawn")
    )
    loans = customer.loans.exclude(status="settled").aggregate(
        n=Count("pk"),
        consumer=Sum("balance", filter=Q(kind="consumer")),
        mortgage=Sum("balance", filter=Q(kind="mortgage")),
    )
    cards = customer.cards.aggregate(n=Count("pk"), limit=Sum("limit"))
    zero = Decimal("0")
    return Holdings(
        credit_limit=lines["limit"] or zero,
        credit_drawn=lines["drawn"] or zero,
        credit_lines=lines["n"],
        consumer_balance=loans["consumer"] or zero,
        mortgage_balance=loans["mortgage"] or zero,
        loans=loans["n"],
        cards=cards["n"],
        card_limit=cards["limit"] or zero,
        aum=customer.aum,
    )


def card(customer: Customer, channel: str, now: dt.datetime) -> Card:
    from xiaodai.outreach.scripts import approved_script_for  # the script library (scripts.py)

    members = list(PoolMember.objects.filter(customer=customer).order_by("-is_primary", "pool"))
    score = CustomerScore.objects.filter(customer=customer).first()
    built = Card(
        customer=customer,
        channel=channel,
        memberships=[(m, pool_reason(m)) for m in members],
        score=score,
        score_reasons=reasons_text(score.reasons) if score else [],
        holdings=holdings(customer),
        contacts=list(
            customer.outcomes.select_related("staff", "corrects").order_by("-occurred_at", "-id")[
                :CONTACTS_SHOWN
            ]
        ),
        follow_ups=list(customer.follow_ups.filter(status=c.FollowUpStatus.OPEN).select_related("staff")),
        script=None,
        problems=rules.check(customer, channel, now),
        assignment=customer.assignments.filter(status=ac.Status.ACTIVE).select_related("staff").first(),
        signals=[
            (sig, wording.reason(sig), wording.action(sig))
            for sig in customer.signals.order_by("-last_on", "-amount")
        ],
    )
    built.script = approved_script_for(
        customer.branch_id,
        pool=built.primary_pool or None,
        scenario=built.scenario or None,
        scenario_first=built.scenario_from_signal,
    )
    return built
