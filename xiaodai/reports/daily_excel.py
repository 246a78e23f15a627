"""The daily report as an Excel workbook in the shape Chinese branches use: one sheet per level (分行 / 支行 /
团队 / 个人), a title row, two header rows with each figure's group (昨日 / 月累计 / 目标 / 完成率) merged
over its columns, a totals row, number formats, behind-pace cells in red, frozen panes, print set-up.

Every text that came from imported data (names of people, teams, sub-branches) goes through the
formula-injection guard; the report is small (one row per person), so a normal workbook is fine."""

from __future__ import annotations

import tempfile
from decimal import Decimal
from typing import IO, Any

from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from xiaodai.core.spreadsheet import safe_cell
from xiaodai.reports.daily import Cell, LevelTable, Report, Row

CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MONEY_FORMAT = "#,##0.00"
COUNT_FORMAT = "0"
PERCENT_FORMAT = "0.0%"
BEHIND_FILL = PatternFill("solid", start_color="FFC7CE", end_color="FFC7CE")  # Excel's "bad" red
HEADER_FILL = PatternFill("solid", start_color="DDEBF7", end_color="DDEBF7")
TOTAL_FILL = PatternFill("solid", start_color="F2F2F2", end_color="F2F2F2")
BOLD = Font(bold=True)
TITLE = Font(bold=True, size=14)
CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)
THIN = Side(style="thin", color="BFBFBF")
GRID = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
LEAD_COLUMNS = 2  # name, and the team or sub-branch it belongs to
PER_FIGURE = 4  # day, month to date, target, completion
HEADER_ROW = 3  # first of the two header rows (row 1: title, row 2: data date)


def sheet_title(label: str) -> str:
    """Excel refuses sheet names over 31 characters or with any of []:*?/\\."""
    cleaned = "".join("_" if ch in "[]:*?/\\" else ch for ch in label)
    return cleaned[:31] or "Sheet"


def write_report(report: Report) -> IO[bytes]:
    """The workbook in a rewound temporary file, ready to stream."""
    book = Workbook()
    book.remove(book.active)  # a fresh workbook comes with a default sheet
    for level in report.levels:
        _sheet(book.create_sheet(sheet_title(level.label)), report, level)
    out = tempfile.TemporaryFile()  # noqa: SIM115 - handed to the response, which closes it
    book.save(out)
    out.seek(0)
    return out


def _text(ws: Worksheet, row: int, col: int, value: Any, font: Font | None = None) -> None:
    cell = ws.cell(row=row, column=col, value=safe_cell(value))
    cell.data_type = "s"  # never a formula, whatever the value starts with
    if font is not None:
        cell.font = font


def _sheet(ws: Worksheet, report: Report, level: LevelTable) -> None:
    figures = report.figures
    last_col = LEAD_COLUMNS + PER_FIGURE * len(figures)
    _title(ws, report, level, last_col)
    _headers(ws, report, last_col)
    r = HEADER_ROW + 2
    for row in level.rows:
        _data_row(ws, r, row, total=False)
        r += 1
    _data_row(ws, r, level.total, total=True)
    ws.freeze_panes = ws.cell(row=HEADER_ROW + 2, column=LEAD_COLUMNS + 1)
    ws.column_dimensions["A"].width = 18
    ws.column_dimensions["B"].width = 14
    for i, (_code, _label, money) in enumerate(figures):
        first = LEAD_COLUMNS + 1 + i * PER_FIGURE
        widths = (14, 14, 14, 9) if money else (8, 9, 9, 9)
        for offset, width in enumerate(widths):
            ws.column_dimensions[get_column_letter(first + offset)].width = width
    # The morning meeting prints it: landscape, every column on one page wide, headers on every page.
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW + 1}"


def _title(ws: Worksheet, report: Report, level: LevelTable, last_col: int) -> None:
    title = _("%(branch)s daily report, %(day)s · %(level)s") % {
        "branch": report.branch_name,
        "day": report.day.isoformat(),
        "level": level.label,
    }
    _text(ws, 1, 1, title, TITLE)
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=last_col)
    as_of = report.as_of.isoformat() if report.as_of else "—"
    note = _(
        "Month to date from %(start)s · %(elapsed)s%% of the month's working days gone · bank data as of "
        "%(as_of)s · exported %(at)s"
    ) % {
        "start": report.month_start.isoformat(),
        "elapsed": report.elapsed_pct,
        "as_of": as_of,
        "at": timezone.localtime().strftime("%Y-%m-%d %H:%M"),
    }
    _text(ws, 2, 1, note)
    ws.merge_cells(start_row=2, start_column=1, end_row=2, end_column=last_col)


def _headers(ws: Worksheet, report: Report, last_col: int) -> None:
    top, sub = HEADER_ROW, HEADER_ROW + 1
    for col, label in ((1, _("Name")), (2, _("Belongs to"))):
        _text(ws, top, col, label, BOLD)
        ws.merge_cells(start_row=top, start_column=col, end_row=sub, end_column=col)
    day_label = _("Yesterday") if report.is_yesterday else _("On the day")
    parts = (day_label, _("Month to date"), _("Target"), _("Completion"))
    for i, (_code, label, _money) in enumerate(report.figures):
        first = LEAD_COLUMNS + 1 + i * PER_FIGURE
        _text(ws, top, first, label, BOLD)
        ws.merge_cells(start_row=top, start_column=first, end_row=top, end_column=first + PER_FIGURE - 1)
        for offset, part in enumerate(parts):
            _text(ws, sub, first + offset, part, BOLD)
    for row in (top, sub):
        for col in range(1, last_col + 1):
            cell = ws.cell(row=row, column=col)
            cell.alignment = CENTER
            cell.fill = HEADER_FILL
            cell.border = GRID


def _data_row(ws: Worksheet, r: int, row: Row, *, total: bool) -> None:
    font = BOLD if total else None
    _text(ws, r, 1, row.name, font)
    _text(ws, r, 2, row.note, font)
    for i, cell in enumerate(row.cells):
        first = LEAD_COLUMNS + 1 + i * PER_FIGURE
        _figure(ws, r, first, cell, font)
    for col in range(1, LEAD_COLUMNS + PER_FIGURE * len(row.cells) + 1):
        target = ws.cell(row=r, column=col)
        target.border = GRID
        if total and target.fill != BEHIND_FILL:
            target.fill = TOTAL_FILL


def _figure(ws: Worksheet, r: int, first: int, cell: Cell, font: Font | None) -> None:
    number = MONEY_FORMAT if cell.money else COUNT_FORMAT
    for offset, value in enumerate((cell.day, cell.mtd, cell.target)):
        target = ws.cell(row=r, column=first + offset, value=value)
        if value is None:
            target.value = "—"
            target.alignment = Alignment(horizontal="right")
        else:
            target.number_format = number
        if font is not None:
            target.font = font
    if cell.period is not None:
        start, end = cell.period
        note = _("Target for %(start)s to %(end)s") % {"start": start.isoformat(), "end": end.isoformat()}
        ws.cell(row=r, column=first + 2).comment = Comment(note, "xiaodai")
    done = ws.cell(row=r, column=first + 3)
    if cell.done_pct is not None:
        done.value = cell.done_pct / Decimal(100)
        done.number_format = PERCENT_FORMAT
    if font is not None:
        done.font = font
    if cell.behind:
        # Behind the pace the time elapsed asks for: the month-to-date and completion cells in red.
        for offset in (1, 3):
            ws.cell(row=r, column=first + offset).fill = BEHIND_FILL
