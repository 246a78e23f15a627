from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from xiaodai.outreach import choices as c
from xiaodai.outreach.models import ContactPolicy

BLANK: list[tuple[str, Any]] = [("", "—")]


class OutcomeForm(forms.Form):
    """The call screen's outcome form; the same form records visits and WeChat contacts."""

    token = forms.UUIDField(widget=forms.HiddenInput)
    channel = forms.ChoiceField(choices=c.WorkChannel.choices, widget=forms.HiddenInput)
    outcome = forms.ChoiceField(
        label=_("Outcome"), choices=c.ContactOutcome.choices, widget=forms.RadioSelect
    )
    objection = forms.ChoiceField(
        label=_("Objection raised"), choices=BLANK + c.Objection.choices, required=False
    )
    rebuttal = forms.IntegerField(label=_("Rebuttal used"), min_value=0, max_value=50, required=False)
    purpose = forms.ChoiceField(
        label=_("Stated loan purpose"), choices=BLANK + c.LoanPurpose.choices, required=False
    )
    amount = forms.DecimalField(
        label=_("Amount wanted (yuan)"), max_digits=12, decimal_places=2, min_value=0, required=False
    )
    follow_up_on = forms.DateField(
        label=_("Next follow-up"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    notes = forms.CharField(
        label=_("Notes"), max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    script_version = forms.IntegerField(required=False, widget=forms.HiddenInput)
    recording_ref = forms.CharField(label=_("Recording reference"), max_length=100, required=False)
    visit_place = forms.ChoiceField(
        label=_("Visit place"), choices=BLANK + c.VisitPlace.choices, required=False
    )
    wechat_kind = forms.ChoiceField(
        label=_("WeChat contact"), choices=BLANK + c.WechatKind.choices, required=False
    )
    occurred_at = forms.DateTimeField(
        label=_("When it happened"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text=_("Visits and WeChat contacts logged afterwards; leave empty for now."),
    )
    corrects = forms.IntegerField(required=False, widget=forms.HiddenInput)


class ContactPolicyForm(forms.ModelForm):
    class Meta:
        model = ContactPolicy
        fields = [
            "window_start",
            "window_end",
            "holidays_allowed",
            "refusal_freeze_days",
            "phone_per_day",
            "phone_per_30d",
            "visit_per_day",
            "visit_per_30d",
            "wechat_per_day",
            "wechat_per_30d",
        ]
        widgets = {
            "window_start": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "window_end": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        }

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("window_start"), data.get("window_end")
        if start is not None and end is not None and end <= start:
            raise forms.ValidationError(_("Calls must end after they start."))
        return data
