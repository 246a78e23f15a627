"""Template filters of the pool pages."""

from __future__ import annotations

from django import template

from xiaodai.pools import reasons, rules
from xiaodai.pools.choices import block_reasons as _block_reasons
from xiaodai.pools.models import PoolMember

register = template.Library()


@register.filter
def pool_reason(member: PoolMember) -> str:
    """Why the customer is in the pool, in the reader's language."""
    return reasons.reason(member)


@register.filter
def block_reasons(bits: int) -> list[str]:
    return _block_reasons(bits or 0)


@register.filter
def chinese_word(pool: rules.PoolDef) -> str:
    """The pool's Chinese word when its (translated) name is something else, to show beside it."""
    return pool.chinese if str(pool.name) != pool.chinese else ""


@register.filter
def chance(probability: float | None) -> str:
    """A probability as a percentage with one decimal: small chances are the norm on a call list."""
    return "—" if probability is None else f"{probability * 100:.1f}%"


@register.filter
def score_reasons(score: object) -> list[str]:
    """The score's reasons, worded in the reader's language (nothing when the customer is unscored)."""
    from xiaodai.scoring.wording import reasons_text

    stored = getattr(score, "reasons", None)
    return reasons_text(stored) if stored else []
