"""Permission-matrix rows for the outreach app's URLs (merged into tests/test_permission_matrix.py)."""

from __future__ import annotations

from tests.matrix_common import Spec

SPEC: dict[str, Spec] = {}

# URL name -> roles that hold the permission but for whom the spec's 'own' object is out of scope.
PERM_HOLDERS: dict[str, list[str]] = {}


# workbench (outreach:*): the call screen's 'own' object is the cast's "own" customer (mgr's, team t1).
def _call(suffix: str = ""):  # type: ignore[no-untyped-def]
    def build(cast, which):  # type: ignore[no-untyped-def]
        key = "own" if which == "own" else "other_branch"
        return f"/work/call/{cast.customers[key].pk}/{suffix}"

    return build


_WORKERS = ["head", "lead", "mgr", "tele", "lobby", "corporate", "wealth"]
SPEC |= {
    "outreach:today": Spec("get", lambda c, w: "/work/", _WORKERS),
    "outreach:call": Spec("get", _call(), ["head", "lead", "mgr"], object_scoped=True),
    "outreach:reveal": Spec(
        "post", _call("reveal/"), ["head", "lead", "mgr"], object_scoped=True, ok_status=302
    ),
    "outreach:rules": Spec("get", lambda c, w: "/work/rules/", ["head"]),
}
PERM_HOLDERS |= {
    "outreach:call": _WORKERS,
    "outreach:reveal": ["head", "lead", "mgr", "tele"],
}


# scripts (scripts:*): the 'own' object is a script of the cast's branch, the foreign one of branch B.
def _script(suffix: str = "", status: str = "approved"):  # type: ignore[no-untyped-def]
    def build(cast, which):  # type: ignore[no-untyped-def]
        from tests.factories_scripts import make_version

        author = cast.staff["head"] if which == "own" else cast.staff["head_b"]
        version = make_version(author, status=status)
        if suffix.startswith("versions/"):
            return f"/scripts/versions/{version.pk}/{suffix.split('/', 1)[1]}"
        return f"/scripts/{version.script_id}/{suffix}"

    return build


_SCRIPT_READERS = ["head", "lead", "mgr", "tele", "lobby", "corporate", "wealth"]  # WORK_CALLS
_SCRIPT_WRITERS = ["head", "lead"]  # WRITE_SCRIPTS and APPROVE_SCRIPTS
SPEC |= {
    "scripts:library": Spec("get", lambda c, w: "/scripts/", _SCRIPT_READERS),
    "scripts:detail": Spec("get", _script(), _SCRIPT_READERS, object_scoped=True),
    "scripts:create": Spec("get", lambda c, w: "/scripts/new/", _SCRIPT_WRITERS),
    "scripts:edit": Spec("get", _script("edit/", "draft"), _SCRIPT_WRITERS, object_scoped=True),
    # Refusals (not the author, own approval) answer like successes: a message and back to the script.
    "scripts:submit": Spec(
        "post", _script("versions/submit/", "draft"), _SCRIPT_WRITERS, object_scoped=True, ok_status=302
    ),
    "scripts:approve": Spec(
        "post", _script("versions/approve/", "review"), _SCRIPT_WRITERS, object_scoped=True, ok_status=302
    ),
    "scripts:reject": Spec(
        "post",
        _script("versions/reject/", "review"),
        _SCRIPT_WRITERS,
        object_scoped=True,
        ok_status=302,
        data={"note": "请补充用途说明"},
    ),
}


# supervision (supervision:*): read-only pages scoped by the viewer; SUPERVISE is held by head and lead.
_SUPERVISORS = ["head", "lead"]
SPEC |= {
    "supervision:board": Spec("get", lambda c, w: "/supervision/", _SUPERVISORS),
    "supervision:objections": Spec("get", lambda c, w: "/supervision/objections/", _SUPERVISORS),
    "supervision:lift": Spec("get", lambda c, w: "/supervision/lift/", _SUPERVISORS),
    "supervision:planner": Spec("get", lambda c, w: "/supervision/planner/", _SUPERVISORS),
}
