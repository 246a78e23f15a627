"""The demo branch: `build_demo()` generates a deterministic Hangzhou branch and loads it, audited.

result = build_demo(customers=5_000)
result.logins  # [("Branch head", "head"), ...], every password DEMO_PASSWORD
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from django.db import transaction
from django.utils import timezone

from xiaodai.demo.generator import (
    DEFAULT_CUSTOMERS,
    DEFAULT_SEED,
    DEMO_PASSWORD,
    DEMO_USERNAMES,
    Drop,
    generate_drop,
)

__all__ = [
    "DEFAULT_CUSTOMERS",
    "DEFAULT_SEED",
    "DEMO_PASSWORD",
    "DEMO_USERNAMES",
    "DemoError",
    "DemoResult",
    "Drop",
    "build_demo",
    "demo_logins",
    "generate_drop",
]


class DemoError(Exception):
    """The demo cannot be loaded here (the database already holds data); the message says what to do."""


@dataclass(frozen=True)
class DemoResult:
    """What `build_demo` loaded: one login per role (role label, username) and the rows per table."""

    logins: list[tuple[str, str]]
    counts: dict[str, int] = field(default_factory=dict)
    seed: int = DEFAULT_SEED
    as_of: date | None = None


def demo_logins() -> list[tuple[str, str]]:
    """(role label, username) of the demo logins present in the database, in role order."""
    from django.contrib.auth.models import User

    from xiaodai.core.roles import Role

    present = set(
        User.objects.filter(username__in=DEMO_USERNAMES.values()).values_list("username", flat=True)
    )
    return [(str(Role(role).label), name) for role, name in DEMO_USERNAMES.items() if name in present]


def build_demo(
    customers: int = DEFAULT_CUSTOMERS,
    seed: int = DEFAULT_SEED,
    as_of: date | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> DemoResult:
    """Generate the demo branch and load it in one transaction with its audit event.

    Refuses (DemoError) when the database already holds customers or any of the demo's users or codes:
    the demo is for an empty database; reset it first (`xiaodai demo --reset`).
    """
    from django.contrib.auth.models import User

    from xiaodai.audit.choices import Action
    from xiaodai.audit.services import record
    from xiaodai.customers.models import Customer
    from xiaodai.org.models import Branch

    existing = Customer.objects.count()
    if existing:
        raise DemoError(
            f"The database already holds {existing} customers; the demo loads only into an empty database. "
            "Reset it first (xiaodai demo --reset)."
        )
    drop = generate_drop(customers=customers, seed=seed, as_of=as_of or timezone.localdate())
    taken = sorted(
        User.objects.filter(username__in=[s.username for s in drop.staff]).values_list("username", flat=True)
    )
    if taken or Branch.objects.filter(code=drop.branch.code).exists():
        what = f"users {', '.join(taken[:5])}" if taken else f"branch {drop.branch.code}"
        raise DemoError(
            f"The database already holds the demo's {what}. Reset it first (xiaodai demo --reset)."
        )
    with transaction.atomic():  # all or nothing: the bank and branch go only with their drop
        counts = _load_through_ingest(drop, progress)
        record(
            Action.DEMO_LOAD,
            object_type="demo",
            detail={"seed": seed, "as_of": drop.as_of.isoformat(), **counts},
            username="demo",
        )
    return DemoResult(logins=demo_logins(), counts=counts, seed=seed, as_of=drop.as_of)


def _load_through_ingest(drop: Drop, progress: Callable[[int, int], None] | None) -> dict[str, int]:
    """Set up the bank and branch (installation data, not part of a drop), write the drop folder, load it
    with the importer the bank's own files go through, then give the demo logins their password."""
    import tempfile
    from datetime import UTC, datetime
    from pathlib import Path

    from django.conf import settings
    from django.contrib.auth.hashers import make_password
    from django.contrib.auth.models import User

    from xiaodai.demo.dropwriter import write_drop_folder
    from xiaodai.ingest.choices import RunStatus, Trigger
    from xiaodai.ingest.services import run_ingest
    from xiaodai.org.models import Bank, Branch, Staff

    bank, _ = Bank.objects.get_or_create(code=drop.bank.code, defaults={"name": drop.bank.name})
    b = drop.branch
    Branch.objects.create(bank=bank, code=b.code, name=b.name, city=b.city)
    base = Path(settings.VAR_DIR) / "demo"
    base.mkdir(parents=True, exist_ok=True)
    _clear_lake_leftovers()
    with tempfile.TemporaryDirectory(dir=base) as tmp:
        folder = write_drop_folder(drop, Path(tmp) / f"demo-{drop.as_of:%Y%m%d}", progress)
        run = run_ingest(folder, trigger=Trigger.DEMO)
    if run.status != RunStatus.LOADED:
        first = "; ".join(f"{e.filename}:{e.line} {e.field} {e.code}" for e in run.errors.all()[:5])
        raise DemoError(f"the demo drop did not load ({run.get_status_display()}): {run.message} {first}")
    # One hash for every demo login (PBKDF2 per user would take seconds); a salt from the seed keeps the
    # stored hash the same on every run with the same seed.
    password = make_password(DEMO_PASSWORD, salt=f"xiaodaidemo{drop.seed}")
    joined = datetime(drop.as_of.year, drop.as_of.month, drop.as_of.day, tzinfo=UTC)
    users = Staff.objects.filter(employee_no__in=[s.employee_no for s in drop.staff]).values_list("user_id")
    User.objects.filter(pk__in=users).update(password=password, is_active=True, date_joined=joined)
    counts = {"banks": 1, "branches": 1, "users": len(drop.staff)}
    for f in run.files.all():
        counts[f.feed] = f.rows_loaded + f.rows_updated + f.rows_unchanged
    from xiaodai.customers.models import Customer

    counts["customer_tags"] = Customer.tags.through.objects.count()
    return counts


DEMO_LAKE_FEEDS = ("contact_history", "channel_leads", "transactions")


def _clear_lake_leftovers() -> None:
    """Remove the Parquet files of the demo's lake feeds that belong to import runs this database does not
    know. `xiaodai demo --reset` deletes the database, not the lake, and run ids start again at 1: the files
    of the earlier demo would otherwise mix into the new one (coverage and outcomes counted twice)."""
    import re

    from xiaodai.ingest.models import ImportRun
    from xiaodai.lake.paths import feed_dir
    from xiaodai.lake.writer import remove_batch

    known = set(ImportRun.objects.values_list("pk", flat=True))
    for feed in DEMO_LAKE_FEEDS:
        found = (re.match(r"batch(\d+)_", f.name) for f in feed_dir(feed).glob("month=*/*.parquet"))
        for batch in sorted({int(m.group(1)) for m in found if m} - known):
            remove_batch(feed, batch)
