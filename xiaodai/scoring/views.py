"""Model pages: the registry with its training runs, a model's card, and "retrain now". Thin: reads through
selectors; the training is queued by jobs.queue_retrain and executed by a job (a page never waits for it)."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from xiaodai.core.access import actor_of, require_perm
from xiaodai.core.roles import Perm
from xiaodai.org.models import Staff
from xiaodai.scoring import jobs, selectors
from xiaodai.scoring.choices import ModelStatus
from xiaodai.scoring.exceptions import ScoringError
from xiaodai.scoring.models import ScoringModel

MODELS_PER_PAGE = 25


def _runs_context() -> dict[str, object]:
    runs = selectors.recent_runs()
    return {"runs": runs, "training": selectors.any_active(runs)}


@require_GET
@require_perm(Perm.MANAGE_MODELS)
def registry(request: HttpRequest) -> HttpResponse:
    models, flt = selectors.model_list(request.GET)
    page = Paginator(models, MODELS_PER_PAGE).get_page(request.GET.get("page"))
    context = {
        "nav": "models",
        "page": page,
        "rows": [(m, selectors.summary(m)) for m in page],
        "flt": flt,
        "names": selectors.model_names(),
        "statuses": ModelStatus.choices,
        **_runs_context(),
    }
    return render(request, "scoring/registry.html", context)


@require_GET
@require_perm(Perm.MANAGE_MODELS)
def runs(request: HttpRequest) -> HttpResponse:
    """The polled fragment of training runs: it carries the polling trigger while one is queued or running;
    once none is, the watching page reloads to show the new model in the registry."""
    context = _runs_context()
    response = render(request, "scoring/partials/runs.html", context)
    if request.htmx and not context["training"]:  # type: ignore[attr-defined]
        response["HX-Refresh"] = "true"
    return response


@require_GET
@require_perm(Perm.MANAGE_MODELS)
def model_card(request: HttpRequest, pk: int) -> HttpResponse:
    model = get_object_or_404(ScoringModel.objects.select_related("trained_by"), pk=pk)
    context = {"nav": "models", "card": selectors.card(model), "model": model}
    return render(request, "scoring/card.html", context)


@require_POST
@require_perm(Perm.MANAGE_MODELS)
def retrain(request: HttpRequest) -> HttpResponse:
    staff = Staff.objects.filter(pk=actor_of(request.user).staff_id or 0).first()
    try:
        run = jobs.queue_retrain(staff, request)
    except ScoringError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Retraining #%(id)s queued.") % {"id": run.pk})
    return redirect("scoring:registry")
