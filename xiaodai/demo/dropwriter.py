"""Writes a generated demo drop as a drop folder (contract CSVs, the transactions as Parquet, and
manifest.json), so the demo reaches the database the way a bank's data does: through `xiaodai ingest`."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterable
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import IO, Any
from zoneinfo import ZoneInfo

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from xiaodai.demo.generator import Drop
from xiaodai.demo.rows import CustomerChunk
from xiaodai.demo.transactions import SCHEMA
from xiaodai.ingest.contract import CONTRACT_VERSION, FEEDS

SHANGHAI = ZoneInfo("Asia/Shanghai")
Progress = Callable[[int, int], None]


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, datetime):
        return value.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S")  # the contract's Beijing time
    if isinstance(value, (date, Decimal, int)):
        return str(value)
    return str(value)


class _Files:
    """One CSV writer per feed, header first, in the contract's column order; counts rows and totals the
    feed's control-sum columns for the manifest."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.handles: dict[str, IO[str]] = {}
        self.writers: dict[str, Any] = {}
        self.rows: dict[str, int] = {}
        self.sums: dict[str, dict[str, Decimal]] = {}

    def write(self, feed: str, rows: Iterable[tuple[Any, ...]]) -> None:
        if feed not in self.writers:
            handle = (self.folder / f"{feed}.csv").open("w", encoding="utf-8", newline="")
            self.handles[feed], self.writers[feed] = handle, csv.writer(handle)
            self.writers[feed].writerow(FEEDS[feed].column_names)
            self.rows[feed] = 0
            self.sums[feed] = {name: Decimal("0.00") for name in FEEDS[feed].sums}
        batch = list(rows)
        for name in self.sums[feed]:
            at = FEEDS[feed].column_names.index(name)
            self.sums[feed][name] += sum((r[at] for r in batch if r[at] is not None), Decimal("0.00"))
        self.writers[feed].writerows([_cell(v) for v in r] for r in batch)
        self.rows[feed] += len(batch)

    def control(self, feed: str) -> dict[str, Any]:
        """The manifest entry: rows, and the sums when the contract names any."""
        entry: dict[str, Any] = {"rows": self.rows[feed]}
        if self.sums[feed]:
            entry["sums"] = {name: str(total) for name, total in self.sums[feed].items()}
        return entry

    def close(self) -> None:
        for handle in self.handles.values():
            handle.close()


class _Parquet:
    """`transactions.parquet`, written chunk by chunk (millions of rows: Parquet, not CSV); counts rows and
    totals the amounts for the manifest. Nothing is written when no chunk has a row."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.rows = 0
        self.cents = 0
        self._writer: pq.ParquetWriter | None = None

    def write(self, table: pa.Table) -> None:
        if not table.num_rows:
            return
        if self._writer is None:
            # A transient file: no statistics, and no dictionary for the ids, which never repeat.
            texts = [name for name in SCHEMA.names if name != "txn_id"]
            self._writer = pq.ParquetWriter(self.path, SCHEMA, compression="zstd", store_schema=False,
                                            use_dictionary=texts, write_statistics=False)  # fmt: skip
        self._writer.write_table(table, row_group_size=1 << 20)
        self.rows += table.num_rows
        self.cents += int(pc.sum(table["amount"]).as_py() * 100)

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()

    def control(self) -> dict[str, Any] | None:
        """The manifest entry (rows and the amount total, as the other feeds declare theirs), or None."""
        if self._writer is None:
            return None
        return {"rows": self.rows, "sums": {"amount": str(Decimal(self.cents).scaleb(-2))}}


def write_drop_folder(drop: Drop, folder: Path, progress: Progress | None = None) -> Path:
    """Write every feed of the demo drop into `folder` with a manifest carrying the row counts and sums."""
    folder.mkdir(parents=True, exist_ok=True)
    files = _Files(folder)
    transactions = _Parquet(folder / "transactions.parquet")
    try:
        files.write("sub_branches", ((s.code, s.name, s.district) for s in drop.sub_branches))
        files.write("teams", ((t.name, t.kind, t.sub_branch_code) for t in drop.teams))
        files.write(
            "staff",
            (
                (
                    s.employee_no,
                    s.name,
                    s.username,
                    s.role,
                    s.business_line,
                    s.sub_branch_code,
                    s.team_name,
                    s.daily_capacity,
                )
                for s in drop.staff
            ),
        )
        files.write(
            "enterprises",
            ((e.code, e.name, e.industry, e.employee_count, e.is_payroll_partner) for e in drop.enterprises),
        )
        files.write("tags", ((t.code, t.name, t.kind) for t in drop.tags))
        done = 0
        for number, chunk in enumerate(drop.chunks()):
            _write_chunk(files, chunk)
            transactions.write(drop.transactions(number, chunk))
            done += len(chunk.customers)
            if progress is not None:
                progress(done, drop.customer_count)
        files.write("channel_leads", drop.prospects())
    finally:
        files.close()
        transactions.close()
    manifest: dict[str, Any] = {
        "contract_version": CONTRACT_VERSION,
        "source": "demo",
        "data_date": drop.as_of.isoformat(),
        "branch_code": drop.branch.code,
        "files": {f"{feed}.csv": files.control(feed) for feed in files.rows},
    }
    if (control := transactions.control()) is not None:
        manifest["files"]["transactions.parquet"] = control
    (folder / "manifest.json").write_text(
        json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8"
    )
    return folder


def _write_chunk(files: _Files, chunk: CustomerChunk) -> None:
    files.write(
        "customers",
        (
            (
                c.customer_no,
                c.name,
                c.gender,
                c.birth_date,
                c.id_number,
                c.occupation,
                c.employer_name,
                c.payroll_enterprise_code,
                c.monthly_income,
                c.address,
                c.district,
                c.sub_branch_code,
                c.owner_employee_no,
                c.is_vulnerable,
                c.no_personalised_marketing,
                c.opened_on,
                "|".join(c.tag_codes),
            )
            for c in chunk.customers
        ),
    )
    files.write("contacts", ((p.customer_no, p.kind, p.value, p.is_primary) for p in chunk.contacts))
    files.write(
        "consents",
        (
            (
                k.customer_no,
                k.purpose,
                k.channel,
                k.granted,
                k.recorded_at,
                k.source,
                k.wording_version,
                k.collector_employee_no,
                k.expires_at,
            )
            for k in chunk.consents
        ),
    )
    files.write(
        "opt_outs", ((o.customer_no, o.channel, o.recorded_at, o.reason, o.source) for o in chunk.opt_outs)
    )
    files.write("credit_lines", chunk.credit_lines)
    files.write("loans", chunk.loans)
    files.write("cards", chunk.cards)
    files.write("deposits", chunk.deposits)
    files.write("applications", chunk.applications)
    files.write("payroll", chunk.payroll)
    files.write("contact_history", chunk.contact_history)
    files.write("channel_leads", chunk.channel_leads)
