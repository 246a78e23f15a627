"""xiaodai contract: write docs/data-contract.md from the contract in code (--check: fail if it differs)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from xiaodai.ingest.contract_doc import render_markdown


class Command(BaseCommand):
    help = "Render the data contract to docs/data-contract.md"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--check", action="store_true", help="exit 1 when the document is out of date")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(settings.BASE_DIR) / "docs" / "data-contract.md"
        text = render_markdown()
        if options["check"]:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                raise CommandError("docs/data-contract.md is out of date: run `xiaodai contract`")
            return
        path.write_text(text, encoding="utf-8")
        self.stdout.write(f"wrote {path}")
