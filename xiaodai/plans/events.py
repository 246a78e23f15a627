"""Events held (沙龙, 进企业宣讲, 社区活动): recording one. The 'events held' process figure counts these
(rollup.event_facts), for the organiser, in the team and sub-branch they belonged to when recording it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from xiaodai.audit.choices import Action
from xiaodai.audit.services import record
from xiaodai.org.models import Staff
from xiaodai.plans.exceptions import PlanError
from xiaodai.plans.models import MarketingEvent
from xiaodai.plans.rollup import local_today

TITLE_MAX = 100
PLACE_MAX = 100
ATTENDEES_MAX = 100_000
# Events are recorded soon after they are held; an older one would rewrite a month already reviewed.
MAX_AGE_DAYS = 31

MESSAGES: dict[str, Any] = {
    "title_required": _("Give the event a title."),
    "title_too_long": _("The title is %(length)s characters long; at most %(max)s."),
    "place_too_long": _("The place is %(length)s characters long; at most %(max)s."),
    "held_on_required": _("Say on which day the event was held."),
    "future": _("%(day)s has not happened yet: record an event once it has been held."),
    "too_old": _("%(day)s is more than %(days)s days ago: events are recorded within a month of being held."),
    "attendees": _("Attendees must be a whole number from 0 to %(max)s."),
    "no_branch": _("Only staff of a branch record events."),
}


def _error(code: str, **params: Any) -> PlanError:
    return PlanError(code, MESSAGES[code], **params)


def _clean(data: Mapping[str, Any], today: dt.date) -> dict[str, Any]:
    title = str(data.get("title") or "").strip()
    if not title:
        raise _error("title_required")
    if len(title) > TITLE_MAX:
        raise _error("title_too_long", length=len(title), max=TITLE_MAX)
    place = str(data.get("place") or "").strip()
    if len(place) > PLACE_MAX:
        raise _error("place_too_long", length=len(place), max=PLACE_MAX)
    held_on = data.get("held_on")
    if not isinstance(held_on, dt.date):
        raise _error("held_on_required")
    if held_on > today:
        raise _error("future", day=held_on.isoformat())
    if held_on < today - dt.timedelta(MAX_AGE_DAYS):
        raise _error("too_old", day=held_on.isoformat(), days=MAX_AGE_DAYS)
    attendees = data.get("attendees")
    attendees = 0 if attendees in (None, "") else attendees
    if isinstance(attendees, bool) or not isinstance(attendees, int) or not 0 <= attendees <= ATTENDEES_MAX:
        raise _error("attendees", max=ATTENDEES_MAX)
    return {"title": title, "place": place, "held_on": held_on, "attendees": attendees}


@transaction.atomic
def record_event(staff: Staff, data: Mapping[str, Any]) -> MarketingEvent:
    """Record an event the staff member held: title (required, ≤ 100), held_on (not in the future, not
    older than 31 days), place (≤ 100), attendees (0 to 100,000). The organiser is the staff member, in
    their team and sub-branch. Audited; a refused event writes nothing (PlanError)."""
    if staff.branch_id is None:
        raise _error("no_branch")
    clean = _clean(data, local_today())
    event = MarketingEvent.objects.create(
        branch_id=staff.branch_id,
        organiser=staff,
        team_id=staff.team_id,
        sub_branch_id=staff.sub_branch_id,
        **clean,
    )
    record(
        Action.EVENT_RECORD,
        user=staff.user,
        obj=event,
        detail={"held_on": clean["held_on"].isoformat(), "attendees": clean["attendees"]},
    )
    return event
