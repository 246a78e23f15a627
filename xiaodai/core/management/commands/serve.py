"""`xiaodai serve`: migrate, collect static files and serve the product with waitress."""

from __future__ import annotations

from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Serve xiaodai on HOST:PORT (default 127.0.0.1:8000) with the waitress WSGI server."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--threads", type=int, default=8)

    def handle(self, *args: Any, **options: Any) -> None:
        import waitress

        from config.wsgi import application

        call_command("migrate", interactive=False, verbosity=0)
        self.stdout.write(f"xiaodai on http://{options['host']}:{options['port']}/  (Ctrl+C to stop)")
        waitress.serve(application, host=options["host"], port=options["port"], threads=options["threads"])
