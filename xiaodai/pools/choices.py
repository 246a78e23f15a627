from django.db import models
from django.utils.translation import gettext_lazy as _


class Level(models.TextChoices):
    """Where a figure is counted: the organisation levels a branch head can look at."""

    BRANCH = "branch", _("Branch")
    SUB_BRANCH = "sub_branch", _("Sub-branch")
    TEAM = "team", _("Team")
    OWNER = "owner", _("Person")


class Block(models.IntegerChoices):
    """Why a pool customer is not workable; a member carries the sum of its reasons (a bit set)."""

    UNDER_AGE = 1, _("Under the minimum age")
    OVER_AGE = 2, _("Over the maximum age")
    VULNERABLE = 4, _("Flagged vulnerable")
    OPTED_OUT = 8, _("Opted out of all contact")
    NO_CONSENT = 16, _("No active marketing consent on any channel")
    OVERDUE = 32, _("Overdue now")


def block_reasons(bits: int) -> list[str]:
    return [str(b.label) for b in Block if bits & b.value]


class Channels(models.IntegerChoices):
    """Channels a workable customer may be contacted on (active consent, no opt-out), as a bit set."""

    PHONE = 1, _("Phone")
    SMS = 2, _("SMS")
    VISIT = 4, _("Visit")
    WECHAT = 8, _("WeChat")
