"""The figure registry: what each figure counts, where it comes from and how it is shown.

Attribution (who a figure counts for):
- process figures count for the person who recorded the outcome or held the event, in their team and
  sub-branch as the outcome recorded them;
- outcome figures come from the bank's data drop (T+1) and count for the customer's owner (管户客户经理),
  else the person working the customer now, in the customer's sub-branch (where the loan is booked).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from xiaodai.plans.choices import Figure, FigureKind

# The stock behind balance growth: the consumer-loan balance on a data date (a fact row like the others,
# never a target). Growth over a period = the stock at its end less the stock before it began.
BALANCE_STOCK = "consumer_balance"


@dataclass(frozen=True)
class FigureDef:
    code: str
    kind: str
    money: bool  # yuan (Decimal, two places), else a count

    @property
    def label(self) -> str:
        return str(Figure(self.code).label)


FIGURES: dict[str, FigureDef] = {
    d.code: d
    for d in (
        FigureDef(Figure.DISBURSED_AMOUNT, FigureKind.OUTCOME, money=True),
        FigureDef(Figure.NEW_DRAWDOWN_CUSTOMERS, FigureKind.OUTCOME, money=False),
        FigureDef(Figure.BALANCE_GROWTH, FigureKind.OUTCOME, money=True),
        FigureDef(Figure.APPROVED_AMOUNT, FigureKind.OUTCOME, money=True),
        FigureDef(Figure.CALLS, FigureKind.PROCESS, money=False),
        FigureDef(Figure.REACHED, FigureKind.PROCESS, money=False),
        FigureDef(Figure.VISITS, FigureKind.PROCESS, money=False),
        FigureDef(Figure.EVENTS, FigureKind.PROCESS, money=False),
        FigureDef(Figure.REFERRALS, FigureKind.PROCESS, money=False),
    )
}
# Figures summed day by day from the fact table (balance growth is a difference of stocks instead).
FLOW_FIGURES = tuple(code for code in FIGURES if code != Figure.BALANCE_GROWTH)


def figure(code: str) -> FigureDef:
    """The definition of a figure; KeyError for an unknown code (callers turn it into a coded error)."""
    return FIGURES[code]


def quantize(code: str, value: Decimal) -> Decimal:
    """A figure's value in its unit: yuan to the fen, counts whole."""
    return value.quantize(Decimal("0.01") if FIGURES[code].money else Decimal("1"))
