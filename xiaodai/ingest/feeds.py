"""Loading one file of a drop: header checks, validation while streaming, staging, merging, reconciling."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import connection
from django.utils.translation import gettext as _

from xiaodai.ingest.contract import FEEDS, Feed, Target
from xiaodai.ingest.drop import Drop, DropFile
from xiaodai.ingest.load import StagedFeed
from xiaodai.ingest.models import ImportFile, ImportRun
from xiaodai.ingest.produce import MAX_PROBLEMS, Producer, header_problem
from xiaodai.ingest.progress import write_progress
from xiaodai.ingest.readers import FileProblem, open_table
from xiaodai.ingest.small import SMALL_FEEDS, load_small
from xiaodai.ingest.targets import TARGETS
from xiaodai.ingest.validate import RowProblem, RowValidator


def _bad_rows_message() -> str:
    return _("%(n)s bad rows; this feed refuses the whole file on any bad row.")


class Refused(Exception):
    """A file was refused: the drop's transaction rolls back and nothing changes."""


@dataclass
class FeedResult:
    file: ImportFile
    problems: list[RowProblem] = field(default_factory=list)


def load_feeds(
    run: ImportRun, drop: Drop, modes: dict[str, bool], producer: Producer
) -> Iterator[FeedResult]:
    """Load the drop's files in order, yielding each file's result. `modes` says which feeds quarantine bad
    rows. The customers' merge waits until the deposits (next in the load order) are staged, so that a new
    customer's AUM is written in its insert."""
    rows_before = 0
    held: tuple[FeedResult, StagedFeed | None, _Counted | None] | None = None
    for i, item in enumerate(drop.files):
        feed = FEEDS[item.feed]
        result = FeedResult(_record(item, modes[item.feed]))
        if feed.target is Target.LAKE:
            _load_lake(run, drop, item, feed, result, modes[item.feed])
            rows_before += result.file.rows_read
        elif feed.name in SMALL_FEEDS:
            try:
                _load_small(run, drop, item, feed, result, modes[item.feed])
            except FileProblem as exc:
                _refuse(result, exc.line, "", exc.code, exc.message)
            rows_before += result.file.rows_read
        else:
            staging = _stage(run, drop, feed, result, rows_before, producer)
            rows_before += result.file.rows_read
            quarantine = modes[item.feed]
            if (
                feed.name == "customers"
                and drop.files[i + 1 : i + 2]
                and drop.files[i + 1].feed == "deposits"
            ):
                # Checked now, while the worker validates the deposits; written once they are staged.
                counted = _check(*staging, result=result, quarantine=quarantine) if staging else None
                held = (result, staging[0] if staging else None, counted)
                continue
            if held is not None:
                customers, customers_staged, counted = held
                if customers_staged is not None and counted is not None:
                    if staging is not None:
                        customers_staged.aum_from(staging[0])
                    _write(customers_staged, counted, result=customers, quarantine=modes["customers"])
                yield _finished(customers)
                held = None
            if staging is not None:
                _complete(*staging, result=result, quarantine=quarantine)
        yield _finished(result)


def _record(item: DropFile, quarantine: bool) -> ImportFile:
    return ImportFile(
        feed=item.feed,
        filename=item.path.name,
        file_format=item.format,
        sha256=item.sha256,
        size_bytes=item.size,
        mode="quarantine" if quarantine else "reject_file",
        control=item.control,
        accepted=True,
    )


def _finished(result: FeedResult) -> FeedResult:
    _check_control(result)
    record = result.file
    record.reconciled = (
        record.accepted
        and record.sums_in == record.sums_out
        and record.rows_read
        == (record.rows_loaded + record.rows_updated + record.rows_unchanged + record.rows_rejected)
    )
    return result


def staged_feeds(drop: Drop) -> list[DropFile]:
    """The drop's files that go through staging (everything but the organisation and the lake)."""
    return [f for f in drop.files if FEEDS[f.feed].target is Target.DATABASE and f.feed not in SMALL_FEEDS]


def _refuse(result: FeedResult, line: int | None, column: str, code: str, message: str) -> None:
    result.file.accepted = False
    result.file.message = message
    result.problems.append(RowProblem(line or 0, column, code, message, ""))


def _load_small(
    run: ImportRun, drop: Drop, item: DropFile, feed: Feed, result: FeedResult, quarantine: bool
) -> None:
    """The organisation feeds: a few thousand rows at most, validated and upserted in this process."""
    record = result.file
    with open_table(item.path, encoding=drop.encoding) as reader:
        record.encoding = reader.encoding
        problem = header_problem(reader.header, feed)
        if problem is not None:
            code, column, message = problem
            _refuse(result, 1, column, code, message)
            return
        validator = RowValidator(feed, reader.header, drop.data_date, formulas=reader.format == "xlsx")
        rows: list[tuple[int, dict[str, Any]]] = []
        bad_rows = 0
        for line, cells in reader.rows():
            record.rows_read += 1
            values, problems = validator.check(line, cells)
            if values is None:
                bad_rows += 1
                result.problems.extend(problems)
                continue
            rows.append((line, dict(zip(feed.column_names, values, strict=True))))
    if bad_rows and not quarantine:
        record.accepted = False
        record.rows_rejected = bad_rows
        record.message = _bad_rows_message() % {"n": bad_rows}
        return
    figures = load_small(
        feed.name, rows, run_id=run.pk, data_date=drop.data_date, branch_id=run.branch_id or 0
    )
    result.problems.extend(figures.problems)
    if figures.problems and not quarantine:
        record.accepted = False
        record.message = _("Rows point at records that do not exist.")
        return
    record.rows_loaded, record.rows_updated = figures.loaded, figures.updated
    record.rows_unchanged, record.rows_rejected = figures.unchanged, bad_rows + figures.rejected


def _stage(
    run: ImportRun, drop: Drop, feed: Feed, result: FeedResult, rows_before: int, producer: Producer
) -> tuple[StagedFeed, int] | None:
    """Stage the rows the producer validated: (the staging table, rows validation refused), or None when
    the file itself was refused. Memory stays flat whatever the file's size: what must be known across
    rows (duplicate keys, tags, which rows changed) is asked of the staging table, not kept in Python."""
    record = result.file
    started = producer.next()
    assert started == ("file", feed.name), started  # the producer walks the same files in the same order
    staged = StagedFeed(
        feed, TARGETS[feed.name], run_id=run.pk, data_date=drop.data_date, branch_id=run.branch_id or 0
    )
    staged.create()
    while True:
        message = producer.next()
        kind = message[0]
        if kind == "rows":
            prepared, problems, read = message[1:]
            staged.insert(prepared)
            result.problems.extend(problems[: max(0, MAX_PROBLEMS - len(result.problems))])
            record.rows_read = read
            write_progress(run.pk, rows_before + read, drop.estimated_rows, feed.name)
        elif kind == "end":
            record.rows_read, bad_rows, sums_in, record.encoding = message[1:]
            record.sums_in = sums_in
            return staged, bad_rows
        elif kind == "refused":
            code, column, text, record.encoding = message[1:]
            _refuse(result, 1, column, code, text)
            staged.drop()
            return None
        else:  # "problem": the file itself broke off (truncated, undecodable)
            code, text, line, record.rows_read = message[1:]
            _refuse(result, line, "", code, text)
            staged.drop()
            return None


@dataclass
class _Counted:
    """What a file's checks found, for its write: new, changed and unchanged rows, and those rejected."""

    new: int
    changed: int
    same: int
    rejected: int


def _complete(staged: StagedFeed, bad_rows: int, *, result: FeedResult, quarantine: bool) -> None:
    """Check the staged rows across the file, then merge them."""
    counted = _check(staged, bad_rows, result=result, quarantine=quarantine)
    if counted is not None:
        _write(staged, counted, result=result, quarantine=quarantine)


def _check(staged: StagedFeed, bad_rows: int, *, result: FeedResult, quarantine: bool) -> _Counted | None:
    """Everything before writing: tags, duplicate keys, references, other branches' keys, matching, the
    before-images. `bad_rows` were refused by validation and never staged; the checks here flag rows in
    the staging table instead. None when the file is refused (its staging table is dropped)."""
    record = result.file
    if staged.feed.name == "customers":
        result.problems.extend(staged.unknown_tags())
    # Duplicate keys are found in the staging table: a set of every key would grow with the file.
    result.problems.extend(staged.duplicates()[: max(0, MAX_PROBLEMS - len(result.problems))])
    if not quarantine and (bad_rows or staged.bad_rows()):
        record.accepted = False
        record.rows_rejected = bad_rows + staged.bad_rows()
        record.message = _bad_rows_message() % {"n": record.rows_rejected}
        staged.drop()
        return None
    problems = staged.resolve()
    foreign = staged.foreign_rows()
    if foreign:
        result.problems.extend(foreign)
        record.accepted = False
        record.rows_rejected = len(foreign)
        record.message = _("Rows belong to another branch; the drop is refused (D-09).")
        staged.drop()
        return None
    new, changed, same, evidence = staged.classify()
    problems += evidence
    result.problems.extend(problems[: max(0, MAX_PROBLEMS - len(result.problems))])
    flagged = staged.bad_rows()  # duplicates, unknown references, changed evidence
    rejected = bad_rows + flagged
    if problems and not quarantine:
        record.accepted = False
        record.rows_rejected = rejected
        record.message = _("Rows point at records that do not exist, or change consent evidence.")
        staged.drop()
        return None
    if flagged:
        staged.drop_bad()
    staged.mark_dirty()
    staged.keep_before_images()
    return _Counted(new, changed, same, rejected)


def _write(staged: StagedFeed, counted: _Counted, *, result: FeedResult, quarantine: bool) -> None:
    """Update changed rows, insert new ones, the follow-ups, and reconcile; then drop the staging table."""
    record = result.file
    staged.apply()
    staged.after_apply()
    record.rows_loaded, record.rows_updated, record.rows_unchanged = (
        counted.new,
        counted.changed,
        counted.same,
    )
    record.rows_rejected = counted.rejected
    record.sums_out = staged.sums_out()
    if record.rows_rejected and quarantine:
        # Rows dropped from staging (duplicates, unknown references) leave the totals: sum what was kept.
        record.sums_in = staged.sums_staged()
    staged.drop()


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
        result.problems.append(RowProblem(e.line or 0, e.field, e.code, e.message, e.value, masked=True))
    if lake.file_problem is not None:
        _refuse(result, None, "", *lake.file_problem)
    elif lake.rows_rejected and not quarantine:
        record.accepted = False
        record.message = _bad_rows_message() % {"n": lake.rows_rejected}


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
