"""Staff account administration. Atomic and audited (compliance A-04, A-05, U-01)."""

from __future__ import annotations

import hashlib
import secrets

from django.contrib.auth.models import User
from django.db import transaction
from django.http import HttpRequest

from xiaodai.audit.choices import Action
from xiaodai.audit.services import record
from xiaodai.org.exceptions import OrgError
from xiaodai.org.models import ApiToken, Branch, Staff, SubBranch, Team


def create_staff(
    request: HttpRequest | None,
    *,
    username: str,
    password: str,
    name: str,
    employee_no: str,
    branch: Branch,
    role: str,
    business_line: str,
    sub_branch: SubBranch | None = None,
    team: Team | None = None,
) -> Staff:
    """A login and its staff record, created together or not at all."""
    if User.objects.filter(username=username).exists():
        raise OrgError("username_taken")
    if Staff.objects.filter(employee_no=employee_no).exists():
        raise OrgError("employee_no_taken")
    if sub_branch is not None and sub_branch.branch_id != branch.pk:
        raise OrgError("sub_branch_outside_branch")
    if team is not None and team.branch_id != branch.pk:
        raise OrgError("team_outside_branch")
    with transaction.atomic():
        user = User.objects.create_user(username=username, password=password)
        staff = Staff.objects.create(
            user=user,
            name=name,
            employee_no=employee_no,
            branch=branch,
            sub_branch=sub_branch,
            team=team,
            role=role,
            business_line=business_line,
        )
        record(Action.STAFF_CREATE, request=request, obj=staff, detail={"role": role})
    return staff


def set_staff_active(request: HttpRequest, staff: Staff, active: bool) -> None:
    """Disable or re-enable a login. A disabled user's sessions stop working on their next request,
    because authentication re-checks `is_active` every time (compliance A-05)."""
    if staff.user_id == request.user.pk:
        raise OrgError("cannot_disable_self")
    with transaction.atomic():
        User.objects.filter(pk=staff.user_id).update(is_active=active)
        record(Action.STAFF_ACTIVATE if active else Action.STAFF_DEACTIVATE, request=request, obj=staff)


def issue_api_token(request: HttpRequest | None, staff: Staff, name: str) -> str:
    """Create a bearer token and return it; only its SHA-256 digest is kept."""
    token = "xd_" + secrets.token_urlsafe(32)
    with transaction.atomic():
        api_token = ApiToken.objects.create(
            staff=staff, name=name[:100], prefix=token[:8], digest=hashlib.sha256(token.encode()).hexdigest()
        )
        record(
            Action.API_TOKEN_CREATE,
            request=request,
            obj=api_token,
            user=staff.user if request is None else None,
        )
    return token
