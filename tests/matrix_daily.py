"""Permission-matrix rows for the daily report (page and Excel) and events held (merged into
tests/test_permission_matrix.py)."""

from __future__ import annotations

from tests.matrix_common import FRONT_LINE, Spec

# URL name -> roles that hold the permission but for whom the spec's 'own' object is out of scope.
PERM_HOLDERS: dict[str, list[str]] = {}

SPEC: dict[str, Spec] = {
    # Everyone who works customers reads the report of their own level (Perm.VIEW_PERFORMANCE).
    "reports:daily": Spec("get", lambda c, w: "/performance/daily/", FRONT_LINE),
    "reports:daily_export": Spec("get", lambda c, w: "/performance/daily.xlsx", FRONT_LINE),
    # The front line records the events it holds (Perm.RECORD_EVENTS); the list is scoped, not an object.
    "plans:events": Spec("get", lambda c, w: "/plans/events/", FRONT_LINE),
}
