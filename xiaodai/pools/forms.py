"""The pool-rule form: one field per parameter of the rule, its priority and switch, and why it changes.

The fields take text: the values are checked by the rule itself (rules.Param.parse through
services.update_rule), so the page, the CLI and the API refuse the same things with the same words."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from xiaodai.pools import rules as r
from xiaodai.pools.models import PoolRule

PREFIX = "param_"


def param_field(name: str) -> str:
    return PREFIX + name


def _number(value: int | Decimal) -> str:
    return f"{value:,}" if isinstance(value, int) else str(value)


def range_hint(param: r.Param) -> str:
    hint = f"{_number(param.minimum)} – {_number(param.maximum)}"
    if param.unit:
        hint += f" {param.unit}"
    if param.is_decimal and param.maximum == 1:
        hint += " · " + str(_("a share: 0.10 = 10%"))
    return hint


class RuleForm(forms.Form):
    priority = forms.IntegerField(
        label=_("Priority"),
        min_value=1,
        max_value=999,
        help_text=_("Lower wins: a customer in several pools has the one with the lowest number as primary."),
    )
    is_active = forms.BooleanField(label=pgettext_lazy("rule", "Active"), required=False)
    note = forms.CharField(
        label=_("Reason for the change"),
        max_length=200,
        help_text=_("Kept with the version: why the rule changes, for whoever reads the history."),
    )

    def __init__(self, pool: r.PoolDef, rule: PoolRule, data: Any = None) -> None:
        initial: dict[str, Any] = {param_field(k): v for k, v in rule.params.items()}
        initial.update(priority=rule.priority, is_active=rule.is_active)
        super().__init__(data, initial=initial)
        self.pool = pool
        params: dict[str, forms.Field] = {}
        for p in pool.params:
            text = forms.CharField(label=p.label, required=False, max_length=30, help_text=range_hint(p))
            text.widget.attrs.update({"inputmode": "decimal" if p.is_decimal else "numeric"})
            params[param_field(p.name)] = text
        # The parameters first, then priority, switch and note.
        self.fields = {**params, **self.fields}
        if pool.code == r.GENERAL.code:  # the general settings rank nothing and cannot be switched off
            del self.fields["priority"]
            del self.fields["is_active"]
        for name, field in self.fields.items():
            if isinstance(field.widget, forms.CheckboxInput):
                field.widget.attrs["class"] = "form-check-input"
            else:
                field.widget.attrs["class"] = "form-control"
            field.widget.attrs.setdefault("id", f"id_{name}")

    def mark_invalid(self) -> None:
        """Give the fields with an error Tabler's red outline."""
        for name in self.errors:
            if name in self.fields:
                widget = self.fields[name].widget
                widget.attrs["class"] = widget.attrs.get("class", "") + " is-invalid"

    def param_values(self) -> dict[str, object]:
        return {p.name: self.cleaned_data.get(param_field(p.name), "") for p in self.pool.params}

    def field_for(self, error_field: str) -> str | None:
        """The form field a RuleError names (a parameter, or priority), None for the form as a whole."""
        for candidate in (param_field(error_field), error_field):
            if candidate in self.fields:
                return candidate
        return None
