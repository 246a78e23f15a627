"""The pipeline pages: the branch's runs, a run's steps with live progress, and "run now" through the job
queue (inline in tests), which refuses with a message and queues nothing when a run cannot start."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from tests.conftest import Cast
from xiaodai.audit.choices import Action
from xiaodai.audit.models import AuditEvent
from xiaodai.ingest.models import ImportRun
from xiaodai.org.models import Branch
from xiaodai.pipeline import services
from xiaodai.pipeline.models import PipelineRun, PipelineStep
from xiaodai.pipeline.services import STEPS

DAY = dt.date(2026, 11, 28)


def _run(branch: Branch, status: str = "done", **kwargs: Any) -> PipelineRun:
    run = PipelineRun.objects.create(
        branch=branch, data_date=DAY, engine="duckdb", status=status, trigger="cli", **kwargs
    )
    step_status = {"done": "done", "running": "running", "queued": "waiting", "failed": "failed"}[status]
    PipelineStep.objects.bulk_create(
        PipelineStep(run=run, position=i, name=name, status="done" if i == 0 else step_status, rows=10 * i)
        for i, name in enumerate(STEPS)
    )
    return run


def _drop(branch: Branch) -> ImportRun:
    return ImportRun.objects.create(
        branch=branch,
        source="bank",
        data_date=DAY,
        contract_version="1.0",
        fingerprint="0" * 64,
        status="loaded",
        trigger="cli",
    )


def _messages(response: Any) -> list[tuple[str, str]]:
    return [(m.level_tag, str(m)) for m in response.context["messages"]]


def test_run_list_shows_only_the_branchs_runs(cast: Cast) -> None:
    own = _run(cast.branch, is_published=True)
    other = _run(cast.branch_b)
    body = cast.client("head").get("/pipeline/").content.decode()
    assert f"/pipeline/{own.pk}/" in body
    assert f"/pipeline/{other.pk}/" not in body
    assert 'data-testid="published"' in body


def test_only_the_ops_admin_gets_the_run_form(cast: Cast) -> None:
    assert 'data-testid="run-form"' in cast.client("ops").get("/pipeline/").content.decode()
    assert 'data-testid="run-form"' not in cast.client("head").get("/pipeline/").content.decode()


def test_run_page_lists_the_steps(cast: Cast) -> None:
    run = _run(cast.branch, started_at=timezone.now(), finished_at=timezone.now())
    body = cast.client("head").get(f"/pipeline/{run.pk}/").content.decode()
    for name in STEPS:
        assert f'data-step="{name}"' in body


def test_a_running_run_polls_every_two_seconds(cast: Cast) -> None:
    run = _run(cast.branch, status="running", started_at=timezone.now())
    body = cast.client("head").get(f"/pipeline/{run.pk}/").content.decode()
    assert f'hx-get="/pipeline/{run.pk}/progress/"' in body
    assert 'hx-trigger="every 2s"' in body
    assert "16%" in body  # one step of six done


def test_a_finished_run_does_not_poll(cast: Cast) -> None:
    run = _run(cast.branch)
    assert "hx-trigger" not in cast.client("head").get(f"/pipeline/{run.pk}/progress/").content.decode()


def test_progress_of_a_finished_run_reloads_the_watching_page(cast: Cast) -> None:
    run = _run(cast.branch)
    response = cast.client("head").get(f"/pipeline/{run.pk}/progress/", HTTP_HX_REQUEST="true")
    assert response["HX-Refresh"] == "true"


def test_progress_of_a_running_run_keeps_polling(cast: Cast) -> None:
    run = _run(cast.branch, status="running")
    response = cast.client("head").get(f"/pipeline/{run.pk}/progress/", HTTP_HX_REQUEST="true")
    assert "HX-Refresh" not in response
    assert 'hx-trigger="every 2s"' in response.content.decode()


def test_run_now_without_a_data_drop_shows_why_and_queues_nothing(cast: Cast) -> None:
    response = cast.client("ops").post("/pipeline/run/", {"engine": "duckdb"}, follow=True)
    assert [level for level, _text in _messages(response)] == ["error"]
    assert not PipelineRun.objects.exists()
    assert not AuditEvent.objects.filter(action=Action.PIPELINE_QUEUE).exists()


def test_run_now_queues_a_job_with_the_run_id(
    cast: Cast, monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks: Any
) -> None:
    _drop(cast.branch)
    seen: list[int] = []
    monkeypatch.setattr(services, "execute_run", seen.append)
    client = cast.client("ops")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/pipeline/run/", {"engine": "duckdb", "data_date": "2026-11-28"})
    run = PipelineRun.objects.get()
    assert response["Location"] == f"/pipeline/{run.pk}/"
    assert (run.trigger, run.started_by, run.data_date) == ("web", cast.staff["ops"], DAY)
    assert seen == [run.pk]
    assert AuditEvent.objects.filter(action=Action.PIPELINE_QUEUE, object_id=str(run.pk)).exists()


def test_run_now_executes_inline_in_tests_and_fails_visibly(
    cast: Cast, django_capture_on_commit_callbacks: Any
) -> None:
    _drop(cast.branch)  # a drop with no files: the check step refuses it
    with django_capture_on_commit_callbacks(execute=True):
        cast.client("ops").post("/pipeline/run/", {"engine": "duckdb"})
    run = PipelineRun.objects.get()
    assert run.status == "failed"
    assert "customers" in run.message
    assert run.steps.get(name="check").status == "failed"
    body = cast.client("ops").get(f"/pipeline/{run.pk}/").content.decode()
    assert 'data-testid="run-message"' in body


def test_run_now_refuses_while_a_run_is_active(cast: Cast) -> None:
    _drop(cast.branch)
    _run(cast.branch, status="running")
    response = cast.client("ops").post("/pipeline/run/", {"engine": "duckdb"}, follow=True)
    assert [level for level, _text in _messages(response)] == ["error"]
    assert PipelineRun.objects.count() == 1


def test_run_now_refuses_another_branchs_drop(cast: Cast) -> None:
    _drop(cast.branch_b)
    response = cast.client("ops").post("/pipeline/run/", {"engine": "duckdb"}, follow=True)
    assert [level for level, _text in _messages(response)] == ["error"]
    assert not PipelineRun.objects.exists()
    assert not AuditEvent.objects.filter(action=Action.PIPELINE_QUEUE).exists()


@pytest.mark.parametrize(
    "data", [{"engine": "pandas"}, {"engine": "duckdb", "data_date": "2026-13-45"}, {"engine": ""}]
)
def test_run_now_refuses_bad_input(cast: Cast, data: dict[str, str]) -> None:
    _drop(cast.branch)
    response = cast.client("ops").post("/pipeline/run/", data, follow=True)
    assert [level for level, _text in _messages(response)] == ["error"]
    assert not PipelineRun.objects.exists()


def test_a_branch_head_cannot_start_a_run(cast: Cast) -> None:
    _drop(cast.branch)
    assert cast.client("head").post("/pipeline/run/", {"engine": "duckdb"}).status_code == 403
    assert not PipelineRun.objects.exists()


def test_run_pipeline_job_executes_the_run(monkeypatch: pytest.MonkeyPatch) -> None:
    from xiaodai.pipeline import tasks

    seen: list[int] = []
    monkeypatch.setattr(services, "execute_run", seen.append)
    tasks.run_pipeline(42)
    assert seen == [42]
