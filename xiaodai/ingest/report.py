"""A run's error report as CSV: UTF-8 with BOM (Excel then shows Chinese), safe from formula injection."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from typing import Any

from xiaodai.ingest.models import ImportRun, RowError

HEADER = ["file", "line", "field", "code", "message", "value"]
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> str:
    """Text that a spreadsheet will show as text: a leading formula character gets an apostrophe."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


class _Line:
    def write(self, value: str) -> str:
        return value


def report_lines(run: ImportRun) -> Iterator[str]:
    writer = csv.writer(_Line())
    yield "\ufeff" + writer.writerow(HEADER)
    rows = (
        RowError.objects.filter(run=run)
        .order_by("id")
        .values_list("filename", "line", "field", "code", "message", "value")
    )
    for row in rows.iterator(chunk_size=2_000):
        yield writer.writerow([safe_cell(cell) for cell in row])
