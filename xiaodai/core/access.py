"""Who is asking: the staff behind a request, their permissions, and the view decorator that enforces them.

Deny by default (compliance A-01): a user without a staff record, or an inactive one, holds no permission.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

from xiaodai.core.roles import ROLE_LEVELS, ROLE_PERMS, Level


@dataclass(frozen=True)
class Actor:
    """The scoping facts about one user, read once per request."""

    user_id: int
    staff_id: int | None
    role: str
    branch_id: int | None
    sub_branch_id: int | None
    team_id: int | None

    def has(self, perm: str) -> bool:
        return perm in ROLE_PERMS.get(self.role, frozenset())

    def level(self, domain: str) -> Level:
        return ROLE_LEVELS.get(domain, {}).get(self.role, Level.NONE)


NOBODY = Actor(user_id=0, staff_id=None, role="", branch_id=None, sub_branch_id=None, team_id=None)


class Viewer:
    """A stand-in user for a background job that works out what a role would see (a branch head, a team
    lead) ahead of any page view: it reads through the same scoping, and has no account to log in with."""

    is_authenticated = True
    is_active = True
    pk = 0

    def __init__(self, role: str, branch_id: int, team_id: int | None = None) -> None:
        self._xiaodai_actor = Actor(0, None, role, branch_id, None, team_id)


def actor_of(user: Any) -> Actor:
    """The Actor for a Django user; NOBODY for anonymous, inactive or staff-less users."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return NOBODY
    cached = getattr(user, "_xiaodai_actor", None)
    if cached is not None:
        return cached
    staff = getattr(user, "staff", None) if hasattr(user, "staff") else None
    if staff is None:
        actor = Actor(user.pk, None, "", None, None, None)
    else:
        actor = Actor(user.pk, staff.pk, staff.role, staff.branch_id, staff.sub_branch_id, staff.team_id)
    user._xiaodai_actor = actor
    return actor


def require_perm(perm: str) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Login required (anonymous → login page), then the permission (missing → 403)."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @login_required
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not actor_of(request.user).has(perm):
                raise PermissionDenied(perm)  # audited by audit.middleware
            return view(request, *args, **kwargs)

        wrapped.required_perm = perm  # type: ignore[attr-defined]
        return wrapped

    return decorator
