"""A pool's members as an Excel workbook: the drill-down's scoped, filtered list, personal data masked, every
text cell formula-safe, money as numbers with a money format. Written in openpyxl's write-only mode, row by
row, so a list of any length takes little memory."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from decimal import Decimal
from typing import IO, Any

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Prefetch, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from xiaodai.core.masking import mask_name, mask_phone
from xiaodai.core.spreadsheet import safe_cell
from xiaodai.customers.models import ContactPoint
from xiaodai.pipeline.models import PipelineRun
from xiaodai.pools import rules as r
from xiaodai.pools.choices import Channels, block_reasons
from xiaodai.pools.models import PoolMember
from xiaodai.pools.reasons import reason
from xiaodai.scoring.wording import reasons_text

MONEY_FORMAT = "#,##0.00"
CHUNK = 2_000
CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class Column:
    title: str
    width: int
    money: bool = False


def _columns() -> list[Column]:
    return [
        Column(_("Customer no."), 14),
        Column(_("Name (masked)"), 12),
        Column(_("Mobile (masked)"), 15),
        Column(_("Sub-branch"), 16),
        Column(_("Team"), 14),
        Column(_("Owner"), 12),
        Column(_("Primary pool"), 10),
        Column(_("Workable"), 10),
        Column(_("Not workable because"), 30),
        Column(_("Channels"), 18),
        Column(_("Why in this pool"), 44),
        Column(_("Potential (yuan)"), 16, money=True),
        Column(_("Basis (yuan)"), 16, money=True),
        Column(_("New in the pool"), 10),
        Column(_("Chance"), 10),
        Column(_("Expected value (yuan)"), 16, money=True),
        Column(_("Why call now"), 50),
    ]


def channel_labels(bits: int) -> list[str]:
    return [str(c.label) for c in Channels if bits & c.value]


class _Writer:
    """Typed cells for one write-only sheet: text is always text, money a number with the money format."""

    def __init__(self, sheet: WriteOnlyWorksheet) -> None:
        self.sheet = sheet
        self.bold = Font(bold=True)

    def text(self, value: Any, bold: bool = False) -> WriteOnlyCell:
        cell = WriteOnlyCell(self.sheet, value=safe_cell(value))
        cell.data_type = "s"  # never a formula, whatever the value starts with
        if bold:
            cell.font = self.bold
        return cell

    def percent(self, value: float | None) -> WriteOnlyCell | None:
        if value is None:
            return None
        cell = WriteOnlyCell(self.sheet, value=round(value, 4))
        cell.number_format = "0.0%"
        return cell

    def money(self, value: Decimal | None) -> WriteOnlyCell | None:
        if value is None:
            return None
        cell = WriteOnlyCell(self.sheet, value=Decimal(value))
        cell.number_format = MONEY_FORMAT
        return cell


def _score_reasons(customer: Any) -> list[str]:
    try:
        score = customer.score
    except ObjectDoesNotExist:  # blocked members are not scored
        return []
    return reasons_text(score.reasons)


def _rows(members: QuerySet[PoolMember]) -> QuerySet[PoolMember]:
    phones = ContactPoint.objects.filter(is_primary=True, kind="mobile")
    return members.prefetch_related(Prefetch("customer__contact_points", queryset=phones, to_attr="mobiles"))


def write_members(
    members: QuerySet[PoolMember], pool: r.PoolDef, run: PipelineRun, filters: dict[str, Any]
) -> tuple[IO[bytes], int]:
    """The workbook in a temporary file (rewound, for streaming) and the number of member rows written."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=_("Customers")[:31])
    w = _Writer(sheet)
    columns = _columns()
    for i, col in enumerate(columns):
        sheet.column_dimensions[get_column_letter(i + 1)].width = col.width
    sheet.freeze_panes = "A2"
    sheet.append([w.text(col.title, bold=True) for col in columns])
    yes, no = _("Yes"), _("No")
    count = 0
    for m in _rows(members).iterator(chunk_size=CHUNK):
        c = m.customer
        mobiles = getattr(c, "mobiles", [])
        sheet.append(
            [
                w.text(c.customer_no),
                w.text(mask_name(c.name)),
                w.text(mask_phone(mobiles[0].value) if mobiles else ""),
                w.text(c.sub_branch.name),
                w.text(c.owner.team.name if c.owner and c.owner.team else ""),
                w.text(c.owner.name if c.owner else ""),
                w.text(yes if m.is_primary else no),
                w.text(yes if m.workable else no),
                w.text("; ".join(block_reasons(m.blocked))),
                w.text(", ".join(channel_labels(m.channels))),
                w.text(reason(m)),
                w.money(m.potential),
                w.money(m.basis),
                w.text(yes if m.is_new else no),
                w.percent(m.probability),
                w.money(m.expected_value),
                w.text("; ".join(_score_reasons(c))),
            ]
        )
        count += 1
    _cover(book, pool, run, filters, count)
    out = tempfile.TemporaryFile()  # noqa: SIM115 - handed to the response, which closes it
    book.save(out)
    out.seek(0)
    return out, count


def _cover(book: Workbook, pool: r.PoolDef, run: PipelineRun, filters: dict[str, Any], count: int) -> None:
    """A second sheet saying what the list is: pool, data date, filters, when it was made."""
    sheet = book.create_sheet(title=_("About")[:31])
    w = _Writer(sheet)
    sheet.column_dimensions["A"].width = 18
    sheet.column_dimensions["B"].width = 60
    lines = [
        (_("Pool"), f"{pool.name} ({pool.chinese})"),
        (_("Data date"), run.data_date.isoformat()),
        (_("Pipeline run"), f"#{run.pk}"),
        (_("Filters"), ", ".join(f"{k}={v}" for k, v in filters.items()) or "—"),
        (_("Rows"), str(count)),
        (_("Exported at"), timezone.localtime().strftime("%Y-%m-%d %H:%M")),
        (_("Personal data"), _("Names and mobiles are masked. Handle this file under the bank's rules.")),
    ]
    for label, value in lines:
        sheet.append([w.text(label, bold=True), w.text(value)])
