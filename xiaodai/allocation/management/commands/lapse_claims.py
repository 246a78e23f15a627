"""`python manage.py lapse_claims [--date YYYY-MM-DD]`: the nightly sweep by hand (the job runs it daily)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from xiaodai.allocation.services import lapse_unworked


class Command(BaseCommand):
    help = "Lapse claims nobody contacted in time and expire assignments whose protection period is over."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--date", help="the day to sweep as (default: today in Asia/Shanghai)")

    def handle(self, *args: Any, **options: Any) -> None:
        day = None
        if options.get("date"):
            try:
                day = dt.date.fromisoformat(options["date"])
            except ValueError:
                raise CommandError(f"--date must look like 2026-11-30, not {options['date']!r}") from None
        report = lapse_unworked(day)
        lapsed, expired = report.lapsed, report.expired
        self.stdout.write(f"{report.day}: {lapsed} claims lapsed, {expired} assignments expired")
