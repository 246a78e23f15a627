"""Recording outcomes: C-02 (a refusal stops everything in one transaction), C-15 (append-only, corrections
point at the original), C-16 (prohibited purposes block the referral), and the form's bad inputs."""

from __future__ import annotations

import datetime as dt
import uuid
from unittest import mock

import pytest

from tests import factories as f
from tests.conftest import Cast
from tests.outreach_data import NOW, SHANGHAI, call, workable_customer
from xiaodai.audit.models import AuditEvent
from xiaodai.customers.models import Customer, ImmutableRecordError, OptOut
from xiaodai.outreach import services
from xiaodai.outreach.exceptions import OutreachError
from xiaodai.outreach.models import FollowUp, Outcome, Script, ScriptVersion


def _follow_up(customer: Customer, staff_key: str, cast: Cast, source: Outcome, days: int = 2) -> FollowUp:
    return FollowUp.objects.create(
        branch_id=customer.branch_id,
        customer=customer,
        staff=cast.staff[staff_key],
        channel="phone",
        due_on=NOW.date() + dt.timedelta(days=days),
        source=source,
    )


def _approved_script(cast: Cast) -> ScriptVersion:
    script = Script.objects.create(
        branch=cast.branch, title="通用消费贷", product="消费贷", created_by=cast.staff["lead"]
    )
    return ScriptVersion.objects.create(
        script=script,
        version=1,
        status="approved",
        opening="您好",
        selling_points="年化利率3.45%起",
        apr="3.4500",
        objections={"rate_high": ["年化利率3.45%起（单利），低于多数信用卡分期。"]},
        author=cast.staff["lead"],
        reviewer=cast.staff["head"],
    )


def test_outcome_carries_what_traceability_needs(cast: Cast) -> None:
    customer = workable_customer(cast.staff["tele"])
    script = _approved_script(cast)
    outcome = call(
        cast.staff["tele"], customer, "interested", script_version_id=script.pk, recording_ref="REC-1"
    )
    assert (outcome.staff, outcome.team, outcome.channel) == (cast.staff["tele"], cast.t1, "phone")
    assert (outcome.product, str(outcome.apr_shown), outcome.recording_ref) == ("消费贷", "3.4500", "REC-1")
    assert outcome.assignment is not None


def test_outcome_is_audited_once(cast: Cast) -> None:
    customer = workable_customer(cast.staff["tele"])
    call(cast.staff["tele"], customer, "not_now")
    assert AuditEvent.objects.filter(action="outreach.outcome", object_id=str(customer.pk)).count() == 1


def test_refusal_opts_out_and_cancels_every_open_task(cast: Cast) -> None:
    """C-02: three open follow-ups (two people), an active assignment; one refusal clears them all."""
    tele = cast.staff["tele"]
    customer = workable_customer(tele)
    first = call(tele, customer, "not_now")
    for key, days in (("tele", 2), ("tele", 5), ("lead", 3)):
        _follow_up(customer, key, cast, first, days)
    call(tele, customer, "refused", at=NOW + dt.timedelta(hours=1))
    assert FollowUp.objects.filter(customer=customer, status="open").count() == 0
    assert OptOut.objects.filter(customer=customer, channel="").count() == 1
    assert customer.assignments.get().status == "cancelled"
    assert Customer.objects.get(pk=customer.pk).worker is None


def test_refusal_failing_midway_writes_nothing(cast: Cast) -> None:
    tele = cast.staff["tele"]
    customer = workable_customer(tele)
    first = call(tele, customer, "not_now")
    _follow_up(customer, "tele", cast, first)
    with (
        mock.patch("xiaodai.allocation.services.end_for_customer", side_effect=RuntimeError("db down")),
        pytest.raises(RuntimeError),
    ):
        call(tele, customer, "do_not_call", at=NOW + dt.timedelta(hours=1))
    assert Outcome.objects.filter(customer=customer).count() == 1
    assert not OptOut.objects.filter(customer=customer).exists()
    assert FollowUp.objects.filter(customer=customer, status="open").count() == 1


def test_the_same_form_twice_is_saved_once(cast: Cast) -> None:
    customer = workable_customer(cast.staff["tele"])
    token = uuid.uuid4()
    data = services.OutcomeInput(customer=customer, channel="phone", outcome="busy", token=token)
    services.record_outcome(cast.staff["tele"], data, now=NOW)
    with pytest.raises(OutreachError) as err:
        services.record_outcome(cast.staff["tele"], data, now=NOW + dt.timedelta(seconds=1))
    assert err.value.code == "duplicate"
    assert Outcome.objects.filter(customer=customer).count() == 1


def test_outside_the_window_is_refused_and_nothing_written(cast: Cast) -> None:
    customer = workable_customer(cast.staff["tele"])
    with pytest.raises(OutreachError) as err:
        call(cast.staff["tele"], customer, "busy", at=dt.datetime(2026, 11, 30, 21, 0, tzinfo=SHANGHAI))
    assert [p.code for p in err.value.problems] == ["outside_window"]
    assert not Outcome.objects.filter(customer=customer).exists()


def test_after_an_opt_out_is_refused(cast: Cast) -> None:
    customer = workable_customer(cast.staff["tele"])
    f.OptOutFactory(customer=customer, channel="", recorded_at=NOW - dt.timedelta(days=1))
    with pytest.raises(OutreachError) as err:
        call(cast.staff["tele"], customer, "interested")
    assert "opted_out" in [p.code for p in err.value.problems]
    assert not Outcome.objects.filter(customer=customer).exists()


def test_follow_up_in_the_past_is_refused(cast: Cast) -> None:
    customer = workable_customer(cast.staff["tele"])
    with pytest.raises(OutreachError) as err:
        call(cast.staff["tele"], customer, "not_now", follow_up_on=NOW.date() - dt.timedelta(days=1))
    assert err.value.code == "follow_up_past"
    assert not Outcome.objects.filter(customer=customer).exists()


@pytest.mark.parametrize("purpose", ["down_payment", "house_purchase", "securities"])
def test_prohibited_purpose_blocks_the_referral(cast: Cast, purpose: str) -> None:
    customer = workable_customer(cast.staff["tele"])
    with pytest.raises(OutreachError) as err:
        call(cast.staff["tele"], customer, "will_apply", purpose=purpose)
    assert err.value.code == "prohibited_purpose"
    assert not Outcome.objects.filter(customer=customer).exists()


def test_prohibited_purpose_is_recorded_when_there_is_no_referral(cast: Cast) -> None:
    customer = workable_customer(cast.staff["tele"])
    outcome = call(cast.staff["tele"], customer, "not_now", purpose="down_payment")
    assert outcome.purpose == "down_payment"


def test_referral_needs_a_purpose(cast: Cast) -> None:
    customer = workable_customer(cast.staff["tele"])
    with pytest.raises(OutreachError) as err:
        call(cast.staff["tele"], customer, "applied")
    assert err.value.code == "purpose_required"


def test_rebuttal_must_exist_in_the_script_shown(cast: Cast) -> None:
    customer = workable_customer(cast.staff["tele"])
    script = _approved_script(cast)
    with pytest.raises(OutreachError) as err:
        call(
            cast.staff["tele"],
            customer,
            "not_now",
            script_version_id=script.pk,
            objection="rate_high",
            rebuttal=3,
        )
    assert err.value.code == "bad_rebuttal"


def test_draft_script_cannot_be_cited(cast: Cast) -> None:
    customer = workable_customer(cast.staff["tele"])
    script = _approved_script(cast)
    ScriptVersion.objects.filter(pk=script.pk).update(status="draft")
    with pytest.raises(OutreachError) as err:
        call(cast.staff["tele"], customer, "not_now", script_version_id=script.pk)
    assert err.value.code == "bad_script"


def test_outcomes_are_append_only(cast: Cast) -> None:
    outcome = call(cast.staff["tele"], workable_customer(cast.staff["tele"]), "busy")
    with pytest.raises(ImmutableRecordError):
        Outcome.objects.filter(pk=outcome.pk).update(outcome="applied")
    with pytest.raises(ImmutableRecordError):
        Outcome.objects.filter(pk=outcome.pk).delete()
    outcome.notes = "changed"
    with pytest.raises(ImmutableRecordError):
        outcome.save()


def test_a_correction_points_at_the_original_and_keeps_it(cast: Cast) -> None:
    tele = cast.staff["tele"]
    customer = workable_customer(tele)
    original = call(tele, customer, "busy")
    fixed = call(tele, customer, "no_answer", corrects=original, at=NOW + dt.timedelta(minutes=5))
    assert fixed.corrects == original
    assert fixed.occurred_at == original.occurred_at
    assert Outcome.objects.get(pk=original.pk).outcome == "busy"


def test_a_record_is_corrected_only_once(cast: Cast) -> None:
    tele = cast.staff["tele"]
    customer = workable_customer(tele)
    original = call(tele, customer, "busy")
    call(tele, customer, "no_answer", corrects=original)
    with pytest.raises(OutreachError) as err:
        call(tele, customer, "interested", corrects=original)
    assert err.value.code == "already_corrected"


def test_someone_else_cannot_correct_another_team_record(cast: Cast) -> None:
    customer = workable_customer(cast.staff["tele"])
    original = call(cast.staff["tele"], customer, "busy")
    with pytest.raises(OutreachError) as err:
        call(cast.staff["mgr2"], customer, "no_answer", corrects=original)
    assert err.value.code == "correct_not_yours"


def test_a_correction_is_not_a_second_contact_against_the_cap(cast: Cast) -> None:
    tele = cast.staff["tele"]
    customer = workable_customer(tele)
    original = call(tele, customer, "busy")
    call(tele, customer, "no_answer", corrects=original)
    call(tele, customer, "no_answer", at=NOW + dt.timedelta(hours=1))  # the second attempt of the day


def test_follow_up_date_creates_a_follow_up(cast: Cast) -> None:
    customer = workable_customer(cast.staff["tele"])
    call(cast.staff["tele"], customer, "not_now", follow_up_on=NOW.date() + dt.timedelta(days=3))
    due = FollowUp.objects.get(customer=customer)
    assert (due.status, due.due_on, due.staff) == (
        "open",
        NOW.date() + dt.timedelta(days=3),
        cast.staff["tele"],
    )


def test_the_next_contact_closes_the_due_follow_up(cast: Cast) -> None:
    tele = cast.staff["tele"]
    customer = workable_customer(tele)
    call(tele, customer, "not_now", follow_up_on=NOW.date() + dt.timedelta(days=1))
    call(tele, customer, "interested", at=NOW + dt.timedelta(days=1))
    assert FollowUp.objects.get(customer=customer).status == "done"


def test_visit_logged_after_the_window_is_kept_and_flagged(cast: Cast) -> None:
    customer = workable_customer(cast.staff["mgr"], channels=("visit",))
    evening = dt.datetime(2026, 11, 30, 20, 30, tzinfo=SHANGHAI)
    outcome = call(
        cast.staff["mgr"],
        customer,
        "interested",
        channel="visit",
        visit_place="home",
        occurred_at=evening,
        at=evening + dt.timedelta(hours=12),
    )
    assert outcome.outside_window is True


def test_a_call_cannot_be_backdated(cast: Cast) -> None:
    customer = workable_customer(cast.staff["tele"])
    with pytest.raises(OutreachError) as err:
        call(cast.staff["tele"], customer, "busy", occurred_at=NOW - dt.timedelta(hours=1))
    assert err.value.code == "phone_now_only"


def test_visit_needs_its_place(cast: Cast) -> None:
    customer = workable_customer(cast.staff["mgr"], channels=("visit",))
    with pytest.raises(OutreachError) as err:
        call(cast.staff["mgr"], customer, "interested", channel="visit")
    assert err.value.code == "bad_visit_fields"


def test_wechat_contact_needs_consent_on_wechat(cast: Cast) -> None:
    customer = workable_customer(cast.staff["tele"])  # phone consent only
    with pytest.raises(OutreachError) as err:
        call(cast.staff["tele"], customer, "interested", channel="wechat", wechat_kind="chat")
    assert "no_consent" in [p.code for p in err.value.problems]


def test_recording_touches_the_assignment(cast: Cast) -> None:
    customer = workable_customer(cast.staff["tele"])
    call(cast.staff["tele"], customer, "busy")
    assert customer.assignments.get().last_contact_at == NOW
