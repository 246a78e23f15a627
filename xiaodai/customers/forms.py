from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from xiaodai.customers.choices import Channel, ConsentPurpose, ConsentSource
from xiaodai.customers.services import REVEALABLE

FIELD_LABELS = {
    "name": _("Name"),
    "phone": _("Mobile"),
    "id_number": _("ID number"),
    "address": _("Address"),
}


class RevealForm(forms.Form):
    field = forms.ChoiceField(choices=[(f, FIELD_LABELS[f]) for f in REVEALABLE], label=_("Field"))
    reason = forms.CharField(
        label=_("Reason"),
        min_length=4,
        max_length=200,
        error_messages={
            "min_length": _("Give a reason of at least 4 characters for revealing personal data.")
        },
    )


class ConsentForm(forms.Form):
    """A consent grant or withdrawal as the customer gave it, with its evidence (compliance C-01, C-07)."""

    purpose = forms.ChoiceField(label=_("Purpose"), choices=ConsentPurpose.choices)
    channel = forms.ChoiceField(label=_("Channel"), choices=[("", "—"), *Channel.choices], required=False)
    granted = forms.TypedChoiceField(
        label=_("Decision"),
        choices=[("1", _("Granted")), ("0", _("Withdrawn"))],
        coerce=lambda v: v == "1",
    )
    source = forms.ChoiceField(
        label=_("Collected via"), choices=[c for c in ConsentSource.choices if c[0] != ConsentSource.IMPORT]
    )
    wording_version = forms.RegexField(
        label=_("Wording version"),
        regex=r"^[A-Za-z0-9._-]{2,32}$",
        error_messages={"invalid": _("The version of the consent text the customer saw, e.g. MKT-2025.1.")},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            small = (
                "form-select form-select-sm"
                if isinstance(field.widget, forms.Select)
                else "form-control form-control-sm"
            )
            field.widget.attrs["class"] = small

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        if data.get("purpose") == ConsentPurpose.MARKETING and not data.get("channel"):
            self.add_error("channel", _("Choose a channel for a marketing consent."))
        if data.get("purpose") == ConsentPurpose.CREDIT_REPORT:
            data["channel"] = ""
        return data
