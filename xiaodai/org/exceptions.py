from __future__ import annotations

from django.utils.translation import gettext_lazy as _

MESSAGES = {
    "username_taken": _("That username is already in use."),
    "employee_no_taken": _("That employee number is already in use."),
    "sub_branch_outside_branch": _("The sub-branch is not part of this branch."),
    "team_outside_branch": _("The team is not part of this branch."),
    "cannot_disable_self": _("You cannot disable your own account."),
}


class OrgError(Exception):
    """A refused organisation change, with a code the UI turns into a message."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code

    @property
    def message(self) -> str:
        return str(MESSAGES.get(self.code, self.code))
