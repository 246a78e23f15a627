"""Coded refusals of the allocation app: the code is stable (API, tests), the message is for people."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext_lazy as _

MESSAGES: dict[str, Any] = {
    # claims, one customer at a time (the per-id results of a claim)
    "not_found": _("Not in a pool you can claim from."),
    "other_sub_branch": _("Belongs to another sub-branch."),
    "owned": _("Has an owner: only the owner may claim this customer."),
    "already_yours": _("You already work this customer."),
    "taken": _("Already claimed by someone else."),
    "not_workable": _("Not workable: blocked in the pool run or flagged vulnerable."),
    "opted_out": _("The customer opted out of all contact."),
    "limit": _("You reached the most open claims allowed (%(limit)s)."),
    # whole requests
    "forbidden": _("You may not do this."),
    "no_customers": _("Choose at least one customer."),
    "too_many": _("Claim at most %(limit)s customers at once."),
    "not_active": _("This assignment has already ended."),
    "note_required": _("Write a hand-off note for the follow-up person."),
    "deadline_required": _("Set a deadline for the follow-up."),
    "deadline_past": _("The deadline cannot be in the past."),
    "bad_receiver": _("Hand over to an active colleague of your branch who works call lists."),
    "same_receiver": _("This person already works the customer."),
    "control_customer": _("A control-group customer is held back and cannot be handed over."),
    "nothing_to_hand_off": _("None of this enterprise's customers is being worked by you or your team."),
    "no_targets": _("Choose at least one person or team to allocate to."),
    "bad_target": _("You may not allocate to %(name)s."),
    "over_capacity": _("Over capacity, nothing was allocated: %(who)s."),
    "nothing_to_allocate": _("Nothing to allocate: no customer matches these settings."),
    "bad_policy": _("These claim settings are not valid: %(detail)s"),
    "lapse_longer": _("The lapse period cannot be longer than the protection period."),
}


@dataclass(frozen=True)
class Over:
    """One person a bulk allocation would give more than their capacity."""

    name: str
    assigned: int  # what they would work: their open assignments and this allocation's
    capacity: int

    @property
    def over(self) -> int:
        return self.assigned - self.capacity

    def __str__(self) -> str:
        return str(
            _("%(name)s over capacity by %(over)s (%(assigned)s assigned / capacity %(capacity)s)")
            % {"name": self.name, "over": self.over, "assigned": self.assigned, "capacity": self.capacity}
        )


class AllocationError(Exception):
    """A refused claim, allocation, hand-off or settings change, with a code and the message's values."""

    def __init__(self, code: str, **params: Any) -> None:
        super().__init__(code)
        self.code = code
        self.params = params

    @property
    def message(self) -> str:
        text = MESSAGES.get(self.code, self.code)
        return str(text % self.params) if self.params else str(text)


class OverCapacity(AllocationError):
    """A bulk allocation that would put people over their capacity: names each and by how much."""

    def __init__(self, over: list[Over]) -> None:
        super().__init__("over_capacity", who="; ".join(str(o) for o in over))
        self.over = over


def result_message(code: str, **params: Any) -> str:
    """The message of a per-customer claim result."""
    text = MESSAGES.get(code, code)
    return str(text % params) if params else str(text)
