"""Builds drop folders for the ingest tests: valid rows from the contract's examples, with overrides."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from xiaodai.ingest.contract import FEEDS


def row(feed: str, **values: Any) -> dict[str, Any]:
    """A valid row of `feed` (the contract's examples), with `values` replacing some cells."""
    base = {col.name: col.example for col in FEEDS[feed].columns}
    unknown = set(values) - set(base)
    assert not unknown, unknown
    base.update(values)
    return base


def id_number(body: str) -> str:
    """GB 11643 check digit over a 17-digit body (stdnum's calc_check_digit expects the full number)."""
    weights = [2 ** (17 - i) % 11 for i in range(17)]
    total = sum(int(d) * w for d, w in zip(body, weights, strict=True))
    return body + "10X98765432"[total % 11]


def customers(n: int, start: int = 1, **values: Any) -> list[dict[str, Any]]:
    """n distinct valid customers C900000000x with valid ID numbers, in sub-branch HZ01."""
    out = []
    for i in range(start, start + n):
        number = id_number(f"33010619880412{i % 1000:03d}")
        cells = {
            "customer_no": f"C9{i:09d}",
            "id_number": number,
            "owner_employee_no": "",
            "payroll_enterprise_code": "",
            "tags": "",
            "sub_branch_code": "HZ01",
        }
        cells.update(values)
        out.append(row("customers", **cells))
    return out


def deposits(*rows: tuple[str, str, str]) -> list[dict[str, Any]]:
    """Deposit rows from (customer_no, account_no, balance)."""
    return [row("deposits", customer_no=c, account_no=a, balance=b) for c, a, b in rows]


def write_csv(
    folder: Path,
    feed: str,
    rows: list[dict[str, Any]],
    *,
    encoding: str = "utf-8",
    header: list[str] | None = None,
) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{feed}.csv"
    names = header or list(FEEDS[feed].column_names)
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=names, extrasaction="ignore")
        writer.writeheader()
        for r in rows:
            writer.writerow({k: r.get(k, "") for k in names})
    return path


def write_manifest(folder: Path, **body: Any) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "manifest.json"
    path.write_text(json.dumps(body, ensure_ascii=False), encoding="utf-8")
    return path


def basic_drop(folder: Path, branch_code: str, *, n: int = 3, data_date: str = "2026-11-28") -> Path:
    """A small valid drop: one sub-branch, n customers with a mobile, a consent, a credit line and a loan."""
    write_manifest(folder, source="core-dw", data_date=data_date, branch_code=branch_code)
    write_csv(folder, "sub_branches", [row("sub_branches")])
    people = customers(n)
    write_csv(folder, "customers", people)
    write_csv(
        folder,
        "contacts",
        [
            row("contacts", customer_no=c["customer_no"], value=f"1380013{i:04d}")
            for i, c in enumerate(people)
        ],
    )
    write_csv(
        folder,
        "consents",
        [row("consents", customer_no=c["customer_no"], collector_employee_no="") for c in people],
    )
    write_csv(
        folder,
        "credit_lines",
        [
            row("credit_lines", customer_no=c["customer_no"], line_no=f"XCL{i:09d}")
            for i, c in enumerate(people)
        ],
    )
    write_csv(
        folder,
        "loans",
        [row("loans", customer_no=c["customer_no"], loan_no=f"XLN{i:09d}") for i, c in enumerate(people)],
    )
    return folder
