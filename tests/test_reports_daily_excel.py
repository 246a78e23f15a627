"""The daily report as Excel: a sheet per level, title and merged group headers, the values, a totals row,
number formats, red behind-pace cells, the formula-injection guard on imported names, and the audit row."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator
from decimal import Decimal

import pytest
from django.http import FileResponse
from openpyxl import Workbook, load_workbook
from openpyxl.worksheet.worksheet import Worksheet

from tests import factories as f
from tests.conftest import Cast
from tests.outreach_data import frozen
from tests.plans_data import loan, outcome, refresh
from tests.test_reports_daily import DAY, make_target
from xiaodai.audit.choices import Action
from xiaodai.audit.models import AuditEvent
from xiaodai.plans.choices import Figure, ScopeKind
from xiaodai.plans.figures import FIGURES
from xiaodai.reports.daily_excel import HEADER_ROW, LEAD_COLUMNS, PER_FIGURE, sheet_title

URL = "/performance/daily.xlsx"
FIGURE_ORDER = list(FIGURES)
FIRST_DATA_ROW = HEADER_ROW + 2


@pytest.fixture(autouse=True)
def _today() -> Iterator[None]:
    with frozen():
        yield


def _book(cast: Cast, name: str = "head", day: str = "2026-11-27") -> Workbook:
    response = cast.client(name).get(URL, {"day": day})
    assert isinstance(response, FileResponse)
    assert response.status_code == 200
    return load_workbook(io.BytesIO(b"".join(response.streaming_content)))


def _col(figure: str, part: int) -> int:
    """Column of a figure's part: 0 day, 1 month to date, 2 target, 3 completion."""
    return LEAD_COLUMNS + 1 + FIGURE_ORDER.index(figure) * PER_FIGURE + part


def _row_of(ws: Worksheet, name: str) -> int:
    for r in range(FIRST_DATA_ROW, ws.max_row + 1):
        if ws.cell(row=r, column=1).value == name:
            return r
    raise AssertionError(name)


def test_the_export_is_an_xlsx_attachment_named_by_its_day(cast: Cast) -> None:
    response = cast.client("head").get(URL, {"day": "2026-11-27"})
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert response["Content-Disposition"] == 'attachment; filename="daily-report-20261127.xlsx"'


def test_one_sheet_per_level_with_translated_names(cast: Cast) -> None:
    titles = _book(cast).sheetnames
    assert titles == [sheet_title(str(s.label)) for s in ScopeKind]
    assert all(len(t) <= 31 for t in titles)
    assert _book(cast, "lead").sheetnames == [str(ScopeKind.TEAM.label), str(ScopeKind.STAFF.label)]
    assert _book(cast, "tele").sheetnames == [str(ScopeKind.STAFF.label)]


def test_sheet_titles_are_cut_and_cleaned() -> None:
    assert sheet_title("a/b:c" + "x" * 40) == ("a_b_c" + "x" * 40)[:31]


def test_title_rows_name_the_branch_and_the_day(cast: Cast) -> None:
    refresh(cast.branch.pk)
    ws = _book(cast).worksheets[0]
    assert cast.branch.name in ws["A1"].value
    assert "2026-11-27" in ws["A1"].value
    assert "2026-11-30" in ws["A2"].value  # the bank data date of the refresh
    assert "A1:" in " ".join(str(m) for m in ws.merged_cells.ranges)


def test_each_figure_has_a_merged_group_header_over_four_columns(cast: Cast) -> None:
    ws = _book(cast).worksheets[3]
    merged = {str(m) for m in ws.merged_cells.ranges}
    first = _col(Figure.CALLS, 0)
    cell = ws.cell(row=HEADER_ROW, column=first)
    assert cell.value == FIGURES[Figure.CALLS].label
    assert f"{cell.coordinate}:{ws.cell(row=HEADER_ROW, column=first + 3).coordinate}" in merged
    parts = [ws.cell(row=HEADER_ROW + 1, column=first + i).value for i in range(4)]
    assert all(parts)
    assert len(set(parts)) == 4
    assert "A3:A4" in merged


def test_values_totals_and_number_formats(cast: Cast) -> None:
    tele, mgr = cast.staff["tele"], cast.staff["mgr"]
    outcome(tele, cast.customers["team"], "no_answer", DAY)
    outcome(tele, cast.customers["team"], "no_answer", dt.date(2026, 11, 2))
    loan(f.CustomerFactory(sub_branch=cast.sub, owner=mgr), DAY, "80000")
    make_target(cast, ScopeKind.STAFF, Figure.CALLS, "4", staff=tele, team=cast.t1)
    refresh(cast.branch.pk)
    ws = _book(cast).worksheets[3]
    r = _row_of(ws, tele.name)
    assert ws.cell(row=r, column=_col(Figure.CALLS, 0)).value == 1
    assert ws.cell(row=r, column=_col(Figure.CALLS, 1)).value == 2
    assert ws.cell(row=r, column=_col(Figure.CALLS, 1)).number_format == "0"
    done = ws.cell(row=r, column=_col(Figure.CALLS, 3))
    assert (done.value, done.number_format) == (pytest.approx(0.5), "0.0%")
    money = ws.cell(row=_row_of(ws, mgr.name), column=_col(Figure.DISBURSED_AMOUNT, 1))
    assert (money.value, money.number_format) == (80000, "#,##0.00")
    total = ws.max_row
    assert ws.cell(row=total, column=_col(Figure.CALLS, 1)).value == 2
    assert ws.cell(row=total, column=_col(Figure.DISBURSED_AMOUNT, 1)).value == 80000
    assert ws.cell(row=total, column=1).font.bold


def test_behind_pace_cells_are_red(cast: Cast) -> None:
    tele = cast.staff["tele"]
    outcome(tele, cast.customers["team"], "no_answer", DAY)
    make_target(cast, ScopeKind.STAFF, Figure.CALLS, "10", staff=tele, team=cast.t1)
    make_target(cast, ScopeKind.STAFF, Figure.VISITS, "0", staff=tele, team=cast.t1)
    refresh(cast.branch.pk)
    ws = _book(cast, "tele").worksheets[0]
    r = _row_of(ws, tele.name)
    assert ws.cell(row=r, column=_col(Figure.CALLS, 3)).fill.fgColor.rgb.endswith("FFC7CE")
    assert not ws.cell(row=r, column=_col(Figure.REACHED, 3)).fill.fgColor.rgb.endswith("FFC7CE")


def test_balance_growth_without_an_earlier_stock_is_a_dash(cast: Cast) -> None:
    refresh(cast.branch.pk)
    ws = _book(cast).worksheets[0]
    assert ws.cell(row=ws.max_row, column=_col(Figure.BALANCE_GROWTH, 1)).value == "—"


def test_a_quarters_target_carries_a_note(cast: Cast) -> None:
    tele = cast.staff["tele"]
    quarter = (dt.date(2026, 10, 1), dt.date(2026, 12, 31))
    make_target(cast, ScopeKind.STAFF, Figure.CALLS, "30", quarter, staff=tele, team=cast.t1)
    ws = _book(cast, "tele").worksheets[0]
    target = ws.cell(row=_row_of(ws, tele.name), column=_col(Figure.CALLS, 2))
    assert target.value == 30
    assert "2026-10-01" in target.comment.text
    assert "2026-12-31" in target.comment.text


def test_imported_names_cannot_run_as_formulas(cast: Cast) -> None:
    evil = '=HYPERLINK("http://evil.example","x")'
    tele = cast.staff["tele"]
    tele.name = evil
    tele.save()
    cast.t1.name = "+cmd|' /C calc'!A0"
    cast.t1.save()
    ws = _book(cast).worksheets[3]
    cell = ws.cell(row=_row_of(ws, "'" + evil), column=1)
    assert cell.data_type == "s"
    team_cell = ws.cell(row=cell.row, column=2)
    assert team_cell.value == "'+cmd|' /C calc'!A0"
    assert team_cell.data_type == "s"


def test_panes_widths_and_print_setup(cast: Cast) -> None:
    ws = _book(cast).worksheets[3]
    assert ws.freeze_panes == "C5"
    assert ws.column_dimensions["A"].width >= 12
    assert ws.page_setup.orientation == "landscape"
    assert ws.page_setup.fitToWidth == 1
    assert ws.sheet_properties.pageSetUpPr.fitToPage


def test_the_export_is_audited_with_the_day(cast: Cast) -> None:
    _book(cast)
    event = AuditEvent.objects.get(action=Action.EXPORT)
    assert event.detail["report"] == "daily"
    assert event.detail["day"] == "2026-11-27"
    assert event.user_id == cast.user("head").pk


def test_a_bad_day_exports_yesterday(cast: Cast) -> None:
    response = cast.client("head").get(URL, {"day": "2026-12-25"})
    assert response["Content-Disposition"] == 'attachment; filename="daily-report-20261129.xlsx"'


def test_money_is_exported_as_exact_numbers(cast: Cast) -> None:
    loan(f.CustomerFactory(sub_branch=cast.sub, owner=cast.staff["mgr"]), DAY, "12345.67")
    refresh(cast.branch.pk)
    ws = _book(cast).worksheets[0]
    assert Decimal(str(ws.cell(row=ws.max_row, column=_col(Figure.DISBURSED_AMOUNT, 0)).value)) == Decimal(
        "12345.67"
    )
