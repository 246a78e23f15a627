"""Display masking of personal data (compliance P-04, JR/T 0171): masked by default everywhere."""

from __future__ import annotations


def mask_phone(value: str | None) -> str:
    """138****5678 for a mainland mobile; other numbers keep only their last four digits."""
    if not value:
        return ""
    digits = "".join(ch for ch in value if ch.isdigit())
    if len(digits) == 11:
        return f"{digits[:3]}****{digits[-4:]}"
    if len(digits) <= 4:
        return "*" * len(digits)
    return "*" * (len(digits) - 4) + digits[-4:]


def mask_id_number(value: str | None) -> str:
    """First 6 and last 4 kept: 110105********123X."""
    if not value:
        return ""
    if len(value) <= 10:
        return "*" * len(value)
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


def mask_account(value: str | None) -> str:
    """Card or account numbers: first 6 and last 4."""
    return mask_id_number(value)


def mask_name(value: str | None) -> str:
    """张* for two or three characters' names keeps the surname; 欧阳** keeps a two-character surname."""
    if not value:
        return ""
    if len(value) >= 4:
        return value[:2] + "*" * (len(value) - 2)
    return value[0] + "*" * (len(value) - 1)


def mask_address(value: str | None) -> str:
    """Keep the district-level prefix (first 6 characters), hide the street and number."""
    if not value:
        return ""
    return value[:6] + "****" if len(value) > 6 else "****"


MASKERS = {
    "phone": mask_phone,
    "id_number": mask_id_number,
    "name": mask_name,
    "address": mask_address,
    "account": mask_account,
}
