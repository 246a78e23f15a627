from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django import template
from django.utils import timezone

from xiaodai.core import masking
from xiaodai.core.formatting import to_money, wan
from xiaodai.core.roles import Role

register = template.Library()


@register.filter
def yuan(value: Decimal | None) -> str:
    return f"{to_money(value):,}"


@register.filter(name="wan")
def wan_filter(value: Decimal | None) -> str:
    return wan(value)


@register.filter
def mask(value: str | None, kind: str) -> str:
    return masking.MASKERS[kind](value)


@register.filter
def age(birth: date | None) -> str:
    if birth is None:
        return "—"
    today = timezone.localdate()
    return str(today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day)))


@register.filter
def pct(value: Decimal | float | None) -> str:
    if value is None:
        return "—"
    return f"{Decimal(str(value)).quantize(Decimal('0.01'))}%"


@register.filter
def num(value: int | None) -> str:
    """Counts with comma grouping whatever the locale (zh-hans formats group nothing)."""
    return "—" if value is None else f"{int(value):,}"


@register.filter
def grouped(value: str | None) -> str:
    """A figure kept as text (a control total) with comma grouping and its own decimals; "—" for none."""
    try:
        return f"{Decimal(str(value)):,}" if value not in (None, "") else "—"
    except InvalidOperation:
        return str(value)


@register.filter
def amount(value: Decimal | int | None, money: bool) -> str:
    """A figure's value: yuan for money, a grouped count otherwise, "—" for none (`{{ v|amount:money }}`)."""
    if value is None:
        return "—"
    return yuan(value) if money else num(value)  # type: ignore[arg-type]


@register.filter
def role_label(value: str | None) -> str:
    """An audit event keeps the role code it happened under; show its name in the reader's language."""
    if value in Role.values:
        return str(Role(value).label)
    return value or "—"


@register.simple_tag(takes_context=True)
def querystring_with(context: dict[str, Any], **kwargs: Any) -> str:
    """The current query string with some keys replaced (for sort links and pagination)."""
    params = context["request"].GET.copy()
    for key, value in kwargs.items():
        if value in (None, ""):
            params.pop(key, None)
        else:
            params[key] = value
    return "?" + params.urlencode()
