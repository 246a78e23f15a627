"""Script library pages: who reads what (approved only for the front line), writing and reviewing through the
forms, lint findings shown beside their field with the phrase marked, branch scope, a fixed number of
queries on the library."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from tests.conftest import Cast
from tests.factories_scripts import clean_fields, make_version
from xiaodai.audit.choices import Action
from xiaodai.audit.models import AuditEvent
from xiaodai.outreach.choices import ScriptStatus
from xiaodai.outreach.models import Script, ScriptVersion

LIBRARY = "/scripts/"
NEW = "/scripts/new/"


def _body(client: Client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def _post_data(**overrides: Any) -> dict[str, Any]:
    fields = clean_fields()
    data: dict[str, Any] = {
        "title": "新话术",
        "product": "消费贷",
        "pool": "",
        "scenario": "",
        "opening": fields["opening"],
        "selling_points": fields["selling_points"],
        "scenario_text": fields["scenario_text"],
        "closing": fields["closing"],
        "apr": "3.45",
        "obj_rate_high": "年化利率3.45%起（单利），不用不计息。\n按日计息。",
    }
    data.update(overrides)
    return data


def _messages(response: Any) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


# --- the library ----------------------------------------------------------------------------------


def test_front_line_sees_only_approved_scripts(cast: Cast) -> None:
    make_version(cast.staff["head"], title="已批准的话术", reviewer=cast.staff["lead"])
    make_version(cast.staff["head"], title="只有草稿的话术", status=ScriptStatus.DRAFT)
    body = _body(cast.client("mgr"), LIBRARY)
    assert "已批准的话术" in body
    assert "只有草稿的话术" not in body
    assert 'data-testid="review-queue"' not in body
    assert 'data-testid="new-script"' not in body


def test_writers_see_drafts_and_the_review_queue(cast: Cast) -> None:
    make_version(cast.staff["head"], title="只有草稿的话术", status=ScriptStatus.DRAFT)
    make_version(cast.staff["lead"], title="待审的话术", status=ScriptStatus.REVIEW)
    make_version(cast.staff["head"], title="我写的待审话术", status=ScriptStatus.REVIEW)
    body = _body(cast.client("head"), LIBRARY)
    assert "只有草稿的话术" in body
    assert 'data-testid="new-script"' in body
    queue = body.split('data-testid="review-queue"', 1)[1].split('data-testid="script-filter"', 1)[0]
    assert queue.count('data-testid="queue-item"') == 2
    assert "待审的话术" in queue
    assert queue.count("须由他人审批") == 1  # the head's own version


def test_library_lists_only_the_viewers_branch(cast: Cast) -> None:
    make_version(cast.staff["head_b"], title="宁波的话术", reviewer=cast.staff["head_b"])
    assert "宁波的话术" not in _body(cast.client("head"), LIBRARY)


@pytest.mark.parametrize(
    ("query", "shown", "hidden"),
    [
        ("?product=薪享贷", "代发话术", "通用话术"),
        ("?pool=payroll_staff", "代发话术", "通用话术"),
        ("?pool=-", "通用话术", "代发话术"),
        ("?status=draft", "草稿话术", "通用话术"),
    ],
)
def test_library_filters(cast: Cast, query: str, shown: str, hidden: str) -> None:
    make_version(cast.staff["head"], title="通用话术", reviewer=cast.staff["lead"])
    lead = cast.staff["lead"]
    make_version(cast.staff["head"], title="代发话术", product="薪享贷", pool="payroll_staff", reviewer=lead)
    make_version(cast.staff["head"], title="草稿话术", status=ScriptStatus.DRAFT)
    body = _body(cast.client("head"), LIBRARY + query)
    assert shown in body
    assert hidden not in body


@pytest.mark.parametrize("query", ["?pool=nope", "?status=%00", "?product=" + "x" * 300, "?status=retired"])
def test_bad_library_parameters_are_ignored(cast: Cast, query: str) -> None:
    assert cast.client("head").get(LIBRARY + query).status_code == 200


def test_library_query_count_does_not_grow_with_the_library(
    cast: Cast, django_assert_max_num_queries: Any
) -> None:
    def fill(n: int) -> None:
        for i in range(n):
            approved = make_version(cast.staff["head"], title=f"话术{i}", reviewer=cast.staff["lead"])
            make_version(cast.staff["lead"], status=ScriptStatus.REVIEW, script=approved.script)

    fill(2)
    client = cast.client("head")
    # Session, user, staff; the scripts, their live versions (authors and reviewers joined), the queue, the
    # product list; the base layout's sub-branch and branch; the session save (3).
    with django_assert_max_num_queries(12):
        client.get(LIBRARY)
    fill(10)
    with django_assert_max_num_queries(12):
        body = _body(client, LIBRARY)
    assert body.count('data-testid="queue-item"') == 12


# --- a script -------------------------------------------------------------------------------------


def test_reader_sees_the_approved_version_never_a_newer_draft(cast: Cast) -> None:
    approved = make_version(cast.staff["head"], reviewer=cast.staff["lead"], closing="批准的结束语")
    make_version(cast.staff["head"], status=ScriptStatus.DRAFT, script=approved.script, closing="草稿结束语")
    body = _body(cast.client("tele"), f"/scripts/{approved.script_id}/?v=2")
    assert "批准的结束语" in body
    assert "草稿结束语" not in body
    assert 'data-testid="edit"' not in body


def test_a_script_without_an_approved_version_is_404_for_a_reader(cast: Cast) -> None:
    draft = make_version(cast.staff["head"], status=ScriptStatus.DRAFT)
    assert cast.client("mgr").get(f"/scripts/{draft.script_id}/").status_code == 404
    assert cast.client("head").get(f"/scripts/{draft.script_id}/").status_code == 200


def test_another_branchs_script_is_404(cast: Cast) -> None:
    foreign = make_version(cast.staff["head_b"], reviewer=cast.staff["head_b"])
    for url in (f"/scripts/{foreign.script_id}/", f"/scripts/{foreign.script_id}/edit/"):
        assert cast.client("head").get(url).status_code == 404


@pytest.mark.parametrize("bad", ["999999", "0"])
def test_unknown_script_ids_are_404(cast: Cast, bad: str) -> None:
    assert cast.client("head").get(f"/scripts/{bad}/").status_code == 404


def test_a_new_version_is_shown_beside_the_approved_one(cast: Cast) -> None:
    approved = make_version(cast.staff["head"], reviewer=cast.staff["lead"], closing="旧的结束语")
    make_version(cast.staff["lead"], status=ScriptStatus.REVIEW, script=approved.script, closing="新的结束语")
    body = _body(cast.client("head"), f"/scripts/{approved.script_id}/")
    compare = body.split('data-testid="compare"', 1)[1]
    assert compare.count('data-testid="changed"') == 1
    assert "<del" in compare
    assert "<ins" in compare
    assert 'data-testid="review-form"' in body


def test_the_author_is_told_another_person_approves(cast: Cast) -> None:
    version = make_version(cast.staff["head"], status=ScriptStatus.REVIEW)
    body = _body(cast.client("head"), f"/scripts/{version.script_id}/")
    assert 'data-testid="own-version"' in body


def test_a_draft_with_lint_problems_shows_them_with_the_phrase_marked(cast: Cast) -> None:
    draft = make_version(cast.staff["head"], status=ScriptStatus.DRAFT, opening="您好，秒批哦")
    body = _body(cast.client("head"), f"/scripts/{draft.script_id}/")
    assert 'data-testid="lint-opening"' in body
    assert '<mark data-testid="flagged">秒批</mark>' in body


# --- writing --------------------------------------------------------------------------------------


def test_new_script_is_saved_as_a_draft(cast: Cast) -> None:
    response = cast.client("head").post(NEW, _post_data())
    script = Script.objects.get()
    version = script.versions.get()
    assert response.status_code == 302
    assert response["Location"] == f"/scripts/{script.pk}/?v=1"
    assert version.status == ScriptStatus.DRAFT
    assert version.objections == {"rate_high": ["年化利率3.45%起（单利），不用不计息。", "按日计息。"]}
    assert AuditEvent.objects.filter(action=Action.SCRIPT_SAVE).count() == 1


def test_new_script_saved_and_submitted_goes_to_review(cast: Cast) -> None:
    cast.client("head").post(NEW, _post_data(submit="1"))
    assert ScriptVersion.objects.get().status == ScriptStatus.REVIEW


def test_new_script_submitted_with_lint_problems_saves_nothing_and_marks_them(cast: Cast) -> None:
    data = _post_data(submit="1", opening="您好，我行秒批", obj_no_need="月息3厘")
    response = cast.client("head").post(NEW, data)
    assert response.status_code == 200
    assert not Script.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="outreach.script").exists()
    body = response.content.decode()
    assert '<mark data-testid="flagged">秒批</mark>' in body
    assert 'data-testid="lint-obj_no_need"' in body
    assert '<mark data-testid="flagged">月息3厘</mark>' in body


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"title": ""}, "title"),
        ({"apr": "abc"}, "apr"),
        ({"opening": ""}, "opening"),
        ({"pool": "nope"}, "pool"),
        ({"scenario": "gambling"}, "scenario"),
    ],
)
def test_new_script_with_bad_input_names_the_field(cast: Cast, overrides: dict[str, str], field: str) -> None:
    response = cast.client("head").post(NEW, _post_data(**overrides))
    assert response.status_code == 200
    assert f'data-testid="error-{field}"' in response.content.decode()
    assert not Script.objects.exists()


def test_edit_of_an_approved_script_starts_a_new_draft(cast: Cast) -> None:
    approved = make_version(cast.staff["lead"], reviewer=cast.staff["head"])
    url = f"/scripts/{approved.script_id}/edit/"
    response = cast.client("head").post(url, _post_data(closing="新结束语"))
    assert response.status_code == 302
    assert response["Location"] == url
    draft = approved.script.versions.get(version=2)
    assert (draft.status, draft.closing, draft.author) == (ScriptStatus.DRAFT, "新结束语", cast.staff["head"])


def test_edit_page_shows_the_apr_without_trailing_zeros(cast: Cast) -> None:
    draft = make_version(cast.staff["head"], status=ScriptStatus.DRAFT)
    assert 'value="3.45"' in _body(cast.client("head"), f"/scripts/{draft.script_id}/edit/")


def test_someone_elses_draft_cannot_be_changed_from_the_page(cast: Cast) -> None:
    draft = make_version(cast.staff["lead"], status=ScriptStatus.DRAFT, closing="组长的草稿")
    url = f"/scripts/{draft.script_id}/edit/"
    assert 'data-testid="locked"' in _body(cast.client("head"), url)
    response = cast.client("head").post(url, _post_data(closing="改掉"))
    assert response.status_code == 200
    draft.refresh_from_db()
    assert draft.closing == "组长的草稿"


def test_submit_with_lint_problems_is_refused_and_goes_to_the_editor(cast: Cast) -> None:
    draft = make_version(cast.staff["head"], status=ScriptStatus.DRAFT, closing="零门槛")
    response = cast.client("head").post(f"/scripts/versions/{draft.pk}/submit/")
    assert response["Location"] == f"/scripts/{draft.script_id}/edit/"
    draft.refresh_from_db()
    assert draft.status == ScriptStatus.DRAFT


def test_submit_sends_to_review(cast: Cast) -> None:
    draft = make_version(cast.staff["head"], status=ScriptStatus.DRAFT)
    cast.client("head").post(f"/scripts/versions/{draft.pk}/submit/")
    draft.refresh_from_db()
    assert draft.status == ScriptStatus.REVIEW


# --- review ---------------------------------------------------------------------------------------


def test_author_approving_their_own_version_is_refused_with_a_message(cast: Cast) -> None:
    version = make_version(cast.staff["head"], status=ScriptStatus.REVIEW)
    response = cast.client("head").post(f"/scripts/versions/{version.pk}/approve/", follow=True)
    assert any("须由他人审批" in m for m in _messages(response))
    version.refresh_from_db()
    assert version.status == ScriptStatus.REVIEW


def test_another_person_approves_from_the_page(cast: Cast) -> None:
    old = make_version(cast.staff["head"], reviewer=cast.staff["lead"])
    new = make_version(cast.staff["head"], status=ScriptStatus.REVIEW, script=old.script)
    response = cast.client("lead").post(f"/scripts/versions/{new.pk}/approve/", {"note": "可以"})
    assert response["Location"] == f"/scripts/{new.script_id}/?v=2"
    old.refresh_from_db()
    new.refresh_from_db()
    assert (old.status, new.status, new.review_note) == (ScriptStatus.RETIRED, ScriptStatus.APPROVED, "可以")


def test_sending_back_without_a_note_is_refused(cast: Cast) -> None:
    version = make_version(cast.staff["head"], status=ScriptStatus.REVIEW)
    response = cast.client("lead").post(f"/scripts/versions/{version.pk}/reject/", {"note": " "}, follow=True)
    assert any("请说明退回原因" in m for m in _messages(response))
    version.refresh_from_db()
    assert version.status == ScriptStatus.REVIEW


def test_sending_back_with_a_note(cast: Cast) -> None:
    version = make_version(cast.staff["head"], status=ScriptStatus.REVIEW)
    cast.client("lead").post(f"/scripts/versions/{version.pk}/reject/", {"note": "补充用途说明"})
    version.refresh_from_db()
    assert (version.status, version.review_note) == (ScriptStatus.REJECTED, "补充用途说明")


def test_another_branchs_version_cannot_be_approved(cast: Cast) -> None:
    foreign = make_version(cast.staff["head_b"], status=ScriptStatus.REVIEW)
    assert cast.client("head").post(f"/scripts/versions/{foreign.pk}/approve/").status_code == 404
    foreign.refresh_from_db()
    assert foreign.status == ScriptStatus.REVIEW
