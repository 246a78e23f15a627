"""A run's error report as CSV: UTF-8 with BOM (Excel then shows Chinese), safe from formula injection."""

from __future__ import annotations

import csv
from collections.abc import Iterator

from django.utils.translation import gettext as _

from xiaodai.core.spreadsheet import safe_cell
from xiaodai.ingest.choices import ERROR_LABELS
from xiaodai.ingest.models import ImportRun, RowError

__all__ = ["report_lines", "safe_cell"]


class _Line:
    def write(self, value: str) -> str:
        return value


def report_lines(run: ImportRun) -> Iterator[str]:
    """The report line by line (streamed: a refused 2 GB file may have many errors). Labels are translated
    now, in the caller's language: a streamed response is iterated after the request's language is reset."""
    header = [_("file"), _("line"), _("field"), _("code"), _("meaning"), _("message"), _("value")]
    labels = {code: str(label) for code, label in ERROR_LABELS.items()}
    return _lines(run, header, labels)


def _lines(run: ImportRun, header: list[str], labels: dict[str, str]) -> Iterator[str]:
    writer = csv.writer(_Line())
    yield "\ufeff" + writer.writerow(header)
    rows = (
        RowError.objects.filter(run=run)
        .order_by("id")
        .values_list("filename", "line", "field", "code", "message", "value")
    )
    for filename, line, field, code, message, value in rows.iterator(chunk_size=2_000):
        cells = (filename, line, field, code, labels.get(code, ""), message, value)
        yield writer.writerow([safe_cell(c) for c in cells])
