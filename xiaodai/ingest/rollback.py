"""Undoing an applied run: restore before-images, delete the rows it inserted, remove its lake files.
Runs inside the caller's transaction; children go before the rows they point at."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import connection, models

from xiaodai.customers.models import Enterprise, Tag
from xiaodai.ingest.contract import FEEDS, Target
from xiaodai.ingest.models import ImportRun, RowVersion
from xiaodai.ingest.targets import ROLLBACK_ORDER, TARGETS
from xiaodai.org.models import Staff, SubBranch, Team

_SMALL_ORDER: list[type[models.Model]] = [Enterprise, Tag, Staff, Team, SubBranch]


def undo_run(run: ImportRun) -> None:
    tables: list[type[models.Model]] = [TARGETS[name].model for name in ROLLBACK_ORDER] + _SMALL_ORDER
    for model in tables:
        _restore(run, model)
        _delete_inserted(run, model)
    _recompute_aum(run)
    remove_lake_batches(run.pk, list(run.files.values_list("feed", flat=True)))


def remove_lake_batches(run_id: int, feeds: list[str]) -> None:
    """Delete a run's Parquet files (staged or published) for those of `feeds` that go to the lake."""
    lake = [name for name in feeds if name in FEEDS and FEEDS[name].target is Target.LAKE]
    if not lake:
        return
    from xiaodai.lake.writer import remove_batch  # the lake is only needed by drops that feed it

    for name in lake:
        remove_batch(name, run_id)


def _restore(run: ImportRun, model: type[models.Model]) -> None:
    table = model._meta.db_table
    fields = {f.attname: f for f in model._meta.concrete_fields}
    for version in RowVersion.objects.filter(run=run, table=table).iterator(chunk_size=2_000):
        before = dict(version.before or {})
        tag_ids = before.pop("_tags", None)
        values = {name: fields[name].to_python(value) for name, value in before.items() if name != "id"}
        model._default_manager.filter(pk=version.row_id).update(**values)
        if tag_ids is not None:
            through = model.tags.through  # type: ignore[attr-defined]
            through.objects.filter(customer_id=version.row_id).delete()
            through.objects.bulk_create([through(customer_id=version.row_id, tag_id=t) for t in tag_ids])


def _delete_inserted(run: ImportRun, model: type[models.Model]) -> None:
    table = model._meta.db_table
    kept = 'SELECT row_id FROM ingest_rowversion WHERE run_id = %s AND "table" = %s'
    inserted = f"SELECT id FROM {table} WHERE ingest_batch = %s AND id NOT IN ({kept})"
    params: list[int | str] = [run.pk, run.pk, table]
    users: list[int] = []
    with connection.cursor() as cur:
        if table == "customers_customer":
            cur.execute(f"DELETE FROM customers_customer_tags WHERE customer_id IN ({inserted})", params)
        if model is Staff:
            cur.execute(f"SELECT user_id FROM org_staff WHERE id IN ({inserted})", params)
            users = [row[0] for row in cur.fetchall()]
        cur.execute(f"DELETE FROM {table} WHERE id IN ({inserted})", params)
    if model is Staff and users:
        User.objects.filter(pk__in=users).delete()


def _recompute_aum(run: ImportRun) -> None:
    if run.branch_id is None:
        return
    with connection.cursor() as cur:
        cur.execute(
            "UPDATE customers_customer SET aum = "
            "(SELECT COALESCE(SUM(d.balance), 0) FROM customers_deposit d "
            "WHERE d.customer_id = customers_customer.id) WHERE branch_id = %s",
            [run.branch_id],
        )
