"""Writes of the workbench: recording a contact's outcome (with everything a refusal must do in the same
transaction) and editing the contact rules. Each is atomic and audited; no personal values in the audit."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from xiaodai.allocation import choices as ac
from xiaodai.allocation import services as allocation
from xiaodai.audit.choices import Action
from xiaodai.audit.choices import Outcome as AuditOutcome
from xiaodai.audit.services import record
from xiaodai.customers.choices import ConsentSource
from xiaodai.customers.models import Customer, OptOut
from xiaodai.org.models import Staff
from xiaodai.outreach import choices as c
from xiaodai.outreach import rules
from xiaodai.outreach.exceptions import OutreachError
from xiaodai.outreach.models import ContactPolicy, FollowUp, Outcome, ScriptVersion

FOLLOW_UP_HORIZON = dt.timedelta(days=180)
LATE_LOG_DAYS = 7  # visits and WeChat contacts may be logged up to a week after they happened
_SOURCE: dict[str, str] = {
    c.WorkChannel.PHONE: ConsentSource.PHONE,
    c.WorkChannel.VISIT: ConsentSource.VISIT,
    c.WorkChannel.WECHAT: ConsentSource.WECHAT,
}


@dataclass
class OutcomeInput:
    """What the outcome form (or the API) sends; the customer has been fetched through the user's scope."""

    customer: Customer
    channel: str
    outcome: str
    token: uuid.UUID
    objection: str = ""
    rebuttal: int | None = None
    purpose: str = ""
    amount: Decimal | None = None
    follow_up_on: dt.date | None = None
    notes: str = ""
    script_version_id: int | None = None
    recording_ref: str = ""
    visit_place: str = ""
    wechat_kind: str = ""
    occurred_at: dt.datetime | None = None  # visits and WeChat logged afterwards; calls are "now"
    corrects: Outcome | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def record_outcome(staff: Staff, data: OutcomeInput, *, now: dt.datetime | None = None) -> Outcome:
    """Append one contact outcome after checking the contact rules; a refusal or do-not-call, in the same
    transaction, opts the customer out, cancels every open follow-up and ends their assignment (C-02)."""
    now = now or timezone.now()
    if Outcome.objects.filter(token=data.token).exists():
        raise OutreachError("duplicate")
    if data.corrects is not None:
        return _record_correction(staff, data, now)
    occurred_at = _occurred_at(data, now)
    policy = rules.policy_for(data.customer.branch_id)
    script = _check_fields(data, now)
    try:
        with transaction.atomic():
            # Lock the customer so two people saving at once cannot both slip under a frequency cap (C-05).
            customer = Customer.objects.select_for_update().get(pk=data.customer.pk)
            problems = rules.check(customer, data.channel, occurred_at, policy=policy)
            late_log = data.occurred_at is not None
            outside = [p for p in problems if p.code == "outside_window"]
            blocking = [p for p in problems if not (late_log and p.code == "outside_window")]
            if blocking:
                raise OutreachError("rules", blocking)
            outcome = _create(staff, data, customer, occurred_at, script, outside_window=bool(outside))
            _after(staff, outcome, customer, now)
    except IntegrityError as exc:  # the same form sent twice at the same moment: the token is unique
        if Outcome.objects.filter(token=data.token).exists():
            raise OutreachError("duplicate") from exc
        raise
    return outcome


def refuse(staff: Staff, customer: Customer, error: OutreachError, *, request: Any = None) -> None:
    """Audit a refused outcome (outside the rolled-back transaction): who tried, which rules, no values."""
    record(
        Action.OUTCOME_REFUSED,
        request=request,
        user=None if request is not None else staff.user,
        obj=customer,
        outcome=AuditOutcome.DENIED,
        reason=error.code,
        detail={"rules": [p.code for p in error.problems]},
    )


def _occurred_at(data: OutcomeInput, now: dt.datetime) -> dt.datetime:
    if data.occurred_at is None:
        return now
    if data.channel == c.WorkChannel.PHONE:
        raise OutreachError("phone_now_only")
    if data.occurred_at > now + dt.timedelta(minutes=5):
        raise OutreachError("occurred_future")
    if data.occurred_at < now - dt.timedelta(days=LATE_LOG_DAYS):
        raise OutreachError("occurred_old")
    return data.occurred_at


def _check_fields(data: OutcomeInput, now: dt.datetime) -> ScriptVersion | None:
    """Checks that need no lock: dates, purpose (C-16), objection and rebuttal against the script shown."""
    today = now.astimezone(rules.local_zone()).date()
    if data.follow_up_on is not None:
        if data.follow_up_on < today:
            raise OutreachError("follow_up_past")
        if data.follow_up_on > today + FOLLOW_UP_HORIZON:
            raise OutreachError("follow_up_far")
    if data.outcome in c.REFERRALS:
        if not data.purpose:
            raise OutreachError("purpose_required")
        if data.purpose in c.PROHIBITED_PURPOSES:
            raise OutreachError("prohibited_purpose")
    if data.channel == c.WorkChannel.VISIT and not data.visit_place:
        raise OutreachError("bad_visit_fields")
    if data.channel == c.WorkChannel.WECHAT and not data.wechat_kind:
        raise OutreachError("bad_wechat_fields")
    script = None
    if data.script_version_id is not None:
        script = (
            ScriptVersion.objects.select_related("script")
            .filter(
                pk=data.script_version_id,
                script__branch_id=data.customer.branch_id,
                status__in=[c.ScriptStatus.APPROVED, c.ScriptStatus.RETIRED],
            )
            .first()
        )
        if script is None:
            raise OutreachError("bad_script")
    if data.rebuttal is not None:
        if not data.objection:
            raise OutreachError("rebuttal_without_objection")
        rebuttals = (script.objections or {}).get(data.objection, []) if script else []
        if not 0 <= data.rebuttal < len(rebuttals):
            raise OutreachError("bad_rebuttal")
    return script


def _create(
    staff: Staff,
    data: OutcomeInput,
    customer: Customer,
    occurred_at: dt.datetime,
    script: ScriptVersion | None,
    *,
    outside_window: bool,
    corrects: Outcome | None = None,
) -> Outcome:
    assignment = customer.assignments.filter(status=ac.Status.ACTIVE).first()
    return Outcome.objects.create(
        token=data.token,
        branch_id=customer.branch_id,
        customer=customer,
        staff=staff,
        team_id=staff.team_id,
        assignment=assignment,
        channel=data.channel,
        occurred_at=occurred_at,
        outcome=data.outcome,
        objection=data.objection,
        rebuttal=data.rebuttal,
        purpose=data.purpose,
        amount=data.amount,
        follow_up_on=data.follow_up_on,
        notes=data.notes[:500],
        script_version=script,
        product=script.script.product if script else "",
        apr_shown=script.apr if script else None,
        recording_ref=data.recording_ref[:100],
        visit_place=data.visit_place if data.channel == c.WorkChannel.VISIT else "",
        wechat_kind=data.wechat_kind if data.channel == c.WorkChannel.WECHAT else "",
        outside_window=outside_window,
        corrects=corrects,
    )


def _after(staff: Staff, outcome: Outcome, customer: Customer, now: dt.datetime) -> None:
    """What a saved contact changes: follow-ups, the assignment's clock, and on a refusal the opt-out."""
    # This contact is the follow-up that was due: close it (and any older one of this person's).
    today = now.astimezone(rules.local_zone()).date()
    FollowUp.objects.filter(
        customer=customer, staff=staff, status=c.FollowUpStatus.OPEN, due_on__lte=today
    ).update(status=c.FollowUpStatus.DONE, closed_by=outcome, closed_at=now)
    if outcome.follow_up_on is not None and outcome.outcome not in c.STOPS:
        FollowUp.objects.create(
            branch_id=customer.branch_id,
            customer=customer,
            staff=staff,
            channel=outcome.channel,
            due_on=outcome.follow_up_on,
            source=outcome,
        )
    allocation.touch(customer.pk, outcome.occurred_at)
    detail: dict[str, Any] = {
        "outcome_id": outcome.pk,
        "channel": outcome.channel,
        "outcome": outcome.outcome,
    }
    if outcome.outcome in c.STOPS:
        detail |= _stop(staff, outcome, customer, now)
    record(Action.OUTCOME_RECORD, user=staff.user, obj=customer, detail=detail)


def _stop(staff: Staff, outcome: Outcome, customer: Customer, now: dt.datetime) -> dict[str, Any]:
    """C-02: in the outcome's transaction, do-not-contact on every channel, no open follow-ups by anyone,
    no one working the customer."""
    opt_out = OptOut.objects.create(
        customer=customer,
        channel="",
        recorded_at=now,
        reason=f"outcome {outcome.outcome}",
        source=_SOURCE.get(outcome.channel, ConsentSource.PHONE),
        recorded_by=staff,
    )
    cancelled = FollowUp.objects.filter(customer=customer, status=c.FollowUpStatus.OPEN).update(
        status=c.FollowUpStatus.CANCELLED, closed_by=outcome, closed_at=now
    )
    ended = allocation.end_for_customer(
        customer, status=ac.Status.CANCELLED, reason=f"outcome {outcome.outcome}", by=staff
    )
    record(Action.OPT_OUT, user=staff.user, obj=customer, detail={"opt_out_id": opt_out.pk})
    return {"opt_out_id": opt_out.pk, "follow_ups_cancelled": cancelled, "assignments_ended": ended}


def _record_correction(staff: Staff, data: OutcomeInput, now: dt.datetime) -> Outcome:
    """A correction is a new record pointing at the old one (C-15); it keeps the contact's time, channel
    and customer. A correction to a refusal applies the refusal (opt-out); the reverse cannot undo one."""
    original = data.corrects
    assert original is not None
    if original.staff_id != staff.pk and not (staff.team_id and staff.team_id == original.team_id):
        raise OutreachError("correct_not_yours")
    data.channel = original.channel
    script = _check_fields(data, now)
    try:
        with transaction.atomic():
            customer = Customer.objects.select_for_update().get(pk=original.customer_id)
            if Outcome.objects.filter(corrects=original).exists():
                raise OutreachError("already_corrected")
            outcome = _create(
                staff,
                data,
                customer,
                original.occurred_at,
                script,
                outside_window=original.outside_window,
                corrects=original,
            )
            _after(staff, outcome, customer, now)
    except IntegrityError as exc:
        raise OutreachError("already_corrected") from exc
    return outcome


def update_policy(policy: ContactPolicy, by: Staff, values: dict[str, Any]) -> ContactPolicy:
    """Change a branch's contact rules: a new version, audited with before and after."""
    start = values.get("window_start", policy.window_start)
    end = values.get("window_end", policy.window_end)
    if end <= start:
        raise OutreachError("bad_policy")
    fields = [f for f in values if hasattr(policy, f)]
    before = {f: str(getattr(policy, f)) for f in fields}
    with transaction.atomic():
        for name in fields:
            setattr(policy, name, values[name])
        policy.version += 1
        policy.updated_by = by
        policy.save()
        record(
            Action.CONTACT_POLICY,
            user=by.user,
            obj=policy,
            detail={
                "version": policy.version,
                "before": before,
                "after": {f: str(values[f]) for f in fields},
            },
        )
    return policy
