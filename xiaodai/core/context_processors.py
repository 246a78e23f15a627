from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from xiaodai.core.access import actor_of
from xiaodai.core.roles import ROLE_PERMS


def staff(request: HttpRequest) -> dict[str, Any]:
    """The signed-in staff record and their permission codes, for the navigation."""
    user = getattr(request, "user", None)
    actor = actor_of(user)
    return {
        "current_staff": getattr(user, "staff", None) if actor.staff_id else None,
        "perms_codes": ROLE_PERMS.get(actor.role, frozenset()),
    }
