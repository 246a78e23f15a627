"""Money and number display helpers shared by pages and exports. Money is Decimal yuan, never float."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")


def to_money(value: Decimal | int | str | None) -> Decimal:
    if value is None:
        return Decimal("0.00")
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def wan(value: Decimal | int | None) -> str:
    """Amounts in 万元 (ten thousands of yuan), the unit Chinese branch reports use."""
    amount = to_money(value) / Decimal(10000)
    return f"{amount.quantize(CENT, rounding=ROUND_HALF_UP):,}"
