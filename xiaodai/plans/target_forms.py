"""Forms of the plans pages: a new plan, setting one target, and the split of a target across its children.

Forms check shape (a number, a date, a known choice); the services check the rules (reach, overlap, sums)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from xiaodai.plans.choices import Figure, PlanKind, ScopeKind, SplitRule
from xiaodai.plans.targets import Node

DATE = forms.DateInput(attrs={"type": "date", "class": "form-control"}, format="%Y-%m-%d")
TEXT = {"class": "form-control"}
MAX_VALUE = Decimal("9999999999999999.99")


class PlanForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100, widget=forms.TextInput(attrs=TEXT))
    kind = forms.ChoiceField(
        label=_("Kind"), choices=PlanKind.choices, widget=forms.Select(attrs={"class": "form-select"})
    )
    starts_on = forms.DateField(label=_("Starts on"), widget=DATE)
    ends_on = forms.DateField(label=_("Ends on"), widget=DATE)
    resources = forms.CharField(
        label=_("Resources committed"),
        required=False,
        widget=forms.Textarea(attrs={**TEXT, "rows": 3}),
        help_text=_("People, budget, benefits and events set aside for the period."),
    )
    actions = forms.CharField(
        label=_("Planned actions"),
        required=False,
        widget=forms.Textarea(attrs={**TEXT, "rows": 3}),
        help_text=_("What the branch will do: call campaigns, events, enterprise visits …"),
    )


def _level_label(scope: str) -> str:
    return str(ScopeKind(scope).label)


class TargetForm(forms.Form):
    """Who (one select grouped by level, values like 'team:3'), which figure, and the value."""

    unit = forms.ChoiceField(label=_("For"), widget=forms.Select(attrs={"class": "form-select"}))
    figure = forms.ChoiceField(
        label=_("Figure"), choices=Figure.choices, widget=forms.Select(attrs={"class": "form-select"})
    )
    value = forms.DecimalField(
        label=_("Target"),
        min_value=Decimal(0),
        max_value=MAX_VALUE,
        decimal_places=2,
        widget=forms.NumberInput(attrs={**TEXT, "step": "0.01", "inputmode": "decimal"}),
        help_text=_("Money in yuan (two decimals); counts as whole numbers."),
    )

    def __init__(self, nodes: list[Node], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        groups: dict[str, list[tuple[str, str]]] = {}
        for n in nodes:
            groups.setdefault(_level_label(n.scope), []).append((n.key, n.name))
        unit = self.fields["unit"]
        assert isinstance(unit, forms.ChoiceField)
        unit.choices = list(groups.items())


class SplitForm(forms.Form):
    """The rule and one value per child (`part_<scope>_<id>`), prefilled with the proposal."""

    rule = forms.ChoiceField(choices=SplitRule.choices, widget=forms.HiddenInput)

    def __init__(self, kids: list[Node], money: bool, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.kids = kids
        step = "0.01" if money else "1"
        for k in kids:
            self.fields[self.field_name(k)] = forms.DecimalField(
                label=k.name,
                min_value=Decimal(0),
                max_value=MAX_VALUE,
                decimal_places=2 if money else 0,
                widget=forms.NumberInput(
                    attrs={**TEXT, "step": step, "class": "form-control text-end", "data-part": k.key}
                ),
            )

    @staticmethod
    def field_name(node: Node) -> str:
        return f"part_{node.scope}_{node.obj_id}"

    def parts(self) -> dict[str, Decimal]:
        return {k.key: self.cleaned_data[self.field_name(k)] for k in self.kids}

    def rows(self) -> list[tuple[Node, forms.BoundField]]:
        return [(k, self[self.field_name(k)]) for k in self.kids]
