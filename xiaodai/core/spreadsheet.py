"""Cells for files people open in a spreadsheet (CSV reports, Excel exports): text that can never run as a
formula (CSV/formula injection, OWASP), shared by every export."""

from __future__ import annotations

from typing import Any

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> str:
    """Text that a spreadsheet will show as text: a leading formula character gets an apostrophe."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text
