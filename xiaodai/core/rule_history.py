"""What each saved version of a versioned rule changed (the pool rules', the signal rules' history tables):
one place for the comparison, whatever the rule."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import pgettext


@dataclass(frozen=True)
class Change:
    label: str
    before: str
    after: str


@dataclass(frozen=True)
class VersionRow:
    version: Any  # a PoolRuleVersion or a SignalRuleVersion
    changes: list[Change]


def listed(value: Any) -> list[str]:
    """A stored value as a list of strings (a number is a list of one)."""
    return [str(v) for v in value] if isinstance(value, list | tuple) else [str(value)]


def param_change(label: str, before: Any, after: Any) -> Change | None:
    """One parameter's change, or None; a list shows the entries removed and added."""
    if before == after:
        return None
    if isinstance(before, list | tuple) or isinstance(after, list | tuple):
        old, new = listed(before), listed(after)
        removed = [v for v in old if v not in new]
        added = [v for v in new if v not in old]
        if not removed and not added:  # the same entries in another order
            return Change(label, "", _("reordered"))
        return Change(label, ", ".join(removed), ", ".join(added))
    return Change(label, str(before), str(after))


def active_change(old: Any, new: Any) -> Change | None:
    if old.is_active == new.is_active:
        return None
    on, off = pgettext("rule", "active"), _("switched off")
    return Change(pgettext("rule", "Active"), on if old.is_active else off, on if new.is_active else off)


def params_changes(names: Sequence[str], label: Callable[[str], str], old: Any, new: Any) -> list[Change]:
    found = (param_change(label(n), old.params.get(n, "—"), new.params.get(n, "—")) for n in names)
    return [c for c in found if c is not None]


def history(versions: Sequence[Any], changes: Callable[[Any, Any], list[Change]]) -> list[VersionRow]:
    """Every version (in version order), newest first, each with what it changed from the one before."""
    rows = [VersionRow(v, changes(versions[i - 1], v) if i else []) for i, v in enumerate(versions)]
    return rows[::-1]
