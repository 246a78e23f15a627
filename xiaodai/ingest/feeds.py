"""Loading one file of a drop: header checks, validation while streaming, staging, merging, reconciling."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import connection
from django.utils.translation import gettext as _

from xiaodai.customers.models import Tag
from xiaodai.ingest.contract import FEEDS, Feed, Target, credit_data_columns
from xiaodai.ingest.drop import Drop, DropFile
from xiaodai.ingest.load import StagedFeed
from xiaodai.ingest.models import ImportFile, ImportRun
from xiaodai.ingest.progress import write_progress
from xiaodai.ingest.readers import FileProblem, open_table
from xiaodai.ingest.small import SMALL_FEEDS, load_small
from xiaodai.ingest.targets import TARGETS
from xiaodai.ingest.validate import RowProblem, RowValidator

BATCH = 5_000
MAX_PROBLEMS = 100_000  # kept per file; the count of bad rows is always complete


class Refused(Exception):
    """A file was refused: the drop's transaction rolls back and nothing changes."""


@dataclass
class FeedResult:
    file: ImportFile
    problems: list[RowProblem] = field(default_factory=list)


def load_feed(
    run: ImportRun, drop: Drop, item: DropFile, *, quarantine: bool, rows_before: int
) -> FeedResult:
    feed = FEEDS[item.feed]
    record = ImportFile(
        feed=feed.name,
        filename=item.path.name,
        file_format=item.format,
        sha256=item.sha256,
        size_bytes=item.size,
        mode="quarantine" if quarantine else "reject_file",
        control=item.control,
        accepted=True,
    )
    result = FeedResult(record)
    if feed.target is Target.LAKE:
        _load_lake(run, drop, item, feed, result, quarantine)
    else:
        try:
            _load_database(run, drop, item, feed, result, quarantine, rows_before)
        except FileProblem as exc:
            _refuse(result, exc.line, "", exc.code, exc.message)
    _check_control(result)
    record.reconciled = (
        record.accepted
        and record.sums_in == record.sums_out
        and record.rows_read
        == (record.rows_loaded + record.rows_updated + record.rows_unchanged + record.rows_rejected)
    )
    return result


def _refuse(result: FeedResult, line: int | None, column: str, code: str, message: str) -> None:
    result.file.accepted = False
    result.file.message = message
    result.problems.append(RowProblem(line or 0, column, code, message, ""))


def _check_header(header: list[str], feed: Feed, result: FeedResult) -> bool:
    credit = credit_data_columns(header)
    if credit:
        message = _("Credit-bureau data (%(columns)s) may only come through licensed bureaus (C-10).") % {
            "columns": ", ".join(credit)
        }
        _refuse(result, 1, ",".join(credit), "credit_data", message)
        return False
    missing = [c for c in feed.column_names if c not in header]
    extra = [c for c in header if c not in feed.column_names]
    dupes = sorted({c for c in header if header.count(c) > 1})
    if missing or extra or dupes:
        parts = []
        if missing:
            parts.append(f"missing columns: {', '.join(missing)}")
        if extra:
            parts.append(f"columns not in the contract: {', '.join(extra)}")
        if dupes:
            parts.append(f"repeated columns: {', '.join(dupes)}")
        _refuse(result, 1, "", "columns", "; ".join(parts))
        return False
    return True


def _load_database(
    run: ImportRun,
    drop: Drop,
    item: DropFile,
    feed: Feed,
    result: FeedResult,
    quarantine: bool,
    rows_before: int,
) -> None:
    """Stream the file through validation into staging. Memory stays flat whatever the file's size: rows
    go to the staging table in batches, and what must be remembered across rows (duplicate keys, customer
    tags, which rows changed) is asked of the staging table, not kept in Python."""
    record = result.file
    staged = None
    with open_table(item.path, encoding=drop.encoding) as reader:
        record.encoding = reader.encoding
        if not _check_header(reader.header, feed, result):
            return
        small = feed.name in SMALL_FEEDS
        validator = RowValidator(
            feed, reader.header, drop.data_date, formulas=reader.format == "xlsx", duplicates=small
        )
        total_estimate = drop.estimated_rows
        bad_rows = 0
        sums = {c: Decimal(0) for c in feed.sums}
        sum_index = [(c, feed.column_names.index(c)) for c in feed.sums]
        tags = {t.code: t.pk for t in Tag.objects.all()} if feed.name == "customers" else {}
        tag_index = feed.column_names.index("tags") if feed.name == "customers" else -1
        small_rows: list[tuple[int, dict[str, Any]]] = []
        if not small:
            staged = StagedFeed(
                feed,
                TARGETS[feed.name],
                run_id=run.pk,
                data_date=drop.data_date,
                branch_id=run.branch_id or 0,
            )
            staged.create()
        batch: list[tuple[int, list[Any]]] = []
        for line, cells in reader.rows():
            record.rows_read += 1
            values, problems = validator.check(line, cells)
            if values is not None and tag_index >= 0 and values[tag_index]:
                unknown = [t for t in values[tag_index] if t not in tags]
                if unknown:
                    message = f"tag {unknown[0]} is neither in this drop nor in the database"
                    problems = [RowProblem(line, "tags", "unknown_reference", message, unknown[0])]
                    values = None
            if values is None:
                bad_rows += 1
                if len(result.problems) < MAX_PROBLEMS:
                    result.problems.extend(problems)
                elif not quarantine:
                    break  # refused anyway; the first hundred thousand are enough to fix the file
                continue
            for column, index in sum_index:
                if values[index] is not None:
                    sums[column] += values[index]
            if staged is None:
                small_rows.append((line, dict(zip(feed.column_names, values, strict=True))))
            else:
                batch.append((line, values))
                if len(batch) >= BATCH:
                    staged.stage(batch)
                    batch = []
                    write_progress(run.pk, rows_before + record.rows_read, total_estimate, feed.name)
        if staged is not None and batch:
            staged.stage(batch)
    write_progress(run.pk, rows_before + record.rows_read, drop.estimated_rows, feed.name)
    if staged is not None:
        # Duplicate keys are found in the staging table: a set of every key would grow with the file.
        result.problems.extend(staged.duplicates()[: max(0, MAX_PROBLEMS - len(result.problems))])
        if not quarantine and staged.bad_rows():
            bad_rows += staged.bad_rows()
    if bad_rows and not quarantine:
        record.accepted = False
        record.rows_rejected = bad_rows
        record.message = _("%(n)s bad rows; this feed refuses the whole file on any bad row.") % {
            "n": bad_rows
        }
        if staged is not None:
            staged.drop()
        return
    if staged is None:
        figures = load_small(
            feed.name, small_rows, run_id=run.pk, data_date=drop.data_date, branch_id=run.branch_id or 0
        )
        result.problems.extend(figures.problems)
        if figures.problems and not quarantine:
            record.accepted = False
            record.message = _("Rows point at records that do not exist.")
            return
        record.rows_loaded, record.rows_updated, record.rows_unchanged = (
            figures.loaded,
            figures.updated,
            figures.unchanged,
        )
        record.rows_rejected = bad_rows + figures.rejected
        record.sums_in = record.sums_out = {}
        return
    _merge(staged, result, quarantine, bad_rows)
    record.sums_in = {c: str(v.quantize(Decimal("0.01"))) for c, v in sums.items()}
    if record.accepted and record.rows_rejected and quarantine:
        # Rows dropped from staging (duplicates, unknown references) leave the totals: sum what was kept.
        record.sums_in = staged.sums_staged()
    staged.drop()


def _merge(staged: StagedFeed, result: FeedResult, quarantine: bool, bad_rows: int) -> None:
    """Resolve references, match keys, then write. `bad_rows` were refused by validation and never staged;
    the checks here (and the duplicate check before) flag rows in the staging table instead."""
    record = result.file
    problems = staged.resolve()
    foreign = staged.foreign_rows()
    if foreign:
        result.problems.extend(foreign)
        record.accepted = False
        record.rows_rejected = len(foreign)
        record.message = _("Rows belong to another branch; the drop is refused (D-09).")
        return
    new, changed, same, evidence = staged.classify()
    problems += evidence
    result.problems.extend(problems[: max(0, MAX_PROBLEMS - len(result.problems))])
    flagged = staged.bad_rows()  # duplicates, unknown references, changed evidence
    rejected = bad_rows + flagged
    if problems and not quarantine:
        record.accepted = False
        record.rows_rejected = rejected
        record.message = _("Rows point at records that do not exist, or change consent evidence.")
        return
    if flagged:
        staged.drop_bad()
    staged.mark_dirty()
    staged.keep_before_images()
    staged.apply()
    staged.after_apply()
    record.rows_loaded, record.rows_updated, record.rows_unchanged = new, changed, same
    record.rows_rejected = rejected
    record.sums_out = staged.sums_out()


def _load_lake(
    run: ImportRun, drop: Drop, item: DropFile, feed: Feed, result: FeedResult, quarantine: bool
) -> None:
    from xiaodai.lake.writer import stage_lake_feed

    record = result.file
    lake = stage_lake_feed(
        feed,
        item.path,
        fmt=item.format,
        encoding=drop.encoding or "",
        batch_id=run.pk,
        data_date=drop.data_date,
        quarantine=quarantine,
    )
    record.rows_read, record.rows_loaded, record.rows_rejected = (
        lake.rows_read,
        lake.rows_loaded,
        lake.rows_rejected,
    )
    record.sums_in, record.sums_out = lake.sums_in, lake.sums_out
    for e in lake.errors:
        result.problems.append(RowProblem(e.line or 0, e.field, e.code, e.message, e.value))
    if lake.file_problem is not None:
        _refuse(result, None, "", *lake.file_problem)
    elif lake.rows_rejected and not quarantine:
        record.accepted = False
        record.message = _("%(n)s bad rows; this feed refuses the whole file on any bad row.") % {
            "n": lake.rows_rejected
        }


def _check_control(result: FeedResult) -> None:
    """The manifest's control totals must match what was read (rows) and, with no bad rows, the sums."""
    record, control = result.file, result.file.control
    if not record.accepted or not control:
        return
    rows = control.get("rows")
    if rows is not None and int(rows) != record.rows_read:
        _refuse(
            result,
            None,
            "",
            "control_rows",
            f"the manifest declares {rows} rows; the file holds {record.rows_read}",
        )
        return
    if record.rows_rejected:
        return
    for column, declared in dict(control.get("sums", {})).items():
        found = record.sums_in.get(column)
        if found is None or Decimal(str(declared)) != Decimal(found):
            _refuse(
                result,
                None,
                column,
                "control_sums",
                f"the manifest declares {column} = {declared}; the file sums to {found}",
            )
            return


def vendor_is_sqlite() -> bool:
    return connection.vendor == "sqlite"
