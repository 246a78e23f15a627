"""Bearer-token authentication for the JSON API. The token's user is scoped exactly like a page visit."""

from __future__ import annotations

import hashlib
from typing import Any

from django.contrib.auth.models import User
from django.http import HttpRequest
from django.utils import timezone
from ninja.security import HttpBearer

from xiaodai.core.access import actor_of
from xiaodai.core.roles import Perm
from xiaodai.org.models import ApiToken


class TokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Any:
        digest = hashlib.sha256(token.encode()).hexdigest()
        api_token = (
            ApiToken.objects.select_related("staff__user")
            .filter(digest=digest, revoked=False, staff__user__is_active=True)
            .first()
        )
        if api_token is None:
            return None
        user: User = api_token.staff.user
        if not actor_of(user).has(Perm.USE_API):
            return None
        ApiToken.objects.filter(pk=api_token.pk).update(last_used_at=timezone.now())
        request.user = user
        return user
