"""Forms of the allocation pages. The allocation form also checks the API's input, so the page and the API
refuse the same things with the same words. Shares are entered in percent (5 = 5 %)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from xiaodai.allocation import choices as c
from xiaodai.allocation.models import Assignment, ClaimPolicy
from xiaodai.allocation.planning import AllocationParams
from xiaodai.allocation.selectors import (
    allocation_people,
    allocation_teams,
    channel_receivers,
    handoff_receivers,
    worked_channels,
)
from xiaodai.core.access import actor_of
from xiaodai.customers.models import Enterprise
from xiaodai.org.models import Staff, SubBranch
from xiaodai.pools import rules as r

HUNDRED = Decimal(100)


def _styled(form: forms.Form) -> None:
    for f in form.fields.values():
        widget = f.widget
        if isinstance(widget, forms.CheckboxInput | forms.CheckboxSelectMultiple | forms.RadioSelect):
            widget.attrs.setdefault("class", "form-check-input")
            continue
        if isinstance(widget, forms.HiddenInput):
            continue
        css = "form-select" if isinstance(widget, forms.Select) else "form-control"
        widget.attrs.setdefault("class", css)


def pool_choices(blank: Any) -> list[tuple[str, Any]]:
    return [("", blank), *((p.code, p.name) for p in r.POOLS)]


class AllocationForm(forms.Form):
    pool = forms.ChoiceField(label=_("Pool"), required=False)
    sub_branch = forms.TypedChoiceField(label=_("Sub-branch"), required=False, coerce=int, empty_value=None)
    prob_min = forms.DecimalField(
        label=_("Chance at least (%)"), required=False, min_value=0, max_value=100, decimal_places=2
    )
    prob_max = forms.DecimalField(
        label=_("Chance at most (%)"), required=False, min_value=0, max_value=100, decimal_places=2
    )
    ev_min = forms.DecimalField(
        label=_("Expected value at least (yuan)"),
        required=False,
        min_value=0,
        max_digits=14,
        decimal_places=2,
    )
    only_unworked = forms.BooleanField(
        label=_("Only customers nobody has contacted under an earlier claim or allocation"), required=False
    )
    target = forms.ChoiceField(
        label=_("Allocate to"), choices=c.Target.choices, initial=c.Target.PEOPLE, widget=forms.RadioSelect
    )
    people = forms.TypedMultipleChoiceField(
        label=_("Named people"), required=False, coerce=int, widget=forms.CheckboxSelectMultiple
    )
    teams = forms.TypedMultipleChoiceField(
        label=_("Teams"), required=False, coerce=int, widget=forms.CheckboxSelectMultiple
    )
    capacity = forms.IntegerField(
        label=_("Calls per person per day"),
        required=False,
        min_value=1,
        max_value=500,
        help_text=_("Empty: each person's own daily capacity."),
    )
    days = forms.IntegerField(label=_("Working days"), min_value=1, max_value=60, initial=5)
    control_share = forms.DecimalField(
        label=_("Control group (%)"),
        required=False,
        min_value=0,
        max_value=50,
        decimal_places=1,
        help_text=_("Held back and not called, to measure the lift. Empty: the branch's claim setting."),
    )
    cap = forms.BooleanField(
        label=_("Cap at capacity: give nobody more than their capacity, leave the rest unallocated"),
        required=False,
    )

    def __init__(self, user: Any, data: Any = None, **kwargs: Any) -> None:
        super().__init__(data, **kwargs)
        actor = actor_of(user)
        subs = SubBranch.objects.filter(branch_id=actor.branch_id or 0).order_by("code")
        people = allocation_people(user)
        choices: dict[str, list[tuple[Any, Any]]] = {
            "pool": pool_choices(_("All pools (each customer in their primary pool)")),
            "sub_branch": [("", _("All")), *((s.pk, s.name) for s in subs)],
            "people": [(s.pk, f"{s.name} · {s.team.name}" if s.team else s.name) for s in people],
            "teams": [(t.pk, t.name) for t in allocation_teams(user)],
        }
        for name, options in choices.items():
            field = self.fields[name]
            assert isinstance(field, forms.ChoiceField)
            field.choices = options
        _styled(self)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        low, high = data.get("prob_min"), data.get("prob_max")
        if low is not None and high is not None and low > high:
            self.add_error("prob_max", _("The upper bound is below the lower bound."))
        if data.get("target") == c.Target.TEAMS and not data.get("teams"):
            self.add_error("teams", _("Choose at least one team."))
        if data.get("target") == c.Target.PEOPLE and not data.get("people"):
            self.add_error("people", _("Choose at least one person."))
        return data

    def params(self) -> AllocationParams:
        d = self.cleaned_data
        share = d.get("control_share")
        return AllocationParams(
            pool=d.get("pool") or "",
            sub_branch=d.get("sub_branch"),
            prob_min=float(d["prob_min"] / HUNDRED) if d.get("prob_min") is not None else None,
            prob_max=float(d["prob_max"] / HUNDRED) if d.get("prob_max") is not None else None,
            ev_min=d.get("ev_min"),
            only_unworked=bool(d.get("only_unworked")),
            target=d["target"],
            people=tuple(d.get("people") or ()) if d["target"] == c.Target.PEOPLE else (),
            teams=tuple(d.get("teams") or ()) if d["target"] == c.Target.TEAMS else (),
            capacity=d.get("capacity"),
            days=d["days"],
            control_share=(share / HUNDRED).quantize(Decimal("0.001")) if share is not None else None,
            cap=bool(d.get("cap")),
        )


class ClaimPolicyForm(forms.Form):
    protection_days = forms.IntegerField(
        label=_("Protection period (days)"),
        min_value=1,
        max_value=365,
        help_text=_("How long a claimed or allocated customer stays with the person."),
    )
    lapse_days = forms.IntegerField(
        label=_("Lapse when not contacted within (days)"),
        min_value=1,
        max_value=90,
        help_text=_("An unworked claim goes back to the pool after this many days without a contact."),
    )
    max_claims = forms.IntegerField(label=_("Open claims per person at most"), min_value=1, max_value=100000)
    control_share = forms.DecimalField(
        label=_("Control group (%)"),
        min_value=0,
        max_value=50,
        decimal_places=1,
        help_text=_("Share of each allocation held back and not called, to measure the lift (0 = off)."),
    )

    def __init__(self, policy: ClaimPolicy, data: Any = None) -> None:
        initial = {
            "protection_days": policy.protection_days,
            "lapse_days": policy.lapse_days,
            "max_claims": policy.max_claims,
            "control_share": (Decimal(policy.control_share) * HUNDRED).normalize(),
        }
        super().__init__(data, initial=initial)
        _styled(self)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        lapse, protection = data.get("lapse_days"), data.get("protection_days")
        if lapse is not None and protection is not None and lapse > protection:
            self.add_error("lapse_days", _("The lapse period cannot be longer than the protection period."))
        return data

    def values(self) -> dict[str, Any]:
        d = self.cleaned_data
        return {
            "protection_days": d["protection_days"],
            "lapse_days": d["lapse_days"],
            "max_claims": d["max_claims"],
            "control_share": (d["control_share"] / HUNDRED).quantize(Decimal("0.001")),
        }


def _receiver_label(s: Staff) -> str:
    return f"{s.name} · {s.team.name} ({s.team.get_kind_display()})" if s.team else s.name


class _HandOffFields(forms.Form):
    """The receiver, the note and the deadline every hand-off asks for."""

    to_staff = forms.ModelChoiceField(label=_("Follow-up person"), queryset=Staff.objects.none())
    note = forms.CharField(
        label=_("Hand-off note"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("What was done, what the customer needs, what to do next. No ID or phone numbers."),
        error_messages={"required": _("Write a hand-off note for the follow-up person.")},
    )
    deadline = forms.DateField(
        label=_("Deadline"),
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"required": _("Set a deadline for the follow-up.")},
    )

    def _receivers(self, queryset: Any) -> None:
        field = self.fields["to_staff"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = queryset
        field.label_from_instance = _receiver_label  # type: ignore[method-assign,assignment]
        _styled(self)


class ChannelHandOffForm(_HandOffFields):
    """Hand a whole channel (an enterprise and its employees) from the strike team to a follow-up person."""

    enterprise = forms.ModelChoiceField(label=_("Channel (enterprise)"), queryset=Enterprise.objects.none())
    field_order = ["enterprise", "to_staff", "note", "deadline"]

    def __init__(self, user: Any, branch_id: int, data: Any = None) -> None:
        super().__init__(data)
        enterprise = self.fields["enterprise"]
        assert isinstance(enterprise, forms.ModelChoiceField)
        enterprise.queryset = worked_channels(user)
        self.fields["note"].help_text = _(
            "Who the key people are, what was agreed, what to do next. No ID or phone numbers."
        )
        self._receivers(channel_receivers(branch_id))


class HandOffForm(_HandOffFields):
    def __init__(self, assignment: Assignment, data: Any = None) -> None:
        super().__init__(data)
        self._receivers(handoff_receivers(assignment))
