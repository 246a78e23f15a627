"""Staff account administration by the ops admin (compliance A-04, A-05, S-04, U-01)."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client
from django.utils import translation

from tests import factories as f
from tests.conftest import Cast
from xiaodai.audit.models import AuditEvent
from xiaodai.org.exceptions import MESSAGES
from xiaodai.org.models import Staff

NEW = "/org/staff/new/"


def _form(cast: Cast, **changes: str) -> dict[str, Any]:
    data = {
        "username": "wang.fang",
        "name": "王芳",
        "employee_no": "H20260001",
        "role": "telemarketer",
        "business_line": "retail_loan",
        "sub_branch": str(cast.sub.pk),
        "team": str(cast.t1.pk),
        "password": "lantern-orchard-1987",
    }
    data.update(changes)
    return data


def _create(cast: Cast, **changes: str):  # type: ignore[no-untyped-def]
    return cast.client("ops").post(NEW, _form(cast, **changes))


def _codes(response: Any, field: str) -> set[str]:
    return {e.code for e in response.context["form"].errors.as_data()[field]}


def _message(code: str) -> str:
    """The refusal text as the page renders it (the site's default language)."""
    with translation.override(settings.LANGUAGE_CODE):
        return str(MESSAGES[code])


def _counts() -> tuple[int, int]:
    return User.objects.count(), Staff.objects.count()


# --- create ---------------------------------------------------------------------------------------


def test_ops_admin_creates_a_staff_account(cast: Cast) -> None:
    response = _create(cast)
    assert response.status_code == 302
    staff = Staff.objects.select_related("user").get(employee_no="H20260001")
    assert (staff.user.username, staff.branch, staff.sub_branch, staff.team, staff.role) == (
        "wang.fang",
        cast.branch,
        cast.sub,
        cast.t1,
        "telemarketer",
    )


def test_new_account_can_log_in(cast: Cast) -> None:
    _create(cast)
    client = Client()
    client.post("/accounts/login/", {"username": "wang.fang", "password": "lantern-orchard-1987"})
    assert "_auth_user_id" in client.session


def test_create_is_audited_once_without_the_password(cast: Cast) -> None:
    """U-01: a role/account change is one audit event."""
    _create(cast)
    staff = Staff.objects.get(employee_no="H20260001")
    event = AuditEvent.objects.get(action="staff.create")
    assert (event.object_id, event.user_id, event.detail) == (
        str(staff.pk),
        cast.user("ops").pk,
        {"role": "telemarketer"},
    )
    assert "lantern-orchard-1987" not in event.payload()


def test_duplicate_username_is_refused(cast: Cast) -> None:
    before = _counts()
    response = _create(cast, username="mgr")
    assert response.status_code == 200
    assert _message("username_taken") in response.content.decode()
    assert _counts() == before


def test_duplicate_employee_number_is_refused(cast: Cast) -> None:
    before = _counts()
    response = _create(cast, employee_no=cast.staff["mgr"].employee_no)
    assert _message("employee_no_taken") in response.content.decode()
    assert _counts() == before


@pytest.mark.parametrize(
    ("password", "code"),
    [
        ("short-pw-1", "min_length"),
        ("password1234", "password_too_common"),
        ("123456789012", "password_entirely_numeric"),
    ],
)
def test_weak_password_is_refused(cast: Cast, password: str, code: str) -> None:
    """S-04: length 12, common-password and numeric checks."""
    before = _counts()
    response = _create(cast, password=password)
    assert code in _codes(response, "password")
    assert _counts() == before


def test_password_like_the_username_is_refused(cast: Cast) -> None:
    """S-04: the similarity validator sees the new account's username and name."""
    before = _counts()
    response = _create(cast, username="lantern.orchard", password="lantern.orchard1")
    assert "password_too_similar" in _codes(response, "password")
    assert _counts() == before


def test_sub_branch_of_another_branch_is_refused(cast: Cast) -> None:
    """A-02: a tampered sub-branch id from another branch is not a valid choice."""
    before = _counts()
    response = _create(cast, sub_branch=str(cast.sub_b.pk))
    assert _codes(response, "sub_branch") == {"invalid_choice"}
    assert _counts() == before


def test_team_of_another_branch_is_refused(cast: Cast) -> None:
    foreign_team = f.TeamFactory(sub_branch=cast.sub_b)
    before = _counts()
    response = _create(cast, team=str(foreign_team.pk))
    assert _codes(response, "team") == {"invalid_choice"}
    assert _counts() == before


@pytest.mark.parametrize("username", ["Wang Fang", "wang\nfang", "王芳", "ab", "a" * 31, "wang;drop"])
def test_username_with_illegal_characters_is_refused(cast: Cast, username: str) -> None:
    before = _counts()
    response = _create(cast, username=username)
    assert _codes(response, "username") & {"invalid", "required"}
    assert _counts() == before


def test_refused_create_writes_no_audit_event(cast: Cast) -> None:
    _create(cast, username="mgr")
    assert not AuditEvent.objects.filter(action="staff.create").exists()


# --- enable / disable -----------------------------------------------------------------------------


def _toggle(cast: Cast, who: str, target: str):  # type: ignore[no-untyped-def]
    return cast.client(who).post(f"/org/staff/{cast.staff[target].pk}/toggle/")


def test_ops_admin_disables_a_user(cast: Cast) -> None:
    """A-05: the account is disabled and the change audited."""
    response = _toggle(cast, "ops", "mgr")
    assert response.status_code == 302
    assert not User.objects.get(username="mgr").is_active
    event = AuditEvent.objects.get(action="staff.deactivate")
    assert (event.object_id, event.user_id) == (str(cast.staff["mgr"].pk), cast.user("ops").pk)


def test_second_toggle_enables_again(cast: Cast) -> None:
    _toggle(cast, "ops", "mgr")
    _toggle(cast, "ops", "mgr")
    assert User.objects.get(username="mgr").is_active
    assert AuditEvent.objects.filter(action="staff.activate").count() == 1


def test_ops_admin_cannot_disable_self(cast: Cast) -> None:
    response = cast.client("ops").post(f"/org/staff/{cast.staff['ops'].pk}/toggle/", follow=True)
    assert User.objects.get(username="ops").is_active
    assert _message("cannot_disable_self") in [str(m) for m in response.context["messages"]]
    assert not AuditEvent.objects.filter(action="staff.deactivate").exists()


def test_toggling_staff_of_another_branch_is_404(cast: Cast) -> None:
    """A-02: another branch's staff answers 404 and stays untouched."""
    assert _toggle(cast, "ops", "mgr_b").status_code == 404
    assert User.objects.get(username="mgr_b").is_active


def test_toggle_needs_post(cast: Cast) -> None:
    response = cast.client("ops").get(f"/org/staff/{cast.staff['mgr'].pk}/toggle/")
    assert response.status_code == 405
    assert User.objects.get(username="mgr").is_active


# --- who may do what ------------------------------------------------------------------------------


def test_branch_head_sees_the_staff_list(cast: Cast) -> None:
    response = cast.client("head").get("/org/staff/")
    assert response.status_code == 200
    names = {s.user.username for s in response.context["page"]}
    assert "mgr" in names
    assert "mgr_b" not in names


def test_staff_list_filters_by_role(cast: Cast) -> None:
    response = cast.client("ops").get("/org/staff/", {"role": "auditor"})
    assert [s.user.username for s in response.context["page"]] == ["auditor"]


@pytest.mark.parametrize("role", ["no_such_role", "a\x00b"])
def test_unknown_role_filter_is_ignored_not_500(cast: Cast, role: str) -> None:
    client = Client(raise_request_exception=False)
    client.force_login(cast.user("ops"))
    response = client.get("/org/staff/", {"role": role})
    assert response.status_code == 200
    assert response.context["page"].paginator.count == Staff.objects.filter(branch=cast.branch).count()


def test_branch_head_cannot_create_staff(cast: Cast) -> None:
    """A-04: only the ops admin manages accounts."""
    before = _counts()
    assert cast.client("head").post(NEW, _form(cast)).status_code == 403
    assert _counts() == before


def test_branch_head_cannot_toggle_staff(cast: Cast) -> None:
    assert _toggle(cast, "head", "mgr").status_code == 403
    assert User.objects.get(username="mgr").is_active
