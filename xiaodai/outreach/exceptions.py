from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from xiaodai.outreach.rules import Problem

MESSAGES = {
    "duplicate": _("This contact was already saved (the form was sent twice); nothing was written again."),
    "follow_up_past": _("The follow-up date is in the past: choose today or a later day."),
    "follow_up_far": _("The follow-up date is more than 180 days away."),
    "prohibited_purpose": _(
        "Consumer loans may not fund house purchases, down payments, securities or business: "
        "this referral cannot go ahead. Record the outcome without a referral, or a permitted purpose."
    ),
    "purpose_required": _("A referral needs the customer's stated loan purpose."),
    "rebuttal_without_objection": _("Choose the objection the rebuttal answered."),
    "bad_rebuttal": _("That rebuttal is not in the script version shown."),
    "bad_script": _("The script version is not an approved script of this branch."),
    "occurred_future": _("The contact time is in the future."),
    "occurred_old": _("Contacts older than 7 days cannot be logged; ask your team lead."),
    "phone_now_only": _(
        "Calls are recorded as they happen; only visits and WeChat contacts are logged later."
    ),
    "already_corrected": _("That record has already been corrected; correct the latest version instead."),
    "correct_not_yours": _("Only the person who recorded a contact, or their team lead, may correct it."),
    "bad_visit_fields": _("A visit needs the place of the visit."),
    "bad_wechat_fields": _("A WeChat contact needs its kind."),
    "bad_policy": _("Calls must end after they start."),
}


class OutreachError(Exception):
    """A refused contact or outcome, with a code for tests and the API and a message for people.
    `problems` carries the contact rules it broke (consent, opt-out, window, caps ...)."""

    def __init__(self, code: str, problems: list[Problem] | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.problems = problems or []

    @property
    def message(self) -> str:
        if self.problems:
            return " ".join(p.message for p in self.problems)
        return str(MESSAGES.get(self.code, self.code))
