"""Pipeline pages: the runs of the branch, a run with its steps and live progress, and "run now". Thin: reads
through selectors, the run queued by services.queue_run and executed by a job (a page never waits for it)."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from xiaodai.core.access import actor_of, require_perm
from xiaodai.core.roles import Perm
from xiaodai.org.models import Staff
from xiaodai.pipeline import selectors, services
from xiaodai.pipeline.choices import Trigger
from xiaodai.pipeline.exceptions import PipelineError
from xiaodai.pipeline.forms import RunForm
from xiaodai.pipeline.models import PipelineRun
from xiaodai.pipeline.tasks import run_pipeline

RUNS_PER_PAGE = 25
STEP_LABELS = {
    "check": gettext_lazy("Check the data drop"),
    "snapshot": gettext_lazy("Snapshot the data"),
    "pools": gettext_lazy("Compute the pools"),
    "signals": gettext_lazy("Read the capital flow"),
    "scores": gettext_lazy("Score the customers"),
    "publish": gettext_lazy("Publish the results"),
}


def _run_or_404(request: HttpRequest, pk: int) -> PipelineRun:
    """A run of the viewer's branch; another branch's run is 404, like one that does not exist."""
    return get_object_or_404(selectors.runs_for(request.user).prefetch_related("steps"), pk=pk)


def _progress_context(run: PipelineRun) -> dict[str, object]:
    steps = list(run.steps.all())
    return {
        "run": run,
        "steps": [(s, STEP_LABELS.get(s.name, s.name)) for s in steps],
        "active": selectors.is_active(run),
        "current": STEP_LABELS.get(selectors.current_step(run), ""),
    }


@require_GET
@require_perm(Perm.VIEW_PIPELINE)
def run_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.run_list(request.user), RUNS_PER_PAGE).get_page(request.GET.get("page"))
    can_run = actor_of(request.user).has(Perm.RUN_PIPELINE)
    context = {
        "nav": "pipeline",
        "page": page,
        "form": RunForm() if can_run else None,
        "can_run": can_run,
    }
    return render(request, "pipeline/runs.html", context)


@require_GET
@require_perm(Perm.VIEW_PIPELINE)
def run_detail(request: HttpRequest, pk: int) -> HttpResponse:
    run = _run_or_404(request, pk)
    context = {"nav": "pipeline", **_progress_context(run)}
    return render(request, "pipeline/detail.html", context)


@require_GET
@require_perm(Perm.VIEW_PIPELINE)
def run_progress(request: HttpRequest, pk: int) -> HttpResponse:
    """The polled fragment: while the run is queued or running it carries the polling trigger; once finished
    it comes back without one, so polling stops, and the page reloads to show the outcome."""
    run = _run_or_404(request, pk)
    response = render(request, "pipeline/partials/progress.html", _progress_context(run))
    if request.htmx and not selectors.is_active(run):  # type: ignore[attr-defined]
        response["HX-Refresh"] = "true"
    return response


@require_POST
@require_perm(Perm.RUN_PIPELINE)
def run_start(request: HttpRequest) -> HttpResponse:
    form = RunForm(request.POST)
    if not form.is_valid():
        errors = [str(e) for errs in form.errors.values() for e in errs]
        messages.error(request, _("The run was not started: %(errors)s") % {"errors": " ".join(errors)})
        return redirect("pipeline:runs")
    actor = actor_of(request.user)
    staff = Staff.objects.filter(pk=actor.staff_id or 0).first()
    if actor.branch_id is None:  # a run is always for the person's own branch
        messages.error(request, _("Your account belongs to no branch: nothing was started."))
        return redirect("pipeline:runs")
    try:
        with transaction.atomic():
            run = services.queue_run(
                data_date=form.cleaned_data["data_date"],
                engine=form.cleaned_data["engine"],
                trigger=Trigger.WEB,
                by=staff,
                branch_id=actor.branch_id,
            )
            # Queued once the run row is committed, or the worker could look for it too early.
            transaction.on_commit(lambda: run_pipeline(run.pk))
    except PipelineError as exc:
        messages.error(request, str(exc))
        return redirect("pipeline:runs")
    messages.success(request, _("Pipeline run #%(id)s queued.") % {"id": run.pk})
    return redirect("pipeline:detail", pk=run.pk)
