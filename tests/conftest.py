"""The named cast: every role in branch A, a second branch B, and customers placed so each scope differs.

branch A ─ sub-branch A1 ─ team T1: lead (team_lead), mgr (loan_manager), tele (telemarketer)
         │               └ team T2: mgr2 (loan_manager)
         ├ head (branch_head), ops (ops_admin), auditor, lobby, corporate, wealth, postloan (post_loan)
branch B ─ sub-branch B1: head_b (branch_head), mgr_b (loan_manager)

customers: own (mgr), team (tele, same team as mgr), other_team (mgr2), other_branch (mgr_b)
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client
from django.utils import translation

from tests import factories as f
from xiaodai.core.roles import Role
from xiaodai.customers.models import Customer
from xiaodai.org.models import Branch, Staff, SubBranch, Team

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@dataclass
class Cast:
    branch: Branch
    branch_b: Branch
    sub: SubBranch
    sub_b: SubBranch
    t1: Team
    t2: Team
    staff: dict[str, Staff] = field(default_factory=dict)
    customers: dict[str, Customer] = field(default_factory=dict)

    def user(self, name: str) -> User:
        return self.staff[name].user

    def client(self, name: str | None) -> Client:
        client = Client()
        if name is not None:
            client.force_login(self.user(name))
        return client


ROLES_A = {
    "head": (Role.BRANCH_HEAD, None),
    "lead": (Role.TEAM_LEAD, "t1"),
    "mgr": (Role.LOAN_MANAGER, "t1"),
    "tele": (Role.TELEMARKETER, "t1"),
    "mgr2": (Role.LOAN_MANAGER, "t2"),
    "lobby": (Role.LOBBY_MANAGER, None),
    "corporate": (Role.CORPORATE_RM, None),
    "wealth": (Role.WEALTH_ADVISOR, None),
    "ops": (Role.OPS_ADMIN, None),
    "auditor": (Role.AUDITOR, None),
    "postloan": (Role.POST_LOAN, None),
}


def build_cast() -> Cast:
    branch = f.BranchFactory(name="杭州分行")
    branch_b = f.BranchFactory(name="宁波分行")
    sub = f.SubBranchFactory(branch=branch, name="西湖支行")
    sub_b = f.SubBranchFactory(branch=branch_b, name="海曙支行")
    cast = Cast(
        branch=branch,
        branch_b=branch_b,
        sub=sub,
        sub_b=sub_b,
        t1=f.TeamFactory(sub_branch=sub, name="西湖一组"),
        t2=f.TeamFactory(sub_branch=sub, name="西湖二组", kind="strike"),
    )
    for name, (role, team) in ROLES_A.items():
        cast.staff[name] = f.StaffFactory(
            user__username=name,
            name=name,
            branch=branch,
            sub_branch=sub,
            team=getattr(cast, team) if team else None,
            role=role,
        )
    cast.staff["head_b"] = f.StaffFactory(
        user__username="head_b", branch=branch_b, sub_branch=sub_b, role=Role.BRANCH_HEAD
    )
    cast.staff["mgr_b"] = f.StaffFactory(
        user__username="mgr_b", branch=branch_b, sub_branch=sub_b, role=Role.LOAN_MANAGER
    )
    placements: dict[str, tuple[str, SubBranch, str]] = {
        "own": ("mgr", sub, "张三"),
        "team": ("tele", sub, "李四"),
        "other_team": ("mgr2", sub, "王五"),
        "other_branch": ("mgr_b", sub_b, "赵六"),
    }
    for key, (owner, place, name) in placements.items():
        customer = f.CustomerFactory(sub_branch=place, owner=cast.staff[owner], name=name)
        f.ContactPointFactory(customer=customer)
        f.CreditLineFactory(customer=customer)
        f.LoanFactory(customer=customer)
        f.ConsentFactory(customer=customer)
        cast.customers[key] = customer
    return cast


@pytest.fixture
def cast(db: Any) -> Cast:
    return build_cast()


@pytest.fixture(autouse=True)
def _default_language() -> Any:
    """Every test starts in the product's default language (Chinese), whatever an earlier test activated."""
    with translation.override(settings.LANGUAGE_CODE):
        yield


@pytest.fixture(autouse=True)
def _empty_cache() -> None:
    """Every test starts with an empty cache: what one test's pages noted must not answer another's."""
    from django.core.cache import cache

    cache.clear()
