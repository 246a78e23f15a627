"""Claims, allocations and hand-offs: every write is an atomic, audited service function."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from xiaodai.allocation import choices as c
from xiaodai.allocation.models import Assignment, ClaimPolicy
from xiaodai.customers.models import Customer
from xiaodai.org.models import Staff


def claim_policy(branch_id: int) -> ClaimPolicy:
    """The branch's claim settings (created with the defaults the first time they are asked for)."""
    policy, _ = ClaimPolicy.objects.get_or_create(branch_id=branch_id)
    return policy


def touch(customer_id: int, at: dt.datetime) -> None:
    """A contact was recorded: the customer's active assignment is being worked, so it does not lapse.
    Called inside the outcome's transaction."""
    Assignment.objects.filter(customer_id=customer_id, status=c.Status.ACTIVE).update(last_contact_at=at)


def end_for_customer(customer: Customer, *, status: str, reason: str, by: Staff | None) -> int:
    """End the customer's active assignment (a refusal or an opt-out cancels the work, C-02) and clear
    who works them. Runs in the caller's transaction; returns how many assignments ended."""
    with transaction.atomic():
        ended = Assignment.objects.filter(customer=customer, status=c.Status.ACTIVE).update(
            status=status, ended_at=timezone.now(), ended_by=by, end_reason=reason[:200]
        )
        if customer.worker_id is not None:
            Customer.objects.filter(pk=customer.pk).update(worker=None)
            customer.worker = None
    return ended
