"""`xiaodai create_api_token USERNAME NAME`: issue an API token for a staff member; printed once."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from xiaodai.org.models import Staff
from xiaodai.org.services import issue_api_token


class Command(BaseCommand):
    help = "Issue an API bearer token for a staff member. Only its digest is stored: copy it now."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("name", help="what the token is for, e.g. 'CRM sync'")

    def handle(self, *args: Any, **options: Any) -> None:
        staff = Staff.objects.select_related("user").filter(user__username=options["username"]).first()
        if staff is None:
            raise CommandError(f"no staff member with username {options['username']!r}")
        if not staff.user.is_active:
            raise CommandError("that account is disabled")
        self.stdout.write(issue_api_token(None, staff, options["name"]))
