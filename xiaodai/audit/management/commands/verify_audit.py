"""`xiaodai verify_audit`: walk the audit hash chain and say where it breaks (compliance U-03)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from xiaodai.audit.services import verify_chain


class Command(BaseCommand):
    help = "Verify the audit trail's hash chain; exit 1 at the first tampered or missing event."

    def handle(self, *args: Any, **options: Any) -> None:
        report = verify_chain()
        if not report.ok:
            raise CommandError(
                f"audit chain broken at event {report.broken_at} ({report.problem}) "
                f"after {report.checked} good events"
            )
        self.stdout.write(f"audit chain intact: {report.checked} events")
