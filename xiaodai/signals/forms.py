"""The signal-rule form and the alert-review form.

The rule form's fields take text: the values are checked by the rule itself (rules.parse_params through
services.update_rule), so the page, the CLI and any API refuse the same things with the same words. Keyword
and merchant-code lists are textareas, one entry per line or comma-separated."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from xiaodai.pools.forms import range_hint
from xiaodai.signals import rules as r
from xiaodai.signals.alerts import MAX_NOTE, REVIEWED
from xiaodai.signals.choices import AlertStatus
from xiaodai.signals.models import SignalRule

PREFIX = "param_"
LIST_HINT = _("One per line, or separated by commas.")
MCC_HINT = _(
    "Four-digit merchant category codes (ISO 18245) or ranges like 5712-5719; "
    "one per line or comma-separated."
)


def param_field(name: str) -> str:
    return PREFIX + name


def _as_text(value: Any) -> str:
    return "\n".join(str(v) for v in value) if isinstance(value, list | tuple) else str(value)


class SignalRuleForm(forms.Form):
    is_active = forms.BooleanField(label=_("Switched on"), required=False)
    note = forms.CharField(
        label=_("Reason for the change"),
        max_length=200,
        help_text=_("Kept with the version: why the rule changes, for whoever reads the history."),
    )

    def __init__(self, defn: r.SignalDef, rule: SignalRule, data: Any = None) -> None:
        initial: dict[str, Any] = {param_field(k): _as_text(v) for k, v in rule.params.items()}
        initial["is_active"] = rule.is_active
        super().__init__(data, initial=initial)
        self.defn = defn
        params: dict[str, forms.Field] = {}
        for p in defn.params:
            field: forms.Field
            if isinstance(p, r.ListParam):
                hint = MCC_HINT if p.kind == "mcc" else LIST_HINT
                field = forms.CharField(
                    label=p.label,
                    required=False,
                    max_length=(r.MAX_ITEM_LENGTH + 2) * r.MAX_ITEMS,
                    help_text=hint,
                    widget=forms.Textarea(attrs={"rows": 3 if p.kind == "mcc" else 2}),
                    strip=False,
                )
            else:
                field = forms.CharField(label=p.label, required=False, max_length=30, help_text=range_hint(p))
                field.widget.attrs["inputmode"] = "decimal" if p.is_decimal else "numeric"
            params[param_field(p.name)] = field
        # The parameters first, then the switch and the note.
        self.fields = {**params, **self.fields}
        if not defn.can_switch_off:
            # Always on (general settings, the C-17 watch, the closed loop): no switch to click, but a
            # tampered post without it still reaches the rule's own check and is refused there.
            self.fields["is_active"].widget = forms.HiddenInput()
        for name, f in self.fields.items():
            if isinstance(f.widget, forms.CheckboxInput):
                f.widget.attrs["class"] = "form-check-input"
            elif not isinstance(f.widget, forms.HiddenInput):
                f.widget.attrs["class"] = "form-control" + (
                    " font-monospace" if name.endswith("_mcc") else ""
                )
            f.widget.attrs.setdefault("id", f"id_{name}")

    def mark_invalid(self) -> None:
        """Give the fields with an error Tabler's red outline."""
        for name in self.errors:
            if name in self.fields:
                widget = self.fields[name].widget
                widget.attrs["class"] = widget.attrs.get("class", "") + " is-invalid"

    def param_values(self) -> dict[str, object]:
        return {p.name: self.cleaned_data.get(param_field(p.name), "") for p in self.defn.params}

    def field_for(self, error_field: str) -> str | None:
        """The form field a RuleError names (a parameter, or the switch), None for the form as a whole."""
        for candidate in (param_field(error_field), error_field):
            if candidate in self.fields:
                return candidate
        return None


class AlertReviewForm(forms.Form):
    """The outcome of a review; the service refuses anything else (the choice list is the page's help)."""

    status = forms.ChoiceField(
        label=_("Outcome"),
        choices=[(s.value, s.label) for s in AlertStatus if s in REVIEWED],
        widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
    )
    note = forms.CharField(
        label=_("What you checked"),
        max_length=MAX_NOTE,
        widget=forms.Textarea(attrs={"rows": 4, "class": "form-control"}),
        help_text=_(
            "Required: who you spoke to, what the customer showed, why the use is or is not legitimate."
        ),
    )
