"""Reads about customers: search, consent state, holdings summaries."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q, QuerySet
from django.utils import timezone

from xiaodai.customers.choices import Channel, ConsentPurpose
from xiaodai.customers.models import Consent, Customer, OptOut

MAX_QUERY_LENGTH = 50
_CJK = re.compile(r"[\u3400-\u9fff]")
_LETTERS = re.compile(r"^[a-z]+$")
_DIGITS = re.compile(r"^\d+$")
_MASKED_TAIL = re.compile(r"^(?:\d{3})?\*+(\d{4})$")
_CUSTOMER_NO = re.compile(r"^c\d{1,10}$")


def normalise_query(raw: str) -> str:
    """Fold full-width characters, drop control characters and spaces, cap the length."""
    text = unicodedata.normalize("NFKC", raw or "")
    text = "".join(ch for ch in text if ch.isprintable() and not ch.isspace())
    return text[:MAX_QUERY_LENGTH].lower()


def search(queryset: QuerySet[Customer], raw: str) -> QuerySet[Customer]:
    """Name (张三), pinyin (zhangsan, zs), phone tail (5678, 138****5678), full mobile, customer number.

    An input that fits none of these finds nothing rather than failing.
    """
    q = normalise_query(raw)
    if not q:
        return queryset
    if _CJK.search(q):
        return queryset.filter(name__startswith=q) if len(q) == 1 else queryset.filter(name__contains=q)
    if m := _MASKED_TAIL.match(q):
        prefix = q[:3] if q[0].isdigit() else ""
        tail_q = Q(contact_points__tail=m.group(1))
        if prefix:
            tail_q &= Q(contact_points__value__startswith=prefix)
        return queryset.filter(tail_q).distinct()
    if _DIGITS.match(q):
        if len(q) == 4:
            return queryset.filter(contact_points__tail=q).distinct()
        if len(q) == 11:
            return queryset.filter(contact_points__value=q).distinct()
        return queryset.filter(customer_no__startswith="C" + q) if len(q) >= 6 else queryset.none()
    if _CUSTOMER_NO.match(q):
        return queryset.filter(customer_no__startswith=q.upper())
    if _LETTERS.match(q):
        return queryset.filter(Q(name_pinyin__startswith=q) | Q(name_initials=q))
    return queryset.none()


@dataclass(frozen=True)
class ChannelConsent:
    """The current state of one consent purpose+channel: the latest record wins."""

    purpose: str
    channel: str
    granted: bool
    recorded_at: datetime | None
    expired: bool
    opted_out: bool = False

    @property
    def active(self) -> bool:
        # An opt-out (do-not-contact) overrides any marketing consent on its channel.
        return self.granted and not self.expired and not self.opted_out

    @property
    def channel_label(self) -> str:
        return str(Channel(self.channel).label) if self.channel else ""


def consent_state(customer: Customer) -> list[ChannelConsent]:
    """Marketing consent per channel plus the credit-report authorisation, from the immutable history."""
    now = timezone.now()
    latest: dict[tuple[str, str], Consent] = {}
    for consent in Consent.objects.filter(customer=customer).order_by("recorded_at", "id"):
        latest[(consent.purpose, consent.channel)] = consent
    wanted = [(ConsentPurpose.MARKETING, ch.value) for ch in Channel] + [(ConsentPurpose.CREDIT_REPORT, "")]
    opted_out = set(OptOut.objects.filter(customer=customer).values_list("channel", flat=True))
    states = []
    for purpose, channel in wanted:
        record = latest.get((purpose, channel))
        states.append(
            ChannelConsent(
                purpose=purpose,
                channel=channel,
                granted=bool(record and record.granted),
                recorded_at=record.recorded_at if record else None,
                expired=bool(record and record.expires_at and record.expires_at <= now),
                opted_out=purpose == ConsentPurpose.MARKETING and ("" in opted_out or channel in opted_out),
            )
        )
    return states
