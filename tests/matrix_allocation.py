"""Permission-matrix rows for the allocation app's URLs (merged into tests/test_permission_matrix.py)."""

from __future__ import annotations

from collections.abc import Callable

from tests.conftest import Cast
from tests.matrix_common import FRONT_LINE, Spec

ALLOCATORS = ["head", "lead"]


def _assignment(suffix: str) -> Callable[[Cast, str], str]:
    """A fresh active claim of mgr (own: seen by mgr, their lead and the head) or of mgr_b (foreign)."""

    def build(cast: Cast, which: str) -> str:
        from tests import factories as f
        from tests.factories_allocation import AssignmentFactory

        worker = cast.staff["mgr" if which == "own" else "mgr_b"]
        sub = cast.sub if which == "own" else cast.sub_b
        assignment = AssignmentFactory(customer=f.CustomerFactory(sub_branch=sub), staff=worker)
        return f"/allocation/{assignment.pk}/{suffix}"

    return build


def _batch(cast: Cast, which: str) -> str:
    """A batch the lead made (own: seen by the lead and the head) or one of branch B (foreign)."""
    from xiaodai.allocation.models import AllocationBatch

    maker = cast.staff["lead" if which == "own" else "head_b"]
    batch = AllocationBatch.objects.create(branch_id=maker.branch_id, created_by=maker, params={})
    return f"/allocation/batches/{batch.pk}/"


SPEC: dict[str, Spec] = {
    "allocation:claimable": Spec("get", lambda c, w: "/allocation/claim/", FRONT_LINE),
    # Nothing ticked: refused with a message, back to the list.
    "allocation:claim": Spec("post", lambda c, w: "/allocation/claim/submit/", FRONT_LINE, ok_status=302),
    "allocation:mine": Spec("get", lambda c, w: "/allocation/mine/", FRONT_LINE),
    "allocation:release": Spec(
        "post", _assignment("release/"), ["head", "lead", "mgr"], object_scoped=True, ok_status=302
    ),
    "allocation:handoff": Spec("get", _assignment("handoff/"), ["head", "lead", "mgr"], object_scoped=True),
    "allocation:handoff_channel": Spec(
        "get",
        lambda c, w: "/allocation/handoff/channel/",
        ["head", "lead", "mgr", "tele", "lobby", "corporate", "wealth"],
    ),
    "allocation:allocate": Spec("get", lambda c, w: "/allocation/", ALLOCATORS),
    "allocation:batches": Spec("get", lambda c, w: "/allocation/batches/", ALLOCATORS),
    "allocation:batch": Spec("get", _batch, ALLOCATORS, object_scoped=True),
    "allocation:settings": Spec("get", lambda c, w: "/allocation/settings/", ["head"]),
}

# URL name -> roles that hold the permission but for whom the spec's 'own' object is out of scope.
PERM_HOLDERS: dict[str, list[str]] = {
    "allocation:release": FRONT_LINE,
    "allocation:handoff": FRONT_LINE,
}
