"""`xiaodai pipeline run [--date D] [--engine duckdb|spark]`: the daily batch, in this process.

Exit 0 when the run finished and published, 1 when it failed (the previous results stay in place)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from xiaodai.pipeline import services
from xiaodai.pipeline.choices import Engine, RunStatus, Trigger
from xiaodai.pipeline.exceptions import PipelineError
from xiaodai.pipeline.models import PipelineStep


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"--date must be YYYY-MM-DD, not {text!r}") from None


class Command(BaseCommand):
    help = "Run the daily batch pipeline (resource pools) on the loaded data."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["run"])
        parser.add_argument("--date", help="data date YYYY-MM-DD (default: the latest loaded drop)")
        parser.add_argument(
            "--engine", choices=Engine.values, help="default: XIAODAI_PIPELINE_ENGINE or duckdb"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        day = _date(options["date"]) if options["date"] else None
        try:
            run = services.queue_run(data_date=day, engine=options["engine"], trigger=Trigger.CLI)
        except PipelineError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"run #{run.pk}: {run.data_date} on {run.engine}")

        def show(step: PipelineStep) -> None:
            rows = f"{step.rows:>12,} rows" if step.rows is not None else ""
            self.stdout.write(f"  {step.name:<10} {step.seconds or 0:7.2f} s {rows}")

        run = services.execute_run(run.pk, on_step=show)
        if run.status != RunStatus.DONE:
            raise CommandError(f"run #{run.pk} failed: {run.message}")
        self.stdout.write(
            self.style.SUCCESS(f"run #{run.pk} done in {run.seconds or 0:.1f} s: {run.message}")
        )
