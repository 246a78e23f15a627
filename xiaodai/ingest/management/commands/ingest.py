"""xiaodai ingest DIR: load a daily data drop (or roll one back) and print the figures per file."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from xiaodai.ingest import landing, selectors, services
from xiaodai.ingest.choices import RunStatus, Trigger
from xiaodai.ingest.models import ImportRun
from xiaodai.ingest.report import report_lines

# Exit codes: 0 everything loaded (or an identical drop was already loaded), 1 failed, 2 refused,
# 3 loaded with rows quarantined.
EXIT: dict[str, int] = {
    RunStatus.LOADED: 0,
    RunStatus.DUPLICATE: 0,
    RunStatus.PARTIAL: 3,
    RunStatus.REJECTED: 2,
}


class Command(BaseCommand):
    help = "Load a drop folder through the data contract; --rollback RUN undoes a loaded run."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "folder", nargs="?", help="the drop folder (files named <feed>.csv/.xlsx/.parquet)"
        )
        parser.add_argument("--source", help="source system (default: manifest's, else 'dw')")
        parser.add_argument(
            "--date", type=date.fromisoformat, help="data date YYYY-MM-DD (default: manifest's)"
        )
        parser.add_argument("--encoding", help="CSV encoding: utf-8 or gb18030/gbk (default: detect)")
        parser.add_argument("--rollback", type=int, metavar="RUN", help="roll back an applied run by id")
        parser.add_argument(
            "--landing",
            action="store_true",
            help="take up the landing folder's complete drops now (as the five-minute job does), load them",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            if options["rollback"]:
                run = services.rollback_run(options["rollback"], by=None)
                self.stdout.write(f"run #{run.pk} rolled back")
                return
            if options["landing"]:
                self._landing()
                return
            if not options["folder"]:
                raise CommandError("give a drop folder, --landing, or --rollback RUN")
            run = services.run_ingest(
                Path(options["folder"]),
                trigger=Trigger.CLI,
                source=options["source"],
                data_date=options["date"],
                encoding=options["encoding"],
            )
        except services.IngestError as exc:
            raise CommandError(f"{exc.code}: {exc.message}") from None
        except ImportRun.DoesNotExist:
            raise CommandError(f"no import run #{options['rollback']}") from None
        self._print(run)
        code = EXIT.get(run.status, 1)
        if code:
            raise SystemExit(code)

    def _landing(self) -> None:
        done = landing.sweep()
        codes = [0]
        for run in done.duplicates:
            self._print(run)
        for queued in done.queued:
            run = services.execute_run(queued.pk)
            self._print(run)
            codes.append(EXIT.get(run.status, 1))
        for name in done.waiting:
            self.stdout.write(f"{name}: waiting for its manifest.json or .ok flag")
        for name in done.failed:
            self.stdout.write(f"{name}: not taken up (see the audit log)")
            codes.append(1)
        for alert in done.missed:
            self.stdout.write(f"MISSED: {alert.source} {alert.data_date} not delivered by the cut-off")
        if not (done.queued or done.duplicates or done.waiting or done.failed):
            self.stdout.write(f"nothing new in {landing.landing_dir()}")
        if max(codes):
            raise SystemExit(max(codes))

    def _print(self, run: ImportRun) -> None:
        self.stdout.write(f"run #{run.pk}  {run.source} {run.data_date}  {run.get_status_display()}")
        files = list(run.files.all())
        totals = selectors.run_totals(run, files)
        if totals:
            figures = f"{totals.read} rows read, {totals.new} new, {totals.updated} updated"
            rest = f"{totals.unchanged} unchanged, {totals.rejected} quarantined"
            self.stdout.write(f"  {totals.files} files: {figures}, {rest}")
        if run.message:
            self.stdout.write(f"  {run.message}")
        names = ("read", "new", "updated", "same", "rejected")
        head = f"  {'file':<24}" + "".join(f"{n:>10}" for n in names) + "  totals in = out"
        self.stdout.write(head)
        for f in files:
            sums = "; ".join(
                f"{k} {v} = {f.sums_out.get(k, '—')}" + (" ✓" if f.sums_out.get(k) == v else " ✗")
                for k, v in f.sums_in.items()
            )
            flag = "" if f.accepted else "  REFUSED: " + f.message
            self.stdout.write(
                f"  {f.filename:<24}{f.rows_read:>10}{f.rows_loaded:>10}{f.rows_updated:>10}"
                f"{f.rows_unchanged:>10}{f.rows_rejected:>10}  {sums}{flag}"
            )
        errors = run.errors.count()
        if errors:
            folder = Path(settings.VAR_DIR) / "ingest" / "reports"
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / f"run-{run.pk}-errors.csv"
            with path.open("w", encoding="utf-8", newline="") as handle:
                handle.writelines(report_lines(run))
            self.stdout.write(f"  {errors} errors: {path}")
