"""Reviewing a loan-use alert (C-17): post-loan staff clear it (a legitimate use) or escalate it (the loan's
purpose was breached), with a note. One review per alert, atomic and audited."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from xiaodai.audit.choices import Action
from xiaodai.audit.services import record
from xiaodai.org.models import Staff
from xiaodai.signals.choices import AlertStatus
from xiaodai.signals.exceptions import AlertError
from xiaodai.signals.models import FlowAlert

REVIEWED = (AlertStatus.CLEARED, AlertStatus.ESCALATED)
MAX_NOTE = 2000


def review_alert(alert: FlowAlert, status: str, note: str, by: Staff) -> FlowAlert:
    """Close an open alert as cleared or escalated. AlertError (nothing changes) for any other status, an
    empty or overlong note, or an alert someone has reviewed already (the row is locked, so two reviewers
    cannot both close it)."""
    if status not in REVIEWED:
        raise AlertError(_("Choose whether the use is cleared or escalated."))
    note = note.strip()
    if not note:
        raise AlertError(_("Write what you checked: a review needs a note."))
    if len(note) > MAX_NOTE:
        raise AlertError(_("The note is at most %(n)s characters.") % {"n": MAX_NOTE})
    with transaction.atomic():
        # Lock the alert row only (PostgreSQL refuses FOR UPDATE on the nullable side of a join).
        locked = (
            FlowAlert.objects.select_for_update(of=("self",)).select_related("reviewed_by").get(pk=alert.pk)
        )
        if locked.status != AlertStatus.OPEN:
            who = locked.reviewed_by.name if locked.reviewed_by else _("someone")
            raise AlertError(
                _("This alert was already reviewed by %(who)s (%(status)s); a review cannot be changed.")
                % {"who": who, "status": locked.get_status_display()}
            )
        locked.status = status
        locked.note = note
        locked.reviewed_by = by
        locked.reviewed_at = timezone.now()
        locked.save(update_fields=["status", "note", "reviewed_by", "reviewed_at"])
        # Ids and codes only: the note may name people, and the audit trail never holds personal data.
        record(
            Action.FLOW_ALERT_REVIEW,
            user=by.user,
            obj=locked,
            detail={"status": status, "kind": locked.kind, "customer": locked.customer_id},
        )
    alert.status, alert.note = locked.status, locked.note
    alert.reviewed_by, alert.reviewed_at = locked.reviewed_by, locked.reviewed_at
    return locked
