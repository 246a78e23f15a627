"""`xiaodai demo`: loads once, then only prints the logins; --reset is for SQLite only."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from xiaodai.customers.models import Customer
from xiaodai.demo import DEMO_PASSWORD

pytestmark = pytest.mark.django_db


def _run(*args: str) -> str:
    out = StringIO()
    call_command("demo", *args, stdout=out)
    return out.getvalue()


def test_builds_and_prints_progress_logins_and_counts() -> None:
    output = _run("--customers", "120", "--as-of", "2026-11-28")
    assert "customers 120/120" in output
    assert f"head        {DEMO_PASSWORD}" in output
    assert Customer.objects.count() == 120


def test_second_run_prints_the_logins_and_loads_nothing() -> None:
    _run("--customers", "120", "--as-of", "2026-11-28")
    output = _run("--customers", "500")
    assert "already holds 120 customers" in output
    assert f"manager     {DEMO_PASSWORD}" in output
    assert Customer.objects.count() == 120


def test_reset_is_refused_on_a_database_other_than_sqlite(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(connection, "vendor", "postgresql")
    with pytest.raises(CommandError, match="only deletes a SQLite database"):
        _run("--reset", "--customers", "10")
    assert not Customer.objects.exists()
