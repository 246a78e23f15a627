"""Scoping of the plans app (compliance A-02), all through core's one mechanism: a branch head sees the
branch, a team lead their team and its people, everyone else their own figures and targets."""

from __future__ import annotations

from typing import Any, ClassVar, Self

from xiaodai.core.access import actor_of
from xiaodai.core.roles import Domain, Level
from xiaodai.core.scoping import ScopedQuerySet


class FactQuerySet(ScopedQuerySet):
    """Rollup rows: by the person they count for, and the team they were counted in."""

    scope_branch: ClassVar[str] = "branch_id"
    scope_team: ClassVar[str | None] = "team_id"
    scope_owner: ClassVar[str | None] = "staff_id"


class EventQuerySet(ScopedQuerySet):
    scope_branch: ClassVar[str] = "branch_id"
    scope_team: ClassVar[str | None] = "team_id"
    scope_owner: ClassVar[str | None] = "organiser_id"


class TargetQuerySet(ScopedQuerySet):
    """A lead sees the team's target and their people's (team_id or staff__team_id); a person their own."""

    scope_branch: ClassVar[str] = "branch_id"
    scope_team: ClassVar[str | None] = "team_id"
    scope_worker_team: ClassVar[str | None] = "staff__team_id"
    scope_owner: ClassVar[str | None] = "staff_id"


class BranchWideQuerySet(ScopedQuerySet):
    """Plans and refresh records hold no personal data: everyone in the branch reads them (each view
    still checks its permission, and the targets and figures inside are scoped on their own)."""

    def for_staff(self, user: Any) -> Self:
        actor = actor_of(user)
        if actor.branch_id is None:
            return self.none()
        return self.filter(branch_id=actor.branch_id)


class CompetitionQuerySet(BranchWideQuerySet):
    """A competition's leaderboard is public inside its branch: that is what makes it a competition."""


def reach_of(level: Level, team_id: int | None) -> str | None:
    """The reach whose funnel flags are kept: the whole branch, or one team (None: not kept, the person's
    own flags are worked out on the page, over their own few entries)."""
    if level == Level.BRANCH:
        return "branch"
    if level == Level.TEAM and team_id is not None:
        return f"team:{team_id}"
    return None


class FlagSetQuerySet(ScopedQuerySet):
    """Kept funnel flags name people and teams: a viewer reads only the set worked out for their own reach
    (the branch head the branch's, a lead their team's)."""

    def for_staff(self, user: Any) -> Self:
        actor = actor_of(user)
        reach = reach_of(actor.level(Domain.CUSTOMER), actor.team_id)
        if actor.branch_id is None or reach is None:
            return self.none()
        return self.filter(plan__branch_id=actor.branch_id, reach=reach)
