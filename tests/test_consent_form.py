"""Recording consent on the customer page: valid evidence is stored and audited; bad input changes nothing."""

from __future__ import annotations

import pytest

from tests.conftest import Cast
from xiaodai.audit.models import AuditEvent
from xiaodai.customers.models import Consent, OptOut

GOOD = {
    "purpose": "marketing",
    "channel": "sms",
    "granted": "1",
    "source": "counter",
    "wording_version": "MKT-2026.1",
}


def _post(cast: Cast, who: str, data: dict[str, str], key: str = "own"):  # type: ignore[no-untyped-def]
    return cast.client(who).post(f"/customers/{cast.customers[key].pk}/consent/", data, follow=True)


def test_grant_is_recorded_with_collector_and_audited(cast: Cast) -> None:
    _post(cast, "mgr", GOOD)
    consent = Consent.objects.filter(customer=cast.customers["own"], channel="sms").get()
    assert (consent.granted, consent.collector, consent.wording_version) == (
        True,
        cast.staff["mgr"],
        "MKT-2026.1",
    )
    assert (
        AuditEvent.objects.filter(action="consent.record", object_id=str(cast.customers["own"].pk)).count()
        == 1
    )


def test_withdrawal_adds_an_opt_out(cast: Cast) -> None:
    _post(cast, "mgr", {**GOOD, "granted": "0", "channel": "phone"})
    assert OptOut.objects.filter(customer=cast.customers["own"], channel="phone").exists()


def test_credit_report_authorisation_has_no_channel(cast: Cast) -> None:
    _post(cast, "mgr", {**GOOD, "purpose": "credit_report", "channel": "sms"})
    assert Consent.objects.get(customer=cast.customers["own"], purpose="credit_report").channel == ""


@pytest.mark.parametrize(
    "bad",
    [
        {"channel": ""},  # marketing consent without a channel
        {"channel": "fax"},
        {"purpose": "resell"},
        {"granted": "maybe"},
        {"source": "import"},  # imports come through the data drop, not the form
        {"wording_version": ""},
        {"wording_version": "x" * 40},
        {"wording_version": "<script>"},
    ],
)
def test_bad_consent_input_changes_nothing(cast: Cast, bad: dict[str, str]) -> None:
    before = Consent.objects.count()
    response = _post(cast, "mgr", {**GOOD, **bad})
    assert response.status_code == 200
    assert Consent.objects.count() == before
    assert response.context["messages"]


def test_consent_for_customer_out_of_scope_is_404(cast: Cast) -> None:
    assert _post(cast, "mgr", GOOD, key="team").status_code == 404
