"""Auth events reach us only as Django signals, so these receivers are the one place they are audited."""

from __future__ import annotations

from typing import Any

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from xiaodai.audit.choices import Action, Outcome
from xiaodai.audit.services import record


@receiver(user_logged_in)
def _on_login(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    record(Action.LOGIN, request=request, user=user)


@receiver(user_logged_out)
def _on_logout(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if user is not None:
        record(Action.LOGOUT, request=request, user=user)


@receiver(user_login_failed)
def _on_login_failed(sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any) -> None:
    # The attempted username is kept (it identifies the account under attack), never the password.
    record(
        Action.LOGIN_FAILED,
        request=request,
        user=None,
        username=str(credentials.get("username", ""))[:150],
        outcome=Outcome.FAILURE,
    )


@receiver(user_locked_out)
def _on_lockout(sender: Any, request: Any = None, username: str = "", **kwargs: Any) -> None:
    record(Action.LOCKOUT, request=request, user=None, username=str(username)[:150], outcome=Outcome.DENIED)
