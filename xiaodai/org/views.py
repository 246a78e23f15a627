"""Staff pages: the list (branch head, team lead, ops admin) and account admin (ops admin only)."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from xiaodai.core.access import actor_of, require_perm
from xiaodai.core.roles import Perm, Role
from xiaodai.core.scoping import get_scoped_or_404
from xiaodai.org import services
from xiaodai.org.exceptions import OrgError
from xiaodai.org.forms import StaffCreateForm
from xiaodai.org.models import Branch, Staff


@require_http_methods(["GET"])
@require_perm(Perm.VIEW_STAFF)
def staff_list(request: HttpRequest) -> HttpResponse:
    staff = Staff.objects.for_staff(request.user).select_related("user", "sub_branch", "team")
    role = request.GET.get("role", "")
    if role in Role.values:  # anything else (a typo, a NUL byte) is ignored rather than queried
        staff = staff.filter(role=role)
    else:
        role = ""
    page = Paginator(staff.order_by("employee_no"), 50).get_page(request.GET.get("page"))
    return render(
        request,
        "org/staff_list.html",
        {
            "page": page,
            "nav": "staff",
            "role": role,
            "can_manage": actor_of(request.user).has(Perm.MANAGE_STAFF),
            "roles": Staff._meta.get_field("role").choices,
        },
    )


@require_http_methods(["GET", "POST"])
@require_perm(Perm.MANAGE_STAFF)
def staff_create(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request.user)
    form = StaffCreateForm(request.POST or None, branch_id=actor.branch_id)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.create_staff(
                request,
                username=data["username"],
                password=data["password"],
                name=data["name"],
                employee_no=data["employee_no"],
                branch=Branch.objects.get(pk=actor.branch_id or 0),
                role=data["role"],
                business_line=data["business_line"],
                sub_branch=data["sub_branch"],
                team=data["team"],
            )
        except OrgError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(
                request,
                _("Staff %(username)s created; they can log in now.") % {"username": data["username"]},
            )
            return redirect("org:staff_list")
    return render(request, "org/staff_form.html", {"form": form, "nav": "staff"})


@require_POST
@require_perm(Perm.MANAGE_STAFF)
def staff_toggle(request: HttpRequest, pk: int) -> HttpResponse:
    staff = get_scoped_or_404(Staff.objects.select_related("user"), request.user, pk=pk)
    try:
        services.set_staff_active(request, staff, not staff.user.is_active)
    except OrgError as exc:
        messages.error(request, exc.message)
    return redirect("org:staff_list")
