"""The form to record an event held. It only reads the values (a date, a whole number); the rules
(required title, no future or month-old day, attendee range) are the service's (events.record_event), so
the page, the API and the command line refuse the same things with the same messages."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class EventForm(forms.Form):
    title = forms.CharField(label=_("Title"), required=False, strip=True)
    held_on = forms.DateField(
        label=_("Held on"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": _("Enter the day as YYYY-MM-DD."), "required": _("Say on which day.")},
    )
    place = forms.CharField(label=_("Place"), required=False, strip=True)
    attendees = forms.IntegerField(
        label=_("Attendees"),
        required=False,
        initial=0,
        error_messages={"invalid": _("Attendees must be a whole number.")},
    )
