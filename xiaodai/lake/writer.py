"""Writing lake feeds: a drop's file validated with DuckDB SQL and written as Parquet partitioned by month.

The common path reads the file once: one COPY types and checks every row and writes the good rows into the
batch's staging folder, routing bad rows to a partition that is never published; the Parquet just written then
gives the row counts, the sums and any duplicate key. Only a file with problems is read a second time, with
line numbers, to say which cells are wrong. publish_batch moves the staged files into the lake with os.replace
(atomic per file, same filesystem): a crash leaves staging debris only, which the next staging clears.
"""

from __future__ import annotations

import codecs
import csv
import os
import re
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

from xiaodai.ingest.contract import FEEDS, Column, Feed, Type, credit_data_columns
from xiaodai.ingest.masking import mask_cell
from xiaodai.ingest.readers import FileProblem, open_table
from xiaodai.ingest.validate import CellError, converter_for
from xiaodai.lake.paths import feed_dir, staging_dir, staging_root, temp_dir

MAX_ERRORS = 1_000
THREADS = 2
# Measured on 20M rows (docs/benchmarks.md): below 1 GB DuckDB's partitioned write spills and slows by half;
# small per-thread flushes keep its partition sort in memory.
MEMORY_LIMIT = "1GB"
FLUSH_ROWS = 32_768
BLOCK = 1 << 20  # bytes per read when transcoding
INVALID = "invalid"  # the partition bad rows are routed to; never published
STALE_SECONDS = 24 * 3600  # staging untouched this long is the debris of a crashed run

_NUMBERS = {  # contract type -> (pattern, error code, DuckDB type)
    Type.MONEY: (r"-?[0-9]{1,14}(\.[0-9]{1,2})?", "money_format", "DECIMAL(16,2)"),
    Type.INT: (r"-?[0-9]{1,12}", "int_format", "BIGINT"),
    Type.RATE: (r"[0-9]{1,3}(\.[0-9]{1,4})?", "rate_format", "DECIMAL(7,4)"),
}
_SQL_TYPES = {t: sql for t, (_, _, sql) in _NUMBERS.items()} | {Type.DATE: "DATE", Type.DATETIME: "TIMESTAMP"}
_CODE = r"[A-Za-z0-9_\-]"  # one character of a code
_DATE = r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
_DATETIME = _DATE + r"([ T][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?)?"  # Beijing time
_DATETIME_FORMATS = "['%Y-%m-%d %H:%M:%S', '%Y-%m-%dT%H:%M:%S']"  # the contract's form: strptime is cheap
_OFFSET = r"(Z|[+\-][0-9]{2}(:?[0-9]{2})?)"  # ISO 8601 with an offset: converted to Beijing time
_MOBILE = r"(\+86)?1[3-9][0-9]{9}"
_SUPPORTED = {Type.TEXT, Type.CODE, Type.CHOICE, Type.DATE, Type.DATETIME, Type.MOBILE, *_NUMBERS}
_MESSAGES = {"required": "a value is required", "future_date": "lies after the drop's data date"}


@dataclass
class LakeError:
    """One bad row or cell for the error report."""

    line: int | None
    field: str
    code: str
    message: str
    value: str  # masked with mask_cell


@dataclass
class LakeResult:
    rows_read: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    # Totals of the feed's `sums` columns: in = the file's valid rows, out = what this batch's Parquet holds.
    sums_in: dict[str, str] = field(default_factory=dict)
    sums_out: dict[str, str] = field(default_factory=dict)
    errors: list[LakeError] = field(default_factory=list)  # the first MAX_ERRORS, in line order
    months: list[str] = field(default_factory=list)  # "YYYY-MM" partitions written
    file_problem: tuple[str, str] | None = None  # (code, message) when the whole file is unusable


def stage_lake_feed(
    feed: Feed,
    path: Path,
    *,
    fmt: str,
    encoding: str,
    batch_id: int,
    data_date: date,
    quarantine: bool,
) -> LakeResult:
    """Validate `path` against `feed` and write its good rows to the batch's staging folder.

    quarantine=False: any bad row and nothing stays staged (rows_loaded 0); every problem is listed.
    quarantine=True: the good rows are staged, the bad ones reported. Nothing is published here.
    """
    zero = dict.fromkeys(feed.sums, "0.00")
    result = LakeResult(sums_in=dict(zero), sums_out=dict(zero))
    out = staging_dir(feed.name, batch_id)
    _clear_staging(feed.name, batch_id)
    source = Path(path)
    try:
        if fmt.lower().lstrip(".") not in ("csv", "parquet"):
            raise FileProblem("format", "lake feeds take CSV or Parquet")
        plan = _open_source(feed, source, fmt.lower().lstrip("."), encoding, batch_id, data_date)
        source = plan.source
        with _connection(feed.name, batch_id) as con:
            _stage(con, plan, out, quarantine, result)
    except FileProblem as exc:
        result.file_problem = (exc.code, exc.message)
    finally:
        if source != Path(path):  # the transcoded copy
            source.unlink(missing_ok=True)
    if result.file_problem is not None or (result.rows_rejected and not quarantine):
        shutil.rmtree(out, ignore_errors=True)
        result.rows_loaded, result.months, result.sums_out = 0, [], dict(zero)
    return result


def publish_batch(feed_name: str, batch_id: int) -> None:
    """Move the batch's staged files into the lake. Safe to repeat: files are renamed, never copied."""
    staged, target = staging_dir(feed_name, batch_id), feed_dir(feed_name)
    for file in sorted(staged.glob("month=*/*.parquet")):
        (target / file.parent.name).mkdir(parents=True, exist_ok=True)
        os.replace(file, target / file.parent.name / file.name)
    shutil.rmtree(staged, ignore_errors=True)


def remove_batch(feed_name: str, batch_id: int) -> int:
    """Delete the batch's files in every month of the feed, and its staging; the number of files removed."""
    removed = 0
    for root in (feed_dir(feed_name), staging_dir(feed_name, batch_id)):
        for file in root.glob(f"month=*/batch{int(batch_id)}_*.parquet"):
            file.unlink(missing_ok=True)
            removed += 1
    shutil.rmtree(staging_dir(feed_name, batch_id), ignore_errors=True)
    (staging_root(feed_name) / f"batch{int(batch_id)}.utf8.csv").unlink(missing_ok=True)
    return removed


def read_feed(feed_name: str) -> str:
    """A DuckDB FROM-expression over the feed's published Parquet, with its `month` partition column; while
    nothing is published, an empty relation with the same columns."""
    feed, folder = FEEDS[feed_name], feed_dir(feed_name)
    if any(folder.glob("month=*/*.parquet")):
        files = _literal(str(folder / "*" / "*.parquet"))
        options = "hive_partitioning=true, hive_types={'month': 'VARCHAR'}, union_by_name=true"
        return f"read_parquet({files}, {options})"
    columns = [f"CAST(NULL AS {_SQL_TYPES.get(c.type, 'VARCHAR')}) AS {_ident(c.name)}" for c in feed.columns]
    columns += ["CAST(NULL AS BIGINT) AS ingest_batch", "CAST(NULL AS DATE) AS data_date"]
    return f"(SELECT {', '.join(columns)}, CAST(NULL AS VARCHAR) AS month WHERE false)"


# --- the SQL ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Rule:
    """One column: `value`, over the raw text, is what is written as _v_<name>; `checks` are (condition that
    holds for a good non-empty cell, error code), tested in order. DuckDB reads an empty cell as NULL."""

    column: Column
    value: str
    checks: tuple[tuple[str, str], ...]

    @property
    def ok(self) -> str:
        """The cell's verdict, but for a code's pattern: the row checks all its codes with one regex."""
        q = _ident(self.column.name)
        good = " AND ".join(c for c, code in self.checks if code != "code_format") or "true"
        return f"({q} IS NOT NULL AND {good})" if self.column.required else f"({q} IS NULL OR {good})"

    @property
    def error(self) -> str:
        q, required = _ident(self.column.name), "'required'" if self.column.required else "NULL"
        tests = " ".join(f"WHEN NOT ({cond}) THEN '{code}'" for cond, code in self.checks)
        return f"CASE WHEN {q} IS NULL THEN {required} {tests} END"


def _rule(col: Column, data_date: date) -> _Rule:
    q, v, t = _ident(col.name), _ident(f"_v_{col.name}"), col.type
    latest = data_date + timedelta(days=1)  # as xiaodai.ingest.validate: a day's slack at the cut-off
    checks: list[tuple[str, str]] = []
    if t not in _SUPPORTED or col.list_of_codes:
        raise ValueError(f"lake feeds do not take {t} columns ({col.name})")
    if t in _NUMBERS:
        pattern, code, sql_type = _NUMBERS[t]
        value, checks = f"TRY_CAST({q} AS {sql_type})", [(_match(q, pattern), code)]
        if col.min_value is not None:
            checks.append((f"{v} >= {Decimal(col.min_value)}", "negative"))
    elif t is Type.DATE:
        value = f"TRY_CAST({q} AS DATE)"
        checks = [(f"{_match(q, _DATE)} AND {v} IS NOT NULL", "date_format")]
        if col.not_after_data_date:
            checks.append((f"{v} <= DATE '{latest.isoformat()}'", "future_date"))
    elif t is Type.DATETIME:
        value = (  # other ISO 8601 forms only where strptime fails (coalesce evaluates lazily)
            f"coalesce(TRY_STRPTIME({q}, {_DATETIME_FORMATS}), CASE WHEN {_match(q, _DATETIME)} "
            f"THEN TRY_CAST({q} AS TIMESTAMP) WHEN {_match(q, _DATETIME + _OFFSET)} "
            f"THEN timezone('Asia/Shanghai', TRY_CAST({q} AS TIMESTAMPTZ)) END)"
        )
        checks = [(f"{v} IS NOT NULL", "datetime_format")]
        if col.not_after_data_date:
            checks.append((f"{v} < TIMESTAMP '{latest.isoformat()} 00:00:00'", "future_date"))
    elif t is Type.CHOICE:
        value, checks = q, [(f"{q} IN ({', '.join(map(_literal, col.choices))})", "choice")]
    elif t is Type.CODE:
        value, checks = q, [(_match(q, _CODE + "+"), "code_format")]
        if col.max_length:
            checks.append((f"length({q}) <= {col.max_length}", "too_long"))
    elif t is Type.MOBILE:  # the pattern only: phonenumbers' number blocks are not in SQL
        digits = f"regexp_replace({q}, '[ -]', '', 'g')"
        value = f"CASE WHEN {_match(digits, _MOBILE)} THEN right({digits}, 11) END"
        checks = [(f"{v} IS NOT NULL", "mobile_format")]
    else:  # TEXT, kept as sent (trimming every cell would cost a tenth of the load)
        value = q
        checks = [(f"trim({q}) <> ''", "required")] if col.required else []
        if col.max_length:
            checks.append((f"length({q}) <= {col.max_length}", "too_long"))
    return _Rule(col, value, tuple(checks))


@dataclass(frozen=True)
class _Plan:
    """The SQL for one file of one feed. Identifiers come from the contract (quoted), paths as literals."""

    feed: Feed
    source: Path
    kind: str  # csv | parquet
    header: list[str]  # the file's column names, in file order, cleaned as the contract spells them
    names: list[str]  # the same as the file spells them
    batch_id: int
    data_date: date

    def source_sql(self, rejects: bool = False) -> str:
        path = _literal(str(self.source))
        # Columns the file may leave out (contract: may_be_absent) read as empty cells.
        absent = "".join(
            f", CAST(NULL AS VARCHAR) AS {_ident(n)}" for n in self.feed.column_names if n not in self.header
        )
        if self.kind == "parquet":
            pairs = zip(self.names, self.header, strict=True)
            cells = ", ".join(f"CAST({_ident(raw)} AS VARCHAR) AS {_ident(name)}" for raw, name in pairs)
            return f"(SELECT {cells}{absent} FROM read_parquet({path}))"  # noqa: S608
        columns = "{" + ", ".join(f"{_literal(n)}: 'VARCHAR'" for n in self.header) + "}"
        more = ", ignore_errors=true, store_rejects=true" if rejects else ""
        reader = (
            f"read_csv({path}, header=true, auto_detect=false, delim=',', quote='\"', escape='\"', "
            f"strict_mode=true, columns={columns}{more})"
        )
        return f"(SELECT *{absent} FROM {reader})" if absent else reader  # noqa: S608

    def checked_sql(self, numbered: bool) -> str:
        """Raw cells, typed values (_v_<name>) and the row's verdict (_ok); with `line` when numbered."""
        rules = [_rule(col, self.data_date) for col in self.feed.columns]
        raws = ", ".join(_ident(n) for n in self.feed.column_names)
        values = ", ".join(f"{r.value} AS {_ident('_v_' + r.column.name)}" for r in rules)
        source, line = self.source_sql(), ""
        if numbered:  # record order: preserve_insertion_order is on
            source, line = f"(SELECT row_number() OVER () + 1 AS line, * FROM {source})", "line, "  # noqa: S608
        codes = [_ident(r.column.name) for r in rules if r.column.type is Type.CODE]
        # One regex over the concatenated codes is a third cheaper than one per code (NULL adds nothing).
        together = [_match(f"concat({', '.join(codes)})", _CODE + "*")] if codes else []
        dated = f"{_ident('_v_' + self.feed.time_column)} IS NOT NULL"  # it picks the month
        ok = " AND ".join([r.ok for r in rules] + together + [dated])
        return f"SELECT *, coalesce({ok}, false) AS _ok FROM (SELECT {line}{raws}, {values} FROM {source})"  # noqa: S608

    def copy_sql(self, out: Path, without_later_dupes: bool = False) -> str:
        outputs = ", ".join(f"{_ident('_v_' + n)} AS {_ident(n)}" for n in self.feed.column_names)
        time = _ident("_v_" + self.feed.time_column)  # YYYYMM: a number is cheaper than a string per row
        where = "WHERE _ok AND line NOT IN (SELECT line FROM later_dupes)" if without_later_dupes else ""
        return (
            f"COPY (SELECT {outputs}, CAST({int(self.batch_id)} AS BIGINT) AS ingest_batch, "  # noqa: S608
            f"DATE '{self.data_date.isoformat()}' AS data_date, "
            f"CASE WHEN _ok THEN year({time}) * 100 + month({time}) ELSE 0 END AS month "
            f"FROM ({self.checked_sql(numbered=without_later_dupes)}) {where}) "
            f"TO {_literal(str(out))} (FORMAT parquet, PARTITION_BY (month), COMPRESSION zstd, "
            f"COMPRESSION_LEVEL 1, PARQUET_VERSION V2, FILENAME_PATTERN 'batch{int(self.batch_id)}_{{i}}', "
            "RETURN_STATS true)"
        )

    def flagged_sql(self, with_dupes: bool) -> str:
        """What the second pass keeps: the bad rows, and the good rows whose key hash was seen twice."""
        keys = "hash(" + ", ".join(_ident("_v_" + k) for k in self.feed.key) + ")"
        dupes = f" OR {keys} IN (SELECT h FROM dup_hashes)" if with_dupes else ""  # noqa: S608
        return f"SELECT * FROM ({self.checked_sql(numbered=True)}) WHERE NOT _ok{dupes}"  # noqa: S608

    def errors_sql(self) -> str:
        raws = ", ".join(_ident(n) for n in self.feed.column_names)
        errors = ", ".join(_rule(col, self.data_date).error for col in self.feed.columns)
        return f"SELECT line, {raws}, {errors} FROM flagged WHERE NOT _ok ORDER BY line LIMIT {MAX_ERRORS}"  # noqa: S608

    def later_dupes_sql(self) -> str:
        keys = [_ident("_v_" + k) for k in self.feed.key]
        shown = "".join(f", CAST({k} AS VARCHAR) AS _k{i}" for i, k in enumerate(keys))
        sums = "".join(f", {_ident('_v_' + n)} AS {_ident(n)}" for n in self.feed.sums)
        return (
            f"SELECT * FROM (SELECT line, min(line) OVER (PARTITION BY {', '.join(keys)}) AS first_line"  # noqa: S608
            f"{shown}{sums} FROM flagged WHERE _ok) WHERE line > first_line"
        )


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _match(expr: str, pattern: str) -> str:
    return f"regexp_full_match({expr}, {_literal(pattern)})"


# --- staging ---------------------------------------------------------------------------------------------


def _stage(
    con: duckdb.DuckDBPyConnection, plan: _Plan, out: Path, quarantine: bool, result: LakeResult
) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    try:
        counts = _copy(con, plan.copy_sql(out), out)
    except (duckdb.InvalidInputException, duckdb.ConversionException) as exc:  # IO errors propagate
        result.file_problem, result.errors = _read_problem(con, plan, exc)
        return
    bad = counts.pop(INVALID, 0)
    result.rows_read = bad + sum(counts.values())
    rows, keys, staged = _stats(con, plan.feed, _parquet(out), keys=True)
    result.sums_in = dict(staged)
    if bad or keys < rows:
        dupes = _duplicate_hashes(con, plan.feed, _parquet(out)) if keys < rows else 0
        later, later_sums = _diagnose(con, plan, dupes, result)
        result.sums_in = {k: _money(Decimal(v) - later_sums.get(k, 0)) for k, v in staged.items()}
        if result.rows_rejected and not quarantine:
            return
        if later:  # later copies of a key sit among the staged rows: write the batch again without them
            shutil.rmtree(out, ignore_errors=True)
            counts = _copy(con, plan.copy_sql(out, without_later_dupes=True), out)
    result.sums_out = _stats(con, plan.feed, _parquet(out))[2]
    result.rows_loaded = result.rows_read - result.rows_rejected
    result.months = sorted(m for m, n in counts.items() if n and m != INVALID)


def _copy(con: duckdb.DuckDBPyConnection, sql: str, out: Path) -> dict[str, int]:
    """Run a partitioned COPY: rows written per month. Partitions come as month=YYYYMM and are renamed
    month=YYYY-MM; the bad rows' partition (month=0) is deleted."""
    counts: dict[str, int] = {}
    for row in con.execute(sql).fetchall():  # RETURN_STATS: filename, count, ..., partition_keys
        number = int(dict(row[5] or {}).get("month", 0))
        month = f"{number // 100:04d}-{number % 100:02d}" if number else INVALID
        counts[month] = counts.get(month, 0) + int(row[1])
        if number and (out / f"month={number}").is_dir():
            os.replace(out / f"month={number}", out / f"month={month}")
    shutil.rmtree(out / "month=0", ignore_errors=True)
    return counts


def _parquet(out: Path) -> str | None:
    """A FROM-expression over the staged files, None when there are none."""
    files = sorted(str(p) for p in out.glob("month=*/*.parquet"))
    return "read_parquet([" + ", ".join(map(_literal, files)) + "])" if files else None


def _stats(
    con: duckdb.DuckDBPyConnection, feed: Feed, source: str | None, keys: bool = False
) -> tuple[int, int, dict[str, str]]:
    """Rows, distinct key hashes (when asked) and totals of the sums columns over a FROM-expression."""
    if source is None:
        return 0, 0, dict.fromkeys(feed.sums, "0.00")
    hashed = "count(DISTINCT hash(" + ", ".join(_ident(k) for k in feed.key) + "))" if keys else "0"
    totals = "".join(f", sum({_ident(name)})" for name in feed.sums)
    row = con.execute(f"SELECT count(*), {hashed}{totals} FROM {source}").fetchone() or (0, 0)  # noqa: S608
    sums = {name: _money(value) for name, value in zip(feed.sums, row[2:], strict=True)}
    return int(row[0]), int(row[1]), sums


def _duplicate_hashes(con: duckdb.DuckDBPyConnection, feed: Feed, source: str | None) -> int:
    """Key hashes seen twice among the staged rows (the second pass compares the keys themselves)."""
    keys = ", ".join(_ident(k) for k in feed.key)
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE dup_hashes AS SELECT hash({keys}) AS h FROM {source} "  # noqa: S608
        "GROUP BY h HAVING count(*) > 1"
    )
    return int(_one(con, "SELECT count(*) FROM dup_hashes"))


def _diagnose(
    con: duckdb.DuckDBPyConnection, plan: _Plan, dupes: int, result: LakeResult
) -> tuple[int, dict[str, Decimal]]:
    """The second pass, with line numbers: bad cells and later copies of a key. Fills rows_rejected and
    errors; returns the number and the totals of the later copies (they leave sums_in)."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE flagged AS {plan.flagged_sql(dupes > 0)}")
    errors: list[LakeError] = []
    names = plan.feed.column_names
    for line, *cells in con.execute(plan.errors_sql()).fetchall():  # line, the raw cells, their codes
        raws, codes = cells[: len(names)], cells[len(names) :]
        found = [
            LakeError(line, col.name, code, _message(col, code, raw), mask_cell(col, raw))
            for col, raw, code in zip(plan.feed.columns, raws, codes, strict=True)
            if code
        ]
        errors.extend(found or [LakeError(line, "", "invalid", "the row does not pass validation", "")])
    bad, later, later_sums = int(_one(con, "SELECT count(*) FROM flagged WHERE NOT _ok")), 0, {}
    if dupes:
        con.execute(f"CREATE OR REPLACE TEMP TABLE later_dupes AS {plan.later_dupes_sql()}")
        later = int(_one(con, "SELECT count(*) FROM later_dupes"))
        later_sums = {k: Decimal(v) for k, v in _stats(con, plan.feed, "later_dupes")[2].items()}
        shown = ", ".join(f"_k{i}" for i in range(len(plan.feed.key)))
        sql = f"SELECT line, first_line, {shown} FROM later_dupes ORDER BY line LIMIT {MAX_ERRORS}"  # noqa: S608
        for line, first, *key in con.execute(sql).fetchall():
            value = "|".join(
                mask_cell(plan.feed.column(k), v) for k, v in zip(plan.feed.key, key, strict=True)
            )
            message = f"the same key as line {first}"
            errors.append(LakeError(line, ",".join(plan.feed.key), "duplicate_key", message, value))
    errors.sort(key=lambda e: (e.line or 0, names.index(e.field) if e.field in names else len(names)))
    result.errors, result.rows_rejected = errors[:MAX_ERRORS], bad + later
    return later, later_sums


def _message(column: Column, code: str, raw: str | None) -> str:
    """The database feeds' wording (xiaodai.ingest.validate), which tells full-width digits from commas."""
    if code in _MESSAGES:
        return _MESSAGES[code]
    if code == "negative":
        return f"must be at least {column.min_value}"
    try:
        converter_for(column)(raw or "")
    except CellError as exc:
        return exc.message
    return f"not a valid {column.type.value}"


def _read_problem(
    con: duckdb.DuckDBPyConnection, plan: _Plan, exc: duckdb.Error
) -> tuple[tuple[str, str], list[LakeError]]:
    """The file did not parse: what is wrong with it, and its ragged records (from DuckDB's rejects)."""
    text = str(exc).strip() or type(exc).__name__
    found = re.search(r"CSV Error on Line: (\d+)", text)
    if "Invalid unicode" in text:
        where = f"line {found.group(1)}" if found else "the file"
        return ("encoding", f"{where} is not valid UTF-8; declare the real encoding (utf-8 or gbk)"), []
    if plan.kind != "csv":
        return ("unreadable", f"the Parquet file cannot be read ({text.splitlines()[0]})"), []
    try:
        con.execute(f"SELECT count(*) FROM {plan.source_sql(rejects=True)}").fetchall()  # noqa: S608
        sql = "SELECT line, min(error_type), min(csv_line) FROM reject_errors GROUP BY line ORDER BY line"
        rejects = con.execute(sql).fetchall()  # DuckDB lists a short record once per missing cell
    except duckdb.Error:
        rejects = []
    if not rejects:
        hint = "mixed line endings, or quotes" if "invalid state" in text else "its quotes"
        return ("format", f"the CSV cannot be read ({text.splitlines()[0]}); check {hint}"), []
    width = len(plan.header)
    errors = [
        LakeError(int(n), "", "column_count", f"expected {width} cells, found {_cells(raw)}", "")
        for n, _, raw in rejects[:MAX_ERRORS]
    ]
    last, kind, _ = rejects[-1]
    with open(plan.source, "rb") as handle:
        handle.seek(max(handle.seek(0, os.SEEK_END) - 1, 0))
        cut = handle.read(1) not in (b"\n", b"\r")
    if len(rejects) == 1 and cut and kind in ("MISSING COLUMNS", "UNQUOTED VALUE"):
        return (
            "truncated",
            f"the file ends in the middle of the record on line {last}; send it again",
        ), errors
    message = f"{len(rejects)} records do not have {width} cells (the first on line {rejects[0][0]})"
    return ("columns", message), errors


def _cells(record: str | None) -> int:
    return len(next(csv.reader([(record or "").strip("\r\n")]), []))


# --- the source file ------------------------------------------------------------------------------------


def _open_source(feed: Feed, path: Path, kind: str, encoding: str, batch_id: int, data_date: date) -> _Plan:
    """Read and check the header; GB18030/GBK CSV is transcoded to UTF-8 first (DuckDB reads UTF-8)."""
    chosen = "utf-8"
    if kind == "parquet":
        import pyarrow.parquet as pq

        try:
            names = list(pq.read_schema(path).names)
        except Exception as exc:  # pyarrow raises many kinds for a damaged file
            raise FileProblem("unreadable", f"the file cannot be read as Parquet ({exc})") from None
        header = [n.replace("\ufeff", "").strip() for n in names]
    else:
        if path.suffix.lower() != ".csv":  # open_table picks its reader by the suffix
            raise FileProblem("format", f"{path.name}: a CSV file is named *.csv")
        with open_table(path, encoding=encoding or None) as reader:
            header, names, chosen = list(reader.header), list(reader.header), reader.encoding
    _check_header(feed, header)
    if kind == "csv" and chosen != "utf-8":
        target = staging_root(feed.name) / f"batch{int(batch_id)}.utf8.csv"
        target.parent.mkdir(parents=True, exist_ok=True)
        _transcode(path, target, chosen)
        path = target
    return _Plan(feed, path, kind, header, names, batch_id, data_date)


def _transcode(source: Path, target: Path, encoding: str) -> None:
    """Stream `source` from `encoding` to UTF-8, 1 MiB at a time."""
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    line = 1
    with open(source, "rb") as raw, open(target, "wb") as out:
        while True:
            block = raw.read(BLOCK)
            try:
                out.write(decoder.decode(block, final=not block).encode("utf-8"))
            except UnicodeDecodeError as exc:
                target.unlink(missing_ok=True)
                line += block[: max(exc.start, 0)].count(b"\n")
                message = f"line {line} is not valid GB18030/GBK; declare the real encoding (utf-8 or gbk)"
                raise FileProblem("encoding", message, line) from None
            if not block:
                return
            line += block.count(b"\n")


def _check_header(feed: Feed, header: list[str]) -> None:
    """The database feeds' rules: no credit-bureau data (C-10), exactly the contract's columns."""
    credit = credit_data_columns(header)
    if credit:
        message = f"credit-bureau data ({', '.join(credit)}) may only come through licensed bureaus (C-10)"
        raise FileProblem("credit_data", message)
    found = {
        "missing columns": [c.name for c in feed.columns if c.name not in header and not c.may_be_absent],
        "columns not in the contract": [c for c in header if c not in feed.column_names],
        "repeated columns": sorted({c for c in header if header.count(c) > 1}),
    }
    parts = [f"{label}: {', '.join(names)}" for label, names in found.items() if names]
    if parts:
        raise FileProblem("columns", "; ".join(parts))


def _clear_staging(feed_name: str, batch_id: int) -> None:
    """Remove this batch's staging, and the debris of crashed runs (staging or spill untouched for a day)."""
    shutil.rmtree(staging_dir(feed_name, batch_id), ignore_errors=True)
    for root in (staging_root(feed_name), temp_dir()):
        for entry in root.iterdir() if root.is_dir() else ():
            if time.time() - entry.stat().st_mtime > STALE_SECONDS:
                shutil.rmtree(entry, ignore_errors=True) if entry.is_dir() else entry.unlink(missing_ok=True)


@contextmanager
def _connection(feed_name: str, batch_id: int) -> Iterator[duckdb.DuckDBPyConnection]:
    """A fresh in-memory DuckDB with bounded threads and memory, spilling under the lake's staging."""
    spill = temp_dir() / f"{feed_name}-batch{int(batch_id)}-{os.getpid()}"
    spill.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(":memory:")
    try:
        con.execute(  # preserve_insertion_order: row_number() follows the file's records
            f"SET threads={THREADS}; SET memory_limit='{MEMORY_LIMIT}'; SET preserve_insertion_order=true; "
            f"SET partitioned_write_flush_threshold={FLUSH_ROWS}; SET temp_directory={_literal(str(spill))}"
        )
        yield con
    finally:
        con.close()
        shutil.rmtree(spill, ignore_errors=True)


def _one(con: duckdb.DuckDBPyConnection, sql: str) -> Any:
    row = con.execute(sql).fetchone()
    return row[0] if row else None


def _money(value: Any) -> str:
    return str(Decimal(value or 0).quantize(Decimal("0.01")))
