"""The audit trail: append-only, hash-chained, written once per sensitive action, readable by auditors
(compliance U-01..U-06, A-04)."""

from __future__ import annotations

import datetime as dt
import json
import logging
from typing import Any, NoReturn

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from django.utils import timezone

from tests import factories as f
from tests.conftest import Cast
from xiaodai.audit.models import AppendOnlyError, AuditEvent
from xiaodai.audit.services import record, verify_chain
from xiaodai.core.logging import JsonFormatter
from xiaodai.org.services import issue_api_token


def _events(n: int = 3) -> list[AuditEvent]:
    return [record("customer.search", username=f"u{i}", detail={"results": i}) for i in range(n)]


def _tamper(event: AuditEvent) -> None:
    with connection.cursor() as cursor:
        cursor.execute("UPDATE audit_auditevent SET reason='x' WHERE id=%s", [event.pk])


# --- append-only (U-03) ---------------------------------------------------------------------------


def test_saving_an_existing_event_is_refused(db: None) -> None:
    """U-03: no change to a written event."""
    event = record("customer.search")
    event.reason = "rewritten"
    with pytest.raises(AppendOnlyError):
        event.save()


def test_deleting_an_event_is_refused(db: None) -> None:
    with pytest.raises(AppendOnlyError):
        record("customer.search").delete()


def test_queryset_update_is_refused(db: None) -> None:
    record("customer.search")
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(action="customer.search").update(reason="x")


def test_queryset_delete_is_refused(db: None) -> None:
    record("customer.search")
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.all().delete()


def test_refused_change_leaves_the_event_as_it_was(db: None) -> None:
    event = record("customer.search", reason="original")
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.all().update(reason="x")
    assert AuditEvent.objects.get(pk=event.pk).reason == "original"


# --- hash chain (U-03) ----------------------------------------------------------------------------


def test_chain_of_several_events_verifies(db: None) -> None:
    _events(5)
    report = verify_chain()
    assert (report.ok, report.checked) == (True, 5)


def test_each_event_links_to_the_previous_one(db: None) -> None:
    first, second = _events(2)
    assert second.prev_hash == first.hash


def test_tampered_row_is_reported(db: None) -> None:
    """U-03: a row changed behind the application's back breaks the chain at that row."""
    events = _events(4)
    _tamper(events[2])
    report = verify_chain()
    assert (report.ok, report.broken_at, report.problem, report.checked) == (False, events[2].pk, "hash", 2)


def test_deleted_row_is_reported(db: None) -> None:
    events = _events(3)
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_auditevent WHERE id=%s", [events[1].pk])
    report = verify_chain()
    assert (report.ok, report.broken_at, report.problem) == (False, events[2].pk, "link")


def test_verify_command_fails_on_a_tampered_chain(db: None) -> None:
    events = _events(3)
    _tamper(events[1])
    with pytest.raises(CommandError, match=f"broken at event {events[1].pk}"):
        call_command("verify_audit")


def test_verify_command_prints_the_count_when_intact(db: None, capsys: pytest.CaptureFixture[str]) -> None:
    _events(3)
    call_command("verify_audit")
    assert "3 events" in capsys.readouterr().out


# --- what is written (U-01, U-02) -----------------------------------------------------------------


def _customer_with_contact(cast: Cast) -> Any:
    customer = cast.customers["own"]
    return customer, customer.contact_points.get().value


def test_customer_page_writes_one_view_event(cast: Cast) -> None:
    """U-01: a view of personal data is one event, naming the object."""
    customer = cast.customers["own"]
    cast.client("mgr").get(f"/customers/{customer.pk}/")
    event = AuditEvent.objects.get(action="customer.view")
    assert (event.object_type, event.object_id, event.user_id, event.role) == (
        "customers.customer",
        str(customer.pk),
        cast.user("mgr").pk,
        "loan_manager",
    )


def test_view_event_holds_no_personal_values(cast: Cast) -> None:
    """U-02: object ids, never PII values."""
    customer, phone = _customer_with_contact(cast)
    cast.client("mgr").get(f"/customers/{customer.pk}/")
    payload = AuditEvent.objects.get(action="customer.view").payload()
    for value in (customer.name, phone, phone[-4:], customer.id_number, customer.address):
        assert value not in payload


def test_view_event_carries_request_facts(cast: Cast) -> None:
    """U-02: UTC time, source IP and request id."""
    cast.client("mgr").get(f"/customers/{cast.customers['own'].pk}/", REMOTE_ADDR="10.1.2.3")
    event = AuditEvent.objects.get(action="customer.view")
    assert (event.ip, len(event.request_id)) == ("10.1.2.3", 32)
    assert event.occurred_at.utcoffset() is not None
    assert abs((timezone.now() - event.occurred_at).total_seconds()) < 60


def test_reveal_writes_one_event_with_the_reason(cast: Cast) -> None:
    """P-04: revealing is a logged action with its reason."""
    customer = cast.customers["own"]
    cast.client("mgr").post(f"/customers/{customer.pk}/reveal/", {"field": "phone", "reason": "客户来电核实"})
    event = AuditEvent.objects.get(action="customer.reveal")
    assert (event.object_id, event.reason, event.detail) == (
        str(customer.pk),
        "客户来电核实",
        {"field": "phone"},
    )


def test_revealed_value_is_not_in_the_event(cast: Cast) -> None:
    customer, phone = _customer_with_contact(cast)
    cast.client("mgr").post(f"/customers/{customer.pk}/reveal/", {"field": "phone", "reason": "客户来电核实"})
    assert phone not in AuditEvent.objects.get(action="customer.reveal").payload()


def test_refused_reveal_writes_no_event(cast: Cast) -> None:
    customer = cast.customers["own"]
    cast.client("mgr").post(f"/customers/{customer.pk}/reveal/", {"field": "phone", "reason": "x"})
    assert not AuditEvent.objects.filter(action="customer.reveal").exists()


def test_permission_denied_is_audited(cast: Cast) -> None:
    """U-01: a refused permission is one `auth.denied` event."""
    response = cast.client("mgr").get("/audit/")
    assert response.status_code == 403
    event = AuditEvent.objects.get(action="auth.denied")
    assert (event.user_id, event.outcome, event.detail) == (
        cast.user("mgr").pk,
        "denied",
        {"need": "view_audit"},
    )


def test_search_is_audited_without_the_query(cast: Cast) -> None:
    cast.client("mgr").get("/customers/", {"q": "zhangsan"})
    event = AuditEvent.objects.get(action="customer.search")
    assert "zhangsan" not in event.payload()


# --- reading the trail (A-04) ---------------------------------------------------------------------


def test_auditor_opens_the_trail(cast: Cast) -> None:
    assert cast.client("auditor").get("/audit/").status_code == 200


def test_auditor_verifies_the_chain(cast: Cast) -> None:
    client = cast.client("auditor")
    _events(2)
    written = AuditEvent.objects.count()  # the two above and the auditor's login
    response = client.post("/audit/verify/")
    assert response.status_code == 200
    assert (response.context["report"].ok, response.context["report"].checked) == (True, written)


def test_verification_is_itself_audited(cast: Cast) -> None:
    cast.client("auditor").post("/audit/verify/")
    assert AuditEvent.objects.get(action="audit.verify").outcome == "success"


def test_verify_page_shows_a_broken_chain(cast: Cast) -> None:
    events = _events(3)
    _tamper(events[1])
    response = cast.client("auditor").post("/audit/verify/")
    assert response.context["report"].broken_at == events[1].pk
    assert AuditEvent.objects.get(action="audit.verify").outcome == "failure"


def test_list_filters_by_action(cast: Cast) -> None:
    _events(2)
    record("auth.login_failed", username="someone")
    response = cast.client("auditor").get("/audit/", {"action": "auth.login_failed"})
    assert [e.action for e in response.context["page"]] == ["auth.login_failed"]


def test_list_filters_by_username(cast: Cast) -> None:
    _events(3)
    response = cast.client("auditor").get("/audit/", {"username": "u1"})
    assert [e.username for e in response.context["page"]] == ["u1"]


def test_list_filters_by_date(cast: Cast) -> None:
    client = cast.client("auditor")
    _events(2)
    today = timezone.localdate()
    written = AuditEvent.objects.count()
    assert len(client.get("/audit/", {"from": today.isoformat()}).context["page"]) == written
    tomorrow = (today + dt.timedelta(days=1)).isoformat()
    assert len(client.get("/audit/", {"from": tomorrow}).context["page"]) == 0


@pytest.mark.parametrize(
    "params",
    [
        {"from": "2026-13-45"},
        {"to": "2026-02-30"},
        {"from": "yesterday"},
        {"from": "0001-01-01"},
        {"to": "9999-12-31"},
        {"action": "no.such"},
        {"username": "a\x00b"},
        {"page": "-1"},
    ],
    ids=["month-13", "feb-30", "word", "year-1", "year-9999", "action", "nul", "page"],
)
def test_malformed_filters_are_ignored_not_500(cast: Cast, params: dict[str, str]) -> None:
    _events(2)
    client = Client(raise_request_exception=False)
    client.force_login(cast.user("auditor"))
    assert client.get("/audit/", params).status_code == 200


# --- log injection (U-06) -------------------------------------------------------------------------


def test_username_with_newline_makes_one_event(cast: Cast) -> None:
    """U-06: a forged log prefix in the username stays inside one event."""
    forged = "mgr\n2026-01-01T00:00:00 auth.login success admin"
    before = AuditEvent.objects.count()
    Client().post("/accounts/login/", {"username": forged, "password": "wrong-password-1"})
    assert AuditEvent.objects.count() == before + 1
    assert AuditEvent.objects.get(action="auth.login_failed").username == forged


def test_json_log_line_cannot_be_split(db: None) -> None:
    """U-06: structured logs encode the newline, so one record is one line."""
    line = JsonFormatter().format(
        logging.LogRecord("x", logging.INFO, __file__, 1, "user %s", ("mgr\nFAKE ENTRY",), None)
    )
    assert "\n" not in line
    assert json.loads(line)["msg"] == "user mgr\nFAKE ENTRY"


# --- fail closed (U-05) ---------------------------------------------------------------------------


def test_customer_page_fails_when_the_audit_write_fails(cast: Cast, monkeypatch: pytest.MonkeyPatch) -> None:
    """U-05: no audit, no personal data served."""
    customer = cast.customers["own"]
    client = Client(raise_request_exception=False)
    client.force_login(cast.user("mgr"))

    def broken(*args: Any, **kwargs: Any) -> NoReturn:
        raise RuntimeError("audit store down")

    monkeypatch.setattr("xiaodai.audit.services.AuditEvent.save", broken)
    response = client.get(f"/customers/{customer.pk}/")
    assert response.status_code == 500
    body = response.content.decode()
    assert customer.name not in body
    assert customer.customer_no not in body


def test_api_detail_fails_when_the_audit_write_fails(cast: Cast, monkeypatch: pytest.MonkeyPatch) -> None:
    """U-05 over the API."""
    customer = f.CustomerFactory(sub_branch=cast.sub, owner=cast.staff["mgr"], customer_no="C7777777777")
    token = issue_api_token(None, cast.staff["mgr"], "test")

    def broken(*args: Any, **kwargs: Any) -> NoReturn:
        raise RuntimeError("audit store down")

    monkeypatch.setattr("xiaodai.audit.services.AuditEvent.save", broken)
    response = Client(raise_request_exception=False).get(
        f"/api/v1/customers/{customer.pk}", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 500
    assert b"C7777777777" not in response.content
