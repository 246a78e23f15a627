"""Refreshing the figures on demand (the rollup is otherwise refreshed by the jobs in tasks.py)."""

from __future__ import annotations

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from xiaodai.audit.choices import Action
from xiaodai.audit.services import record
from xiaodai.core.access import actor_of, require_perm
from xiaodai.core.roles import Perm
from xiaodai.plans import tasks


@require_POST
@require_perm(Perm.MANAGE_TARGETS)
def refresh(request: HttpRequest) -> HttpResponse:
    """Queue a routine refresh of the viewer's branch; the page it came from shows the new figures after."""
    branch_id = actor_of(request.user).branch_id
    with transaction.atomic():
        record(Action.FIGURES_REFRESH, request=request, object_type="branch", object_id=branch_id or "")
        transaction.on_commit(lambda: tasks.refresh_branch(branch_id))
    messages.success(request, _("Refreshing the figures: reload the page in a minute to see them."))
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}, require_https=False):
        back = "/performance/"
    return redirect(back)
