"""What a capital-flow signal says, in the reader's language: the evidence in one sentence (`reason`) and the
suggested next step (`action`). Worded from the figures the run kept on the Signal row (never from raw
transactions, which marketing roles may not read: C-17). The only place these sentences are written."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from typing import Protocol

from django.utils.translation import get_language, pgettext
from django.utils.translation import gettext as _

from xiaodai.core.masking import mask_counterparty
from xiaodai.pools.reasons import amount_words
from xiaodai.signals import mcc
from xiaodai.signals.choices import Kind, SalaryChange, Scenario


class SignalFacts(Protocol):
    """What the sentences read: a Signal, or anything shaped like one."""

    kind: str
    detail: str
    first_on: dt.date
    last_on: dt.date
    txns: int
    amount: Decimal
    largest: Decimal
    basis: Decimal | None
    counterparty: str
    mcc: str


def detail_label(kind: str, detail: str) -> str:
    """The scenario or the kind of salary change behind a signal ("" when the kind has no detail)."""
    if kind == Kind.SCENARIO and detail in Scenario.values:
        return str(Scenario(detail).label)
    if kind == Kind.SALARY_CHANGE and detail in SalaryChange.values:
        return str(SalaryChange(detail).label)
    return detail


def kind_label(kind: str) -> str:
    return str(Kind(kind).label) if kind in Kind.values else kind


def _join(*parts: str) -> str:
    return pgettext("reason clause separator", ", ").join(p for p in parts if p)


def _multiple(value: Decimal, basis: Decimal) -> str:
    """How many times the usual amount: whole numbers from 10 on, one decimal below."""
    ratio = value / basis
    places = Decimal(1) if ratio >= 10 else Decimal("0.1")
    return f"{ratio.quantize(places, rounding=ROUND_HALF_UP).normalize():f}"


def _percent(share: Decimal) -> str:
    return f"{(share * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP)}"


def _months(first: dt.date, last: dt.date) -> int:
    """Calendar months the events span, both ends included."""
    return (last.year - first.year) * 12 + last.month - first.month + 1


def _who(s: SignalFacts) -> str:
    """The counterparty as pages may show it: a person's name masked (P-04), a business's kept."""
    return mask_counterparty(s.counterparty)


def merchant(s: SignalFacts) -> str:
    """Who was paid: the counterparty's name and the merchant kind of the code, whichever are known."""
    # ISO 18245 names merchant kinds in English: where the catalogue has no translation, other languages
    # quote the code rather than mix in English.
    kind = mcc.label(s.mcc) if s.mcc else ""
    if kind and kind == mcc.describe(s.mcc) and not (get_language() or "").startswith("en"):
        kind = f"MCC {s.mcc}"
    who = _who(s)
    if who and kind:
        return f"{who} ({kind})"
    return who or kind


def _scenario(s: SignalFacts) -> str:
    label = detail_label(s.kind, s.detail)
    who = merchant(s)
    if s.txns > 1:
        main = _("%(scenario)s: %(n)s payments totalling %(amount)s between %(first)s and %(last)s") % {
            "scenario": label,
            "n": s.txns,
            "amount": amount_words(s.amount),
            "first": s.first_on.isoformat(),
            "last": s.last_on.isoformat(),
        }
        if who:
            largest = _("the largest %(amount)s to %(merchant)s") % {
                "amount": amount_words(s.largest),
                "merchant": who,
            }
        else:
            largest = _("the largest %(amount)s") % {"amount": amount_words(s.largest)}
    else:
        values = {
            "scenario": label,
            "amount": amount_words(s.amount),
            "date": s.last_on.isoformat(),
            "merchant": who,
        }
        if who:
            main = _("%(scenario)s: paid %(amount)s to %(merchant)s on %(date)s") % values
        else:
            main = _("%(scenario)s: paid %(amount)s on %(date)s") % values
        largest = ""
    usual = ""
    if s.basis:
        usual = _("%(times)s× the usual payment of %(basis)s") % {
            "times": _multiple(s.largest, s.basis),
            "basis": amount_words(s.basis),
        }
    return _join(main, largest, usual)


def _other_lender(s: SignalFacts) -> str:
    lender = _who(s) or _("another lender")
    return _(
        "Repays %(lender)s: %(n)s repayments totalling %(amount)s over %(months)s months, "
        "the latest on %(date)s"
    ) % {
        "lender": lender,
        "n": s.txns,
        "amount": amount_words(s.amount),
        "months": _months(s.first_on, s.last_on),
        "date": s.last_on.isoformat(),
    }


def _provident_fund(s: SignalFacts) -> str:
    main = _("Withdrew %(amount)s from the housing provident fund on %(date)s") % {
        "amount": amount_words(s.amount),
        "date": s.last_on.isoformat(),
    }
    payer = _("paid by %(payer)s") % {"payer": _who(s)} if s.counterparty else ""
    return _join(main, payer)


def _salary_change(s: SignalFacts) -> str:
    if s.detail == SalaryChange.NEW_EMPLOYER:
        main = _("Salary of %(amount)s paid by a new employer, %(employer)s, on %(date)s") % {
            "amount": amount_words(s.largest),
            "employer": _who(s) or "—",
            "date": s.last_on.isoformat(),
        }
        before = _("the month before: %(basis)s") % {"basis": amount_words(s.basis)} if s.basis else ""
        return _join(main, before)
    main = _("Latest salary %(amount)s on %(date)s") % {
        "amount": amount_words(s.largest),
        "date": s.last_on.isoformat(),
    }
    if not s.basis:
        return main
    rise = _("up %(pct)s%% on the average of %(basis)s before") % {
        "pct": _percent(s.largest / s.basis - 1),
        "basis": amount_words(s.basis),
    }
    return _join(main, rise)


def _deposit_outflow(s: SignalFacts) -> str:
    main = _("%(amount)s moved to other institutions between %(first)s and %(last)s") % {
        "amount": amount_words(s.amount),
        "first": s.first_on.isoformat(),
        "last": s.last_on.isoformat(),
    }
    largest = (
        _("the largest %(amount)s to %(who)s") % {"amount": amount_words(s.largest), "who": _who(s)}
        if s.counterparty
        else ""
    )
    share = ""
    if s.basis is not None and s.basis + s.amount > 0:
        # The rule compares the outflow with what the customer held before it: deposits now plus the outflow.
        share = _("about %(pct)s%% of their deposits (%(aum)s left)") % {
            "pct": _percent(s.amount / (s.basis + s.amount)),
            "aum": amount_words(s.basis),
        }
    return _join(main, largest, share)


_REASONS = {
    Kind.SCENARIO: _scenario,
    Kind.OTHER_LENDER: _other_lender,
    Kind.PROVIDENT_FUND: _provident_fund,
    Kind.SALARY_CHANGE: _salary_change,
    Kind.DEPOSIT_OUTFLOW: _deposit_outflow,
}


def reason(s: SignalFacts) -> str:
    """One sentence with the evidence of a signal; an unknown kind says what the row holds."""
    worder = _REASONS.get(Kind(s.kind)) if s.kind in Kind.values else None
    if worder is None:
        return _("%(kind)s: %(amount)s") % {"kind": s.kind, "amount": amount_words(s.amount)}
    return worder(s)


def _scenario_action(detail: str) -> str:
    if detail == Scenario.RENOVATION:
        return _("Offer the renovation consumer loan with the renovation scenario script.")
    if detail == Scenario.FURNITURE:
        return _("Offer a consumer loan for furniture and appliances; the renovation script fits if they are "
                 "doing up a home.")  # fmt: skip
    if detail == Scenario.CAR:
        return _("Offer the car-purchase consumer loan with the car scenario script.")
    if detail == Scenario.EDUCATION:
        return _("Offer the education consumer loan with the education scenario script.")
    if detail == Scenario.MEDICAL:
        return _("Ask with care whether the medical costs go on; offer to spread them with a consumer loan "
                 "only if they need it.")  # fmt: skip
    if detail == Scenario.WEDDING:
        return _("Offer the wedding consumer loan with the wedding scenario script.")
    if detail == Scenario.TRAVEL:
        return _("Offer the travel consumer loan with the travel scenario script.")
    return _("Offer a consumer loan for this purpose with its scenario script.")


def action(s: SignalFacts) -> str:
    """The suggested next step for a signal. Never a pitch to borrow to repay other loans (C-18)."""
    if s.kind == Kind.SCENARIO:
        return _scenario_action(s.detail)
    if s.kind == Kind.OTHER_LENDER:
        return _("Review their borrowing cost with them: compare the APR they pay with ours. Do not suggest "
                 "borrowing to repay other loans (C-18).")  # fmt: skip
    if s.kind == Kind.PROVIDENT_FUND:
        return _("Offer the renovation consumer loan with the provident-fund scenario script: the withdrawal "
                 "rarely covers the whole project.")  # fmt: skip
    if s.kind == Kind.SALARY_CHANGE:
        if s.detail == SalaryChange.NEW_EMPLOYER:
            return _("Congratulate them on the new job, update employer and income, and check whether the "
                     "new employer is a payroll partner.")  # fmt: skip
        return _("Update their income and review their credit limit: a higher salary supports a larger one.")
    if s.kind == Kind.DEPOSIT_OUTFLOW:
        return _("Retention call: ask where the money went and why; offer a loan that brings deposits back "
                 "(以贷引存).")  # fmt: skip
    return ""
