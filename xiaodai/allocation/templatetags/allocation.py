"""Template filters of the claim and allocation pages."""

from __future__ import annotations

from django import template

from xiaodai.allocation import choices as c
from xiaodai.pools import rules as r

register = template.Library()

_KIND_BADGE: dict[str, str] = {
    c.Kind.CLAIM: "bg-blue-lt",
    c.Kind.ALLOCATION: "bg-purple-lt",
    c.Kind.HANDOFF: "bg-orange-lt",
}


@register.filter
def pool_name(code: str | None) -> str:
    """A pool's name in the reader's language ("—" for none)."""
    pool = r.BY_CODE.get(code or "")
    return str(pool.name) if pool else (code or "—")


@register.filter
def kind_badge(kind: str) -> str:
    return _KIND_BADGE.get(kind, "bg-secondary-lt")


@register.filter
def pct_share(share: object) -> str:
    """A share (0.05) as a percentage (5%)."""
    try:
        value = float(str(share))
    except ValueError:
        return "—"
    return f"{value * 100:g}%"
