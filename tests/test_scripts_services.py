"""Script services: draft → review → approved, approver ≠ author (A-04, C-14), lint before review, one
approved version per script, and the call screen's read (only approved versions, the best match first)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from tests import factories as f
from tests.conftest import Cast
from tests.factories_scripts import clean_fields, make_version
from xiaodai.audit.choices import Action
from xiaodai.audit.models import AuditEvent
from xiaodai.core.roles import Role
from xiaodai.outreach import scripts as svc
from xiaodai.outreach.choices import ScriptStatus
from xiaodai.outreach.models import Script, ScriptVersion


def _create(cast: Cast, who: str = "head", **overrides: object) -> ScriptVersion:
    return svc.create_script(cast.staff[who], "通用话术", "消费贷", "", "", clean_fields(**overrides))


def _in_review(cast: Cast, who: str = "head") -> ScriptVersion:
    return svc.submit(_create(cast, who), cast.staff[who])


def _events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("pk"))


# --- create and save ---------------------------------------------------------------------------


def test_create_makes_the_script_and_a_first_draft(cast: Cast) -> None:
    version = _create(cast)
    assert (version.version, version.status, version.author) == (1, ScriptStatus.DRAFT, cast.staff["head"])
    assert version.script.branch == cast.branch
    assert version.apr == Decimal("3.45")
    (event,) = _events(Action.SCRIPT_SAVE)
    assert event.object_id == str(version.pk)
    assert event.detail["script"] == version.script_id


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (("", "消费贷", "", ""), "title_required"),
        (("话术", " ", "", ""), "product_required"),
        (("话术", "消费贷", "no_such_pool", ""), "pool_unknown"),
        (("话术", "消费贷", "", "gambling"), "scenario_unknown"),
    ],
)
def test_create_with_bad_script_fields_is_refused(cast: Cast, args: tuple[str, ...], code: str) -> None:
    with pytest.raises(svc.ScriptError) as exc:
        svc.create_script(cast.staff["head"], *args, clean_fields())
    assert exc.value.code == code
    assert not Script.objects.exists()
    assert not AuditEvent.objects.filter(action=Action.SCRIPT_SAVE).exists()


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"opening": "  "}, "text_required"),
        ({"selling_points": ""}, "text_required"),
        ({"apr": "abc"}, "apr_invalid"),
        ({"apr": "-1"}, "apr_invalid"),
        ({"apr": "3.123456"}, "apr_invalid"),
        ({"apr": None}, "apr_invalid"),
        ({"objections": {"nonsense": ["x"]}}, "objection_unknown"),
        ({"objections": ["x"]}, "objections_invalid"),
        ({"objections": {"rate_high": [1, 2]}}, "objections_invalid"),
        ({"objections": {"rate_high": [f"第{i}条" for i in range(11)]}}, "too_many_rebuttals"),
        ({"opening": "长" * 2001}, "text_too_long"),
    ],
)
def test_create_with_bad_version_fields_is_refused(
    cast: Cast, overrides: dict[str, object], code: str
) -> None:
    with pytest.raises(svc.ScriptError) as exc:
        _create(cast, **overrides)
    assert exc.value.code == code
    assert exc.value.message
    assert not Script.objects.exists()


def test_a_role_without_the_write_permission_cannot_create(cast: Cast) -> None:
    with pytest.raises(svc.ScriptError) as exc:
        _create(cast, "mgr")
    assert exc.value.code == "not_allowed"


def test_objections_are_cleaned_and_kept_in_the_choices_order(cast: Cast) -> None:
    version = _create(cast, objections={"no_time": ["  稍后 再打 ", ""], "rate_high": "第一条\n\n第二条"})
    assert version.objections == {"rate_high": ["第一条", "第二条"], "no_time": ["稍后 再打"]}


def test_saving_a_draft_edits_it_in_place(cast: Cast) -> None:
    version = _create(cast)
    saved = svc.save_draft(version.script, cast.staff["head"], {"closing": "您看什么时候方便？"})
    assert saved.pk == version.pk
    assert saved.closing == "您看什么时候方便？"
    assert ScriptVersion.objects.count() == 1
    assert _events(Action.SCRIPT_SAVE)[-1].detail["fields"] == ["closing"]


def test_saving_the_same_values_changes_nothing(cast: Cast) -> None:
    version = _create(cast)
    svc.save_draft(version.script, cast.staff["head"], {"apr": "3.4500"})
    assert len(_events(Action.SCRIPT_SAVE)) == 1


def test_saving_after_approval_starts_a_new_draft_copied_from_it(cast: Cast) -> None:
    approved = make_version(cast.staff["head"], reviewer=cast.staff["lead"], closing="原结束语")
    draft = svc.save_draft(approved.script, cast.staff["lead"], {"opening": "新的开场白"})
    assert (draft.version, draft.status, draft.author) == (2, ScriptStatus.DRAFT, cast.staff["lead"])
    assert (draft.opening, draft.closing) == ("新的开场白", "原结束语")
    approved.refresh_from_db()
    assert approved.status == ScriptStatus.APPROVED  # untouched until the new one is approved


@pytest.mark.parametrize("status", [ScriptStatus.REVIEW, ScriptStatus.REJECTED, ScriptStatus.RETIRED])
def test_saving_never_edits_a_version_that_is_not_a_draft(cast: Cast, status: str) -> None:
    old = make_version(cast.staff["head"], status=status, reviewer=cast.staff["lead"])
    new = svc.save_draft(old.script, cast.staff["head"], {"opening": "改过的开场白"})
    assert new.pk != old.pk
    old.refresh_from_db()
    assert old.status == status
    assert old.opening != "改过的开场白"


def test_only_the_author_edits_a_draft(cast: Cast) -> None:
    version = _create(cast, "head")
    with pytest.raises(svc.ScriptError) as exc:
        svc.save_draft(version.script, cast.staff["lead"], {"opening": "别人的修改"})
    assert exc.value.code == "draft_of_another"
    version.refresh_from_db()
    assert version.opening != "别人的修改"


def test_a_writer_of_another_branch_cannot_save(cast: Cast) -> None:
    version = _create(cast)
    with pytest.raises(svc.ScriptError) as exc:
        svc.save_draft(version.script, cast.staff["head_b"], {"opening": "外行修改"})
    assert exc.value.code == "other_branch"


# --- submit ------------------------------------------------------------------------------------


def test_submit_sends_a_clean_draft_to_review(cast: Cast) -> None:
    version = _in_review(cast)
    assert version.status == ScriptStatus.REVIEW
    assert version.submitted_at is not None
    assert len(_events(Action.SCRIPT_SUBMIT)) == 1


def test_submit_with_lint_errors_is_refused_and_changes_nothing(cast: Cast) -> None:
    version = _create(cast, opening="秒批！月息3厘。")
    with pytest.raises(svc.ScriptError) as exc:
        svc.submit(version, cast.staff["head"])
    assert exc.value.code == "lint_failed"
    assert {e.code for e in exc.value.lint_errors} == {"banned_phrase", "rate_without_apr"}
    version.refresh_from_db()
    assert (version.status, version.submitted_at) == (ScriptStatus.DRAFT, None)
    assert not _events(Action.SCRIPT_SUBMIT)


def test_submit_twice_is_refused(cast: Cast) -> None:
    version = _in_review(cast)
    with pytest.raises(svc.ScriptError) as exc:
        svc.submit(version, cast.staff["head"])
    assert exc.value.code == "not_draft"


def test_only_the_author_submits(cast: Cast) -> None:
    version = _create(cast, "head")
    with pytest.raises(svc.ScriptError) as exc:
        svc.submit(version, cast.staff["lead"])
    assert exc.value.code == "draft_of_another"


# --- approve and reject ------------------------------------------------------------------------


def test_the_author_cannot_approve_their_own_version(cast: Cast) -> None:
    version = _in_review(cast, "head")
    with pytest.raises(svc.ScriptError) as exc:
        svc.approve(version, cast.staff["head"], "")
    assert exc.value.code == "self_approval"
    version.refresh_from_db()
    assert version.status == ScriptStatus.REVIEW
    assert not _events(Action.SCRIPT_APPROVE)


def test_another_person_approves(cast: Cast) -> None:
    version = svc.approve(_in_review(cast, "head"), cast.staff["lead"], "  合规  通过 ")
    assert (version.status, version.reviewer, version.review_note) == (
        ScriptStatus.APPROVED,
        cast.staff["lead"],
        "合规 通过",
    )
    (event,) = _events(Action.SCRIPT_APPROVE)
    assert event.detail == {"script": version.script_id, "version": 1, "retired": []}


def test_a_role_without_the_approve_permission_cannot_approve(cast: Cast) -> None:
    with pytest.raises(svc.ScriptError) as exc:
        svc.approve(_in_review(cast), cast.staff["mgr"], "")
    assert exc.value.code == "not_allowed"


def test_an_approver_of_another_branch_cannot_approve(cast: Cast) -> None:
    with pytest.raises(svc.ScriptError) as exc:
        svc.approve(_in_review(cast), cast.staff["head_b"], "")
    assert exc.value.code == "other_branch"


def test_approving_retires_the_previously_approved_version(cast: Cast) -> None:
    first = make_version(cast.staff["lead"], reviewer=cast.staff["head"])
    draft = svc.save_draft(first.script, cast.staff["head"], {"closing": "新结束语"})
    svc.submit(draft, cast.staff["head"])
    second = svc.approve(draft, cast.staff["lead"], "")
    first.refresh_from_db()
    assert (first.status, second.status) == (ScriptStatus.RETIRED, ScriptStatus.APPROVED)
    assert ScriptVersion.objects.filter(script=first.script, status=ScriptStatus.APPROVED).count() == 1
    assert _events(Action.SCRIPT_APPROVE)[-1].detail["retired"] == [1]


@pytest.mark.parametrize("status", [ScriptStatus.DRAFT, ScriptStatus.APPROVED, ScriptStatus.REJECTED])
def test_only_a_version_in_review_can_be_approved(cast: Cast, status: str) -> None:
    version = make_version(cast.staff["head"], status=status, reviewer=cast.staff["lead"])
    with pytest.raises(svc.ScriptError) as exc:
        svc.approve(version, cast.staff["lead"], "")
    assert exc.value.code == "not_in_review"


def test_approval_runs_the_lint_again(cast: Cast) -> None:
    """A version that reached review before a phrase was banned (here: written straight to the table)."""
    version = make_version(cast.staff["head"], status=ScriptStatus.REVIEW, opening="保本又稳赚")
    with pytest.raises(svc.ScriptError) as exc:
        svc.approve(version, cast.staff["lead"], "")
    assert exc.value.code == "lint_failed"
    version.refresh_from_db()
    assert version.status == ScriptStatus.REVIEW


@pytest.mark.parametrize("note", ["", "   ", "x"])
def test_reject_needs_a_note(cast: Cast, note: str) -> None:
    version = _in_review(cast)
    with pytest.raises(svc.ScriptError) as exc:
        svc.reject(version, cast.staff["lead"], note)
    assert exc.value.code == "note_required"
    version.refresh_from_db()
    assert version.status == ScriptStatus.REVIEW
    assert not _events(Action.SCRIPT_REJECT)


def test_reject_sends_the_version_back_with_its_note(cast: Cast) -> None:
    version = svc.reject(_in_review(cast), cast.staff["lead"], "补充利息测算")
    assert (version.status, version.review_note) == (ScriptStatus.REJECTED, "补充利息测算")
    assert len(_events(Action.SCRIPT_REJECT)) == 1
    again = svc.save_draft(version.script, cast.staff["head"], {"closing": "改好了"})
    assert (again.version, again.status) == (2, ScriptStatus.DRAFT)


def test_only_a_version_in_review_can_be_rejected(cast: Cast) -> None:
    with pytest.raises(svc.ScriptError) as exc:
        svc.reject(_create(cast), cast.staff["lead"], "不行")
    assert exc.value.code == "not_in_review"


# --- approved_script_for -----------------------------------------------------------------------


def _approved(
    cast: Cast, *, pool: str = "", scenario: str = "", product: str = "消费贷", ago: int = 0
) -> ScriptVersion:
    return make_version(
        cast.staff["head"],
        reviewer=cast.staff["lead"],
        pool=pool,
        scenario=scenario,
        product=product,
        reviewed_at=timezone.now() - dt.timedelta(days=ago),
    )


@pytest.mark.parametrize(
    "status", [ScriptStatus.DRAFT, ScriptStatus.REVIEW, ScriptStatus.REJECTED, ScriptStatus.RETIRED]
)
def test_only_approved_versions_reach_the_call_screen(cast: Cast, status: str) -> None:
    make_version(cast.staff["head"], status=status, reviewer=cast.staff["lead"])
    assert svc.approved_script_for(cast.branch.pk) is None


def test_the_approved_version_is_returned_not_a_newer_draft(cast: Cast) -> None:
    approved = _approved(cast)
    make_version(cast.staff["head"], status=ScriptStatus.DRAFT, script=approved.script)
    assert svc.approved_script_for(cast.branch.pk) == approved


def test_another_branchs_script_is_never_returned(cast: Cast) -> None:
    make_version(cast.staff["head_b"], reviewer=cast.staff["head_b"])
    assert svc.approved_script_for(cast.branch.pk) is None


def test_best_match_order(cast: Cast) -> None:
    generic = _approved(cast)
    by_scenario = _approved(cast, scenario="renovation")
    by_pool = _approved(cast, pool="payroll_staff")
    both = _approved(cast, pool="payroll_staff", scenario="renovation")
    find = svc.approved_script_for
    branch = cast.branch.pk
    assert find(branch, pool="payroll_staff", scenario="renovation") == both
    assert find(branch, pool="payroll_staff", scenario="car") == by_pool
    assert find(branch, pool="mortgage_holder", scenario="renovation") == by_scenario
    assert find(branch, pool="mortgage_holder") == generic
    assert find(branch) == generic


def test_a_pool_script_beats_a_more_recent_scenario_script(cast: Cast) -> None:
    by_pool = _approved(cast, pool="approved_undrawn", ago=30)
    _approved(cast, scenario="car")
    assert svc.approved_script_for(cast.branch.pk, pool="approved_undrawn", scenario="car") == by_pool


def test_ties_go_to_the_most_recently_approved(cast: Cast) -> None:
    _approved(cast, pool="approved_undrawn", ago=10)
    newer = _approved(cast, pool="approved_undrawn", ago=1)
    assert svc.approved_script_for(cast.branch.pk, pool="approved_undrawn") == newer


def test_product_narrows_the_match(cast: Cast) -> None:
    generic = _approved(cast, product="消费贷")
    _approved(cast, product="薪享贷", pool="payroll_staff")
    assert svc.approved_script_for(cast.branch.pk, product="消费贷", pool="payroll_staff") == generic
    assert svc.approved_script_for(cast.branch.pk, product="e享贷") is None


def test_call_screen_read_is_one_query(cast: Cast, django_assert_num_queries) -> None:  # type: ignore[no-untyped-def]
    _approved(cast, pool="approved_undrawn")
    with django_assert_num_queries(1):
        found = svc.approved_script_for(cast.branch.pk, pool="approved_undrawn", scenario="car")
        assert found is not None
        assert found.script.pool == "approved_undrawn"


def test_an_inactive_approver_is_refused(cast: Cast) -> None:
    """An inactive login cannot approve even if the role could."""
    lead = cast.staff["lead"]
    lead.user.is_active = False
    lead.user.save()
    with pytest.raises(svc.ScriptError) as exc:
        svc.approve(_in_review(cast), lead, "")
    assert exc.value.code == "not_allowed"


def test_a_second_branch_head_can_approve_in_their_branch(cast: Cast) -> None:
    writer = f.StaffFactory(branch=cast.branch_b, sub_branch=cast.sub_b, role=Role.TEAM_LEAD)
    version = svc.create_script(writer, "宁波话术", "消费贷", "", "", clean_fields())
    svc.submit(version, writer)
    assert svc.approve(version, cast.staff["head_b"], "").status == ScriptStatus.APPROVED
