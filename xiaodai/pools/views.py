"""Pool pages: the inventory (资源盘点), a pool's customers and their Excel export, and the rule editor.
Thin: reads through selectors, writes through services."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from xiaodai.audit.choices import Action
from xiaodai.audit.services import record
from xiaodai.core.access import actor_of, require_perm
from xiaodai.core.roles import Perm
from xiaodai.org.models import Staff, SubBranch, Team
from xiaodai.pools import export, selectors, services
from xiaodai.pools import rules as r
from xiaodai.pools.exceptions import RuleError
from xiaodai.pools.forms import RuleForm
from xiaodai.pools.models import PoolMember, PoolRule

MEMBERS_PER_PAGE = 50


def _pool_or_404(code: str) -> r.PoolDef:
    if code not in r.POOL_CODES:
        raise Http404
    return r.BY_CODE[code]


@require_GET
@require_perm(Perm.VIEW_POOLS)
def inventory(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request.user)
    run = selectors.latest_run(request.user)
    context: dict[str, object] = {
        "nav": "pools",
        "run": run,
        "can_see_pipeline": actor.has(Perm.VIEW_PIPELINE),
    }
    if run is not None:
        context["inv"] = selectors.inventory(request.user, run, request.GET)
    return render(request, "pools/inventory.html", context)


@require_GET
@require_perm(Perm.VIEW_POOLS)
def members(request: HttpRequest, code: str) -> HttpResponse:
    pool = _pool_or_404(code)
    actor = actor_of(request.user)
    flt = selectors.member_filter(request.GET)
    run = selectors.latest_run(request.user)
    rows = selectors.members(request.user, pool.code, flt) if run else PoolMember.objects.none()
    page = Paginator(rows, MEMBERS_PER_PAGE).get_page(request.GET.get("page"))
    context = {
        "nav": "pools",
        "pool": pool,
        "run": run,
        "flt": flt,
        "page": page,
        "sub_branches": SubBranch.objects.filter(branch_id=actor.branch_id or 0).order_by("code"),
        "team_name": _name(Team, flt.team, actor.branch_id),
        "owner_name": _name(Staff, flt.owner, actor.branch_id),
        "filtered": any(v is not None for v in (flt.sub_branch, flt.team, flt.owner, flt.workable)),
        "can_export": actor.has(Perm.EXPORT_POOLS),
        "pools": r.POOLS,
    }
    return render(request, "pools/members.html", context)


def _name(model: type[Team] | type[Staff], pk: int | None, branch_id: int | None) -> str:
    """The name behind a team or owner filter, for its chip; only within the viewer's branch."""
    if pk is None:
        return ""
    found = model.objects.filter(pk=pk, branch_id=branch_id or 0).values_list("name", flat=True).first()
    return found or f"#{pk}"


@require_GET
@require_perm(Perm.EXPORT_POOLS)  # type: ignore[arg-type]  # require_perm is typed for HttpResponse
def members_export(request: HttpRequest, code: str) -> FileResponse:
    """The drill-down's list as .xlsx: same scope and filters, masked, formula-safe, audited."""
    pool = _pool_or_404(code)
    run = selectors.latest_run(request.user)
    if run is None:
        raise Http404
    flt = selectors.member_filter(request.GET)
    filters = flt.as_detail()
    rows = selectors.members(request.user, pool.code, flt)
    workbook, count = export.write_members(rows, pool, run, filters)
    # Ids and counts only: the audit trail never holds the personal data it protects.
    record(
        Action.EXPORT,
        request=request,
        object_type="pool",
        object_id=pool.code,
        detail={"format": "xlsx", "pool": pool.code, "run": run.pk, "filters": filters, "rows": count},
    )
    filename = f"pool-{pool.code}-{run.data_date:%Y%m%d}.xlsx"
    return FileResponse(workbook, as_attachment=True, filename=filename, content_type=export.CONTENT_TYPE)


@require_GET
@require_perm(Perm.MANAGE_POOL_RULES)
def rule_list(request: HttpRequest) -> HttpResponse:
    services.ensure_rules()
    rules = list(PoolRule.objects.select_related("updated_by"))
    return render(request, "pools/rules.html", {"nav": "pool_rules", "rows": selectors.rule_rows(rules)})


@require_http_methods(["GET", "POST"])
@require_perm(Perm.MANAGE_POOL_RULES)
def rule_edit(request: HttpRequest, code: str) -> HttpResponse:
    pool = r.BY_CODE.get(code)
    if pool is None:
        raise Http404
    services.ensure_rules()
    rule = PoolRule.objects.select_related("updated_by").get(code=code)
    form = RuleForm(pool, rule, request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        staff = Staff.objects.filter(pk=actor_of(request.user).staff_id or 0).first()
        try:
            saved = services.update_rule(
                code,
                params=form.param_values(),
                priority=data.get("priority", rule.priority),
                is_active=data.get("is_active", True) if "is_active" in form.fields else True,
                note=data["note"].strip(),
                by=staff,
            )
        except RuleError as exc:
            form.add_error(form.field_for(exc.field), str(exc.message))
        else:
            if saved.version == rule.version:
                messages.info(request, _("Nothing changed: the rule already has these values."))
            else:
                messages.success(
                    request,
                    _("%(rule)s saved as version %(version)s. It takes effect on the next pipeline run.")
                    % {"rule": pool.name, "version": saved.version},
                )
            return redirect("pools:rule_edit", code=code)
    form.mark_invalid()
    context = {
        "nav": "pool_rules",
        "pool": pool,
        "rule": rule,
        "form": form,
        "history": selectors.rule_history(rule),
    }
    return render(request, "pools/rule_edit.html", context)
