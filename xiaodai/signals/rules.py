"""The signal rules and their parameters: thresholds, windows, keyword and merchant-code lists. One source of
truth for defaults, validation, the editing page and the pipeline, like the pool rules (xiaodai.pools.rules,
whose number parameters these reuse). docs/capital-flow.md describes each rule in words."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext_lazy as _

from xiaodai.pools.exceptions import RuleError
from xiaodai.pools.rules import DAYS, YUAN, Param
from xiaodai.signals import mcc
from xiaodai.signals.choices import Scenario

MAX_ITEMS = 200
MAX_ITEM_LENGTH = 30
_SPLIT = re.compile(r"[\n,，、;；]+")


@dataclass(frozen=True)
class ListParam:
    """A list of words matched in counterparty names or memos (`keywords`), or of merchant category codes and
    ranges (`mcc`). Stored as the admin typed it; typed for the pipeline (codes expanded)."""

    name: str
    label: Any
    default: tuple[str, ...]
    kind: str = "keywords"  # or "mcc"
    allow_empty: bool = True

    @property
    def is_decimal(self) -> bool:
        return False

    def parse(self, raw: object) -> list[str]:
        items = raw if isinstance(raw, list | tuple) else _SPLIT.split(str(raw))
        words = [str(item).strip() for item in items if str(item).strip()]
        if not words and not self.allow_empty:
            raise RuleError(self.name, _("needs at least one entry"))
        if len(words) > MAX_ITEMS:
            raise RuleError(self.name, _("holds at most %(n)s entries") % {"n": MAX_ITEMS})
        seen: set[str] = set()
        for word in words:
            if len(word) > MAX_ITEM_LENGTH:
                raise RuleError(
                    self.name,
                    _("%(item)s is longer than %(n)s characters") % {"item": word, "n": MAX_ITEM_LENGTH},
                )
            if word in seen:
                raise RuleError(self.name, _("%(item)s is listed twice") % {"item": word})
            seen.add(word)
        if self.kind == "mcc":
            mcc.expand(words, self.name)
        return words

    def typed(self, stored: list[str]) -> tuple[str, ...]:
        return tuple(mcc.expand(stored, self.name)) if self.kind == "mcc" else tuple(stored)


AnyParam = Param | ListParam


@dataclass(frozen=True)
class SignalDef:
    code: str
    name: Any
    chinese: str
    description: Any
    params: tuple[AnyParam, ...]
    can_switch_off: bool = True

    def param(self, name: str) -> AnyParam:
        return next(p for p in self.params if p.name == name)


_SCENARIO_DEFAULTS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    # scenario: (merchant codes, counterparty-name words for transfers)
    Scenario.RENOVATION: (
        (
            "1520",
            "1711",
            "1731",
            "1740",
            "1750",
            "1761",
            "1771",
            "1799",
            "5039",
            "5198",
            "5200",
            "5211",
            "5231",
            "5251",
        ),
        ("装修", "装饰", "建材", "家装"),
    ),
    # 5712-5719 without 5715, which ISO 18245 gives to alcoholic beverage wholesalers.
    Scenario.FURNITURE: (("5712-5714", "5718", "5719", "5722", "5732"), ("家具", "家居", "家电")),
    Scenario.CAR: (("5511", "5521", "5571"), ("汽车销售", "4S", "车行")),
    Scenario.EDUCATION: (
        ("8211", "8220", "8241", "8244", "8249", "8299", "8351"),
        ("学费", "培训", "教育", "学校"),
    ),
    Scenario.MEDICAL: (("8011-8099", "5975", "5976"), ("医院", "医疗", "诊所", "口腔")),
    Scenario.WEDDING: (("5944", "5992", "7221", "7296"), ("婚庆", "婚纱", "珠宝")),
    Scenario.TRAVEL: (
        ("3000-3299", "3351-3441", "3501-3999", "4112", "4411", "4511", "4722", "7011"),
        ("旅行社", "旅游", "航空", "酒店"),
    ),
}


def _scenario_params() -> tuple[AnyParam, ...]:
    out: list[AnyParam] = []
    for code, (codes, words) in _SCENARIO_DEFAULTS.items():
        label = Scenario(code).label
        out.append(ListParam(f"{code}_mcc", _("%(s)s: merchant codes") % {"s": label}, codes, kind="mcc"))
        out.append(ListParam(f"{code}_keywords", _("%(s)s: counterparty words") % {"s": label}, words))
    return tuple(out)


GENERAL = SignalDef(
    "general",
    _("Windows and our bank"),
    "通用",
    _(
        "How long a signal stays current, the window a customer's usual spending is measured over, and how "
        "transactions name our own bank."
    ),
    (
        Param("recent_days", _("A signal stays current for"), 30, 1, 365, DAYS),
        Param("baseline_days", _("Usual spending: measured over"), 180, 30, 730, DAYS),
        Param("min_baseline_payments", _("Usual spending: needs at least"), 5, 1, 100, _("payments")),
        ListParam("own_bank_names", _("Our bank as a counterparty bank"), ("本行",), allow_empty=False),
    ),
    can_switch_off=False,
)

RULES: tuple[SignalDef, ...] = (
    SignalDef(
        "scenario",
        _("Consumption scenarios"),
        "消费场景",
        _(
            "A payment to a scenario merchant (by merchant code) or a transfer to one (by name) far above "
            "the "
            "customer's own usual payment: low frequency, high amount."
        ),
        (
            Param(
                "spending_multiple",
                _("At least this many times the usual payment"),
                Decimal("5"),
                Decimal("1"),
                Decimal("100"),
                _("times"),
            ),
            Param("min_amount", _("And at least"), 5000, 0, 10000000, YUAN),
            Param("no_history_amount", _("Without enough history: at least"), 20000, 0, 10000000, YUAN),
            *_scenario_params(),
        ),
    ),
    SignalDef(
        "other_lender",
        _("Repaying other lenders"),
        "他行挖转",
        _("Regular repayments to another bank or a consumer-finance company: a customer we could serve."),
        (
            Param("look_back_days", _("Repayments within"), 90, 7, 365, DAYS),
            Param("min_months", _("In at least"), 2, 1, 12, _("months")),
            Param("min_amount", _("Each at least"), 500, 0, 1000000, YUAN),
            ListParam(
                "lender_keywords",
                _("Lender names contain"),
                ("消费金融", "小额贷款", "银行", "信用卡中心", "借呗", "微粒贷"),
                allow_empty=False,
            ),
            ListParam("memo_keywords", _("Memo contains"), ("还款", "还贷", "贷款"), allow_empty=False),
        ),
    ),
    SignalDef(
        "provident_fund",
        _("Provident-fund withdrawals"),
        "公积金提取",
        _("Money withdrawn from the housing provident fund for renovation or a house."),
        (
            Param("look_back_days", _("Withdrawn within"), 90, 7, 365, DAYS),
            Param("min_amount", _("At least"), 10000, 0, 10000000, YUAN),
            ListParam("source_keywords", _("Payer names contain"), ("公积金",), allow_empty=False),
            ListParam("purpose_keywords", _("Memo contains"), ("装修", "购房", "建房", "翻建", "大修")),
        ),
    ),
    SignalDef(
        "salary_change",
        _("Salary changes"),
        "薪资变化",
        _(
            "A payroll customer's latest salary is well above the months before, or comes from a new "
            "employer."
        ),
        (
            Param("raise_share", _("A raise of at least"), Decimal("0.10"), Decimal("0.01"), Decimal("5")),
            Param("min_months", _("Compared with at least"), 3, 1, 12, _("months before")),
            Param("look_back_days", _("Latest salary within"), 45, 7, 365, DAYS),
            ListParam(
                "salary_keywords",
                _("Salary memo contains"),
                ("工资", "代发", "薪资", "薪金"),
                allow_empty=False,
            ),
        ),
    ),
    SignalDef(
        "deposit_outflow",
        _("Deposits flowing out"),
        "存款外流",
        _("Money moved to other institutions: attrition risk, and a chance for a loan that brings deposits."),
        (
            Param("look_back_days", _("Moved within"), 30, 1, 365, DAYS),
            Param("min_amount", _("In total at least"), 50000, 0, 100000000, YUAN),
            Param(
                "min_aum_share",
                _("And at least this share of deposits"),
                Decimal("0.30"),
                Decimal("0"),
                Decimal("1"),
            ),
        ),
    ),
    SignalDef(
        "compliance",
        _("Loan-use watch (C-17)"),
        "资金流向监测",
        _(
            "Consumer-loan money reaching securities or futures accounts, real-estate developers or a "
            "house down "
            "payment soon after disbursement raises an alert for post-loan staff."
        ),
        (
            Param("watch_days", _("Within"), 30, 1, 365, _("days after disbursement")),
            Param("min_amount", _("Transfers of at least"), 1000, 0, 10000000, YUAN),
            ListParam("securities_mcc", _("Securities: merchant codes"), ("6211",), kind="mcc"),
            ListParam(
                "securities_keywords", _("Securities: names contain"), ("证券", "期货"), allow_empty=False
            ),
            ListParam(
                "developer_keywords",
                _("Developers: names contain"),
                ("房地产开发", "置业", "地产"),
                allow_empty=False,
            ),
            ListParam(
                "down_payment_keywords",
                _("Down payment: memo contains"),
                ("首付", "购房款", "房款"),
                allow_empty=False,
            ),
        ),
        can_switch_off=False,
    ),
    SignalDef(
        "closed_loop",
        _("Closed loop (ecosystem 2.0)"),
        "资金闭环",
        _("The share of consumer-loan money spent at merchants who bank with us."),
        (
            Param("window_days", _("Loans disbursed within"), 90, 7, 730, DAYS),
            Param("loop_days", _("Spent within"), 30, 1, 365, _("days after disbursement")),
        ),
        can_switch_off=False,
    ),
)

ALL: tuple[SignalDef, ...] = (GENERAL, *RULES)
BY_CODE: dict[str, SignalDef] = {d.code: d for d in ALL}
SIGNAL_KINDS = ("scenario", "other_lender", "provident_fund", "salary_change", "deposit_outflow")


def defaults(code: str) -> dict[str, Any]:
    return {
        p.name: list(p.default) if isinstance(p, ListParam) else str(p.default) for p in BY_CODE[code].params
    }


def parse_params(code: str, raw: dict[str, object]) -> dict[str, Any]:
    """Validate a full set of parameters for one rule; RuleError names the first bad one, nothing is kept."""
    rule = BY_CODE[code]
    unknown = sorted(set(raw) - {p.name for p in rule.params})
    if unknown:
        raise RuleError(unknown[0], _("is not a parameter of this rule"))
    out: dict[str, Any] = {}
    for p in rule.params:
        value = raw.get(p.name)
        if isinstance(p, ListParam):
            out[p.name] = p.parse("" if value is None else value)
            continue
        if value is None or str(value).strip() == "":
            raise RuleError(p.name, _("is required"))
        out[p.name] = str(p.parse(value))
    return out


def typed(code: str, stored: dict[str, Any]) -> dict[str, Any]:
    """Stored values -> int, Decimal or a tuple of words or codes, for the pipeline."""
    out: dict[str, Any] = {}
    for p in BY_CODE[code].params:
        if isinstance(p, ListParam):
            out[p.name] = p.typed(list(stored.get(p.name, p.default)))
        else:
            text = str(stored.get(p.name, p.default))
            out[p.name] = Decimal(text) if p.is_decimal else int(text)
    return out


def scenario_codes(params: dict[str, Any]) -> dict[str, tuple[str, ...]]:
    """{scenario: merchant codes} from the scenario rule's typed params."""
    return {s: params[f"{s}_mcc"] for s in Scenario.values}


def scenario_words(params: dict[str, Any]) -> dict[str, tuple[str, ...]]:
    return {s: params[f"{s}_keywords"] for s in Scenario.values}
