"""`xiaodai demo`: migrate, then build the deterministic demo branch (only into an empty database).

Re-runnable: when the database already holds customers it prints the demo logins and exits 0, so
`xiaodai demo && xiaodai serve` works every time. `--reset` deletes the SQLite file first.
"""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, connections

from xiaodai.demo import DEFAULT_CUSTOMERS, DEFAULT_SEED, DEMO_PASSWORD, DemoError, build_demo, demo_logins


class Command(BaseCommand):
    help = (
        "Migrate, then build the demo branch (default 50,000 customers); --reset rebuilds a SQLite database."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--customers", type=int, default=DEFAULT_CUSTOMERS, help="number of customers")
        parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="same seed, same data")
        parser.add_argument(
            "--as-of", type=date.fromisoformat, default=None, help="business date YYYY-MM-DD (default: today)"
        )
        parser.add_argument("--reset", action="store_true", help="delete the SQLite database and rebuild it")

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.perf_counter()
        if options["customers"] < 1:
            raise CommandError("--customers must be at least 1.")
        if options["reset"]:
            self._reset_sqlite()
        call_command("migrate", interactive=False, verbosity=0)

        from xiaodai.customers.models import Customer

        existing = Customer.objects.count()
        if existing:
            self.stdout.write(
                f"The database already holds {existing:,} customers; nothing loaded "
                "(--reset rebuilds the demo)."
            )
            self._print_logins(demo_logins())
            return

        self.stdout.write(
            f"Building the demo branch: {options['customers']:,} customers, seed {options['seed']}"
        )
        try:
            result = build_demo(
                customers=options["customers"],
                seed=options["seed"],
                as_of=options["as_of"],
                progress=lambda done, total: self.stdout.write(f"customers {done}/{total}"),
            )
        except DemoError as exc:
            raise CommandError(str(exc)) from exc
        self._train_model()
        self._run_pipeline()
        self._prepare_workbench(result.as_of or date.today(), options["seed"])
        self._prepare_plans(result.as_of or date.today(), options["seed"])
        self._print_logins(result.logins)
        self.stdout.write("")
        width = max(len(name) for name in result.counts)
        for name, count in result.counts.items():
            self.stdout.write(f"  {name:<{width}}  {count:>10,}")
        self.stdout.write(
            f"as of {result.as_of}, seed {result.seed}; done in {time.perf_counter() - started:.1f}s"
        )

    def _train_model(self) -> None:
        """The demo's contact history is a year of outcomes: the product's model learns from it before the
        first run, and becomes active only if it beats rules v1 on the latest weeks."""
        from xiaodai.scoring.choices import Trigger
        from xiaodai.scoring.exceptions import ScoringError
        from xiaodai.scoring.services import train_product

        step = time.perf_counter()
        try:
            model = train_product(trigger=Trigger.DEMO)
        except ScoringError as exc:  # too small a demo to learn from: rules v1 ranks it
            self.stdout.write(f"model not trained: {exc}")
            return
        auc = model.metrics["model"]["auc"]
        self.stdout.write(
            f"model {model}: {model.get_status_display()}, holdout AUC {auc:.3f} "
            f"({time.perf_counter() - step:.1f}s)"
        )

    def _run_pipeline(self) -> None:
        """The demo opens with its pools computed, as a branch does after the nightly batch."""
        from xiaodai.pipeline.choices import RunStatus, Trigger
        from xiaodai.pipeline.services import run_pipeline

        step = time.perf_counter()
        run = run_pipeline(trigger=Trigger.CLI)
        if run.status != RunStatus.DONE:
            raise CommandError(f"the demo's pipeline run failed: {run.message}")
        self.stdout.write(f"pipeline run #{run.pk}: {run.message} ({time.perf_counter() - step:.1f}s)")

    def _prepare_workbench(self, as_of: date, seed: int) -> None:
        """Scripts approved, this week's allocation made, the last working days' calls recorded."""
        from xiaodai.demo import workbench
        from xiaodai.org.models import Branch

        step = time.perf_counter()
        for branch in Branch.objects.order_by("pk"):
            done = workbench.prepare(branch, as_of, seed)
            self.stdout.write(
                f"workbench: {done.scripts} scripts, {done.allocated:,} customers allocated "
                f"({done.held_back:,} held back as control), {done.calls:,} calls recorded "
                f"({time.perf_counter() - step:.1f}s)"
            )

    def _prepare_plans(self, as_of: date, seed: int) -> None:
        """Events held, the figures rolled up (after the workbench's calls and the events, so every figure
        counts), this month's and last month's plans with targets split down, PDCA and competitions."""
        from xiaodai.demo import plans
        from xiaodai.org.models import Branch

        step = time.perf_counter()
        for branch in Branch.objects.order_by("pk"):
            done = plans.prepare(branch, as_of, seed)
            self.stdout.write(
                f"plans: {done.events} events, {done.fact_rows:,} figure rows, {done.plans} plans with "
                f"{done.targets:,} targets, {done.findings} findings ({done.adjustments} adjustments), "
                f"{done.competitions} competitions ({time.perf_counter() - step:.1f}s)"
            )

    def _reset_sqlite(self) -> None:
        """Delete the SQLite file (and its WAL companions); the migrate that follows recreates it."""
        if connection.vendor != "sqlite":
            raise CommandError(
                "--reset only deletes a SQLite database. On PostgreSQL drop and recreate the database "
                "yourself (it may hold real data), then run `xiaodai demo` without --reset."
            )
        name = str(connection.settings_dict["NAME"])
        connections.close_all()
        if name == ":memory:" or "mode=memory" in name:
            return
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(name + suffix).unlink(missing_ok=True)
        self.stdout.write(f"Deleted {name}")

    def _print_logins(self, logins: list[tuple[str, str]]) -> None:
        if not logins:
            self.stdout.write("No demo logins in this database.")
            return
        width = max(len(label) for label, _ in logins)
        self.stdout.write("")
        self.stdout.write(f"  {'role':<{width}}  {'username':<10}  password")
        for label, username in logins:
            self.stdout.write(f"  {label:<{width}}  {username:<10}  {DEMO_PASSWORD}")
