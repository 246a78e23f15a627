"""Import pages: the run list and run page with live progress, the error report, the web upload of a small
drop, rollback, and the per-feed bad-row mode. Thin: reads through selectors, writes through services, the
load itself in a job (a page never waits for it)."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from xiaodai.audit.choices import Action
from xiaodai.audit.services import record
from xiaodai.core.access import actor_of, require_perm
from xiaodai.core.roles import Perm
from xiaodai.ingest import selectors, services
from xiaodai.ingest.choices import APPLIED, ERROR_LABELS, BadRowMode, RunStatus, Trigger
from xiaodai.ingest.forms import MAX_UPLOAD_MB, FeedModeForm, UploadForm
from xiaodai.ingest.models import ImportRun
from xiaodai.ingest.report import report_lines
from xiaodai.ingest.tasks import run_import
from xiaodai.org.models import Staff

ERRORS_SHOWN = 200
RUNS_PER_PAGE = 25


def _staff(request: HttpRequest) -> Staff:
    return Staff.objects.get(pk=actor_of(request.user).staff_id or 0)


def _run_or_404(request: HttpRequest, pk: int) -> ImportRun:
    """A run the viewer may see; another branch's run is 404, like one that does not exist."""
    return get_object_or_404(selectors.runs_for(request.user).select_related("started_by"), pk=pk)


@require_GET
@require_perm(Perm.VIEW_IMPORTS)
def run_list(request: HttpRequest) -> HttpResponse:
    runs, flt = selectors.run_list(request.user, request.GET)
    page = Paginator(runs, RUNS_PER_PAGE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "rows": [(run, selectors.live_progress(run)) for run in page],
        "flt": flt,
        "nav": "imports",
        "statuses": RunStatus.choices,
        "sources": selectors.sources_for(request.user),
        "can_manage": actor_of(request.user).has(Perm.MANAGE_IMPORTS),
        "missed": list(selectors.open_alerts(request.user)[:20]),
    }
    return render(request, "ingest/list.html", context)


@require_GET
@require_perm(Perm.VIEW_IMPORTS)
def run_detail(request: HttpRequest, pk: int) -> HttpResponse:
    run = _run_or_404(request, pk)
    run_files = list(run.files.all())
    files = [(f, selectors.control_lines(f)) for f in run_files]
    errors = list(run.errors.all()[:ERRORS_SHOWN])
    for e in errors:
        e.label = ERROR_LABELS.get(e.code, "")  # type: ignore[attr-defined]
    context = {
        "run": run,
        "live": selectors.live_progress(run),
        "files": files,
        "totals": selectors.run_totals(run, run_files),
        "written": run.status in selectors.WITH_FIGURES,  # else the files' rows were rolled back
        "errors": errors,
        "error_count": run.errors.count(),
        "errors_shown": ERRORS_SHOWN,
        "can_rollback": actor_of(request.user).has(Perm.MANAGE_IMPORTS) and run.status in APPLIED,
        "nav": "imports",
    }
    return render(request, "ingest/detail.html", context)


@require_GET
@require_perm(Perm.VIEW_IMPORTS)
def run_progress(request: HttpRequest, pk: int) -> HttpResponse:
    """The polled progress fragment. While the run is queued or running it carries the polling trigger; once
    finished it comes back without one, so polling stops. `?row=1` answers the list's table row instead."""
    if request.GET.get("row"):
        run = get_object_or_404(selectors.with_totals(selectors.runs_for(request.user)), pk=pk)
        return render(
            request, "ingest/partials/run_row.html", {"run": run, "live": selectors.live_progress(run)}
        )
    run = _run_or_404(request, pk)
    response = render(
        request, "ingest/partials/progress.html", {"run": run, "live": selectors.live_progress(run)}
    )
    if request.htmx and run.status not in selectors.ACTIVE:  # type: ignore[attr-defined]
        # The run page was watching a run that has now finished: reload it to show files and errors.
        response["HX-Refresh"] = "true"
    return response


@require_GET
@require_perm(Perm.VIEW_IMPORTS)  # type: ignore[arg-type]  # require_perm is typed for HttpResponse; this streams
def run_errors_csv(request: HttpRequest, pk: int) -> StreamingHttpResponse:
    """The whole error report as CSV, streamed. Values were masked when stored; the export is audited."""
    run = _run_or_404(request, pk)
    count = run.errors.count()
    record(Action.EXPORT, request=request, object_type="import_run", object_id=run.pk, detail={"rows": count})
    response = StreamingHttpResponse(report_lines(run), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="import-{run.pk}-errors.csv"'
    return response


def _save_upload(folder: Path, files: list[tuple[str, Any]]) -> None:
    """Write the uploaded files into a fresh folder of their own; the run reads the drop from there."""
    folder.mkdir(parents=True)
    for name, upload in files:
        with (folder / name).open("wb") as out:
            for chunk in upload.chunks():
                out.write(chunk)


@require_http_methods(["GET", "POST"])
@require_perm(Perm.MANAGE_IMPORTS)
def run_upload(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request.user)
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        folder = Path(settings.VAR_DIR) / "ingest" / "uploads" / uuid.uuid4().hex
        try:
            _save_upload(folder, data["drop"])
            with transaction.atomic():
                run = services.prepare_run(
                    folder,
                    trigger=Trigger.UPLOAD,
                    started_by=_staff(request),
                    source=data["source"],
                    data_date=data["data_date"],
                    encoding=data["encoding"] or None,
                )
                if run.branch_id != actor.branch_id:
                    # Scoping: a manifest naming another branch must not load into it from here.
                    raise services.IngestError(
                        "other_branch",
                        _("This drop is for another branch; upload only your own branch's drops."),
                    )
                if run.status == RunStatus.QUEUED:
                    record(
                        Action.IMPORT_QUEUE,
                        request=request,
                        obj=run,
                        detail={
                            "files": len(data["drop"]),
                            "source": run.source,
                            "data_date": str(run.data_date),
                        },
                    )
                    # Queued once the run row is committed, or the worker could look for it too early.
                    transaction.on_commit(lambda: run_import(run.pk))
        except services.IngestError as exc:
            shutil.rmtree(folder, ignore_errors=True)
            form.add_error(None, exc.message)
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        else:
            if run.status == RunStatus.QUEUED:
                messages.success(request, _("Drop queued as run #%(id)s.") % {"id": run.pk})
            else:  # an identical drop was loaded before: recorded as a duplicate, nothing to load
                shutil.rmtree(folder, ignore_errors=True)
                messages.info(request, run.message)
            return redirect("ingest:detail", pk=run.pk)
    return render(request, "ingest/upload.html", {"form": form, "nav": "imports", "max_mb": MAX_UPLOAD_MB})


@require_POST
@require_perm(Perm.MANAGE_IMPORTS)
def run_rollback(request: HttpRequest, pk: int) -> HttpResponse:
    run = _run_or_404(request, pk)
    try:
        services.rollback_run(run.pk, by=_staff(request))
    except services.IngestError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Run #%(id)s rolled back.") % {"id": run.pk})
    return redirect("ingest:detail", pk=run.pk)


@require_http_methods(["GET", "POST"])
@require_perm(Perm.VIEW_IMPORTS)
def feed_list(request: HttpRequest) -> HttpResponse:
    can_manage = actor_of(request.user).has(Perm.MANAGE_IMPORTS)
    if request.method == "POST":
        if not can_manage:
            raise PermissionDenied(Perm.MANAGE_IMPORTS)  # 403, audited like any denial
        form = FeedModeForm(request.POST)
        if not form.is_valid():
            messages.error(request, _("Choose a feed and a mode."))
        else:
            try:
                services.set_feed_mode(
                    form.cleaned_data["feed"], form.cleaned_data["mode"], by=_staff(request)
                )
            except services.IngestError as exc:
                messages.error(request, exc.message)
            else:
                messages.success(
                    request,
                    _("%(feed)s: %(mode)s.")
                    % {
                        "feed": form.cleaned_data["feed"],
                        "mode": BadRowMode(form.cleaned_data["mode"]).label,
                    },
                )
        return redirect("ingest:feeds")
    context = {
        "rows": selectors.feed_rows(),
        "modes": BadRowMode.choices,
        "can_manage": can_manage,
        "nav": "imports",
    }
    return render(request, "ingest/feeds.html", context)
