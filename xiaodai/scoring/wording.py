"""The sentence for each score reason, in the reader's language: the only place these sentences are written.
A reason is stored as [code, params] so it can be read in Chinese or English alike."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext

from xiaodai.customers.choices import ContactOutcome
from xiaodai.pools.reasons import amount_words
from xiaodai.pools.rules import BY_CODE
from xiaodai.scoring.facts import RESTS_ON


def _days(params: dict[str, Any]) -> str:
    return f"{int(params.get('days') or 0):,}"


def reason_text(code: str, params: dict[str, Any]) -> str | None:
    """The reason's sentence; None when the value it rests on is missing (facts.RESTS_ON)."""
    p = params
    key = RESTS_ON.get(code)
    if key is not None and key in p and p[key] is None:
        return _("Not contacted before") if code == "last_contact" else None
    if code == "line":
        if p.get("never") or p.get("days") is not None:
            return _("Credit line of %(limit)s idle for %(days)s days") % {
                "limit": amount_words(p.get("limit")),
                "days": _days(p),
            }
        return _("Holds a credit line of %(limit)s") % {"limit": amount_words(p.get("limit"))}
    if code == "expiring":
        return _("Credit line expires in %(days)s days") % {"days": _days(p)}
    if code == "application":
        return _("Started an application for %(amount)s %(days)s days ago") % {
            "amount": amount_words(p.get("amount")),
            "days": _days(p),
        }
    if code == "keen_before":
        return _("Showed interest at the last marketing contact (%(days)s days ago)") % {"days": _days(p)}
    if code == "applied_before":
        return _("Applied after an earlier contact")
    if code == "contacts":
        n = int(p.get("n") or 0)
        if n == 0:
            return _("Not contacted in the last 90 days")
        return ngettext(
            "Contacted %(n)s time in the last 90 days", "Contacted %(n)s times in the last 90 days", n
        ) % {"n": n}
    if code == "last_contact":
        return _("Last contacted %(days)s days ago") % {"days": _days(p)}
    if code == "last_outcome":
        outcome = p.get("outcome") or ""
        label = ContactOutcome(outcome).label if outcome in ContactOutcome.values else outcome
        return _("Previous contact: %(outcome)s") % {"outcome": label}
    if code == "reached_before":
        return _("Answered earlier contacts")
    if code == "no_refusal":
        return _("Has not refused before")
    if code == "refused_recently":
        return _("Refused within the last 180 days")
    if code == "payroll":
        return _("Salary of %(amount)s a month paid through us") % {"amount": amount_words(p.get("amount"))}
    if code == "income":
        return _("Monthly income %(amount)s") % {"amount": amount_words(p.get("amount"))}
    if code == "age":
        return _("Aged %(age)s") % {"age": p.get("age", "")}
    if code == "occupation":
        return _("Occupation: %(occupation)s") % {"occupation": p.get("occupation", "")}
    if code == "tenure":
        return _("Customer for %(years)s years") % {"years": int(p.get("days", 0)) // 365}
    if code == "past_loans":
        n = int(p.get("n") or 0)
        if n == 0:
            return _("No consumer loan with us yet")
        return ngettext(
            "%(n)s consumer loan repaid or running", "%(n)s consumer loans repaid or running", n
        ) % {"n": n}
    if code == "mortgage":
        return _("Repaying a mortgage with us")
    if code == "card":
        return _("Credit card limit %(limit)s") % {"limit": amount_words(p.get("limit"))}
    if code == "season":
        return _("Contacts are converting well this month")
    if code == "flow_scenario":
        from xiaodai.signals.choices import Scenario

        scenario = str(p.get("scenario") or "")
        label = Scenario(scenario).label if scenario in Scenario.values else scenario
        return _("A large %(scenario)s payment %(days)s days ago") % {"scenario": label, "days": _days(p)}
    if code == "flow_lender":
        n = int(p.get("n") or 0)
        if n == 0:  # no repayment to another lender: nothing to say (see facts.ABSENT_WHEN_ZERO)
            return None
        return ngettext(
            "Repaying another lender (%(n)s repayment in 90 days)",
            "Repaying another lender (%(n)s repayments in 90 days)",
            n,
        ) % {"n": n}
    if code == "flow_provident":
        return _("Withdrew from the housing provident fund %(days)s days ago") % {"days": _days(p)}
    if code == "flow_salary":
        return _("A raise or a new employer lately")
    if code == "flow_outflow":
        return _("Moved money out to other institutions lately")
    if code == "pool":
        pool = BY_CODE.get(str(p.get("pool")))
        return _("In pool: %(pool)s") % {"pool": pool.name if pool else p.get("pool")}
    if code == "no_pool":
        return _("In no pool")
    if code == "non_personalised":
        return _("Ranked by pool only: declined personalised marketing")
    return pgettext("score reason", code)


def reasons_text(reasons: list[list[Any]]) -> list[str]:
    texts = (reason_text(str(code), dict(params or {})) for code, params in reasons)
    return [text for text in texts if text is not None]
