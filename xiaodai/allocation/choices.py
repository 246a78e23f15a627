from django.db import models
from django.utils.translation import gettext_lazy as _


class Kind(models.TextChoices):
    """How a customer came to be worked by someone."""

    CLAIM = "claim", _("Claim")  # 认领: a person took the customer from a pool
    ALLOCATION = "allocation", _("Allocation")  # 行内分配: the branch gave the customer to them
    HANDOFF = "handoff", _("Hand-off")  # 攻坚 → 跟进: a strike team passed the customer on


class Status(models.TextChoices):
    ACTIVE = "active", _("Active")
    LAPSED = "lapsed", _("Lapsed")  # not worked within the lapse period: back to the pool
    RELEASED = "released", _("Released")  # given back by the person or a lead
    HANDED_OFF = "handed_off", _("Handed off")
    CANCELLED = "cancelled", _("Cancelled")  # the customer refused or opted out (C-02)
    EXPIRED = "expired", _("Expired")  # the protection period ended


class Target(models.TextChoices):
    """Whom a bulk allocation gives customers to."""

    PEOPLE = "people", _("Named people")
    TEAMS = "teams", _("Teams (split across their members)")
