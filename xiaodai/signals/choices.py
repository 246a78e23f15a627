"""What a signal can be, what a compliance alert can be, and where an alert stands."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Kind(models.TextChoices):
    """A need (or a risk) read from a customer's money."""

    SCENARIO = "scenario", _("Consumption scenario")
    OTHER_LENDER = "other_lender", _("Repaying another lender")
    PROVIDENT_FUND = "provident_fund", _("Provident-fund withdrawal")
    SALARY_CHANGE = "salary_change", _("Salary change")
    DEPOSIT_OUTFLOW = "deposit_outflow", _("Deposits flowing out")


class Scenario(models.TextChoices):
    """Consumption scenarios a payment is classified into (by merchant category code or counterparty name)."""

    RENOVATION = "renovation", pgettext_lazy("scenario", "Renovation")
    FURNITURE = "furniture", pgettext_lazy("scenario", "Furniture and appliances")
    CAR = "car", pgettext_lazy("scenario", "Car purchase")
    EDUCATION = "education", pgettext_lazy("scenario", "Education")
    MEDICAL = "medical", pgettext_lazy("scenario", "Medical")
    WEDDING = "wedding", pgettext_lazy("scenario", "Wedding")
    TRAVEL = "travel", pgettext_lazy("scenario", "Travel")


class SalaryChange(models.TextChoices):
    RAISE = "raise", _("A raise")
    NEW_EMPLOYER = "new_employer", _("A new employer")


class AlertKind(models.TextChoices):
    """Where loan money went that a consumer loan must not fund (C-17)."""

    SECURITIES = "securities", _("Securities or futures account")
    DEVELOPER = "developer", _("Real-estate developer")
    DOWN_PAYMENT = "down_payment", _("House down payment")


class AlertStatus(models.TextChoices):
    OPEN = "open", _("Open")
    CLEARED = "cleared", _("Cleared: legitimate use")
    ESCALATED = "escalated", _("Escalated: loan use breached")


# The script scenario a signal picks on the call screen (xiaodai.outreach.scripts.Scenario codes). A signal
# that pitches repaying another lender is never a script (C-18): other_lender has no scenario.
SCRIPT_SCENARIO: dict[str, str] = {
    Kind.PROVIDENT_FUND: "provident_fund",
}


def script_scenario(kind: str, detail: str) -> str:
    """The script scenario a signal picks ("" when none: the pool's script serves)."""
    if kind == Kind.SCENARIO:
        return detail
    return SCRIPT_SCENARIO.get(kind, "")
