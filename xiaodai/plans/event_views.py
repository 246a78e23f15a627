"""Events held: the list in the viewer's scope, and recording one (the 'events held' figure). Thin: the
rules are events.record_event's."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from xiaodai.core.access import actor_of, require_perm
from xiaodai.core.roles import Perm
from xiaodai.org.models import Staff
from xiaodai.plans import read
from xiaodai.plans.event_forms import EventForm
from xiaodai.plans.events import record_event
from xiaodai.plans.exceptions import PlanError
from xiaodai.plans.models import MarketingEvent
from xiaodai.plans.rollup import local_today

EVENTS_PER_PAGE = 25
# Which form field a refused event's code belongs to (None: the form as a whole).
FIELD_OF = {
    "title_required": "title",
    "title_too_long": "title",
    "place_too_long": "place",
    "held_on_required": "held_on",
    "future": "held_on",
    "too_old": "held_on",
    "attendees": "attendees",
}


@require_http_methods(["GET", "POST"])
@require_perm(Perm.RECORD_EVENTS)
def events(request: HttpRequest) -> HttpResponse:
    """GET: the events in scope and the form; POST: record one, then back to the list."""
    form = EventForm(request.POST or None, initial={"held_on": local_today(), "attendees": 0})
    error_code = ""
    if request.method == "POST":
        if form.is_valid():
            staff = Staff.objects.select_related("user").get(pk=actor_of(request.user).staff_id or 0)
            try:
                event = record_event(staff, form.cleaned_data)
            except PlanError as err:
                error_code = err.code
                form.add_error(FIELD_OF.get(err.code), err.message)
            else:
                messages.success(
                    request,
                    _("Event “%(title)s” on %(day)s recorded. It counts in the figures at the next refresh.")
                    % {"title": event.title, "day": event.held_on.isoformat()},
                )
                return redirect("plans:events")
        else:
            error_code = "invalid"
    rows = MarketingEvent.objects.for_staff(request.user).select_related("organiser", "team", "sub_branch")
    page = Paginator(rows, EVENTS_PER_PAGE).get_page(request.GET.get("page"))
    context = {
        "nav": "performance",
        "tab": "events",
        "refreshed": read.last_refresh(request.user),
        "form": form,
        "error_code": error_code,
        "page": page,
        "max_day": local_today().isoformat(),
    }
    return render(request, "plans/events.html", context, status=400 if error_code else 200)
