"""Consent evidence and opt-outs: immutable, recorded atomically with their audit events, and read back as
the current state per channel (compliance C-01, C-02, C-07)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import models
from django.http import HttpRequest
from django.test import Client, RequestFactory
from django.utils import timezone

from tests import factories as f
from tests.conftest import Cast
from xiaodai.audit.models import AuditEvent
from xiaodai.customers import services
from xiaodai.customers.models import Consent, Customer, ImmutableRecordError, OptOut
from xiaodai.customers.selectors import ChannelConsent, consent_state
from xiaodai.org.services import issue_api_token

IMMUTABLE: list[type[models.Model]] = [Consent, OptOut]


def _make(model: type[models.Model], customer: Customer) -> Any:
    factory = f.ConsentFactory if model is Consent else f.OptOutFactory
    return factory(customer=customer)


def _request(cast: Cast, who: str = "mgr") -> HttpRequest:
    request = RequestFactory().post("/")
    request.user = cast.user(who)
    return request


def _withdraw(cast: Cast, customer: Customer) -> Consent:
    return services.record_consent(
        _request(cast),
        customer,
        purpose="marketing",
        channel="phone",
        granted=False,
        source="phone",
        wording_version="MKT-2026.1",
    )


def _phone(customer: Customer) -> ChannelConsent:
    return next(s for s in consent_state(customer) if (s.purpose, s.channel) == ("marketing", "phone"))


# --- immutability (C-07) --------------------------------------------------------------------------


@pytest.mark.parametrize("model", IMMUTABLE)
def test_saving_an_existing_record_is_refused(cast: Cast, model: type[models.Model]) -> None:
    """C-07: consent evidence and opt-outs are never edited."""
    row = _make(model, cast.customers["own"])
    with pytest.raises(ImmutableRecordError):
        row.save()


@pytest.mark.parametrize("model", IMMUTABLE)
def test_deleting_a_record_is_refused(cast: Cast, model: type[models.Model]) -> None:
    """C-07: never physically deleted."""
    row = _make(model, cast.customers["own"])
    with pytest.raises(ImmutableRecordError):
        row.delete()


@pytest.mark.parametrize("model", IMMUTABLE)
def test_queryset_update_is_refused(cast: Cast, model: type[models.Model]) -> None:
    _make(model, cast.customers["own"])
    with pytest.raises(ImmutableRecordError):
        model.objects.all().update(recorded_at=timezone.now())  # type: ignore[attr-defined]


@pytest.mark.parametrize("model", IMMUTABLE)
def test_queryset_delete_is_refused(cast: Cast, model: type[models.Model]) -> None:
    _make(model, cast.customers["own"])
    with pytest.raises(ImmutableRecordError):
        model.objects.all().delete()  # type: ignore[attr-defined]


def test_customer_with_consent_history_cannot_be_deleted(cast: Cast) -> None:
    """C-07: evidence is kept while referenced; deleting the customer would cascade it away."""
    with pytest.raises(models.ProtectedError):
        cast.customers["own"].delete()


# --- recording (C-02) -----------------------------------------------------------------------------


def test_withdrawal_is_stored_with_its_evidence(cast: Cast) -> None:
    consent = _withdraw(cast, cast.customers["own"])
    stored = Consent.objects.get(pk=consent.pk)
    assert (stored.granted, stored.channel, stored.collector, stored.collector_branch) == (
        False,
        "phone",
        cast.staff["mgr"],
        cast.sub,
    )


def test_marketing_withdrawal_adds_an_opt_out(cast: Cast) -> None:
    """C-02: withdrawing marketing consent stops contact on that channel."""
    consent = _withdraw(cast, cast.customers["own"])
    opt_out = OptOut.objects.get(customer=cast.customers["own"])
    assert (opt_out.channel, opt_out.recorded_at, opt_out.recorded_by) == (
        "phone",
        consent.recorded_at,
        cast.staff["mgr"],
    )


def test_withdrawal_writes_a_consent_and_an_opt_out_event(cast: Cast) -> None:
    """U-01: consent/DNC change is audited, with ids only."""
    customer = cast.customers["own"]
    _withdraw(cast, customer)
    events = AuditEvent.objects.filter(object_id=str(customer.pk)).order_by("id")
    assert [e.action for e in events] == ["consent.record", "consent.opt_out"]


def test_withdrawal_is_all_or_nothing(cast: Cast, monkeypatch: pytest.MonkeyPatch) -> None:
    """C-02: if any part fails (here the opt-out's audit event), nothing of the withdrawal is kept."""
    real_record = services.record

    def failing_on_opt_out(action: str, **kwargs: Any) -> Any:
        if action == "consent.opt_out":
            raise RuntimeError("audit store down")
        return real_record(action, **kwargs)

    monkeypatch.setattr(services, "record", failing_on_opt_out)
    customer = cast.customers["own"]
    before = (Consent.objects.count(), OptOut.objects.count(), AuditEvent.objects.count())
    with pytest.raises(RuntimeError):
        _withdraw(cast, customer)
    assert (Consent.objects.count(), OptOut.objects.count(), AuditEvent.objects.count()) == before


def test_grant_adds_no_opt_out(cast: Cast) -> None:
    services.record_consent(
        _request(cast),
        cast.customers["own"],
        purpose="marketing",
        channel="sms",
        granted=True,
        source="counter",
        wording_version="MKT-2026.1",
    )
    assert not OptOut.objects.exists()


# --- current state (C-01) -------------------------------------------------------------------------


def test_grant_is_active(cast: Cast) -> None:
    assert _phone(cast.customers["own"]).active


def test_grant_then_withdrawal_is_not_active(cast: Cast) -> None:
    """C-01: the latest record per channel wins."""
    customer = cast.customers["own"]
    _withdraw(cast, customer)
    assert not _phone(customer).active


def test_withdrawal_then_new_grant_is_active(cast: Cast) -> None:
    customer = cast.customers["own"]
    f.ConsentFactory(customer=customer, granted=False, recorded_at=timezone.now() - dt.timedelta(days=2))
    f.ConsentFactory(customer=customer, granted=True, recorded_at=timezone.now() - dt.timedelta(days=1))
    assert _phone(customer).active


def test_expired_grant_is_not_active(cast: Cast) -> None:
    """C-01: an expired consent counts as none."""
    customer = cast.customers["own"]
    f.ConsentFactory(customer=customer, recorded_at=timezone.now(), expires_at=timezone.now())
    state = _phone(customer)
    assert (state.granted, state.expired, state.active) == (True, True, False)


def test_withdrawal_on_one_channel_leaves_another(cast: Cast) -> None:
    customer = cast.customers["own"]
    f.ConsentFactory(customer=customer, channel="sms")
    _withdraw(cast, customer)
    sms = next(s for s in consent_state(customer) if s.channel == "sms")
    assert sms.active


def test_opt_out_on_a_channel_overrides_its_consent(cast: Cast) -> None:
    """C-02: do-not-contact wins over a consent that is still on record."""
    customer = cast.customers["own"]  # has phone consent from the cast
    f.OptOutFactory(customer=customer, channel="phone")
    state = _phone(customer)
    assert (state.granted, state.opted_out, state.active) == (True, True, False)


def test_opt_out_of_all_channels_blocks_every_marketing_channel(cast: Cast) -> None:
    customer = cast.customers["own"]
    f.ConsentFactory(customer=customer, channel="sms")
    f.OptOutFactory(customer=customer, channel="")
    marketing = [s for s in consent_state(customer) if s.purpose == "marketing"]
    assert marketing
    assert not any(s.active for s in marketing)


def test_consent_state_shows_the_channel_label(cast: Cast) -> None:
    assert str(_phone(cast.customers["own"]).channel_label) != "phone"


def test_no_record_is_not_active(cast: Cast) -> None:
    customer = f.CustomerFactory(sub_branch=cast.sub, owner=cast.staff["mgr"])
    assert not any(s.active for s in consent_state(customer))


# --- the list filter (C-01) -----------------------------------------------------------------------


@pytest.fixture
def consent_mix(cast: Cast) -> dict[str, Customer]:
    """Branch-A customers in each consent state; all but 'granted' have no active phone consent."""
    now = timezone.now()
    mix = {"granted": cast.customers["own"]}
    mix["withdrawn"] = cast.customers["team"]
    f.ConsentFactory(customer=mix["withdrawn"], granted=False, recorded_at=now)
    mix["opted_out"] = cast.customers["other_team"]
    f.OptOutFactory(customer=mix["opted_out"], channel="")  # all channels, consent left in place
    mix["expired"] = f.CustomerFactory(sub_branch=cast.sub, owner=cast.staff["mgr"])
    f.ConsentFactory(customer=mix["expired"], expires_at=now - dt.timedelta(days=1))
    mix["sms_only"] = f.CustomerFactory(sub_branch=cast.sub, owner=cast.staff["mgr"])
    f.ConsentFactory(customer=mix["sms_only"], channel="sms")
    mix["none"] = f.CustomerFactory(sub_branch=cast.sub, owner=cast.staff["mgr"])
    return mix


def _listed(cast: Cast, phone_consent: str) -> set[int]:
    response = cast.client("head").get("/customers/", {"phone_consent": phone_consent})
    return {c.pk for c in response.context["page"]}


def test_phone_consent_yes_lists_only_active_phone_consent(
    cast: Cast, consent_mix: dict[str, Customer]
) -> None:
    """C-01: only an active, channel-specific consent without an opt-out qualifies."""
    assert _listed(cast, "yes") == {consent_mix["granted"].pk}


def test_phone_consent_no_lists_everyone_else(cast: Cast, consent_mix: dict[str, Customer]) -> None:
    expected = {c.pk for k, c in consent_mix.items() if k != "granted"}
    assert _listed(cast, "no") == expected


def test_phone_consent_filter_keeps_the_scope(cast: Cast) -> None:
    """A-02: the other branch's consented customer never appears."""
    assert cast.customers["other_branch"].pk not in _listed(cast, "yes")


def test_phone_consent_filter_through_the_api(cast: Cast, consent_mix: dict[str, Customer]) -> None:
    token = issue_api_token(None, cast.staff["head"], "test")
    body = (
        Client()
        .get("/api/v1/customers", {"phone_consent": "yes"}, headers={"Authorization": f"Bearer {token}"})
        .json()
    )
    assert [row["id"] for row in body["results"]] == [consent_mix["granted"].pk]
