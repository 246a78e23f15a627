"""Why a customer is in a pool, worded from the facts the run kept (basis, days, on_date, detail): one
sentence a customer manager can read out, in the reader's language. The only place these sentences are
written."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from typing import Protocol

from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import pgettext, pgettext_lazy

from xiaodai.customers.choices import ApplicationStage, CardTier

WAN = Decimal(10000)

SCENARIOS = {
    "renovation": pgettext_lazy("scenario", "Renovation"),
    "car": pgettext_lazy("scenario", "Car purchase"),
    "provident_fund": pgettext_lazy("scenario", "Housing provident fund"),
    "education": pgettext_lazy("scenario", "Education"),
    "wedding": pgettext_lazy("scenario", "Wedding"),
    "travel": pgettext_lazy("scenario", "Travel"),
}


class Facts(Protocol):
    """What a reason reads: a PoolMember, or anything shaped like one."""

    pool: str
    basis: Decimal | None
    days: int | None
    on_date: dt.date | None
    detail: str


def amount_words(value: Decimal | int | float | None) -> str:
    """An amount as a banker says it: 20万元 / 1.8万元 / 8,000元 in Chinese, CNY 200,000 in English."""
    if value is None:
        return "—"
    amount = Decimal(str(value))
    if not (translation.get_language() or "").startswith("zh"):
        return f"CNY {amount.quantize(Decimal(1), rounding=ROUND_HALF_UP):,}"
    if abs(amount) >= WAN:
        wan = (amount / WAN).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP).normalize()
        return f"{wan:,f}万元"
    return f"{amount.quantize(Decimal(1), rounding=ROUND_HALF_UP):,}元"


def _date(value: dt.date | None) -> str:
    return value.isoformat() if value else "—"


def _days(value: int | None) -> str:
    return "—" if value is None else f"{value:,}"


def _label(choices: type[ApplicationStage] | type[CardTier], code: str) -> str:
    return str(choices(code).label) if code in choices.values else code


def _join(*parts: str) -> str:
    return pgettext("reason clause separator", ", ").join(p for p in parts if p)


def reason(m: Facts) -> str:
    """The sentence for one membership; an unknown pool or missing facts give what can be said."""
    amount = amount_words(m.basis) if m.basis is not None else ""
    if m.pool == "approved_undrawn":
        main = _("Credit line of %(amount)s idle for %(days)s days") % {
            "amount": amount,
            "days": _days(m.days),
        }
        expiry = _("the limit expires on %(date)s") % {"date": _date(m.on_date)} if m.on_date else ""
        return _join(main, expiry)
    if m.pool == "unfinished_application":
        main = _("Application stopped at “%(stage)s” %(days)s days ago") % {
            "stage": _label(ApplicationStage, m.detail),
            "days": _days(m.days),
        }
        asked = _("amount applied for %(amount)s") % {"amount": amount} if amount else ""
        return _join(main, asked)
    if m.pool == "current_borrower":
        if m.days is not None and m.days >= 0:
            due = _("matures in %(days)s days") % {"days": _days(m.days)}
        else:
            due = _("matures on %(date)s") % {"date": _date(m.on_date)} if m.on_date else ""
        return _join(_("Loan of %(amount)s") % {"amount": amount}, due)
    if m.pool == "good_past_borrower":
        return _("Borrowed %(amount)s before, repaid on %(date)s") % {
            "amount": amount,
            "date": _date(m.on_date),
        }
    if m.pool == "payroll_staff":
        main = _("Salary paid through us: %(amount)s a month") % {"amount": amount}
        last = _("last paid on %(date)s") % {"date": _date(m.on_date)} if m.on_date else ""
        return _join(main, last)
    if m.pool == "mortgage_holder":
        return _("Mortgage of %(amount)s, repaid for %(days)s days") % {
            "amount": amount,
            "days": _days(m.days),
        }
    if m.pool == "premium_card":
        return _("%(tier)s card, limit %(amount)s") % {"tier": _label(CardTier, m.detail), "amount": amount}
    if m.pool == "premium_deposit":
        return _("AUM %(amount)s") % {"amount": amount}
    if m.pool == "scenario_channel":
        scenario = SCENARIOS.get(m.detail)
        return _("%(scenario)s scenario list, consent given on %(date)s") % {
            "scenario": str(scenario) if scenario else m.detail,
            "date": _date(m.on_date),
        }
    return ""
