"""The model pages: the registry with its training runs, a model's card, and "retrain now" through the job
queue (inline in tests; training itself is replaced by a stub in all but one test, it takes minutes)."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone, translation

from tests.conftest import Cast
from xiaodai.audit.choices import Action, Outcome
from xiaodai.audit.models import AuditEvent
from xiaodai.org.models import Staff
from xiaodai.scoring import jobs, methods, services, tasks
from xiaodai.scoring.exceptions import ScoringError
from xiaodai.scoring.models import ScoringModel, TrainingRun

GAINS_AT = range(5, 101, 5)


def _method(auc: float, ap: float, lift: float) -> dict[str, Any]:
    """Metrics as learn.metrics writes them: a gains curve bent by `lift` (1 = the diagonal)."""
    gains = [round(min(1.0, (p / 100) ** (1 / lift)), 4) for p in GAINS_AT]
    return {
        "auc": auc,
        "ap": ap,
        "capture": {str(p): gains[p // 5 - 1] for p in (10, 20, 30, 50)},
        "gains": gains,
    }


METRICS = {
    "random": _method(0.502, 0.041, 1.0),
    "rule": _method(0.641, 0.083, 1.6),
    "logistic": _method(0.702, 0.112, 2.1),
    "model": _method(0.731, 0.127, 2.3),
    "active": {**_method(0.688, 0.097, 1.9), "version": 2},
}
NOTES = [{"base": "logistic", "metric": "50", "mine": 0.741, "theirs": 0.748}]


def _model(version: int, status: str = "kept", by: Staff | None = None, **kwargs: Any) -> ScoringModel:
    fields: dict[str, Any] = {
        "name": "propensity",
        "version": version,
        "kind": "lightgbm",
        "source": "product",
        "status": status,
        "features": [
            {
                "name": "line_limit",
                "kind": "number",
                "origin": "derived",
                "description": "largest credit line",
            },
            {"name": "occupation", "kind": "category", "origin": "attribute", "description": "occupation"},
        ],
        "window": {
            "train_from": "2025-11-01",
            "train_to": "2026-08-31",
            "holdout_from": "2026-09-01",
            "holdout_to": "2026-10-29",
        },
        "rows": {"train": 48210, "train_positive": 2113, "holdout": 12052, "holdout_positive": 498},
        "metrics": METRICS,
        "notes": NOTES,
        "params": {"learning_rate": 0.08, "num_leaves": 15, "rounds": 117},
        "info": {"data_date": "2026-11-28", "label": "applied within 30 days of the contact"},
        "beats_active": True,
        "file": f"propensity/v{version}.json",
        "checksum": "ab" * 32,
        "trigger": "manual",
        "trained_by": by,
        **kwargs,
    }
    return ScoringModel.objects.create(**fields)


def _retire_rules() -> ScoringModel:
    """The migrations seed rules v1 as active; a trained version replaces it."""
    rules = ScoringModel.objects.get(name="propensity", version=1)
    ScoringModel.objects.filter(pk=rules.pk).update(status="retired")
    return rules


def _ops(cast: Cast) -> Client:
    client = cast.client("ops")
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def _messages(response: Any) -> list[tuple[str, str]]:
    return [(m.level_tag, str(m)) for m in response.context["messages"]]


def _chart(body: str) -> dict[str, Any]:
    found = re.search(r'<script id="gains-chart" type="application/json">(.*?)</script>', body, re.S)
    assert found, "no gains chart data on the page"
    return dict(json.loads(found.group(1)))


# --- the registry -------------------------------------------------------------------------------------------


def test_registry_lists_every_version_and_highlights_the_active(cast: Cast) -> None:
    rules = _retire_rules()
    active = _model(2, status="active", by=cast.staff["ops"])
    kept = _model(3, beats_active=False)
    body = _ops(cast).get("/models/").content.decode()
    for model in (rules, active, kept):
        assert f'href="/models/{model.pk}/"' in body
    highlighted = re.findall(
        r'<tr data-href="/models/(\d+)/" class="table-success" data-testid="active-model">', body
    )
    assert highlighted == [str(active.pk)]
    assert "0.731" in body  # AUC
    assert "0.127" in body  # AP
    assert f"{METRICS['model']['capture']['20'] * 100:.1f}%" in body
    assert "v2: AUC 0.688" in body  # the then-active model on the same holdout
    assert 'data-testid="not-beats"' in body
    assert "48,210 / 12,052" in body
    assert "2025-11-01 – 2026-08-31" in body


def test_registry_query_count_is_pinned(cast: Cast, django_assert_max_num_queries: Any) -> None:
    _retire_rules()
    for version in range(2, 12):
        _model(version, by=cast.staff["ops"])
    for _i in range(5):
        TrainingRun.objects.create(trigger="manual", status="done", requested_by=cast.staff["ops"])
    client = _ops(cast)
    client.get("/models/")  # warm the session and the user
    with django_assert_max_num_queries(12):
        assert client.get("/models/").status_code == 200


def test_registry_filters_by_status_and_name(cast: Cast) -> None:
    _retire_rules()
    kept = _model(2)
    other = _model(1, name="history_demo", source="history", status="active")
    body = _ops(cast).get("/models/?status=kept").content.decode()
    assert f'href="/models/{kept.pk}/"' in body
    assert f'href="/models/{other.pk}/"' not in body
    body = _ops(cast).get("/models/?name=history_demo").content.decode()
    assert f'href="/models/{other.pk}/"' in body
    assert f'href="/models/{kept.pk}/"' not in body


def test_registry_sorts_by_auc_with_rules_last(cast: Cast) -> None:
    rules = _retire_rules()
    low = _model(2, metrics={**METRICS, "model": _method(0.611, 0.07, 1.4)})
    high = _model(3)
    response = _ops(cast).get("/models/?sort=-auc")
    assert [m.pk for m, _s in response.context["rows"]] == [high.pk, low.pk, rules.pk]
    response = _ops(cast).get("/models/?sort=auc")
    assert [m.pk for m, _s in response.context["rows"]] == [low.pk, high.pk, rules.pk]


def test_registry_ignores_an_unknown_sort_and_status(cast: Cast) -> None:
    response = _ops(cast).get("/models/?sort=evil&status=nope&name=%00x")
    assert response.status_code == 200
    assert (response.context["flt"].sort, response.context["flt"].status) == ("-trained", "")


@pytest.mark.parametrize("who", ["head", "lead", "mgr", "tele", "auditor"])
def test_other_roles_get_403_and_no_nav_link(cast: Cast, who: str) -> None:
    client = cast.client(who)
    rules = ScoringModel.objects.get(name="propensity", version=1)
    assert client.get("/models/").status_code == 403
    assert client.get(f"/models/{rules.pk}/").status_code == 403
    assert client.post("/models/retrain/").status_code == 403
    assert not TrainingRun.objects.exists()
    assert 'href="/models/"' not in client.get("/").content.decode()


def test_ops_has_the_nav_link(cast: Cast) -> None:
    assert 'href="/models/"' in _ops(cast).get("/").content.decode()


# --- training runs and "retrain now" ------------------------------------------------------------------------


def test_an_active_training_polls_and_disables_the_button(cast: Cast) -> None:
    TrainingRun.objects.create(trigger="schedule", status="running")
    body = _ops(cast).get("/models/").content.decode()
    assert 'hx-get="/models/runs/"' in body
    assert 'hx-trigger="every 2s"' in body
    assert "progress-bar-indeterminate" in body
    assert re.search(r'<button class="btn btn-primary" disabled>', body)


def test_finished_trainings_do_not_poll_and_reload_the_watching_page(cast: Cast) -> None:
    TrainingRun.objects.create(trigger="manual", status="done")
    client = _ops(cast)
    assert "hx-trigger" not in client.get("/models/").content.decode()
    response = client.get("/models/runs/", HTTP_HX_REQUEST="true")
    assert response["HX-Refresh"] == "true"


def test_the_runs_fragment_keeps_polling_while_training(cast: Cast) -> None:
    TrainingRun.objects.create(trigger="manual", status="queued")
    response = _ops(cast).get("/models/runs/", HTTP_HX_REQUEST="true")
    assert "HX-Refresh" not in response
    assert 'hx-trigger="every 2s"' in response.content.decode()


def test_retrain_queues_a_run_with_an_audit_event(
    cast: Cast, monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks: Any
) -> None:
    seen: list[int] = []
    monkeypatch.setattr(jobs, "execute_training", seen.append)
    with django_capture_on_commit_callbacks(execute=True):
        response = _ops(cast).post("/models/retrain/", follow=True)
    run = TrainingRun.objects.get()
    assert (run.status, run.trigger, run.requested_by) == ("queued", "manual", cast.staff["ops"])
    assert seen == [run.pk]  # the job was sent, with the run's id, once the row was committed
    assert [level for level, _t in _messages(response)] == ["success"]
    event = AuditEvent.objects.get(action=Action.MODEL_RETRAIN_QUEUE)
    assert (event.object_id, event.user_id, event.detail) == (
        str(run.pk),
        cast.user("ops").pk,
        {"trigger": "manual"},
    )


def test_retrain_runs_the_job_inline_in_tests_and_records_the_model(
    cast: Cast, monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks: Any
) -> None:
    _retire_rules()
    calls: list[dict[str, Any]] = []

    def train(**kwargs: Any) -> ScoringModel:
        calls.append(kwargs)
        return _model(2, status="active", by=kwargs["by"])

    monkeypatch.setattr(services, "train_product", train)
    with django_capture_on_commit_callbacks(execute=True):
        _ops(cast).post("/models/retrain/")
    run = TrainingRun.objects.get()
    assert calls == [{"trigger": "manual", "by": cast.staff["ops"]}]
    trained = ScoringModel.objects.get(version=2)
    assert (run.status, run.model) == ("done", trained)
    assert run.finished_at is not None
    assert "propensity v2" in run.message
    body = _ops(cast).get("/models/").content.decode()
    assert f'href="/models/{trained.pk}/">propensity v2</a>' in body


def test_a_second_retrain_while_one_is_active_is_refused(cast: Cast) -> None:
    TrainingRun.objects.create(trigger="schedule", status="running")
    response = _ops(cast).post("/models/retrain/", follow=True)
    assert _messages(response) == [
        ("error", "A model training is already queued or running; wait for it to finish.")
    ]
    assert TrainingRun.objects.count() == 1
    assert not AuditEvent.objects.filter(action=Action.MODEL_RETRAIN_QUEUE).exists()


def test_a_run_abandoned_by_a_dead_worker_does_not_block_for_ever(cast: Cast) -> None:
    stale = TrainingRun.objects.create(trigger="manual", status="running")
    TrainingRun.objects.filter(pk=stale.pk).update(created_at=timezone.now() - dt.timedelta(hours=7))
    _ops(cast).post("/models/retrain/")
    stale.refresh_from_db()
    assert stale.status == "failed"
    assert stale.finished_at is not None
    assert TrainingRun.objects.filter(status="queued").count() == 1


def test_a_failed_training_marks_the_run_failed_with_the_message(
    cast: Cast, monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks: Any
) -> None:
    def train(**kwargs: Any) -> ScoringModel:
        raise ScoringError("There is no contact history with a closed 30-day outcome window yet.")

    monkeypatch.setattr(services, "train_product", train)
    with django_capture_on_commit_callbacks(execute=True):
        _ops(cast).post("/models/retrain/")
    run = TrainingRun.objects.get()
    assert run.status == "failed"
    assert run.message == "There is no contact history with a closed 30-day outcome window yet."
    assert run.model is None
    assert AuditEvent.objects.filter(action=Action.MODEL_TRAIN, outcome=Outcome.FAILURE).count() == 1
    body = _ops(cast).get("/models/").content.decode()
    assert 'data-status="failed"' in body
    assert "closed 30-day outcome window" in body


def test_an_unexpected_error_still_ends_the_run(cast: Cast, monkeypatch: pytest.MonkeyPatch) -> None:
    def train(**kwargs: Any) -> ScoringModel:
        raise MemoryError

    monkeypatch.setattr(services, "train_product", train)
    run = TrainingRun.objects.create(trigger="manual", requested_by=cast.staff["ops"])
    with pytest.raises(MemoryError):  # re-raised: the worker logs the trace
        jobs.execute_training(run.pk)
    run.refresh_from_db()
    assert run.status == "failed"
    assert "MemoryError" in run.message


def test_a_run_that_is_no_longer_queued_is_not_trained_again(
    cast: Cast, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(services, "train_product", lambda **kw: pytest.fail("trained twice"))
    run = TrainingRun.objects.create(trigger="manual", status="failed", message="abandoned")
    assert jobs.execute_training(run.pk).status == "failed"


def test_real_training_without_history_fails_with_a_clear_message(
    cast: Cast, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        _ops(cast).post("/models/retrain/")
    run = TrainingRun.objects.get()
    assert run.status == "failed"
    assert "30" in run.message, run.message  # no contact history with a closed 30-day outcome window
    assert not ScoringModel.objects.filter(kind="lightgbm").exists()


# --- the weekly schedule ------------------------------------------------------------------------------------


def test_the_schedule_is_monday_two_in_the_morning_in_shanghai() -> None:
    sunday_evening_utc = dt.datetime(2026, 6, 7, 18, 0)  # Monday 02:00 in Shanghai
    assert tasks.weekly_in_shanghai(sunday_evening_utc)
    assert not tasks.weekly_in_shanghai(dt.datetime(2026, 6, 8, 2, 0))  # Monday 10:00 in Shanghai
    assert not tasks.weekly_in_shanghai(dt.datetime(2026, 6, 7, 18, 1))


def test_the_scheduled_run_trains_and_skips_while_one_is_active(
    cast: Cast, monkeypatch: pytest.MonkeyPatch
) -> None:
    _retire_rules()
    monkeypatch.setattr(
        services, "train_product", lambda **kw: _model(2, status="active", trigger=kw["trigger"])
    )
    run = jobs.run_scheduled()
    assert run is not None
    assert (run.trigger, run.status, run.requested_by) == ("schedule", "done", None)
    assert AuditEvent.objects.get(action=Action.MODEL_RETRAIN_QUEUE).username == "scoring:schedule"
    TrainingRun.objects.create(trigger="manual", status="running")
    assert jobs.run_scheduled() is None
    assert TrainingRun.objects.count() == 2


# --- the model card -----------------------------------------------------------------------------------------


def test_card_shows_every_metric_of_every_method(cast: Cast) -> None:
    model = _model(2, by=cast.staff["ops"])
    body = _ops(cast).get(f"/models/{model.pk}/").content.decode()
    for method in ("random", "rule", "logistic", "model", "active"):
        assert f'data-method="{method}"' in body
    assert "the active model (v2)" in body
    for value in ("0.502", "0.641", "0.702", "0.731", "0.688", "0.041", "0.127"):
        assert value in body
    for p in ("10", "20", "30", "50"):
        assert f"Capture in the top {p}%" in body
    assert f"{METRICS['logistic']['capture']['30']:.1%}" in body
    assert 'class="text-end fw-bold">0.731' in body  # the best AUC of the row


def test_card_shows_the_notes_in_a_warning_box(cast: Cast) -> None:
    model = _model(2)
    body = _ops(cast).get(f"/models/{model.pk}/").content.decode()
    with translation.override("en"):
        expected = methods.note_text(NOTES[0])
    box = body[body.index('data-testid="card-notes"') :]
    assert expected in box[: box.index("</div>")]
    assert "logistic regression" in expected


def test_card_without_notes_says_it_beats_every_baseline(cast: Cast) -> None:
    model = _model(2, notes=[])
    body = _ops(cast).get(f"/models/{model.pk}/").content.decode()
    assert 'data-testid="card-notes"' not in body
    assert 'data-testid="card-notes-none"' in body


def test_card_carries_the_gains_chart_data(cast: Cast) -> None:
    model = _model(2)
    chart = _chart(_ops(cast).get(f"/models/{model.pk}/").content.decode())
    assert chart["xAxis"]["data"][0] == "5%"
    assert chart["xAxis"]["data"][-1] == "100%"
    lines = {s["name"]: s["data"] for s in chart["series"]}
    assert len(lines) == 6  # four methods, the active model, the diagonal
    assert lines["this model"] == [round(g * 100, 1) for g in METRICS["model"]["gains"]]
    assert lines["Diagonal (no ranking)"] == list(GAINS_AT)
    assert all(s["type"] == "line" for s in chart["series"])


def test_card_shows_features_window_rows_params_and_checksum(cast: Cast) -> None:
    model = _model(2)
    body = _ops(cast).get(f"/models/{model.pk}/").content.decode()
    assert "<code>line_limit</code>" in body
    assert "largest credit line" in body
    assert "Derived" in body
    assert "Category" in body
    assert "2026-09-01 – 2026-10-29" in body
    assert "12,052" in body
    assert "498" in body
    assert "4.1%" in body  # 498 of 12,052 holdout rows positive
    assert "<code>num_leaves</code>" in body
    assert "ab" * 32 in body
    assert "Beat the active model on the same holdout." in body


def test_card_of_a_history_file_model_lists_its_columns(cast: Cast) -> None:
    info = {
        "file": "bank_marketing.csv",
        "rows_in_file": 41188,
        "target": "y",
        "time_column": "contact_date",
        "id_column": "client_id",
        "excluded": ["duration"],
        "sensitive_left_out": ["id_number", "phone"],
        "until": None,
    }
    model = _model(1, name="bank_marketing", source="history", trigger="cli", info=info, beats_active=None)
    body = _ops(cast).get(f"/models/{model.pk}/").content.decode()
    for text in ("bank_marketing.csv", "contact_date", "client_id", "duration", "id_number, phone"):
        assert text in body
    assert "Sensitive columns left out" in body
    assert "Nothing to compare with" in body


def test_card_of_the_rules_model_explains_the_transparent_prior(cast: Cast) -> None:
    rules = ScoringModel.objects.get(name="propensity", version=1)
    body = _ops(cast).get(f"/models/{rules.pk}/").content.decode()
    assert 'data-testid="rules-prior"' in body
    assert "docs/scoring.md" in body
    assert "8.0%" in body  # the unfinished-application pool's base rate
    assert "×2" in body
    assert "×0.3" in body
    assert "best pool of the customer&#x27;s holdings" in body
    assert 'data-testid="gains-chart"' not in body  # no holdout metrics of its own


def test_a_missing_model_is_404(cast: Cast) -> None:
    assert _ops(cast).get("/models/999999/").status_code == 404


def test_the_pages_do_not_load_the_modelling_libraries() -> None:
    """LightGBM, scikit-learn and pandas take seconds to import: the worker that trains loads them, a web
    process serving the model card does not (its first page would wait for them)."""
    code = (
        "import sys, django; django.setup(); import config.urls; "
        "print(sorted(m for m in ('lightgbm', 'sklearn', 'pandas') if m in sys.modules))"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings"}
    root = Path(__file__).resolve().parent.parent
    done = subprocess.run(  # noqa: S603 (our own interpreter)
        [sys.executable, "-c", code], env=env, cwd=root, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip().splitlines()[-1] == "[]"
