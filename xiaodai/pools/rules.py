"""The pools and their rule parameters: what each pool means, which knobs an admin may turn, and the limits
that keep a rule from being nonsense. One source of truth for defaults, validation, the editing form and the
pipeline (docs/pools.md describes each rule in words)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext_lazy as _

from xiaodai.pools.exceptions import RuleError


@dataclass(frozen=True)
class Param:
    name: str
    label: Any  # a lazy translation
    default: int | Decimal
    minimum: int | Decimal
    maximum: int | Decimal
    unit: Any = ""

    @property
    def is_decimal(self) -> bool:
        return isinstance(self.default, Decimal)

    def parse(self, raw: object) -> int | Decimal:
        """The value, or RuleError saying what is wrong with it (never a silent clamp)."""
        text = str(raw).strip()
        try:
            value: int | Decimal = Decimal(text) if self.is_decimal else int(text)
        except (InvalidOperation, ValueError):
            raise RuleError(self.name, _("must be a number")) from None
        if isinstance(value, Decimal) and not value.is_finite():
            raise RuleError(self.name, _("must be a number"))
        if value < self.minimum or value > self.maximum:
            raise RuleError(
                self.name,
                _("must be between %(low)s and %(high)s") % {"low": self.minimum, "high": self.maximum},
            )
        return value


@dataclass(frozen=True)
class PoolDef:
    code: str
    name: Any
    chinese: str  # the course's own word, shown beside the translated name
    description: Any
    priority: int  # default; lower wins the primary pool
    params: tuple[Param, ...]

    def param(self, name: str) -> Param:
        return next(p for p in self.params if p.name == name)


DAYS = _("days")
YUAN = _("yuan")

_ESTIMATE = (
    Param("income_multiple", _("Estimated amount: months of income"), 10, 1, 60, _("months")),
    Param("max_amount", _("Estimated amount: cap"), 300000, 1000, 5000000, YUAN),
)

POOLS: tuple[PoolDef, ...] = (
    PoolDef(
        "approved_undrawn",
        _("Approved, not drawn"),
        "已授信未用信",
        _("An active consumer credit line that is unused or barely used, idle for a while."),
        10,
        (
            Param("max_utilisation", _("Utilisation at most"), Decimal("0.10"), Decimal("0"), Decimal("1")),
            Param("min_idle_days", _("Idle for at least"), 30, 0, 3650, DAYS),
            Param("min_limit", _("Limit at least"), 10000, 0, 5000000, YUAN),
        ),
    ),
    PoolDef(
        "unfinished_application",
        _("Unfinished applications"),
        "未完成流程",
        _("An application started and not finished, neither rejected nor withdrawn long ago."),
        20,
        (
            Param("min_stalled_days", _("Stalled for at least"), 2, 0, 365, DAYS),
            Param("look_back_days", _("Started within"), 90, 1, 730, DAYS),
        ),
    ),
    PoolDef(
        "current_borrower",
        _("Current borrowers"),
        "存量信贷",
        _("A consumer loan in good standing: top-up once much is repaid, renewal before maturity."),
        30,
        (
            Param("renewal_days", _("Matures within"), 90, 1, 730, DAYS),
            Param("min_repaid_share", _("Or repaid at least"), Decimal("0.50"), Decimal("0"), Decimal("1")),
        ),
    ),
    PoolDef(
        "good_past_borrower",
        _("Good past borrowers"),
        "过往资信良好",
        _("A consumer loan repaid in full without overdue, and no consumer loan now."),
        40,
        (Param("look_back_days", _("Repaid within"), 1095, 30, 3650, DAYS),),
    ),
    PoolDef(
        "payroll_staff",
        _("Partner-enterprise payroll staff"),
        "合作单位",
        _("Paid their salary through the bank by a partner enterprise, recently."),
        50,
        (
            Param("recent_days", _("Last salary within"), 45, 1, 365, DAYS),
            Param("min_monthly", _("Monthly salary at least"), 5000, 0, 1000000, YUAN),
            Param("salary_multiple", _("Estimated amount: months of salary"), 12, 1, 60, _("months")),
            Param("max_amount", _("Estimated amount: cap"), 300000, 1000, 5000000, YUAN),
        ),
    ),
    PoolDef(
        "mortgage_holder",
        _("Mortgage holders"),
        "住房按揭",
        _("A mortgage in good standing, seasoned for a while."),
        60,
        (Param("min_months_on_book", _("Repaying for at least"), 12, 0, 360, _("months")), *_ESTIMATE),
    ),
    PoolDef(
        "premium_card",
        _("Premium card holders"),
        "优质信用卡",
        _("A credit card with a good limit, sound usage and no delinquency."),
        70,
        (
            Param("min_card_limit", _("Card limit at least"), 30000, 0, 5000000, YUAN),
            Param("max_usage", _("Usage at most"), Decimal("0.90"), Decimal("0"), Decimal("1")),
            *_ESTIMATE,
        ),
    ),
    PoolDef(
        "premium_deposit",
        _("Premium deposit and wealth"),
        "优质存款理财",
        _("Deposits and wealth holdings (AUM) above a threshold."),
        80,
        (Param("min_aum", _("AUM at least"), 200000, 0, 100000000, YUAN), *_ESTIMATE),
    ),
    PoolDef(
        "scenario_channel",
        _("Scenario channel lists"),
        "场景渠道",
        _("Named by a scenario channel (renovation, car, provident fund, ...) with the customer's consent."),
        90,
        (Param("look_back_days", _("Consented within"), 90, 1, 365, DAYS), *_ESTIMATE),
    ),
)

# Settings that apply to every pool; edited and versioned like a pool's rule.
GENERAL = PoolDef(
    "general",
    _("Eligibility and measures"),
    "通用",
    _("Who counts as workable, and the windows of coverage and the funnel."),
    0,
    (
        Param("min_age", _("Workable from age"), 18, 18, 70, _("years")),
        Param("max_age", _("Workable up to age"), 65, 18, 100, _("years")),
        Param("coverage_days", _("Coverage: contacted within"), 30, 1, 365, DAYS),
        Param("funnel_days", _("Funnel: counted over the last"), 90, 1, 730, DAYS),
    ),
)

POOL_CODES = tuple(p.code for p in POOLS)
BY_CODE: dict[str, PoolDef] = {p.code: p for p in (*POOLS, GENERAL)}


def defaults(code: str) -> dict[str, str]:
    return {p.name: str(p.default) for p in BY_CODE[code].params}


def parse_params(code: str, raw: dict[str, object]) -> dict[str, str]:
    """Validate a full set of parameters for one rule; the stored form keeps Decimals exact as strings."""
    pool = BY_CODE[code]
    unknown = sorted(set(raw) - {p.name for p in pool.params})
    if unknown:
        raise RuleError(unknown[0], _("is not a parameter of this rule"))
    missing = [p.name for p in pool.params if p.name not in raw or str(raw[p.name]).strip() == ""]
    if missing:
        raise RuleError(missing[0], _("is required"))
    values = {p.name: p.parse(raw[p.name]) for p in pool.params}
    if code == GENERAL.code and values["min_age"] > values["max_age"]:
        raise RuleError("max_age", _("must not be below the minimum age"))
    return {name: str(value) for name, value in values.items()}


def typed(code: str, stored: dict[str, str]) -> dict[str, Any]:
    """Stored strings -> int or Decimal, for the pipeline."""
    out: dict[str, Any] = {}
    for p in BY_CODE[code].params:
        text = stored.get(p.name, str(p.default))
        out[p.name] = Decimal(text) if p.is_decimal else int(text)
    return out
