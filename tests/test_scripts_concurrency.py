"""Two versions of one script approved at the same moment: both approvals go through one after the other
(the script row is locked first), so the second retires the first and one version stays approved; the
partial unique index is never hit. PostgreSQL only: SQLite lets one writer in at a time anyway."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from tests.conftest import Cast
from tests.factories_scripts import make_version
from xiaodai.outreach import scripts as svc
from xiaodai.outreach.choices import ScriptStatus
from xiaodai.outreach.models import ScriptVersion


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite lets one writer in at a time")
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("attempt", range(3))
def test_two_approvals_of_one_script_at_once_leave_one_approved(cast: Cast, attempt: int) -> None:
    first = make_version(cast.staff["head"], status=ScriptStatus.REVIEW)
    second = make_version(cast.staff["head"], status=ScriptStatus.REVIEW, script=first.script)
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def approve(version: ScriptVersion) -> None:
        try:
            barrier.wait(timeout=10)
            svc.approve(version, cast.staff["lead"], "")
        except BaseException as exc:  # reported to the test thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=approve, args=(v,)) for v in (first, second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    statuses = sorted(first.script.versions.values_list("status", flat=True))
    assert statuses == [ScriptStatus.APPROVED, ScriptStatus.RETIRED]
