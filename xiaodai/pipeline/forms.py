"""The "run now" form of the pipeline page."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from xiaodai.pipeline.choices import Engine


class RunForm(forms.Form):
    data_date = forms.DateField(
        label=_("Data date"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Empty: the latest loaded data drop."),
    )
    engine = forms.ChoiceField(label=_("Engine"), choices=Engine.choices, initial=Engine.DUCKDB)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["data_date"].widget.attrs["class"] = "form-control"
        self.fields["engine"].widget.attrs["class"] = "form-select"
