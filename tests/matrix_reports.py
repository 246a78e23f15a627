"""Permission-matrix rows for the dashboard, the funnel and the drill-down (merged into
tests/test_permission_matrix.py). Every front-line role, lead and head sees their own performance; nothing
here is one object another branch could own (the figures are scoped, not looked up by id)."""

from __future__ import annotations

from tests.matrix_common import FRONT_LINE, Spec

# URL name -> roles that hold the permission but for whom the spec's 'own' object is out of scope.
PERM_HOLDERS: dict[str, list[str]] = {}

SPEC: dict[str, Spec] = {
    "reports:dashboard": Spec("get", lambda c, w: "/performance/", FRONT_LINE),
    "reports:funnel": Spec("get", lambda c, w: "/performance/funnel/", FRONT_LINE),
    "reports:records": Spec("get", lambda c, w: "/performance/records/?figure=calls", FRONT_LINE),
}
