from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

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
