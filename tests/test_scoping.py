"""Who sees which customer: the one scoping mechanism, role by role (compliance A-02)."""

from __future__ import annotations

import pytest

from tests.conftest import Cast
from xiaodai.customers.models import CreditLine, Customer
from xiaodai.org.models import Staff

EXPECTED = {
    "head": {"own", "team", "other_team"},
    "lead": {"own", "team"},
    "mgr": {"own"},
    "tele": {"team"},
    "mgr2": {"other_team"},
    "lobby": set(),
    "ops": set(),
    "auditor": set(),
    "head_b": {"other_branch"},
    "mgr_b": {"other_branch"},
}


@pytest.mark.parametrize(("who", "sees"), EXPECTED.items())
def test_customer_scope_by_role(cast: Cast, who: str, sees: set[str]) -> None:
    visible = set(Customer.objects.for_staff(cast.user(who)).values_list("pk", flat=True))
    assert visible == {cast.customers[k].pk for k in sees}


@pytest.mark.parametrize(("who", "sees"), EXPECTED.items())
def test_holdings_follow_their_customer(cast: Cast, who: str, sees: set[str]) -> None:
    visible = set(CreditLine.objects.for_staff(cast.user(who)).values_list("customer_id", flat=True))
    assert visible == {cast.customers[k].pk for k in sees}


def test_user_without_staff_record_sees_nothing(cast: Cast, django_user_model: type) -> None:
    stranger = django_user_model.objects.create_user("stranger", password="x" * 12)
    assert not Customer.objects.for_staff(stranger).exists()


def test_inactive_user_sees_nothing(cast: Cast) -> None:
    user = cast.user("head")
    user.is_active = False
    user.save()
    assert not Customer.objects.for_staff(user).exists()


def test_ops_admin_sees_staff_of_own_branch_only(cast: Cast) -> None:
    visible = set(Staff.objects.for_staff(cast.user("ops")).values_list("user__username", flat=True))
    assert "head" in visible
    assert "head_b" not in visible


def test_team_lead_sees_own_team_staff_only(cast: Cast) -> None:
    visible = set(Staff.objects.for_staff(cast.user("lead")).values_list("user__username", flat=True))
    assert visible == {"lead", "mgr", "tele"}
