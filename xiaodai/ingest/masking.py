"""Masking of cell values in error reports: an error report is downloadable, so it never holds personal data
in clear (compliance P-04). Business codes and amounts stay readable; they are what the sender must fix."""

from __future__ import annotations

from xiaodai.core import masking
from xiaodai.ingest.contract import Column, Type

_NAME_COLUMNS = {"name", "counterparty_name"}
_ADDRESS_COLUMNS = {"address", "employer_name", "memo", "reason"}
_ACCOUNT_COLUMNS = {"account_no", "counterparty_account", "card_no", "value"}
_MAX = 60


def mask_cell(column: Column | None, value: object) -> str:
    """The value as the error report shows it: masked by what the column holds, cut to 60 characters."""
    if value is None:
        return ""
    text = str(value)
    if column is None:
        return masking.mask_name(text[:_MAX]) if text else ""
    if column.type is Type.ID_NUMBER:
        return masking.mask_id_number(text)[:_MAX]
    if column.type is Type.MOBILE:
        return masking.mask_phone(text)[:_MAX]
    if column.name in _NAME_COLUMNS:
        return masking.mask_name(text)[:_MAX]
    if column.name in _ADDRESS_COLUMNS:
        return masking.mask_address(text)[:_MAX]
    if column.name in _ACCOUNT_COLUMNS:
        return masking.mask_account(text)[:_MAX]
    return text[:_MAX]
