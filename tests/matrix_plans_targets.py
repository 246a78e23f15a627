"""Permission-matrix rows for the plans and targets pages (merged into tests/test_permission_matrix.py)."""

from __future__ import annotations

import datetime as dt

from tests.matrix_common import FRONT_LINE, Spec

# URL name -> roles that hold the permission but for whom the spec's 'own' object is out of scope.
PERM_HOLDERS: dict[str, list[str]] = {}

MANAGERS = ["head", "lead"]  # MANAGE_TARGETS (a lead opening "new plan" is told only the head creates one)


def _plan(cast, which):  # type: ignore[no-untyped-def]
    """A plan of the cast's branch ("own") or of the other branch ("foreign")."""
    from xiaodai.plans.models import Plan

    head = cast.staff["head"] if which == "own" else cast.staff["head_b"]
    return Plan.objects.create(
        branch_id=head.branch_id,
        name=f"matrix-{which}",
        kind="month",
        starts_on=dt.date(2026, 11, 1),
        ends_on=dt.date(2026, 11, 30),
        created_by=head,
    )


def _target(cast, which):  # type: ignore[no-untyped-def]
    """Team T1's target ("own": the head and T1's lead reach it) or branch B's branch target ("foreign")."""
    from xiaodai.plans.models import Target

    plan = _plan(cast, which)
    unit = {"scope": "team", "team": cast.t1} if which == "own" else {"scope": "branch"}
    target = Target.objects.create(
        plan=plan,
        branch_id=plan.branch_id,
        figure="calls",
        value=90,
        starts_on=plan.starts_on,
        ends_on=plan.ends_on,
        updated_by=plan.created_by,
        **unit,
    )
    return f"/plans/targets/{target.pk}/split/"


SPEC: dict[str, Spec] = {
    "plans:list": Spec("get", lambda c, w: "/plans/", FRONT_LINE),
    "plans:create": Spec("get", lambda c, w: "/plans/new/", MANAGERS),
    "plans:detail": Spec("get", lambda c, w: f"/plans/{_plan(c, w).pk}/", FRONT_LINE, object_scoped=True),
    "plans:target_set": Spec(
        "get", lambda c, w: f"/plans/{_plan(c, w).pk}/targets/new/", MANAGERS, object_scoped=True
    ),
    "plans:target_split": Spec("get", _target, MANAGERS, object_scoped=True),
    # Queued on commit (never inside the test's transaction): 302 back to the dashboard.
    "plans:refresh": Spec("post", lambda c, w: "/plans/refresh/", MANAGERS, ok_status=302),
}
