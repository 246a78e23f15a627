"""Permission-matrix rows for the capital-flow URLs (merged into tests/test_permission_matrix.py)."""

from __future__ import annotations

from tests.matrix_common import FRONT_LINE, Spec

# URL name -> roles that hold the permission but for whom the spec's 'own' object is out of scope.
PERM_HOLDERS: dict[str, list[str]] = {}


def _alert(cast, which):  # type: ignore[no-untyped-def]
    """A loan-use alert of the cast's branch ("own") or of the other branch ("foreign")."""
    from tests.factories_signals import FlowAlertFactory

    key = "own" if which == "own" else "other_branch"
    return f"/capital-flow/alerts/{FlowAlertFactory(customer=cast.customers[key]).pk}/"


SPEC: dict[str, Spec] = {
    "signals:flow": Spec("get", lambda c, w: "/capital-flow/", FRONT_LINE),
    "signals:customers": Spec("get", lambda c, w: "/capital-flow/customers/", FRONT_LINE),
    "signals:rules": Spec("get", lambda c, w: "/capital-flow/rules/", ["ops"]),
    "signals:rule_edit": Spec("get", lambda c, w: "/capital-flow/rules/scenario/", ["ops"]),
    # C-17: only post-loan staff read the flows behind an alert; every marketing role gets 403.
    "signals:alerts": Spec("get", lambda c, w: "/capital-flow/alerts/", ["postloan"]),
    "signals:alert": Spec("get", _alert, ["postloan"], object_scoped=True),
}
