"""Loan-use alerts (C-17): read and reviewed by post-loan staff only; a review is final, needs a note, is
atomic and audited; every refusal changes nothing."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest

from tests import factories as f
from tests.conftest import Cast
from tests.factories_signals import FlowAlertFactory
from xiaodai.audit.choices import Action
from xiaodai.audit.models import AuditEvent
from xiaodai.signals.alerts import review_alert
from xiaodai.signals.exceptions import AlertError
from xiaodai.signals.models import FlowAlert

LIST = "/capital-flow/alerts/"
MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
ID_NUMBER = re.compile(r"(?<!\d)\d{17}[\dX](?!\d)")


def _url(alert: FlowAlert) -> str:
    return f"{LIST}{alert.pk}/"


def _snapshot(alert: FlowAlert) -> tuple[Any, ...]:
    alert.refresh_from_db()
    return (alert.status, alert.note, alert.reviewed_by_id, alert.reviewed_at)


@pytest.fixture
def alert(cast: Cast) -> FlowAlert:
    return FlowAlertFactory(customer=cast.customers["own"])


# --- who may read them ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "who", ["head", "lead", "mgr", "tele", "lobby", "corporate", "wealth", "ops", "auditor"]
)
def test_marketing_and_other_roles_cannot_read_alerts(cast: Cast, alert: FlowAlert, who: str) -> None:
    client = cast.client(who)
    assert client.get(LIST).status_code == 403
    assert client.get(_url(alert)).status_code == 403
    assert client.post(_url(alert), {"status": "cleared", "note": "看过了"}).status_code == 403
    assert _snapshot(alert)[0] == "open"


def test_another_branchs_alert_is_404(cast: Cast) -> None:
    foreign = FlowAlertFactory(customer=cast.customers["other_branch"])
    client = cast.client("postloan")
    assert client.get(_url(foreign)).status_code == 404
    assert client.post(_url(foreign), {"status": "cleared", "note": "看过了"}).status_code == 404
    assert _snapshot(foreign)[0] == "open"


def test_the_list_holds_the_branchs_alerts_only(cast: Cast, alert: FlowAlert) -> None:
    FlowAlertFactory(customer=cast.customers["other_branch"])
    response = cast.client("postloan").get(LIST)
    assert [a.pk for a in response.context["page"]] == [alert.pk]


# --- the list ---------------------------------------------------------------------------------------------


def test_open_alerts_come_first(cast: Cast) -> None:
    own = cast.customers["own"]
    cleared = FlowAlertFactory(customer=own, status="cleared", flow_on=dt.date(2026, 11, 20))
    old_open = FlowAlertFactory(customer=own, flow_on=dt.date(2026, 10, 1))
    new_open = FlowAlertFactory(customer=own, flow_on=dt.date(2026, 11, 1))
    escalated = FlowAlertFactory(customer=own, status="escalated", flow_on=dt.date(2026, 11, 25))
    pks = [a.pk for a in cast.client("postloan").get(LIST).context["page"]]
    assert pks == [new_open.pk, old_open.pk, escalated.pk, cleared.pk]


def test_filter_by_status_and_kind(cast: Cast) -> None:
    own = cast.customers["own"]
    FlowAlertFactory(customer=own)
    developer = FlowAlertFactory(customer=own, kind="developer")
    cleared = FlowAlertFactory(customer=own, status="cleared")
    client = cast.client("postloan")
    assert [a.pk for a in client.get(LIST, {"status": "cleared"}).context["page"]] == [cleared.pk]
    assert [a.pk for a in client.get(LIST, {"kind": "developer"}).context["page"]] == [developer.pk]
    assert client.get(LIST, {"kind": "bogus", "status": "x"}).context["page"].paginator.count == 3


def test_the_tabs_count_alerts_per_status(cast: Cast) -> None:
    own = cast.customers["own"]
    FlowAlertFactory.create_batch(2, customer=own)
    FlowAlertFactory(customer=own, status="escalated")
    body = cast.client("postloan").get(LIST).content.decode()
    assert 'data-testid="count-open">2<' in body
    assert 'data-testid="count-escalated">1<' in body
    assert 'data-testid="count-cleared">0<' in body


def test_alert_pages_are_masked(cast: Cast, alert: FlowAlert) -> None:
    client = cast.client("postloan")
    for url in (LIST, _url(alert)):
        body = client.get(url).content.decode()
        assert "张三" not in body
        assert "张*" in body
        assert not MOBILE.search(body)
        assert not ID_NUMBER.search(body)


def test_a_person_who_received_the_money_is_masked(cast: Cast) -> None:
    alert = FlowAlertFactory(customer=cast.customers["own"], counterparty="李建国")
    client = cast.client("postloan")
    for url in (LIST, _url(alert)):
        body = client.get(url).content.decode()
        assert "李建国" not in body
        assert "李**" in body


def test_the_detail_shows_the_transaction_facts(cast: Cast, alert: FlowAlert) -> None:
    body = cast.client("postloan").get(_url(alert)).content.decode()
    assert f"<code>{alert.txn_id}</code>" in body
    assert 'data-testid="amount">50,000.00<' in body
    assert 'data-testid="loan-amount">100,000.00<' in body
    assert 'data-testid="days-after">2<' in body
    assert "2026-11-10" in body
    assert "华泰证券股份有限公司" in body
    assert 'data-testid="review-form"' in body


# --- reviewing --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", ["cleared", "escalated"])
def test_a_review_closes_the_alert_and_is_audited(cast: Cast, alert: FlowAlert, status: str) -> None:
    response = cast.client("postloan").post(_url(alert), {"status": status, "note": "已电话核实资金用途"})
    assert response.status_code == 302
    alert.refresh_from_db()
    assert (alert.status, alert.note, alert.reviewed_by) == (
        status,
        "已电话核实资金用途",
        cast.staff["postloan"],
    )
    assert alert.reviewed_at is not None
    event = AuditEvent.objects.get(action=Action.FLOW_ALERT_REVIEW)
    assert (event.object_id, event.username, event.detail["status"]) == (str(alert.pk), "postloan", status)
    assert "已电话核实资金用途" not in str(event.detail)  # the note stays out of the trail


def test_a_reviewed_alert_shows_the_review_and_no_form(cast: Cast, alert: FlowAlert) -> None:
    client = cast.client("postloan")
    client.post(_url(alert), {"status": "escalated", "note": "资金流入股市"})
    body = client.get(_url(alert)).content.decode()
    assert 'data-testid="review-form"' not in body
    assert 'data-testid="note">资金流入股市<' in body
    assert 'data-status="escalated"' in body


def test_a_second_review_is_refused(cast: Cast, alert: FlowAlert) -> None:
    client = cast.client("postloan")
    client.post(_url(alert), {"status": "cleared", "note": "合理用途"})
    before = _snapshot(alert)
    response = client.post(_url(alert), {"status": "escalated", "note": "改主意了"})
    assert response.status_code == 400
    assert 'data-testid="form-error"' in response.content.decode()
    assert _snapshot(alert) == before
    assert AuditEvent.objects.filter(action=Action.FLOW_ALERT_REVIEW).count() == 1


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"status": "open", "note": "看过了"}, "error-status"),
        ({"status": "deleted", "note": "看过了"}, "error-status"),
        ({"note": "看过了"}, "error-status"),
        ({"status": "cleared", "note": ""}, "error-note"),
        ({"status": "cleared", "note": "   \n "}, "error-note"),
        ({"status": "cleared", "note": "长" * 2001}, "error-note"),
    ],
)
def test_a_bad_review_is_refused_on_the_page(
    cast: Cast, alert: FlowAlert, data: dict[str, str], error: str
) -> None:
    before = _snapshot(alert)
    response = cast.client("postloan").post(_url(alert), data)
    assert response.status_code == 400
    assert f'data-testid="{error}"' in response.content.decode()
    assert _snapshot(alert) == before
    assert not AuditEvent.objects.filter(action=Action.FLOW_ALERT_REVIEW).exists()


@pytest.mark.parametrize(
    ("status", "note"),
    [("open", "看过了"), ("", "看过了"), ("whatever", "看过了"), ("cleared", ""), ("escalated", " \t ")],
)
def test_the_service_refuses_a_bad_review(cast: Cast, alert: FlowAlert, status: str, note: str) -> None:
    before = _snapshot(alert)
    with pytest.raises(AlertError):
        review_alert(alert, status, note, cast.staff["postloan"])
    assert _snapshot(alert) == before
    assert not AuditEvent.objects.filter(action=Action.FLOW_ALERT_REVIEW).exists()


def test_the_service_refuses_a_review_of_a_closed_alert(cast: Cast, alert: FlowAlert) -> None:
    review_alert(alert, "cleared", "合理用途", cast.staff["postloan"])
    stale = FlowAlert.objects.get(pk=alert.pk)
    stale.status = "open"  # a reviewer who opened the page before the first review was saved
    with pytest.raises(AlertError, match="postloan"):
        review_alert(stale, "escalated", "违规", f.StaffFactory(branch=cast.branch, role="post_loan"))
    assert _snapshot(alert)[0] == "cleared"


def test_the_review_is_atomic(cast: Cast, alert: FlowAlert, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("audit store down")

    monkeypatch.setattr("xiaodai.signals.alerts.record", broken)
    before = _snapshot(alert)
    with pytest.raises(RuntimeError):
        review_alert(alert, "cleared", "合理用途", cast.staff["postloan"])
    assert _snapshot(alert) == before
