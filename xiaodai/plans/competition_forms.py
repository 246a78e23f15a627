"""Forms of a new competition: name, period, people or teams (checkboxes), a small formset of scoring rules.

Shape only: competitions.create_competition decides (unknown or unscorable figures, bad rules, participants
out of reach, end before start) and its coded refusal is shown above the form."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from xiaodai.plans.choices import Figure, ParticipantKind
from xiaodai.plans.competitions import SCORABLE, RuleSpec
from xiaodai.plans.pdca_forms import style

MAX_RULES = 6
RULE_ROWS = 3


class IdsField(forms.Field):
    """Ticked ids, kept as posted (ints): whether each may take part is the service's decision."""

    widget = forms.CheckboxSelectMultiple

    def __init__(self, *, choices: list[tuple[int, str]] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.widget.choices = choices or []

    def to_python(self, value: Any) -> list[int]:
        if value in (None, "", []):
            return []
        values = value if isinstance(value, list | tuple) else [value]
        if not all(str(v).isdigit() for v in values):
            raise forms.ValidationError(_("Tick the participants from the list."), code="invalid")
        return [int(v) for v in values]


class CompetitionForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100, required=False)
    starts_on = forms.DateField(label=_("Starts on"), widget=forms.DateInput(attrs={"type": "date"}))
    ends_on = forms.DateField(label=_("Ends on"), widget=forms.DateInput(attrs={"type": "date"}))
    participant_kind = forms.ChoiceField(
        label=_("Who competes"), choices=ParticipantKind.choices, widget=forms.RadioSelect
    )
    staff = IdsField(label=_("People"), required=False)
    teams = IdsField(label=_("Teams"), required=False)

    def __init__(
        self, *args: Any, people: list[tuple[int, str]], teams: list[tuple[int, str]], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["staff"].widget.choices = people
        self.fields["teams"].widget.choices = teams
        style(self)

    def participants(self) -> list[int]:
        data = self.cleaned_data
        return list(data["staff"] if data["participant_kind"] == ParticipantKind.STAFF else data["teams"])


def figure_choices() -> list[tuple[str, Any]]:
    return [("", _("Choose a figure")), *((c, Figure(c).label) for c in SCORABLE)]


class RuleForm(forms.Form):
    """One scoring rule: `points` for every `per` of the figure, at most `cap` points. A row left without a
    figure is skipped; the figure is a plain text choice so an unknown one reaches the service's message."""

    figure = forms.CharField(label=_("Figure"), required=False, widget=forms.Select(choices=figure_choices()))
    per = forms.DecimalField(label=_("For every"), required=False, max_digits=18, decimal_places=2)
    points = forms.DecimalField(label=_("Points"), required=False, max_digits=8, decimal_places=2)
    cap = forms.DecimalField(label=_("At most (points)"), required=False, max_digits=10, decimal_places=2)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        style(self)

    def spec(self) -> RuleSpec | None:
        data = self.cleaned_data
        if not data.get("figure"):
            return None
        return RuleSpec(data["figure"], data.get("per") or 0, data.get("points") or 0, data.get("cap"))


RuleFormSet = forms.formset_factory(RuleForm, extra=RULE_ROWS, max_num=MAX_RULES, validate_max=True)


def rule_specs(formset: forms.BaseFormSet) -> list[RuleSpec]:
    return [spec for form in formset.forms if (spec := form.spec()) is not None]
