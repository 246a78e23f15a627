"""The pipeline's score step on a loaded drop: every workable pool customer gets a probability, an expected
amount and value and reasons; blocked ones none; a customer who declined personalised marketing is ranked by
the pool prior only (C-11); the run records the model it used (rules v1, or a trained one once active); a
damaged model file fails the run and leaves the published results as they were."""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests import drops
from tests import scoring_data as d
from tests.conftest import Cast
from xiaodai.ingest import services as ingest
from xiaodai.ingest.choices import Trigger
from xiaodai.pipeline import services
from xiaodai.pipeline.choices import RunStatus
from xiaodai.pipeline.choices import Trigger as Started
from xiaodai.pipeline.models import PipelineRun
from xiaodai.pools.models import PoolMember
from xiaodai.scoring import learn, prior
from xiaodai.scoring.models import CustomerScore, ScoreRun, ScoringModel
from xiaodai.scoring.step import DEFAULT_MARGIN

DROPPED = {"customer__customer_no__startswith": "C9"}  # the drop's customers (the cast brings three more)
KEEN, REFUSED, PLAIN, VULNERABLE, PRIVATE = (f"C9{i:09d}" for i in range(1, 6))


@pytest.fixture(autouse=True)
def lake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XIAODAI_LAKE_DIR", str(tmp_path / "lake"))
    return tmp_path / "lake"


@pytest.fixture(autouse=True)
def model_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XIAODAI_MODEL_DIR", str(tmp_path / "models"))
    monkeypatch.delenv("XIAODAI_SCORE_MARGIN", raising=False)
    return tmp_path / "models"


@dataclass
class Damaged:
    published: PipelineRun
    failed: PipelineRun
    before: list[tuple[Any, ...]]


@pytest.fixture(scope="module")
def trained() -> learn.Trained:
    """The product's model fitted once for the module (registering it is per test)."""
    return d.train_product()


def scoring_drop(folder: Path, branch_code: str) -> Path:
    """Five customers with an idle credit line: one keen lately, one who refused, one plain, one flagged
    vulnerable (blocked), one who declined personalised marketing; and their contact history."""
    drops.basic_drop(folder, branch_code, n=5)
    people = drops.customers(5)
    people[3]["is_vulnerable"] = "1"
    people[4]["no_personalised_marketing"] = "1"
    drops.write_csv(folder, "customers", people)
    for feed in ("cards", "deposits", "applications"):
        drops.write_csv(folder, feed, [])
    history = [
        (KEEN, "2026-11-10 10:00:00", "interested"),
        (REFUSED, "2026-10-01 15:00:00", "refused"),
        (PRIVATE, "2026-11-10 10:00:00", "interested"),
    ]
    drops.write_csv(
        folder,
        "contact_history",
        [
            drops.row("contact_history", contact_id=f"H{i:09d}", customer_no=no, contacted_at=at, outcome=out)
            for i, (no, at, out) in enumerate(history)
        ],
    )
    return folder


@pytest.fixture
def loaded(tmp_path: Path, cast: Cast) -> Path:
    folder = scoring_drop(tmp_path / "20261128", cast.branch.code)
    run = ingest.run_ingest(folder, trigger=Trigger.CLI)
    assert run.status == "loaded", run.message
    return folder


def _run() -> PipelineRun:
    run = services.run_pipeline(trigger=Started.CLI)
    assert run.status == RunStatus.DONE, run.message
    return run


def _score(customer_no: str) -> CustomerScore:
    return CustomerScore.objects.get(customer__customer_no=customer_no)


def _cents(value: Decimal) -> int:
    return int(value * 100)


# --- every workable customer, and only they -----------------------------------------------------------------


def test_every_workable_pool_customer_is_scored(loaded: Path) -> None:
    run = _run()
    workable = set(PoolMember.objects.filter(run=run, blocked=0).values_list("customer_id", flat=True))
    scores = CustomerScore.objects.filter(run=run)
    assert {s.customer_id for s in scores} == workable
    assert len(workable) >= 4
    for s in scores:
        assert 0 < s.probability < 1
        assert s.reasons


def test_the_expected_value_is_chance_times_amount_times_margin(loaded: Path) -> None:
    run = _run()
    for s in CustomerScore.objects.filter(run=run):
        potentials = PoolMember.objects.filter(run=run, customer=s.customer).values_list(
            "potential", flat=True
        )
        assert s.expected_amount == max(potentials)
        assert _cents(s.expected_value) == round(s.probability * _cents(s.expected_amount) * DEFAULT_MARGIN)
    assert _score(PLAIN).expected_amount == Decimal("200000.00")


def test_blocked_customers_get_no_score(loaded: Path) -> None:
    run = _run()
    blocked = PoolMember.objects.filter(run=run, customer__customer_no=VULNERABLE)
    assert blocked.exists()
    assert all(m.blocked for m in blocked)
    assert not CustomerScore.objects.filter(customer__customer_no=VULNERABLE).exists()


def test_members_carry_the_score_only_when_workable(loaded: Path) -> None:
    run = _run()
    for m in PoolMember.objects.filter(run=run).select_related("customer"):
        if m.blocked:
            assert (m.probability, m.expected_value) == (None, None)
            continue
        s = m.customer.score
        assert (m.probability, m.expected_value) == (pytest.approx(s.probability), s.expected_value)


def test_the_contact_history_moves_the_rule_prior(loaded: Path) -> None:
    _run()
    base = prior.POOL_PRIOR["approved_undrawn"]
    assert _score(PLAIN).probability == pytest.approx(base)
    assert _score(KEEN).probability == pytest.approx(base * prior.KEEN_FACTOR)
    assert _score(REFUSED).probability == pytest.approx(base * prior.REFUSED_FACTOR)
    assert _score(KEEN).reasons[0] == ["keen_before", {"days": 19}]


# --- C-11: declined personalised marketing ------------------------------------------------------------------


def test_a_customer_who_declined_personalisation_is_ranked_by_the_pool_prior(loaded: Path) -> None:
    _run()
    s = _score(PRIVATE)
    assert s.personalised is False
    assert s.probability == pytest.approx(prior.POOL_PRIOR["approved_undrawn"])  # the keen contact is ignored
    assert s.reasons == [["non_personalised", {}], ["pool", {"pool": "approved_undrawn"}]]
    assert _score(PLAIN).personalised is True


def test_the_score_run_records_what_made_the_scores(loaded: Path) -> None:
    run = _run()
    record = ScoreRun.objects.get(run=run)
    rules = ScoringModel.objects.get(name="propensity", version=1)
    assert record.model == rules
    assert record.params == {
        "model": rules.pk,
        "version": 1,
        "kind": "rules",
        "margin": DEFAULT_MARGIN,
        "day": "2026-11-28",
    }
    assert len(record.criteria_hash) == 64
    assert (record.scored, record.non_personalised) == (CustomerScore.objects.filter(run=run).count(), 1)


# --- which model --------------------------------------------------------------------------------------------


def test_rules_v1_scores_until_a_model_beats_it(loaded: Path) -> None:
    run = _run()
    record = ScoreRun.objects.get(run=run)
    assert (record.model.kind, record.model.version, record.model.status) == ("rules", 1, "active")
    assert set(CustomerScore.objects.values_list("model_id", flat=True)) == {record.model_id}


def test_an_active_trained_model_scores_the_run(loaded: Path, trained: learn.Trained) -> None:
    model = d.register_product_model(trained)
    assert (model.kind, model.status, model.beats_active) == ("lightgbm", "active", True)
    run = _run()
    assert ScoreRun.objects.get(run=run).model == model
    scores = CustomerScore.objects.filter(run=run, personalised=True)
    assert set(scores.values_list("model_id", flat=True)) == {model.pk}
    assert all(0 < s.probability < 1 and s.reasons for s in scores)
    assert all(
        isinstance(code, str) and isinstance(params, dict) for s in scores for code, params in s.reasons
    )


def test_a_trained_model_still_ranks_a_declined_customer_by_the_pool_prior(
    loaded: Path, trained: learn.Trained
) -> None:
    d.register_product_model(trained)
    _run()
    s = _score(PRIVATE)
    assert (s.personalised, s.probability) == (False, pytest.approx(prior.POOL_PRIOR["approved_undrawn"]))


# --- a damaged model file -----------------------------------------------------------------------------------


def _damage(model: ScoringModel, model_dir: Path) -> None:
    path = model_dir / model.file
    doc = json.loads(path.read_text(encoding="utf-8"))
    doc["booster"] = doc["booster"].replace("leaf_value=", "leaf_value=1", 1)
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")


@pytest.fixture
def damaged(loaded: Path, model_dir: Path, trained: learn.Trained, settings: Any) -> Damaged:
    """A run published with a trained model whose file is then altered, and the next run's."""
    settings.LANGUAGE_CODE = "en"  # the run's stored messages
    model = d.register_product_model(trained)
    published = _run()
    before = sorted(
        CustomerScore.objects.values_list("customer_id", "run_id", "probability", "expected_value")
    )
    _damage(model, model_dir)
    failed = services.run_pipeline(trigger=Started.CLI)
    return Damaged(published, failed, before)


def test_a_damaged_model_file_fails_the_scores_step(damaged: Damaged) -> None:
    assert (damaged.failed.status, damaged.failed.is_published) == (RunStatus.FAILED, False)
    assert list(damaged.failed.steps.values_list("name", "status")) == [
        ("check", "done"),
        ("snapshot", "done"),
        ("pools", "done"),
        ("signals", "done"),
        ("scores", "failed"),
        ("publish", "skipped"),
    ]


def test_a_damaged_model_file_keeps_the_published_scores(damaged: Damaged) -> None:
    after = sorted(
        CustomerScore.objects.values_list("customer_id", "run_id", "probability", "expected_value")
    )
    assert after == damaged.before
    assert {run_id for _, run_id, *_ in after} == {damaged.published.pk}
    assert PipelineRun.objects.get(is_published=True) == damaged.published
    assert list(ScoreRun.objects.values_list("run_id", flat=True)) == [damaged.published.pk]


def test_a_damaged_model_file_is_named_in_the_run_message(damaged: Damaged) -> None:
    message = damaged.failed.message
    assert "propensity v2" in message
    assert "does not match its checksum" in message
    assert damaged.failed.steps.get(name="scores").message == message


def test_a_second_run_replaces_the_scores(loaded: Path) -> None:
    first = _run()
    first_scores = CustomerScore.objects.count()
    again = _run()
    assert not CustomerScore.objects.filter(run=first).exists()
    assert CustomerScore.objects.filter(run=again).count() == first_scores
    assert ScoreRun.objects.get(run=again).scored == first_scores
