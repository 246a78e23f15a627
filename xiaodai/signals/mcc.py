"""Merchant category codes (ISO 18245, through the `iso18245` package): which codes exist, their names, and
the parsing of an admin's MCC list ("5211, 5712-5719")."""

from __future__ import annotations

import re
from functools import cache

import iso18245
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from xiaodai.pools.exceptions import RuleError

_ITEM = re.compile(r"(\d{4})(?:\s*-\s*(\d{4}))?")


@cache
def known_codes() -> frozenset[str]:
    """Every code the standard (and the card schemes' private ranges it lists) assigns."""
    return frozenset(m.mcc for m in iso18245.get_all_mccs())


def _lookup(code: str) -> iso18245.MCC | None:
    try:
        return iso18245.get_mcc(code)
    except (iso18245.MCCNotFound, iso18245.InvalidMCC):
        return None


def describe(code: str) -> str:
    """The merchant kind of a code in words ("Lumber and building materials outlets"), or "" if unknown."""
    found = _lookup(code)
    return (found.iso_description or found.usda_description or found.range.description) if found else ""


# The card schemes' private ranges name a brand ("UNITED AIRLINES"): the kind is said before it.
_BRANDS = (
    ("3000", "3299", _("Airline")),
    ("3351", "3441", _("Car rental")),
    ("3501", "3999", _("Hotel")),
)


def label(code: str) -> str:
    """The code's name in the reader's language where the catalogue has it (mcc_names), else the standard's
    English; "" if unknown."""
    for start, end, kind in _BRANDS:
        if start <= code <= end:
            found = _lookup(code)
            if found is None:
                return ""
            brand = found.iso_description or found.usda_description  # else only the range's "private use"
            return f"{kind} · {brand}" if brand else str(kind)
    name = describe(code)
    return gettext(name) if name else ""


def expand(items: list[str], field: str) -> list[str]:
    """An admin's list of codes and ranges as the sorted known codes it covers; RuleError names a code or
    range that is malformed, backwards, or covers no known code."""
    known = known_codes()
    out: set[str] = set()
    for item in items:
        match = _ITEM.fullmatch(item.strip())
        if not match:
            raise RuleError(
                field, _("%(item)s is not a 4-digit code or a range like 5712-5719") % {"item": item}
            )
        start, end = match.group(1), match.group(2) or match.group(1)
        if end < start:
            raise RuleError(field, _("the range %(item)s runs backwards") % {"item": item})
        covered = {code for code in known if start <= code <= end}
        if not covered:
            raise RuleError(
                field, _("%(item)s is not a merchant category code in ISO 18245") % {"item": item}
            )
        out |= covered
    return sorted(out)
