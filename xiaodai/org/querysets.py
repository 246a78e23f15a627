from __future__ import annotations

from xiaodai.core.roles import Domain
from xiaodai.core.scoping import ScopedQuerySet


class StaffQuerySet(ScopedQuerySet):
    scope_domain = Domain.ORG
    scope_branch = "branch_id"
    scope_team = "team_id"
    scope_owner = "id"


class TeamQuerySet(ScopedQuerySet):
    scope_domain = Domain.ORG
    scope_branch = "branch_id"
    scope_team = "id"
    scope_owner = None
