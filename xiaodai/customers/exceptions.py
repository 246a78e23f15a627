from __future__ import annotations

from django.utils.translation import gettext_lazy as _

MESSAGES = {
    "reveal_forbidden": _("You may not reveal personal data."),
    "reveal_bad_field": _("That field cannot be revealed."),
    "reveal_reason_required": _("Give a reason of at least 4 characters for revealing personal data."),
    "consent_bad_channel": _("Choose a channel for a marketing consent."),
}


class CustomerError(Exception):
    """A refused customer action, with a code the UI turns into a message."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code

    @property
    def message(self) -> str:
        return str(MESSAGES.get(self.code, self.code))
