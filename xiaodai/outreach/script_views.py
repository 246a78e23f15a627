"""Script library pages: the library with its review queue, a script with its versions side by side, the
new-script and edit-draft forms, and the submit / approve / send-back actions.

Thin: every script is read through Script.objects.for_staff (the viewer's branch) and written through
xiaodai.outreach.scripts. Everyone who works calls reads the approved scripts; writers and approvers also
see drafts, versions in review and the history."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.db import transaction
from django.db.models import Exists, OuterRef, Prefetch, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from xiaodai.core.access import Actor, actor_of, require_perm
from xiaodai.core.roles import Perm
from xiaodai.core.scoping import get_scoped_or_404
from xiaodai.org.models import Staff
from xiaodai.outreach import scripts as svc
from xiaodai.outreach.choices import Objection, ScriptStatus
from xiaodai.outreach.models import Script, ScriptVersion
from xiaodai.outreach.script_forms import (
    ReviewForm,
    ScriptMetaForm,
    VersionForm,
    lint_by_field,
    mark_lint,
    pool_choices,
)
from xiaodai.outreach.script_lint import BANNED_PHRASES, PROHIBITED_USE_PHRASES, lint
from xiaodai.pools import rules as r

LIVE = (ScriptStatus.APPROVED, ScriptStatus.REVIEW, ScriptStatus.DRAFT)
TEXTS = ("opening", "selling_points", "scenario_text", "closing")


def _staff(request: HttpRequest) -> Staff:
    staff = getattr(request.user, "staff", None)
    if staff is None:  # require_perm lets no staff-less user this far
        raise Http404
    return staff


def _editor(actor: Actor) -> bool:
    """Writers and approvers see the whole library (drafts, reviews, history); the others approved only."""
    return actor.has(Perm.WRITE_SCRIPTS) or actor.has(Perm.APPROVE_SCRIPTS)


def _detail_url(script_id: int, version: int | None = None) -> str:
    url = reverse("scripts:detail", args=[script_id])
    return f"{url}?v={version}" if version else url


# --- the library -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class LibraryRow:
    script: Script
    approved: ScriptVersion | None
    review: ScriptVersion | None
    draft: ScriptVersion | None

    @property
    def pool_name(self) -> str:
        return _pool_name(self.script.pool)

    @property
    def scenario_name(self) -> str:
        return _scenario_name(self.script.scenario)


def _pool_name(code: str) -> str:
    return str(r.BY_CODE[code].name) if code in r.POOL_CODES else ""


def _scenario_name(code: str) -> str:
    return str(svc.Scenario(code).label) if code in svc.Scenario.values else ""


def _has(status: str) -> Exists:
    return Exists(ScriptVersion.objects.filter(script=OuterRef("pk"), status=status))


@require_GET
@require_perm(Perm.WORK_CALLS)
def library(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request.user)
    editor = _editor(actor)
    base: QuerySet[Script] = Script.objects.for_staff(request.user)
    if not editor:
        base = base.filter(_has(ScriptStatus.APPROVED))
    product = request.GET.get("product", "").strip()
    pool = request.GET.get("pool", "")
    status = request.GET.get("status", "") if editor else ""
    scripts = base
    if product:
        scripts = scripts.filter(product=product)
    if pool == "-":
        scripts = scripts.filter(pool="")
    elif pool in r.POOL_CODES:
        scripts = scripts.filter(pool=pool)
    else:
        pool = ""
    if status in LIVE:
        scripts = scripts.filter(_has(status))
    else:
        status = ""
    live = ScriptVersion.objects.filter(status__in=LIVE if editor else [ScriptStatus.APPROVED])
    scripts = scripts.prefetch_related(
        Prefetch("versions", queryset=live.select_related("author", "reviewer"), to_attr="live")
    )
    rows = []
    for script in scripts:
        by_status = {v.status: v for v in getattr(script, "live", [])}
        rows.append(
            LibraryRow(
                script,
                by_status.get(ScriptStatus.APPROVED),
                by_status.get(ScriptStatus.REVIEW),
                by_status.get(ScriptStatus.DRAFT),
            )
        )
    queue: list[ScriptVersion] = []
    if actor.has(Perm.APPROVE_SCRIPTS):
        queue = list(
            ScriptVersion.objects.filter(script__in=base, status=ScriptStatus.REVIEW)
            .select_related("script", "author")
            .order_by("submitted_at", "pk")
        )
    context = {
        "nav": "scripts",
        "rows": rows,
        "queue": queue,
        "editor": editor,
        "can_write": actor.has(Perm.WRITE_SCRIPTS),
        "can_approve": actor.has(Perm.APPROVE_SCRIPTS),
        "products": list(base.order_by("product").values_list("product", flat=True).distinct()),
        "pools": [*pool_choices(_("All pools")), ("-", _("Generic: any pool"))],
        "statuses": [(s, ScriptStatus(s).label) for s in LIVE],
        "flt": {"product": product, "pool": pool, "status": status},
        "filtered": bool(product or pool or status),
        "me": actor.staff_id,
    }
    return render(request, "outreach/scripts/library.html", context)


# --- one script ------------------------------------------------------------------------------------


def _pieces_diff(old: str, new: str) -> tuple[list[tuple[str, bool]], list[tuple[str, bool]]]:
    """Character-level differences (Chinese has no spaces to split words on): (old pieces, new pieces)."""
    left: list[tuple[str, bool]] = []
    right: list[tuple[str, bool]] = []
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    for op, a1, a2, b1, b2 in matcher.get_opcodes():
        if op == "equal":
            left.append((old[a1:a2], False))
            right.append((new[b1:b2], False))
            continue
        if a2 > a1:
            left.append((old[a1:a2], True))
        if b2 > b1:
            right.append((new[b1:b2], True))
    return left, right


@dataclass(frozen=True)
class CompareRow:
    label: str
    left: list[tuple[str, bool]]
    right: list[tuple[str, bool]]
    changed: bool


def apr_text(apr: Decimal) -> str:
    """3.4500 → 3.45, 3.1 → 3.10, 3.4567 → 3.4567: two decimals at least, never trailing zeros beyond."""
    normal = apr.normalize()
    exponent = normal.as_tuple().exponent
    if isinstance(exponent, int) and exponent > -2:
        normal = normal.quantize(Decimal("0.01"))
    return f"{normal:f}"


def _texts(version: ScriptVersion) -> list[tuple[str, str]]:
    """(label, text) of every customer-facing part of a version, rebuttals one per line."""
    labels = {
        "opening": _("Opening line"),
        "selling_points": _("Selling points"),
        "scenario_text": _("Usage scenario"),
        "closing": _("Closing"),
    }
    rows = [(labels[f], str(getattr(version, f) or "")) for f in TEXTS]
    rows.append((_("APR (%)"), apr_text(version.apr)))
    objections = version.objections or {}
    for code, label in Objection.choices:
        rows.append((str(label), "\n".join(objections.get(code, []))))
    return rows


def _compare(old: ScriptVersion, new: ScriptVersion) -> list[CompareRow]:
    rows = []
    for (label, a), (_label, b) in zip(_texts(old), _texts(new), strict=True):
        left, right = _pieces_diff(a, b)
        rows.append(CompareRow(label, left, right, a != b))
    return rows


@require_GET
@require_perm(Perm.WORK_CALLS)
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request.user)
    editor = _editor(actor)
    script = get_scoped_or_404(Script.objects.select_related("created_by"), request.user, pk=pk)
    versions = list(script.versions.select_related("author", "reviewer"))
    if not editor:
        versions = [v for v in versions if v.status == ScriptStatus.APPROVED]
    if not versions:
        raise Http404  # a script without an approved version is not in a reader's library
    approved = next((v for v in versions if v.status == ScriptStatus.APPROVED), None)
    wanted = request.GET.get("v", "")
    selected = next((v for v in versions if str(v.version) == wanted), None) or versions[0]
    latest = versions[0]
    open_draft = latest if latest.status == ScriptStatus.DRAFT else None
    findings: dict[str, Any] = {}
    if editor and selected.status in (ScriptStatus.DRAFT, ScriptStatus.REVIEW):
        fields = svc.fields_of(selected)
        findings = lint_by_field(lint(fields), fields)
    compare_with = approved if approved is not None and approved.pk != selected.pk else None
    compare = _compare(compare_with, selected) if compare_with else []
    context = {
        "nav": "scripts",
        "script": script,
        "versions": versions,
        "selected": selected,
        "approved": approved,
        "compare_with": compare_with,
        "compare": compare,
        "changed": [row for row in compare if row.changed],
        "unchanged": [row for row in compare if not row.changed],
        "texts": _texts(selected),
        "findings": findings,
        "editor": editor,
        "can_edit": actor.has(Perm.WRITE_SCRIPTS)
        and (open_draft is None or open_draft.author_id == actor.staff_id),
        "can_submit": actor.has(Perm.WRITE_SCRIPTS)
        and selected.status == ScriptStatus.DRAFT
        and selected.author_id == actor.staff_id,
        "can_review": actor.has(Perm.APPROVE_SCRIPTS) and selected.status == ScriptStatus.REVIEW,
        "own_version": selected.author_id == actor.staff_id,
        "pool_name": _pool_name(script.pool),
        "scenario_name": _scenario_name(script.scenario),
        "review_form": ReviewForm(),
    }
    return render(request, "outreach/scripts/detail.html", context)


# --- writing ---------------------------------------------------------------------------------------


def _save(
    request: HttpRequest, form: VersionForm, write: Any, meta: ScriptMetaForm | None = None
) -> tuple[ScriptVersion | None, dict[str, Any]]:
    """Run `write` (which saves a draft and returns it); with "submit" in the POST, submit it in the same
    transaction, so a submission the lint refuses leaves nothing saved. Returns (version, lint findings)."""
    staff = _staff(request)
    submitting = "submit" in request.POST
    try:
        with transaction.atomic():
            version: ScriptVersion = write(staff)
            if submitting:
                svc.submit(version, staff)
    except svc.ScriptError as exc:
        if exc.lint_errors:
            fields = svc.clean_fields(form.version_fields())
            findings = lint_by_field(exc.lint_errors, fields)
            messages.error(request, exc.message)
            mark_lint(form, findings)
            return None, findings
        if meta is not None and exc.field in meta.fields:
            meta.add_error(exc.field, exc.message)
        else:
            form.add_service_error(exc)
        return None, {}
    if submitting:
        messages.success(
            request, _("Version %(version)s is submitted for review.") % {"version": version.version}
        )
    else:
        messages.success(request, _("Draft saved as version %(version)s.") % {"version": version.version})
    return version, {}


def _form_context(form: VersionForm, findings: dict[str, Any]) -> dict[str, Any]:
    """Each field beside its lint finding (templates cannot look a dict up by a variable key)."""
    return {
        "text_rows": [(f, findings.get(f.name)) for f in form.text_fields()],
        "objection_rows": [(f, findings.get(f.name)) for f in form.objection_fields()],
        "apr_finding": findings.get("apr"),
        "other_findings": [v for k, v in findings.items() if k not in form.fields],
        "rules": {
            "banned": "、".join(BANNED_PHRASES),
            "uses": "、".join(PROHIBITED_USE_PHRASES),
        },
    }


def _products(request: HttpRequest) -> list[str]:
    return sorted(set(Script.objects.for_staff(request.user).values_list("product", flat=True)) | {"消费贷"})


@require_http_methods(["GET", "POST"])
@require_perm(Perm.WRITE_SCRIPTS)
def create(request: HttpRequest) -> HttpResponse:
    meta = ScriptMetaForm(request.POST or None, initial={"product": "消费贷"})
    form = VersionForm(request.POST or None)
    findings: dict[str, Any] = {}
    if request.method == "POST" and all([meta.is_valid(), form.is_valid()]):
        data = meta.cleaned_data

        def write(staff: Staff) -> ScriptVersion:
            return svc.create_script(
                staff, data["title"], data["product"], data["pool"], data["scenario"], form.version_fields()
            )

        version, findings = _save(request, form, write, meta)
        if version is not None:
            return redirect(_detail_url(version.script_id, version.version))
    meta.mark_invalid()
    form.mark_invalid()
    context = {
        "nav": "scripts",
        "meta": meta,
        "form": form,
        "findings": findings,
        "products": _products(request),
        "script": None,
        **_form_context(form, findings),
    }
    return render(request, "outreach/scripts/form.html", context)


@require_http_methods(["GET", "POST"])
@require_perm(Perm.WRITE_SCRIPTS)
def edit(request: HttpRequest, pk: int) -> HttpResponse:
    script = get_scoped_or_404(Script.objects.all(), request.user, pk=pk)
    actor = actor_of(request.user)
    latest = script.versions.select_related("author").order_by("-version").first()
    draft = latest if latest is not None and latest.status == ScriptStatus.DRAFT else None
    locked_by = draft.author if draft is not None and draft.author_id != actor.staff_id else None
    start = svc.fields_of(latest) if latest is not None else {}
    form = VersionForm(request.POST or None, initial=VersionForm.initial_from(start))
    findings: dict[str, Any] = {}
    if request.method == "POST" and locked_by is None and form.is_valid():

        def write(staff: Staff) -> ScriptVersion:
            return svc.save_draft(script, staff, form.version_fields())

        version, findings = _save(request, form, write)
        if version is not None:
            if "submit" in request.POST:
                return redirect(_detail_url(script.pk, version.version))
            return redirect("scripts:edit", pk=script.pk)
    elif request.method == "POST" and locked_by is not None:
        refused = svc.ScriptError("draft_of_another", params={"author": locked_by.name})
        messages.error(request, refused.message)
    elif request.method == "GET" and draft is not None:
        findings = lint_by_field(lint(start), start)
        mark_lint(form, findings)
    form.mark_invalid()
    context = {
        "nav": "scripts",
        "script": script,
        "latest": latest,
        "draft": draft,
        "locked_by": locked_by,
        "form": form,
        "findings": findings,
        "pool_name": _pool_name(script.pool),
        "scenario_name": _scenario_name(script.scenario),
        **_form_context(form, findings),
    }
    return render(request, "outreach/scripts/form.html", context)


# --- review actions --------------------------------------------------------------------------------


def _version_or_404(request: HttpRequest, pk: int) -> ScriptVersion:
    """A version through its script's scope: another branch's version is 404 like any other record."""
    script = get_scoped_or_404(Script.objects.all(), request.user, versions__pk=pk)
    return script.versions.select_related("script", "author").get(pk=pk)


@require_POST
@require_perm(Perm.WRITE_SCRIPTS)
def submit(request: HttpRequest, pk: int) -> HttpResponse:
    version = _version_or_404(request, pk)
    try:
        svc.submit(version, _staff(request))
    except svc.ScriptError as exc:
        messages.error(request, exc.message)
        if exc.lint_errors:
            return redirect("scripts:edit", pk=version.script_id)
    else:
        messages.success(
            request, _("Version %(version)s is submitted for review.") % {"version": version.version}
        )
    return redirect(_detail_url(version.script_id, version.version))


@require_POST
@require_perm(Perm.APPROVE_SCRIPTS)
def approve(request: HttpRequest, pk: int) -> HttpResponse:
    version = _version_or_404(request, pk)
    form = ReviewForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    try:
        svc.approve(version, _staff(request), note)
    except svc.ScriptError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            _("Version %(version)s is approved: the call screen shows it from now on.")
            % {"version": version.version},
        )
    return redirect(_detail_url(version.script_id, version.version))


@require_POST
@require_perm(Perm.APPROVE_SCRIPTS)
def reject(request: HttpRequest, pk: int) -> HttpResponse:
    version = _version_or_404(request, pk)
    form = ReviewForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    try:
        svc.reject(version, _staff(request), note)
    except svc.ScriptError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request, _("Version %(version)s is sent back to its author.") % {"version": version.version}
        )
    return redirect(_detail_url(version.script_id, version.version))
