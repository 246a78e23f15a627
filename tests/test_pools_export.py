"""A pool's customers as Excel: the drill-down's scope and filters, masked, formula-safe, audited."""

from __future__ import annotations

import io
import json

import pytest
from django.http import FileResponse
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet

from tests import factories as f
from tests.conftest import Cast
from tests.pools_data import Member, Pools, build_pools, publish_pools
from xiaodai.audit.choices import Action
from xiaodai.audit.models import AuditEvent

EXPORT = "/pools/approved_undrawn/export.xlsx"


@pytest.fixture
def pools(cast: Cast) -> Pools:
    return build_pools(cast)


def _sheet(response: FileResponse) -> Worksheet:
    assert response.status_code == 200
    data = b"".join(response.streaming_content)  # type: ignore[arg-type]
    return load_workbook(io.BytesIO(data)).worksheets[0]


def _rows(sheet: Worksheet) -> list[list[object]]:
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def test_export_is_an_xlsx_attachment(cast: Cast, pools: Pools) -> None:
    response = cast.client("head").get(EXPORT)
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert response["Content-Disposition"] == 'attachment; filename="pool-approved_undrawn-20261128.xlsx"'
    rows = _rows(_sheet(response))
    assert rows[0][0] in ("客户号", "Customer no.")  # a header row
    assert len(rows) == 1 + 3


def test_export_masks_names_and_mobiles(cast: Cast, pools: Pools) -> None:
    response = cast.client("head").get(EXPORT)
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content)))  # type: ignore[arg-type]
    cells = [
        str(c) for sheet in book.worksheets for row in sheet.iter_rows(values_only=True) for c in row if c
    ]
    own = cast.customers["own"]
    phone = own.contact_points.get().value
    assert "张*" in cells
    assert not any("张三" in c or "孙七" in c or phone in c for c in cells)
    assert f"{phone[:3]}****{phone[-4:]}" in cells


def test_export_money_is_a_number_with_a_money_format(cast: Cast, pools: Pools) -> None:
    sheet = _sheet(cast.client("head").get(EXPORT))
    assert sheet.cell(row=1, column=12).value in ("潜在金额（元）", "Potential (yuan)")
    potential = sheet.cell(row=2, column=12)
    assert potential.value == 200000
    assert potential.number_format == "#,##0.00"


def test_export_follows_the_viewers_scope(cast: Cast, pools: Pools) -> None:
    rows = _rows(_sheet(cast.client("lead").get(EXPORT)))
    numbers = {row[0] for row in rows[1:]}
    assert numbers == {cast.customers["own"].customer_no, cast.customers["team"].customer_no}


def test_export_applies_the_filters(cast: Cast, pools: Pools) -> None:
    rows = _rows(_sheet(cast.client("head").get(f"{EXPORT}?sub_branch={pools.sub2.pk}&workable=1")))
    assert [row[0] for row in rows[1:]] == [pools.walk_in.customer_no]


def test_export_cells_never_become_formulas(cast: Cast) -> None:
    evil = f.CustomerFactory(sub_branch=cast.sub, owner=cast.staff["mgr"], name="=HYPERLINK(1)")
    publish_pools(cast.branch, [Member(evil, "scenario_channel", detail="+cmd|' /C calc'!A0")])
    sheet = _sheet(cast.client("head").get("/pools/scenario_channel/export.xlsx"))
    cells = [c for row in sheet.iter_rows(min_row=2) for c in row if isinstance(c.value, str)]
    assert cells
    assert all(c.data_type == "s" for c in cells)
    name = sheet.cell(row=2, column=2).value
    assert name == "'=H***********"
    assert any(str(c.value).startswith("'+cmd") for c in cells)
    assert not any(str(c.value).startswith(("=", "+", "-", "@")) for c in cells)


def test_export_is_audited_without_personal_data(cast: Cast, pools: Pools) -> None:
    cast.client("head").get(f"{EXPORT}?sub_branch={pools.sub2.pk}")
    event = AuditEvent.objects.get(action=Action.EXPORT)
    assert (event.object_type, event.object_id, event.username) == ("pool", "approved_undrawn", "head")
    assert event.detail["rows"] == 1
    assert event.detail["pool"] == "approved_undrawn"
    assert event.detail["filters"]["sub_branch"] == pools.sub2.pk
    text = json.dumps(event.detail, ensure_ascii=False)
    assert "孙" not in text
    assert pools.walk_in.customer_no not in text


def test_export_without_a_published_run_is_404(cast: Cast) -> None:
    assert cast.client("head").get(EXPORT).status_code == 404
    assert not AuditEvent.objects.filter(action=Action.EXPORT).exists()


def test_a_manager_cannot_export(cast: Cast, pools: Pools) -> None:
    assert cast.client("mgr").get(EXPORT).status_code == 403


def test_export_has_a_cover_sheet_naming_pool_and_date(cast: Cast, pools: Pools) -> None:
    response = cast.client("head").get(EXPORT)
    data = b"".join(response.streaming_content)  # type: ignore[attr-defined]
    about = load_workbook(io.BytesIO(data)).worksheets[1]
    values = [str(c) for row in about.iter_rows(values_only=True) for c in row]
    assert "2026-11-28" in values
    assert "3" in values  # rows
