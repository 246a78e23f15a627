"""Forms of the PDCA records: a finding (with the flagged deviation it answers) and an adjustment.

The forms check shape only; the services in pdca.py decide (empty text, a finding of another plan, a split
target, a negative value...) and their coded errors come back onto the fields here."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from xiaodai.plans.choices import AdjustmentKind, FindingKind
from xiaodai.plans.exceptions import PlanError

# Which field a service error belongs beside (the rest show above the form).
ERROR_FIELDS = {
    "text_required": "text",
    "text_too_long": "text",
    "bad_kind": "kind",
    "bad_finding": "finding",
    "bad_target": "target",
    "has_children": "target",
    "value_required": "new_value",
    "negative": "new_value",
    "not_whole": "new_value",
}


def style(form: forms.BaseForm) -> None:
    """Tabler classes on every widget, and is-invalid on the fields with errors."""
    for name, f in form.fields.items():
        if isinstance(f.widget, forms.HiddenInput | forms.CheckboxSelectMultiple | forms.RadioSelect):
            continue
        css = "form-select" if isinstance(f.widget, forms.Select) else "form-control"
        f.widget.attrs.setdefault("class", css)
        if form.is_bound and name in form.errors:
            f.widget.attrs["class"] += " is-invalid"


def add_service_error(form: forms.BaseForm, err: PlanError) -> None:
    name = ERROR_FIELDS.get(err.code)
    form.add_error(name if name in form.fields else None, err.message)
    style(form)


class FindingForm(forms.Form):
    """A Check finding: what it is about, what the lead found, and the deviation flag (hidden, JSON)."""

    kind = forms.ChoiceField(label=_("About"), choices=FindingKind.choices)
    text = forms.CharField(
        label=_("Finding"),
        widget=forms.Textarea(attrs={"rows": 5}),
        required=False,  # the service says why an empty text is refused
        help_text=_("What is behind the figures: causes seen in the calls, the pools, the people."),
    )
    flag = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        style(self)

    def clean_flag(self) -> dict[str, Any]:
        raw = self.cleaned_data.get("flag") or ""
        if not raw:
            return {}
        try:
            value = json.loads(raw)
        except ValueError as exc:
            raise forms.ValidationError(
                _("The flagged deviation could not be read."), code="bad_flag"
            ) from exc
        if not isinstance(value, dict):
            raise forms.ValidationError(_("The flagged deviation could not be read."), code="bad_flag")
        return value


class AdjustmentForm(forms.Form):
    """An Act adjustment: the finding it answers, its kind and text; for a target adjustment optionally a
    target of the plan and its new value. Ids are plain integers: the service checks they belong."""

    finding = forms.TypedChoiceField(label=_("For the finding"), coerce=int, required=False, empty_value=None)
    kind = forms.ChoiceField(label=_("Adjust"), choices=AdjustmentKind.choices)
    text = forms.CharField(
        label=_("Adjustment"),
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        help_text=_("What changes, from when, and who does it."),
    )
    target = forms.TypedChoiceField(label=_("Target to change"), coerce=int, required=False, empty_value=None)
    new_value = forms.DecimalField(label=_("New value"), required=False, max_digits=18, decimal_places=2)

    def __init__(
        self,
        *args: Any,
        findings: list[tuple[int, str]],
        targets: list[tuple[int, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        # Choices list the plan's findings and the targets the writer may change; a posted id outside them
        # still reaches the service (valid_choice is relaxed), which refuses it with its own code.
        finding_field = self.fields["finding"]
        target_field = self.fields["target"]
        assert isinstance(finding_field, forms.TypedChoiceField)
        assert isinstance(target_field, forms.TypedChoiceField)
        finding_field.choices = [("", _("Choose a finding")), *findings]
        target_field.choices = [("", _("No target value changes")), *targets]
        finding_field.valid_value = _any_int  # type: ignore[method-assign]
        target_field.valid_value = _any_int  # type: ignore[method-assign]
        style(self)


def _any_int(value: Any) -> bool:
    return str(value).isdigit()
