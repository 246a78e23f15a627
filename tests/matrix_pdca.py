"""Permission-matrix rows for the PDCA and competition URLs (merged into tests/test_permission_matrix.py)."""

from __future__ import annotations

from tests.matrix_common import FRONT_LINE, Spec

MANAGERS = ["head", "lead"]  # Perm.MANAGE_TARGETS

# URL name -> roles that hold the permission but for whom the spec's 'own' object is out of scope.
PERM_HOLDERS: dict[str, list[str]] = {}


def _plan(suffix: str):  # type: ignore[no-untyped-def]
    """A plan of the cast's branch ("own") or of the other branch ("foreign")."""

    def build(cast, which):  # type: ignore[no-untyped-def]
        from datetime import date

        from xiaodai.plans.models import Plan

        head = cast.staff["head" if which == "own" else "head_b"]
        plan = Plan.objects.create(
            branch=head.branch,
            name=f"matrix-{which}",
            kind="month",
            starts_on=date(2026, 11, 1),
            ends_on=date(2026, 11, 30),
            created_by=head,
        )
        return f"/plans/{plan.pk}/{suffix}"

    return build


def _competition(suffix: str = ""):  # type: ignore[no-untyped-def]
    """A running competition of the cast's branch ("own") or of the other branch ("foreign"); finalising a
    running one is refused with a message (302 back to the leaderboard)."""

    def build(cast, which):  # type: ignore[no-untyped-def]
        from datetime import date, timedelta

        from django.utils import timezone

        from xiaodai.plans.models import Competition

        head = cast.staff["head" if which == "own" else "head_b"]
        today = timezone.localdate()
        competition = Competition.objects.create(
            branch=head.branch,
            name=f"matrix-{which}",
            starts_on=date(today.year, 1, 1),
            ends_on=today + timedelta(days=30),
            participant_kind="staff",
            created_by=head,
        )
        return f"/plans/competitions/{competition.pk}/{suffix}"

    return build


SPEC: dict[str, Spec] = {
    "plans:finding_add": Spec("get", _plan("findings/new/"), MANAGERS, object_scoped=True),
    "plans:adjustment_add": Spec("get", _plan("adjustments/new/"), MANAGERS, object_scoped=True),
    "plans:deviations": Spec("get", _plan("deviations/"), FRONT_LINE, object_scoped=True),
    "plans:competitions": Spec("get", lambda c, w: "/plans/competitions/", FRONT_LINE),
    "plans:competition_create": Spec("get", lambda c, w: "/plans/competitions/new/", MANAGERS),
    "plans:competition": Spec("get", _competition(), FRONT_LINE, object_scoped=True),
    "plans:competition_finalise": Spec(
        "post", _competition("finalise/"), MANAGERS, object_scoped=True, ok_status=302
    ),
}
