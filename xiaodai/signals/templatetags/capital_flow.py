"""Template filters of the capital-flow pages."""

from __future__ import annotations

from django import template

from xiaodai.signals import wording
from xiaodai.signals.models import Signal

register = template.Library()


@register.filter
def signal_reason(signal: Signal) -> str:
    """The evidence of a signal in one sentence, in the reader's language."""
    return wording.reason(signal)


@register.filter
def signal_action(signal: Signal) -> str:
    return wording.action(signal)


@register.filter
def signal_detail(signal: Signal) -> str:
    """The scenario or kind of salary change of a signal ("" when its kind has none)."""
    return wording.detail_label(signal.kind, signal.detail)


@register.filter
def kind_label(kind: str) -> str:
    return wording.kind_label(kind)


@register.filter
def percent(value: float | None) -> str:
    """A rate already in percent, one decimal; a dash when there is none."""
    return "—" if value is None else f"{value:.1f}%"


@register.filter
def times(value: float | None) -> str:
    """A lift as a multiple: 2.3×."""
    return "—" if value is None else f"{value:.1f}×"
