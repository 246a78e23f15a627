"""The demo's script library: every seed passes the lint, answers every objection, goes through review by
another person, covers the generic case, every pool and the scenarios, and seeding twice adds nothing."""

from __future__ import annotations

import pytest

from tests.conftest import Cast
from xiaodai.audit.choices import Action
from xiaodai.audit.models import AuditEvent
from xiaodai.outreach import scripts as svc
from xiaodai.outreach.choices import Objection, ScriptStatus
from xiaodai.outreach.models import Script, ScriptVersion
from xiaodai.outreach.script_lint import lint
from xiaodai.outreach.script_seed import SEEDS, seed_scripts
from xiaodai.pools.rules import POOL_CODES


@pytest.mark.parametrize("seed", SEEDS, ids=[s.title for s in SEEDS])
def test_every_seed_passes_the_lint(seed) -> None:  # type: ignore[no-untyped-def]
    assert lint(svc.clean_fields(seed.fields())) == []


@pytest.mark.parametrize("seed", SEEDS, ids=[s.title for s in SEEDS])
def test_every_seed_answers_every_objection(seed) -> None:  # type: ignore[no-untyped-def]
    assert set(seed.fields()["objections"]) == set(Objection.values)


def test_seeds_cover_the_generic_case_every_pool_and_the_scenarios() -> None:
    assert any(not s.pool and not s.scenario and s.product == "消费贷" for s in SEEDS)
    assert {s.pool for s in SEEDS if s.pool} == set(POOL_CODES) - {"scenario_channel"}
    scenarios = {"renovation", "car", "education", "travel", "wedding"}
    assert {s.scenario for s in SEEDS if s.scenario} >= scenarios


def test_seed_approves_every_script_through_review(cast: Cast) -> None:
    versions = seed_scripts(cast.branch, cast.staff["lead"], cast.staff["head"])
    assert len(versions) == len(SEEDS)
    assert all(v.status == ScriptStatus.APPROVED for v in versions)
    assert all((v.author, v.reviewer) == (cast.staff["lead"], cast.staff["head"]) for v in versions)
    assert AuditEvent.objects.filter(action=Action.SCRIPT_APPROVE).count() == len(SEEDS)


def test_seed_is_idempotent(cast: Cast) -> None:
    seed_scripts(cast.branch, cast.staff["lead"], cast.staff["head"])
    assert seed_scripts(cast.branch, cast.staff["lead"], cast.staff["head"]) == []
    assert Script.objects.count() == len(SEEDS)
    assert ScriptVersion.objects.count() == len(SEEDS)


def test_seeded_library_serves_the_call_screen(cast: Cast) -> None:
    seed_scripts(cast.branch, cast.staff["lead"], cast.staff["head"])
    branch = cast.branch.pk
    payroll = svc.approved_script_for(branch, pool="payroll_staff")
    assert payroll is not None
    assert (payroll.script.product, str(payroll.apr)) == ("薪享贷", "2.9500")
    renovation = svc.approved_script_for(branch, pool="scenario_channel", scenario="renovation")
    assert renovation is not None
    assert renovation.script.scenario == "renovation"
    generic = svc.approved_script_for(branch, pool="scenario_channel")
    assert generic is not None
    assert (generic.script.pool, generic.script.scenario) == ("", "")


def test_seed_cannot_self_approve(cast: Cast) -> None:
    with pytest.raises(svc.ScriptError) as exc:
        seed_scripts(cast.branch, cast.staff["head"], cast.staff["head"])
    assert exc.value.code == "self_approval"
    assert not Script.objects.exists()


def test_seed_refuses_people_of_another_branch(cast: Cast) -> None:
    with pytest.raises(ValueError, match="branch"):
        seed_scripts(cast.branch, cast.staff["head_b"], cast.staff["head"])
