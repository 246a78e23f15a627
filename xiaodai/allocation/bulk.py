"""Writing a committed bulk allocation fast: 200,000 assignments and as many customers' worker in seconds.

Not `bulk_create`: Django sizes SQLite batches for 999 parameters (about 45 rows a statement for this table)
and builds a model per row, which for 200,000 rows is most of a minute. Instead:

- SQLite: one prepared INSERT OR IGNORE run over 2,000 rows at a time (executemany), then per person an
  UPDATE of the customers' worker by primary key, 900 ids at a time.
- PostgreSQL: the picks are COPYed into a temporary table, then one INSERT ... SELECT ... ON CONFLICT DO
  NOTHING and one UPDATE ... FROM the batch's assignments.

Either way a customer who got an active assignment since the plan was read keeps it: the partial unique
index (one active assignment per customer) makes the insert skip them, and only written assignments set a
worker. Everything runs in the caller's transaction.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import connection
from django.db.models.constants import OnConflict
from django.utils import timezone

from xiaodai.allocation import choices as c
from xiaodai.allocation.models import AllocationBatch, Assignment
from xiaodai.allocation.planning import Plan
from xiaodai.customers.models import Customer

INSERT_BATCH = 2000
_ID_CHUNK = 900  # ids per UPDATE ... WHERE id IN (...), inside SQLite's oldest parameter limit
_VARYING = ("customer_id", "staff_id", "team_id", "pool", "control")
_STAGE = "allocation_picks"


def _constants(batch: AllocationBatch, protected: dt.date) -> tuple[list[Any], dict[str, Any]]:
    """The table's columns (all but the id) and every value the batch's rows share, ready for the database."""
    fields = [f for f in Assignment._meta.concrete_fields if not f.primary_key]
    template = Assignment(
        branch_id=batch.branch_id,
        kind=c.Kind.ALLOCATION,
        status=c.Status.ACTIVE,
        batch=batch,
        created_by_id=batch.created_by_id,
        created_at=timezone.now(),
        protected_until=protected,
    )
    shared = {f.attname: f.get_db_prep_save(getattr(template, f.attname), connection) for f in fields}
    return fields, shared


def _picks(plan: Plan) -> list[tuple[int, int, int | None, str, bool]]:
    """In customer-id order: in plan order (expected value) every row would land on a random page of the
    table and of each of its indexes, which on PostgreSQL costs a page read and write-back for most rows."""
    teams = plan.team_of
    return sorted((cid, sid, teams.get(sid), pool, control) for cid, sid, pool, control in plan.picks)


def write_assignments(batch: AllocationBatch, plan: Plan, protected: dt.date) -> int:
    """Insert the batch's assignments; returns how many were written."""
    fields, shared = _constants(batch, protected)
    quote = connection.ops.quote_name
    table = quote(Assignment._meta.db_table)
    columns = ", ".join(quote(f.column) for f in fields)
    insert = connection.ops.insert_statement(on_conflict=OnConflict.IGNORE)
    ignore = connection.ops.on_conflict_suffix_sql(fields, OnConflict.IGNORE, None, None)
    rows = _picks(plan)
    written = 0
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"CREATE TEMPORARY TABLE {_STAGE} (customer_id bigint, staff_id bigint, team_id bigint, "
                "pool varchar(32), control boolean) ON COMMIT DROP"
            )
            with cursor.cursor.copy(f"COPY {_STAGE} FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            select = ", ".join(f"p.{f.attname}" if f.attname in _VARYING else "%s" for f in fields)
            params = [shared[f.attname] for f in fields if f.attname not in _VARYING]
            # Names from the model's metadata and constants; every value travels as a parameter.
            sql = f"{insert} {table} ({columns}) SELECT {select} FROM {_STAGE} p {ignore}"  # noqa: S608
            cursor.execute(sql, params)
            written = cursor.rowcount
            cursor.execute(f"DROP TABLE {_STAGE}")
            return written
        names = [f.attname for f in fields]
        sql = f"{insert} {table} ({columns}) VALUES ({', '.join(['%s'] * len(fields))}) {ignore}"
        for start in range(0, len(rows), INSERT_BATCH):
            values = []
            for row in rows[start : start + INSERT_BATCH]:
                one = dict(shared)
                one.update(zip(_VARYING, row, strict=True))
                values.append([one[n] for n in names])
            cursor.executemany(sql, values)  # one prepared statement, reused
            written += cursor.rowcount
    return written


def set_workers(batch: AllocationBatch, picks: list[tuple[int, int, str, bool]] | None) -> None:
    """Who works each customer of the batch: its written assignment's staff. `picks` when every pick was
    written (SQLite then needs no read-back); None when some were lost to a concurrent claim."""
    if connection.vendor == "postgresql":
        customers = connection.ops.quote_name(Customer._meta.db_table)
        table = connection.ops.quote_name(Assignment._meta.db_table)
        with connection.cursor() as cursor:
            # In customer-id order, for the same reason as _picks.
            cursor.execute(
                f"UPDATE {customers} SET worker_id = a.staff_id FROM (SELECT customer_id, staff_id "  # noqa: S608
                f"FROM {table} WHERE batch_id = %s ORDER BY customer_id) a "
                f"WHERE a.customer_id = {customers}.id",
                [batch.pk],
            )
        return
    if picks is None:
        pairs = list(Assignment.objects.filter(batch=batch).values_list("customer_id", "staff_id"))
    else:
        pairs = [(p[0], p[1]) for p in picks]
    by_staff: dict[int, list[int]] = {}
    for customer_id, staff_id in pairs:
        by_staff.setdefault(staff_id, []).append(customer_id)
    for staff_id, ids in sorted(by_staff.items()):
        for start in range(0, len(ids), _ID_CHUNK):
            Customer.objects.filter(pk__in=ids[start : start + _ID_CHUNK]).update(worker_id=staff_id)
