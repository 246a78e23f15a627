"""The NetBox-style matrix (compliance A-01, A-02): every URL, every role.

anonymous → login page; a role without the permission → 403; another branch's object → 404; own → 200.
A URL that is not listed in SPEC fails `test_every_url_is_in_the_matrix`, so a new view cannot ship closed
to no one by accident.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from tests.conftest import Cast
from tests.matrix_allocation import PERM_HOLDERS as ALLOCATION_HOLDERS
from tests.matrix_allocation import SPEC as ALLOCATION_SPEC
from tests.matrix_common import ALL_ROLES, FRONT_LINE, PUBLIC, REVEALERS, Spec
from tests.matrix_daily import PERM_HOLDERS as DAILY_HOLDERS
from tests.matrix_daily import SPEC as DAILY_SPEC
from tests.matrix_outreach import PERM_HOLDERS as OUTREACH_HOLDERS
from tests.matrix_outreach import SPEC as OUTREACH_SPEC
from tests.matrix_pdca import PERM_HOLDERS as PDCA_HOLDERS
from tests.matrix_pdca import SPEC as PDCA_SPEC
from tests.matrix_plans_targets import PERM_HOLDERS as TARGETS_HOLDERS
from tests.matrix_plans_targets import SPEC as TARGETS_SPEC
from tests.matrix_reports import PERM_HOLDERS as REPORTS_HOLDERS
from tests.matrix_reports import SPEC as REPORTS_SPEC
from tests.matrix_signals import PERM_HOLDERS as SIGNALS_HOLDERS
from tests.matrix_signals import SPEC as SIGNALS_SPEC


def _customer(key_own: str) -> Callable[[Cast, str], str]:
    def build(cast: Cast, which: str) -> str:
        key = key_own if which == "own" else "other_branch"
        return f"/customers/{cast.customers[key].pk}/"

    return build


def _staff(cast: Cast, which: str) -> str:
    name = "mgr" if which == "own" else "mgr_b"
    return f"/org/staff/{cast.staff[name].pk}/toggle/"


def _run(suffix: str = "", status: str = "loaded") -> Callable[[Cast, str], str]:
    """A data-drop run of the cast's branch ("own") or of the other branch ("foreign")."""

    def build(cast: Cast, which: str) -> str:
        from datetime import date

        from xiaodai.ingest.models import ImportRun

        run = ImportRun.objects.create(
            branch=cast.branch if which == "own" else cast.branch_b,
            source=f"matrix-{which}",
            data_date=date(2026, 11, 28),
            contract_version="1.0",
            fingerprint="0" * 64,
            status=status,
            trigger="cli",
        )
        return f"/imports/{run.pk}/{suffix}"

    return build


IMPORT_VIEWERS = ["head", "ops"]
PIPELINE_VIEWERS = ["head", "ops"]
MODEL_MANAGERS = ["ops"]


def _pipeline_run(suffix: str = "") -> Callable[[Cast, str], str]:
    """A pipeline run of the cast's branch ("own") or of the other branch ("foreign")."""

    def build(cast: Cast, which: str) -> str:
        from datetime import date

        from xiaodai.pipeline.models import PipelineRun

        run = PipelineRun.objects.create(
            branch=cast.branch if which == "own" else cast.branch_b,
            data_date=date(2026, 11, 28),
            engine="duckdb",
            status="done",
            trigger="cli",
        )
        return f"/pipeline/{run.pk}/{suffix}"

    return build


def _model_card(cast: Cast, which: str) -> str:
    """The registry is the bank's (not a branch's): the rules v1 model the migrations seed."""
    from xiaodai.scoring.models import ScoringModel

    return f"/models/{ScoringModel.objects.get(name='propensity', version=1).pk}/"


def _pool_export(cast: Cast, which: str) -> str:
    """The export needs published results of the cast's branch."""
    from tests.pools_data import Member, publish_pools

    publish_pools(cast.branch, [Member(cast.customers["own"], "approved_undrawn")])
    return "/pools/approved_undrawn/export.xlsx"


SPEC: dict[str, Spec] = {
    "home": Spec("get", lambda c, w: "/", ALL_ROLES),
    "logout": Spec("post", lambda c, w: "/accounts/logout/", ALL_ROLES, ok_status=302),
    "customers:list": Spec("get", lambda c, w: "/customers/", FRONT_LINE),
    "customers:detail": Spec("get", _customer("own"), ["head"], object_scoped=True),
    "customers:reveal": Spec(
        "post",
        lambda c, w: _customer("own")(c, w) + "reveal/",
        ["head"],
        object_scoped=True,
        ok_status=302,
        data={"field": "phone", "reason": "客户来电核实"},
    ),
    "customers:consent": Spec(
        "post",
        lambda c, w: _customer("own")(c, w) + "consent/",
        ["head"],
        object_scoped=True,
        ok_status=302,
        data={
            "purpose": "marketing",
            "channel": "sms",
            "granted": "1",
            "source": "counter",
            "wording_version": "MKT-1",
        },
    ),
    "org:staff_list": Spec("get", lambda c, w: "/org/staff/", ["head", "lead", "ops"]),
    "org:staff_create": Spec("get", lambda c, w: "/org/staff/new/", ["ops"]),
    "org:staff_toggle": Spec("post", _staff, ["ops"], object_scoped=True, ok_status=302),
    "audit:list": Spec("get", lambda c, w: "/audit/", ["auditor"]),
    "audit:verify": Spec("post", lambda c, w: "/audit/verify/", ["auditor"]),
    "ingest:list": Spec("get", lambda c, w: "/imports/", IMPORT_VIEWERS),
    "ingest:detail": Spec("get", _run(), IMPORT_VIEWERS, object_scoped=True),
    "ingest:progress": Spec("get", _run("progress/", status="running"), IMPORT_VIEWERS, object_scoped=True),
    "ingest:errors": Spec("get", _run("errors.csv"), IMPORT_VIEWERS, object_scoped=True),
    "ingest:rollback": Spec(
        "post", _run("rollback/", status="rejected"), ["ops"], object_scoped=True, ok_status=302
    ),
    "ingest:upload": Spec("get", lambda c, w: "/imports/upload/", ["ops"]),
    "ingest:feeds": Spec("get", lambda c, w: "/imports/feeds/", IMPORT_VIEWERS),
    "pools:inventory": Spec("get", lambda c, w: "/pools/", FRONT_LINE),
    "pools:members": Spec("get", lambda c, w: "/pools/approved_undrawn/", FRONT_LINE),
    "pools:export": Spec("get", _pool_export, ["head", "lead"]),
    "pools:rules": Spec("get", lambda c, w: "/pools/rules/", ["ops"]),
    "pools:rule_edit": Spec("get", lambda c, w: "/pools/rules/approved_undrawn/", ["ops"]),
    "pipeline:runs": Spec("get", lambda c, w: "/pipeline/", PIPELINE_VIEWERS),
    "pipeline:detail": Spec("get", _pipeline_run(), PIPELINE_VIEWERS, object_scoped=True),
    "pipeline:progress": Spec("get", _pipeline_run("progress/"), PIPELINE_VIEWERS, object_scoped=True),
    # No data drop is loaded in the matrix: the run is refused with a message (302 back to the list).
    "pipeline:run": Spec(
        "post", lambda c, w: "/pipeline/run/", ["ops"], ok_status=302, data={"engine": "duckdb"}
    ),
    "scoring:registry": Spec("get", lambda c, w: "/models/", MODEL_MANAGERS),
    "scoring:runs": Spec("get", lambda c, w: "/models/runs/", MODEL_MANAGERS),
    "scoring:card": Spec("get", _model_card, MODEL_MANAGERS),
    # Queued, not run: on_commit never fires inside the test's transaction (302 back to the registry).
    "scoring:retrain": Spec("post", lambda c, w: "/models/retrain/", MODEL_MANAGERS, ok_status=302),
}

# Roles that hold the permission but for whom the 'own' object of the spec is out of scope: they are
# checked for 404 in test_in_scope_object_is_404_for_others rather than 200 here.
PERM_HOLDERS = {
    "customers:detail": FRONT_LINE,
    "customers:reveal": REVEALERS,
    "customers:consent": FRONT_LINE,
}
# Each app's rows live beside it (tests/matrix_<app>.py) so parallel work does not edit one table.
SPEC |= ALLOCATION_SPEC | OUTREACH_SPEC | SIGNALS_SPEC | TARGETS_SPEC | PDCA_SPEC | DAILY_SPEC | REPORTS_SPEC
PERM_HOLDERS |= (
    ALLOCATION_HOLDERS | OUTREACH_HOLDERS | SIGNALS_HOLDERS | TARGETS_HOLDERS | PDCA_HOLDERS | DAILY_HOLDERS
)
PERM_HOLDERS |= REPORTS_HOLDERS


def _names(resolver: URLResolver, prefix: str = "") -> list[str]:
    names = []
    for p in resolver.url_patterns:
        if isinstance(p, URLResolver):
            ns = f"{p.namespace}:" if p.namespace else prefix
            names.extend(_names(p, ns if p.namespace else prefix))
        elif isinstance(p, URLPattern) and p.name:
            names.append(prefix + p.name)
    return names


def test_every_url_is_in_the_matrix() -> None:
    names = {n for n in _names(get_resolver()) if not n.startswith("api:")}
    assert names - PUBLIC - set(SPEC) == set()


def _call(cast: Cast, who: str | None, spec: Spec, which: str = "own"):  # type: ignore[no-untyped-def]
    client = cast.client(who)
    url = spec.path(cast, which)
    return client.post(url, spec.data or {}) if spec.method == "post" else client.get(url)


@pytest.mark.parametrize("name", SPEC)
def test_anonymous_is_sent_to_login(cast: Cast, name: str) -> None:
    response = _call(cast, None, SPEC[name])
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize(
    ("name", "who"),
    [
        (n, r)
        for n, s in SPEC.items()
        if n != "logout"
        for r in ALL_ROLES
        if r not in PERM_HOLDERS.get(n, s.allowed)
    ],
)
def test_role_without_permission_gets_403(cast: Cast, name: str, who: str) -> None:
    assert _call(cast, who, SPEC[name]).status_code == 403


@pytest.mark.parametrize(("name", "who"), [(n, r) for n, s in SPEC.items() for r in s.allowed])
def test_allowed_role_gets_the_page(cast: Cast, name: str, who: str) -> None:
    assert _call(cast, who, SPEC[name]).status_code == SPEC[name].ok_status


@pytest.mark.parametrize(
    ("name", "who"),
    [(n, r) for n, s in SPEC.items() if s.object_scoped for r in PERM_HOLDERS.get(n, s.allowed)],
)
def test_other_branch_object_is_404(cast: Cast, name: str, who: str) -> None:
    assert _call(cast, who, SPEC[name], which="foreign").status_code == 404


@pytest.mark.parametrize(
    ("who", "key", "status"),
    [
        ("mgr", "own", 200),
        ("mgr", "team", 404),
        ("lead", "team", 200),
        ("lead", "other_team", 404),
        ("tele", "own", 404),
        ("head", "other_team", 200),
        ("head_b", "own", 404),
    ],
)
def test_customer_page_follows_scope(cast: Cast, who: str, key: str, status: int) -> None:
    response = cast.client(who).get(f"/customers/{cast.customers[key].pk}/")
    assert response.status_code == status


@pytest.mark.parametrize("bad", ["999999999", "0", "-1", "abc", "1%27%20OR%201=1"])
def test_tampered_customer_ids_are_404(cast: Cast, bad: str) -> None:
    assert cast.client("head").get(f"/customers/{bad}/").status_code == 404
