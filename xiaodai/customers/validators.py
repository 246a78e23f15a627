"""Validation of mainland mobile numbers and resident ID numbers (compliance D-08)."""

from __future__ import annotations

import phonenumbers
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from stdnum.cn import ric
from stdnum.exceptions import ValidationError as StdnumError


def validate_mobile(value: str) -> None:
    """An 11-digit mainland mobile (1[3-9]xxxxxxxxx) that phonenumbers accepts as a CN mobile."""
    digits = value.strip()
    if len(digits) != 11 or not digits.isdigit() or digits[0] != "1" or digits[1] not in "3456789":
        raise ValidationError(_("Not a mainland mobile number."), code="bad_mobile")
    parsed = phonenumbers.parse(digits, "CN")
    if not phonenumbers.is_valid_number(parsed) or phonenumbers.number_type(parsed) not in (
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    ):
        raise ValidationError(_("Not a mainland mobile number."), code="bad_mobile")


def validate_id_number(value: str) -> None:
    """An 18-character resident ID number with a correct GB 11643 check digit."""
    try:
        ric.validate(value)
    except StdnumError as exc:
        raise ValidationError(_("Invalid resident ID number."), code="bad_id_number") from exc
