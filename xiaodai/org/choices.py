from django.db import models
from django.utils.translation import gettext_lazy as _

from xiaodai.core.roles import Role

__all__ = ["BusinessLine", "Role", "TeamKind"]


class BusinessLine(models.TextChoices):
    CORPORATE = "corporate", _("Corporate")
    RETAIL_LOAN = "retail_loan", _("Retail loan")
    RETAIL = "retail", _("Retail")
    WEALTH = "wealth", _("Wealth")
    CARD = "card", _("Card")


class TeamKind(models.TextChoices):
    REGULAR = "regular", _("Regular")
    STRIKE = "strike", _("Strike team")  # 攻坚: opens hard accounts and channels
    FOLLOW_UP = "follow_up", _("Follow-up team")  # 跟进: works what the strike team opened
