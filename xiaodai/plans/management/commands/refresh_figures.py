"""`xiaodai refresh_figures [--branch CODE] [--all]`: rebuild the dashboards' figure rollup now."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from xiaodai.org.models import Branch
from xiaodai.plans import tasks


class Command(BaseCommand):
    help = "Re-count the figures behind the dashboards: the last week and 90 list days, or --all history."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--branch", help="branch code (default: every branch)")
        parser.add_argument("--all", action="store_true", help="everything from each branch's first record")

    def handle(self, *args: Any, **options: Any) -> None:
        branches = Branch.objects.order_by("code")
        if options["branch"]:
            branches = branches.filter(code=options["branch"])
            if not branches.exists():
                raise CommandError(f"no branch with code {options['branch']!r}")
        for branch in branches:
            started = time.perf_counter()
            done = tasks.rebuild(branch.pk, everything=options["all"])
            self.stdout.write(
                f"{branch.code}: days {done.days_from}..{done.days_to}, {done.fact_rows:,} figure rows, "
                f"{done.funnel_rows:,} funnel rows ({time.perf_counter() - started:.1f}s)"
            )
