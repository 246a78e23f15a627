"""Set-based loading of one validated database feed: stage, resolve references, classify, keep before-images,
update changed rows, insert new ones, reconcile. Runs inside the drop's transaction (the caller owns it).

Staging is a temporary table filled by `executemany` (SQLite) or `COPY` (PostgreSQL); everything after that is
SQL over whole sets, so a million rows cost a handful of statements, not a million round trips.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection
from django.db.models import NOT_PROVIDED
from django.utils import timezone

from xiaodai.customers.models import Customer
from xiaodai.ingest.contract import Feed, Type
from xiaodai.ingest.targets import Ref, TableTarget
from xiaodai.ingest.validate import RowProblem

CHUNK = 5_000
MAX_PROBLEMS = 100_000  # problems kept per check for the report; counts are always complete
_ENCODER = DjangoJSONEncoder()


class FileRefused(Exception):
    """The file cannot be loaded in reject mode: the drop is refused whole."""


@dataclass
class FeedFigures:
    loaded: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    sums_out: dict[str, str] = field(default_factory=dict)
    problems: list[RowProblem] = field(default_factory=list)


def row_hash(values: Iterable[Any]) -> str:
    """16 hex digits over the row's loaded values: equal hashes mean nothing changed."""
    text = "\x1f".join("" if v is None else str(v) for v in values)
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def _adapter(kind: Type | None) -> Any:
    """Python value -> what the raw driver stores, matching what Django itself writes for that field."""
    if connection.vendor != "sqlite":
        return None
    if kind is Type.DATETIME:
        return lambda v: None if v is None else timezone.make_naive(v, UTC).isoformat(" ")
    if kind in (Type.MONEY, Type.RATE):
        return lambda v: None if v is None else str(v)
    if kind is Type.DATE:
        return lambda v: None if v is None else v.isoformat()
    if kind is Type.BOOL:
        return lambda v: None if v is None else int(v)
    return None


class StagedFeed:
    """The temporary staging table of one feed, and the SQL that merges it into its target table."""

    def __init__(
        self, feed: Feed, target: TableTarget, *, run_id: int, data_date: date, branch_id: int
    ) -> None:
        self.feed, self.target = feed, target
        self.run_id, self.data_date, self.branch_id = run_id, data_date, branch_id
        self.name = f"stg_{feed.name}"
        self.columns = list(feed.column_names)  # all of them: skipped ones (tags) are staged, not copied
        self.index = [feed.column_names.index(c) for c in self.columns]
        model_fields = {f.column: f for f in target.model._meta.concrete_fields}
        # Optional cells the table cannot hold as NULL take the model's default ("" for text).
        self.fill: list[tuple[int, Any]] = []
        for pos, col in enumerate(self.columns):
            db_col = target.copy.get(col)
            if db_col is None:
                continue
            f = model_fields[db_col]
            if not f.null:
                default = (
                    f.get_default()
                    if f.default is not NOT_PROVIDED
                    else ("" if f.empty_strings_allowed else None)
                )
                if default is not None:
                    self.fill.append((pos, default))
        # Columns the feed does not carry (a customer's AUM comes from deposits) start at the model's default.
        written = set(target.copy.values()) | set(target.computed) | {r.db_column for r in target.refs}
        written |= {j.db_column for j in target.joined}
        written |= {"id", "ingest_batch", "data_date", "row_hash", target.branch_column, *target.timestamps}
        self.defaults = [
            (f.column, f.get_default())
            for f in target.model._meta.concrete_fields
            if f.column not in written and not f.null and f.default is not NOT_PROVIDED
        ]
        types = [feed.column(c).type for c in self.columns]
        self.adapters = [(i, a) for i, a in enumerate(_adapter(t) for t in types) if a is not None]
        self.adapters += [
            (i, _join_codes) for i, c in enumerate(self.columns) if feed.column(c).list_of_codes
        ]
        self.staged = 0
        self.deposits: StagedFeed | None = None  # customers: the drop's deposits, staged before the merge
        self.summed_early = (
            False  # deposits: new customers' AUM was summed from these rows before their checks
        )
        self.dropped = False  # rows left staging in quarantine

    def aum_from(self, deposits: StagedFeed) -> None:
        """Write new customers' AUM from the drop's staged deposits in their insert. The deposits' own merge
        still sets every AUM it touches that differs (the source of truth); this makes that a no-op on a
        first load instead of an UPDATE of every customer just inserted."""
        self.deposits = deposits
        deposits.summed_early = True
        self.defaults = [(c, v) for c, v in self.defaults if c != "aum"]

    def create(self) -> None:
        cols = ", ".join(
            f"{_q('c_' + c)} TEXT" if connection.vendor == "sqlite" else f"{_q('c_' + c)} {self._pg_type(c)}"
            for c in self.columns
        )
        computed = "".join(f", {_q('x_' + c)} TEXT" for c in self.target.computed)
        refs = "".join(f", {_q('r_' + r.db_column)} BIGINT" for r in self.target.refs)
        with connection.cursor() as cur:
            cur.execute(f"DROP TABLE IF EXISTS {self.name}")
            cur.execute(
                f"CREATE TEMPORARY TABLE {self.name} (line BIGINT, hash VARCHAR(16), {cols}{computed}{refs}, "
                "target_id BIGINT, dirty SMALLINT, bad SMALLINT)"
            )

    def _pg_type(self, column: str) -> str:
        kind = self.feed.column(column).type
        return {
            Type.MONEY: "NUMERIC(16,2)",
            Type.RATE: "NUMERIC(7,4)",
            Type.INT: "BIGINT",
            Type.DATE: "DATE",
            Type.DATETIME: "TIMESTAMPTZ",
            Type.BOOL: "BOOLEAN",
        }.get(kind, "TEXT")

    def stage(self, rows: list[tuple[int, list[Any]]]) -> None:
        """Write validated rows (line, values in contract order) to the staging table."""
        self.insert(self.prepare(rows))

    def prepare(self, rows: list[tuple[int, list[Any]]]) -> list[tuple[Any, ...]]:
        """Staging tuples for validated rows: defaults, row hash, driver-ready values, computed columns.
        Pure Python, no database: it may run in the validating process."""
        out = []
        compute = self.target.compute
        for line, values in rows:
            picked = [values[i] for i in self.index]
            for pos, default in self.fill:
                if picked[pos] is None:
                    picked[pos] = default
            h = row_hash(values)  # all contract values, the customer's tags included
            for pos, adapt in self.adapters:
                picked[pos] = adapt(picked[pos])
            extra = compute(values) if compute else ()
            out.append((line, h, *picked, *extra))
        return out

    def insert(self, out: list[tuple[Any, ...]]) -> None:
        """Write prepared tuples: COPY on PostgreSQL, executemany on SQLite."""
        width = 2 + len(self.columns) + len(self.target.computed)
        names = ["line", "hash"] + [f"c_{c}" for c in self.columns] + [f"x_{c}" for c in self.target.computed]
        raw = connection.connection
        if connection.vendor == "postgresql":
            with raw.cursor() as cur, cur.copy(f"COPY {self.name} ({', '.join(names)}) FROM STDIN") as copy:
                for row in out:
                    copy.write_row(row)
        else:
            marks = ", ".join("?" * width)
            cur = raw.cursor()
            cur.executemany(f"INSERT INTO {self.name} ({', '.join(names)}) VALUES ({marks})", out)
            cur.close()
        self.staged += len(out)

    # --- merge -------------------------------------------------------------------------------------------

    def _flag(self, cur: Any, condition: str, params: list[Any] | None = None) -> None:
        """Mark staged rows as bad in SQL: no list of lines is kept in Python, however many there are."""
        cur.execute(f"UPDATE {self.name} SET bad = 1 WHERE {condition}", params or [])

    def _problems(
        self, cur: Any, condition: str, build: Any, params: list[Any] | None = None
    ) -> list[RowProblem]:
        """The first MAX_PROBLEMS rows matching `condition`, as problems for the error report."""
        cur.execute(
            f"SELECT * FROM {self.name} s WHERE {condition} ORDER BY s.line LIMIT {MAX_PROBLEMS}",
            params or [],
        )
        names = [c[0] for c in cur.description]
        return [build(dict(zip(names, row, strict=True))) for row in cur.fetchall()]

    def bad_rows(self) -> int:
        with connection.cursor() as cur:
            cur.execute(f"SELECT COUNT(*) FROM {self.name} WHERE bad = 1")
            return int(cur.fetchone()[0])

    def drop_bad(self) -> None:
        """Quarantine: the flagged rows leave staging and are not loaded."""
        self.dropped = True
        with connection.cursor() as cur:
            cur.execute(f"DELETE FROM {self.name} WHERE bad = 1")

    def duplicates(self) -> list[RowProblem]:
        """Rows repeating a key seen on an earlier line of the file (the first occurrence stays good)."""
        keys = [f"c_{k}" for k in self.feed.key]
        group = ", ".join(_q(k) for k in keys)
        same = " AND ".join(f"s.{_q(k)} IS NOT DISTINCT FROM f.{_q(k)}" for k in keys)
        firsts = f"SELECT {group}, MIN(line) AS first FROM {self.name} GROUP BY {group} HAVING COUNT(*) > 1"
        repeated = f"SELECT s.line FROM {self.name} s JOIN ({firsts}) f ON {same} WHERE s.line <> f.first"
        key = ",".join(self.feed.key)
        with connection.cursor() as cur:
            _analyze(cur, self.name)
            self._flag(cur, f"line IN ({repeated})")
            cur.execute(
                f"SELECT s.line, f.first FROM {self.name} s JOIN ({firsts}) f ON {same} "
                f"WHERE s.line <> f.first ORDER BY s.line LIMIT {MAX_PROBLEMS}"
            )
            return [
                RowProblem(line, key, "duplicate_key", f"the same key as line {first}", "")
                for line, first in cur.fetchall()
            ]

    def _tag_codes(self) -> tuple[str, str]:
        """FROM-clause pieces that explode a staged customer's `a|b|c` tags into one row per code."""
        if connection.vendor == "postgresql":
            return "CROSS JOIN LATERAL unnest(string_to_array(s.c_tags, '|')) AS j(code)", "j.code"
        # Tag codes hold only [A-Za-z0-9_-]: safe to turn into a JSON array by text.
        return "CROSS JOIN json_each('[\"' || replace(s.c_tags, '|', '\",\"') || '\"]') AS j", "j.value"

    def unknown_tags(self) -> list[RowProblem]:
        """Customers naming a tag that is neither in the drop's tags file nor in the database."""
        codes, code = self._tag_codes()
        unknown = (
            f"SELECT s.line, {code} AS code FROM {self.name} s {codes} WHERE s.c_tags IS NOT NULL "
            f"AND s.c_tags <> '' AND NOT EXISTS (SELECT 1 FROM customers_tag tg WHERE tg.code = {code})"
        )
        with connection.cursor() as cur:
            cur.execute(f"UPDATE {self.name} SET bad = 1 WHERE line IN (SELECT u.line FROM ({unknown}) u)")
            cur.execute(f"SELECT u.line, u.code FROM ({unknown}) u ORDER BY u.line LIMIT {MAX_PROBLEMS}")
            return [
                RowProblem(
                    line,
                    "tags",
                    "unknown_reference",
                    f"tag {tag} is neither in this drop nor in the database",
                    tag,
                )
                for line, tag in cur.fetchall()
            ]

    def resolve(self) -> list[RowProblem]:
        """Turn business keys into ids; rows pointing at nothing are flagged bad."""
        problems: list[RowProblem] = []
        with connection.cursor() as cur:
            for ref in self.target.refs:
                where = " AND t.branch_id = %s" if ref.branch_scoped else ""
                params = [self.branch_id] if ref.branch_scoped else []
                source, resolved = _q("c_" + ref.column), _q("r_" + ref.db_column)
                if _joins():
                    cur.execute(
                        f"UPDATE {self.name} SET {resolved} = t.id FROM {ref.table} t "
                        f"WHERE t.{_q(ref.key)} = {self.name}.{source}{where}",
                        params,
                    )
                else:
                    cur.execute(
                        f"UPDATE {self.name} SET {resolved} = (SELECT t.id FROM {ref.table} t "
                        f"WHERE t.{_q(ref.key)} = {self.name}.{source}{where})",
                        params,
                    )
                missing = f"{source} IS NOT NULL AND {resolved} IS NULL"
                self._flag(cur, missing)
                where_known = "this branch's records" if ref.branch_scoped else "the database"

                def build(row: dict[str, Any], ref: Ref = ref, where_known: str = where_known) -> RowProblem:
                    value = row["c_" + ref.column]
                    message = f"{ref.column} {value} is neither in this drop nor in {where_known}"
                    return RowProblem(row["line"], ref.column, "unknown_reference", message, str(value))

                problems += self._problems(cur, missing, build)
            _analyze(cur, self.name)  # the references are set now: plan the matching with them
        return problems

    def _match_targets(self, cur: Any, only_new: bool = False) -> None:
        """Set each staged row's target_id to the existing row with the same natural key. With `only_new`,
        after the insert: the rows just inserted get their ids and are marked dirty in the same pass."""
        t = self.target.table
        dirty = ", dirty = 1" if only_new else ""
        if _joins():
            new = f" AND {self.name}.target_id IS NULL" if only_new else ""
            cur.execute(
                f"UPDATE {self.name} SET target_id = t.id{dirty} FROM {t} t WHERE {self._key_match('t')}{new}"
            )
        else:
            where = " WHERE target_id IS NULL" if only_new else ""
            match = f"(SELECT t.id FROM {t} t WHERE {self._key_match('t')})"
            cur.execute(f"UPDATE {self.name} SET target_id = {match}{dirty}{where}")

    def _key_match(self, alias: str) -> str:
        parts = []
        for db_col in self.target.key:
            source = self._source_of(db_col)
            parts.append(f"{alias}.{_q(db_col)} = {self.name}.{_q(source)}")
        return " AND ".join(parts)

    def _source_of(self, db_col: str) -> str:
        for ref in self.target.refs:
            if ref.db_column == db_col:
                return "r_" + ref.db_column
        for col, mapped in self.target.copy.items():
            if mapped == db_col:
                return "c_" + col
        raise KeyError(db_col)

    def foreign_rows(self) -> list[RowProblem]:
        """Match staged rows to existing ones by natural key, then find those whose key already belongs to
        another branch (compliance D-09): a drop only ever writes its own branch's records, so any such row
        refuses the whole drop, whatever the feed's bad-row mode."""
        t = self.target.table
        with connection.cursor() as cur:
            self._match_targets(cur)
        columns = {f.column for f in self.target.model._meta.concrete_fields}
        if "branch_id" in columns:
            owner = f"JOIN {t} t ON t.id = s.target_id WHERE t.branch_id <> %s"
        elif "customer_id" in columns:
            owner = (
                f"JOIN {t} t ON t.id = s.target_id JOIN customers_customer c ON c.id = t.customer_id "
                "WHERE c.branch_id <> %s"
            )
        else:
            return []
        with connection.cursor() as cur:
            cur.execute(f"SELECT s.line FROM {self.name} s {owner} ORDER BY s.line", [self.branch_id])
            message = "this key belongs to another branch's records; a drop writes only its own branch's"
            return [RowProblem(line, ",".join(self.feed.key), "other_branch", message, "") for (line,) in cur]

    def classify(self) -> tuple[int, int, int, list[RowProblem]]:
        """Count the staged good rows, matched by foreign_rows: (new, changed, unchanged, changed-evidence
        problems)."""
        t = self.target.table
        with connection.cursor() as cur:
            if self.target.immutable:
                cur.execute(
                    f"UPDATE {self.name} SET bad = 1 WHERE bad IS NULL AND target_id IN (SELECT s.target_id "
                    f"FROM {self.name} s JOIN {t} t ON t.id = s.target_id WHERE t.row_hash <> s.hash)"
                )
                message = "consent evidence cannot change; send a new record with its own time"
                problems = self._problems(
                    cur,
                    "s.bad = 1 AND s.target_id IS NOT NULL",
                    lambda row: RowProblem(row["line"], "", "immutable", message, ""),
                )
            else:
                problems = []
            cur.execute(
                f"SELECT SUM(CASE WHEN s.target_id IS NULL THEN 1 ELSE 0 END), "
                f"SUM(CASE WHEN t.row_hash <> s.hash THEN 1 ELSE 0 END), "
                f"SUM(CASE WHEN t.row_hash = s.hash THEN 1 ELSE 0 END) "
                f"FROM {self.name} s LEFT JOIN {t} t ON t.id = s.target_id WHERE s.bad IS NULL"
            )
            new, changed, same = (int(v or 0) for v in cur.fetchone())
        return new, changed, same, problems

    def mark_dirty(self) -> None:
        """Flag the existing rows that will change (before apply rewrites the hashes). New rows are flagged
        as apply matches them to their ids: one pass over the staging table fewer."""
        t = self.target.table
        with connection.cursor() as cur:
            cur.execute(
                f"UPDATE {self.name} SET dirty = 1 WHERE target_id IN (SELECT s.target_id "
                f"FROM {self.name} s JOIN {t} t ON t.id = s.target_id WHERE t.row_hash <> s.hash)"
            )
            if self.feed.name == "deposits":  # an account that changes hands lowers its former owner's AUM
                cur.execute(f"DROP TABLE IF EXISTS {self.name}_moved")
                cur.execute(
                    f"CREATE TEMPORARY TABLE {self.name}_moved AS SELECT DISTINCT t.customer_id "
                    f"FROM {t} t JOIN {self.name} s ON s.target_id = t.id "
                    "WHERE s.dirty = 1 AND t.customer_id <> s.r_customer_id"
                )

    def keep_before_images(self) -> None:
        """RowVersion rows for every row this run will change, written by the database itself (as JSON of
        the whole row), so the run can be rolled back and nothing of the rows passes through Python."""
        model, t = self.target.model, self.target.table
        changed = f"SELECT target_id FROM {self.name} WHERE dirty = 1 AND target_id IS NOT NULL"
        if connection.vendor == "postgresql":
            row = "to_jsonb(t)"
            if model is Customer:
                tags = (
                    "(SELECT COALESCE(jsonb_agg(tag_id), '[]'::jsonb) FROM customers_customer_tags "
                    "WHERE customer_id = t.id)"
                )
                row = f"to_jsonb(t) || jsonb_build_object('_tags', {tags})"
        else:
            pairs = ", ".join(f"'{f.attname}', t.{_q(f.column)}" for f in model._meta.concrete_fields)
            if model is Customer:
                pairs += (
                    ", '_tags', json((SELECT json_group_array(tag_id) FROM customers_customer_tags "
                    "WHERE customer_id = t.id))"
                )
            row = f"json_object({pairs})"
        with connection.cursor() as cur:
            cur.execute(
                f'INSERT INTO ingest_rowversion (run_id, "table", row_id, before) '
                f"SELECT %s, %s, t.id, {row} FROM {t} t WHERE t.id IN ({changed})",
                [self.run_id, t],
            )

    def apply(self) -> None:
        """Update changed rows and insert new ones, with lineage."""
        t = self.target.table
        targets = [(db_col, f"s.{_q(self._source_for_copy(db_col))}") for db_col in self._copied_db_columns()]
        targets += [(c, f"s.{_q('x_' + c)}") for c in self.target.computed]
        targets += [(r.db_column, f"s.{_q('r_' + r.db_column)}") for r in self.target.refs]
        targets += [(j.db_column, j.expr) for j in self.target.joined]
        joins = "".join(f" {j.join}" for j in self.target.joined)
        # As Django stores it: naive UTC text on SQLite (the raw driver would add "+00:00").
        now = connection.ops.adapt_datetimefield_value(timezone.now())
        lineage: list[tuple[str, Any]] = [("ingest_batch", self.run_id), ("data_date", self.data_date)]
        if self.target.branch_column:
            lineage.append((self.target.branch_column, self.branch_id))
        with connection.cursor() as cur:
            if not self.target.immutable:
                sets = ", ".join(f"{_q(col)} = {expr}" for col, expr in targets)
                sets += "".join(f", {_q(col)} = %s" for col, _ in lineage) + ", row_hash = s.hash"
                stamp = "".join(f", {_q(c)} = %s" for c in self.target.timestamps if c == "updated_at")
                params = [v for _, v in lineage] + [now for c in self.target.timestamps if c == "updated_at"]
                cur.execute(
                    f"UPDATE {t} SET {sets}{stamp} FROM {self.name} s{joins} "
                    f"WHERE s.target_id = {t}.id AND {t}.row_hash <> s.hash",
                    params,
                )
            inserted = list(targets)
            if self.deposits is not None:
                d = self.deposits.name
                joins += (
                    f" LEFT JOIN (SELECT c_customer_no AS customer_no, SUM(c_balance) AS total FROM {d} "
                    "GROUP BY c_customer_no) dep ON dep.customer_no = s.c_customer_no"
                )
                inserted.append(("aum", "COALESCE(dep.total, 0)"))
            defaults = [(c, _adapt_default(v)) for c, v in self.defaults]
            cols = [c for c, _ in inserted] + [c for c, _ in lineage] + ["row_hash"]
            cols += [*self.target.timestamps, *(c for c, _ in defaults)]
            exprs = [e for _, e in inserted] + ["%s"] * len(lineage) + ["s.hash"]
            exprs += ["%s"] * (len(self.target.timestamps) + len(defaults))
            params = [v for _, v in lineage] + [now] * len(self.target.timestamps) + [v for _, v in defaults]
            cur.execute(
                f"INSERT INTO {t} ({', '.join(_q(c) for c in cols)}) SELECT {', '.join(exprs)} "
                f"FROM {self.name} s{joins} WHERE s.target_id IS NULL ORDER BY s.line",
                params,
            )
            self._match_targets(cur, only_new=True)
            _analyze(cur, self.name)  # every row has its target now: plan the follow-ups and sums with that

    def after_apply(self) -> None:
        """Feed-specific follow-ups: customers' tags, AUM from deposits."""
        name = self.feed.name
        with connection.cursor() as cur:
            if name == "customers":
                dirty = f"SELECT target_id FROM {self.name} WHERE dirty = 1"
                cur.execute(f"DELETE FROM customers_customer_tags WHERE customer_id IN ({dirty})")
                codes, code = self._tag_codes()
                # SQLite: CROSS JOIN keeps this order, so links are written customer by customer (it would
                # otherwise scan by tag, writing the link index out of order: 5x slower).
                join = "JOIN" if connection.vendor == "postgresql" else "CROSS JOIN"
                cur.execute(
                    "INSERT INTO customers_customer_tags (customer_id, tag_id) "
                    f"SELECT s.target_id, tg.id FROM {self.name} s {codes} {join} customers_tag tg "
                    f"ON tg.code = {code} "
                    "WHERE s.dirty = 1 AND s.c_tags IS NOT NULL AND s.c_tags <> ''"
                )
            if name == "deposits":
                self._refresh_aum(cur)

    def _refresh_aum(self, cur: Any) -> None:
        """Set the AUM of the customers these deposits belong to, where it differs: the customers' insert
        already wrote the right ones for new customers."""
        total = (
            "(SELECT COALESCE(SUM(d.balance), 0) FROM customers_deposit d "
            "WHERE d.customer_id = customers_customer.id)"
        )
        if _joins():
            # One aggregate joined back, not a subquery per customer (which PostgreSQL runs row by row).
            cur.execute(
                "UPDATE customers_customer c SET aum = d.total FROM (SELECT customer_id, "
                "SUM(balance) AS total FROM customers_deposit WHERE customer_id IN "
                f"(SELECT r_customer_id FROM {self.name}) GROUP BY customer_id) d "
                "WHERE c.id = d.customer_id AND c.aum <> d.total"
            )
        else:
            cur.execute(
                f"UPDATE customers_customer SET aum = {total} "
                f"WHERE id IN (SELECT r_customer_id FROM {self.name}) AND aum <> {total}"
            )
        cur.execute(  # the former owners of accounts that changed hands (few: one by one is fine)
            f"UPDATE customers_customer SET aum = {total} "
            f"WHERE id IN (SELECT customer_id FROM {self.name}_moved) AND aum <> {total}"
        )
        if self.summed_early and self.dropped:
            # A quarantined row was in the sums the new customers were written with, and it may name a
            # customer no kept row names: set again every AUM this run wrote. Only with bad deposits.
            cur.execute(
                f"UPDATE customers_customer SET aum = {total} WHERE ingest_batch = %s AND aum <> {total}",
                [self.run_id],
            )

    def sums_staged(self) -> dict[str, str]:
        out: dict[str, str] = {}
        with connection.cursor() as cur:
            for col in self.feed.sums:
                expr = f"CAST({_q('c_' + col)} AS REAL)" if connection.vendor == "sqlite" else _q("c_" + col)
                cur.execute(f"SELECT SUM(ROUND({expr} * 100)) FROM {self.name}")
                cents = cur.fetchone()[0] or 0
                out[col] = str((Decimal(int(cents)) / 100).quantize(Decimal("0.01")))
        return out

    def _copied_db_columns(self) -> list[str]:
        return [self.target.copy[c] for c in self.columns if c in self.target.copy]

    def _source_for_copy(self, db_col: str) -> str:
        for col, mapped in self.target.copy.items():
            if mapped == db_col:
                return "c_" + col
        raise KeyError(db_col)

    def sums_out(self) -> dict[str, str]:
        """Totals of the feed's money columns over the rows the database now holds for this file."""
        out: dict[str, str] = {}
        t = self.target.table
        with connection.cursor() as cur:
            for col in self.feed.sums:
                db_col = self.target.copy.get(col)
                if db_col is None:
                    continue
                # Whole cents: exact on both engines (SQLite keeps decimals as floating point).
                cur.execute(
                    f"SELECT SUM(ROUND(t.{_q(db_col)} * 100)) FROM {t} t "
                    f"WHERE t.id IN (SELECT target_id FROM {self.name})"
                )
                cents = cur.fetchone()[0] or 0
                out[col] = str((Decimal(int(cents)) / 100).quantize(Decimal("0.01")))
        return out

    def drop(self) -> None:
        with connection.cursor() as cur:
            cur.execute(f"DROP TABLE IF EXISTS {self.name}")
            if self.feed.name == "deposits":
                cur.execute(f"DROP TABLE IF EXISTS {self.name}_moved")


def _analyze(cur: Any, table: str) -> None:
    """PostgreSQL: temporary tables get no statistics from autovacuum, and a plan made on stale ones (all
    ids NULL) runs a million-row join as nested loops."""
    if connection.vendor == "postgresql":
        cur.execute(f"ANALYZE {table}")


def _joins() -> bool:
    """PostgreSQL plans UPDATE ... FROM as a hash join; SQLite is fastest with index look-ups per row."""
    return connection.vendor == "postgresql"


def _join_codes(value: Any) -> Any:
    return "|".join(value) if value else None


def _adapt_default(value: Any) -> Any:
    if isinstance(value, Decimal) and connection.vendor == "sqlite":
        return str(value)
    return value


def _jsonable(row: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in row.items():
        if isinstance(value, (Decimal, date, datetime)):
            out[key] = _ENCODER.default(value)
        else:
            out[key] = value
    return out
