"""Bring-your-own history through `xiaodai model train|score`: the registry row and its model file, the inputs
it refuses (each with a message naming the fault, and nothing written), no look-ahead in the derived
features, scoring a file, tamper-evident model files, and activating a version only when it beats the active
one on the new holdout."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from django.core.management import CommandError, call_command
from django.utils import translation

from tests import scoring_data as d
from tests.conftest import Cast
from xiaodai.audit.choices import Action
from xiaodai.audit.models import AuditEvent
from xiaodai.scoring import history, learn, modelfile, services
from xiaodai.scoring.choices import ModelSource, Trigger
from xiaodai.scoring.exceptions import ModelFileError
from xiaodai.scoring.models import ScoringModel

NAME = "bank-history"
DERIVED = {f.name for f in history.DERIVED}


@pytest.fixture(autouse=True)
def model_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "models"
    monkeypatch.setenv("XIAODAI_MODEL_DIR", str(root))
    return root


def train(path: Path, *extra: str, name: str = NAME) -> str:
    """`xiaodai model train` on a history file with the usual columns; returns what it printed."""
    out = io.StringIO()
    with translation.override("en"):
        call_command(
            "model", "train", "--history", str(path), *d.TRAIN_ARGS, "--name", name, *extra, stdout=out
        )
    return out.getvalue()


def score(path: Path, output: Path, name: str = NAME) -> str:
    out = io.StringIO()
    args = ("--model", name, "--input", str(path), "--id-column", d.ID, "--output", str(output))
    with translation.override("en"):
        call_command("model", "score", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def csv_history(tmp_path: Path) -> Path:
    return d.write_csv(tmp_path / "history.csv", d.history_rows())


def _fit(path: Path) -> tuple[learn.Trained, dict[str, Any]]:
    frame, info = history.load_history(path, target=d.TARGET, time_col=d.TIME, id_col=d.ID)
    return learn.train(frame), info


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> tuple[learn.Trained, dict[str, Any]]:
    """The usual history fitted once for the module (what `model train` fits; registering is per test)."""
    return _fit(d.write_csv(tmp_path_factory.mktemp("clean") / "history.csv", d.history_rows()))


@pytest.fixture(scope="module")
def noisy(tmp_path_factory: pytest.TempPathFactory) -> tuple[learn.Trained, dict[str, Any]]:
    """A history whose outcomes before the latest fifth are coin flips: its model learns nothing, while its
    holdout keeps the real relationship."""
    rows = d.history_rows(seed=5)
    noisy_rows = d.history_rows(seed=5, noise_before=d.cut(rows, 0.8))
    return _fit(d.write_csv(tmp_path_factory.mktemp("noisy") / "history.csv", noisy_rows))


def register(fitted: tuple[learn.Trained, dict[str, Any]]) -> ScoringModel:
    """What train_history does once the file is fitted."""
    trained, info = fitted
    with translation.override("en"):
        return services.register(
            trained, name=NAME, source=ModelSource.HISTORY, info=info, trigger=Trigger.CLI, by=None
        )


@pytest.fixture
def trained(db: None, clean: tuple[learn.Trained, dict[str, Any]]) -> ScoringModel:
    return register(clean)


# --- training from a file -----------------------------------------------------------------------------------


def test_training_from_a_csv_registers_a_version_with_its_features(db: None, csv_history: Path) -> None:
    train(csv_history)
    model = ScoringModel.objects.get(name=NAME)
    assert (model.source, model.trigger, model.status) == ("history", "cli", "active")
    kinds = {f["name"]: f["kind"] for f in model.features}
    assert {k: kinds[k] for k in ("age", "income", "segment", "channel")} == {
        "age": "number",
        "income": "number",
        "segment": "category",
        "channel": "category",
    }
    assert set(kinds) >= DERIVED
    assert {"h_prev_pos", "h_prev_n", "h_days_since_prev", "g_rate_30", "t_hour"} <= DERIVED
    assert not {d.ID, d.TIME, d.TARGET} & set(kinds)


def test_training_from_parquet_detects_the_same_kinds(db: None, tmp_path: Path) -> None:
    path = d.write_parquet(tmp_path / "history.parquet", d.history_rows())
    train(path)
    model = ScoringModel.objects.get(name=NAME)
    kinds = {f["name"]: f["kind"] for f in model.features}
    assert (kinds["age"], kinds["income"], kinds["segment"]) == ("number", "number", "category")
    assert model.info["file"] == "history.parquet"


def test_the_registry_row_holds_window_rows_and_four_methods(trained: ScoringModel) -> None:
    w = trained.window
    assert w["train_from"] <= w["train_to"] <= w["holdout_from"] <= w["holdout_to"]
    assert trained.rows["train"] + trained.rows["holdout"] == len(d.history_rows())
    assert 0 < trained.rows["holdout_positive"] < trained.rows["holdout"]
    assert set(trained.metrics) >= {"random", "rule", "logistic", "model"}
    assert all(0 <= trained.metrics[m]["auc"] <= 1 for m in ("random", "rule", "logistic", "model"))
    assert trained.metrics["model"]["auc"] > 0.65  # the segment decides most of the outcome


def test_the_model_file_matches_the_registry_checksum(trained: ScoringModel, model_dir: Path) -> None:
    path = model_dir / trained.file
    assert json.loads(path.read_text(encoding="utf-8"))["checksum"] == trained.checksum
    loaded = modelfile.read(path, expected_checksum=trained.checksum)
    assert [f.name for f in loaded.features] == [f["name"] for f in trained.features]


def test_the_model_card_lists_every_feature(trained: ScoringModel, cast: Cast) -> None:
    body = cast.client("ops").get(f"/models/{trained.pk}/").content.decode()
    table = body.split('data-testid="feature-table"', 1)[1].split("</table>", 1)[0]
    assert re.findall(r"<code>([^<]+)</code>", table) == [f["name"] for f in trained.features]


def test_the_command_prints_the_four_methods(db: None, csv_history: Path) -> None:
    printed = train(csv_history)
    assert f"{NAME} v1: active" in printed
    for method in ("random", "rule", "logistic", "model"):
        assert re.search(rf"^{method} +\d\.\d{{3}}", printed, re.M), method


# --- refused inputs: a message naming the fault, no registry row, no file -----------------------------------


def _zero_from(rows: list[d.Row], moment: dt.datetime, *, before: bool = False) -> list[d.Row]:
    return [
        {**r, d.TARGET: 0} if (r[d.TIME] < moment if before else r[d.TIME] >= moment) else r for r in rows
    ]


def _bad(case: str) -> tuple[list[d.Row], tuple[str, ...]]:
    rows = d.history_rows()
    if case == "constant target":
        return [{**r, d.TARGET: 1} for r in rows], ()
    if case == "one class in the holdout":
        return _zero_from(rows, d.cut(rows, 0.7)), ()
    if case == "one class in training":
        return _zero_from(rows, d.cut(rows, 0.85), before=True), ()
    if case == "nothing before --until":
        return rows, ("--until", "2024-06-30")
    if case == "unknown --exclude":
        return rows, ("--exclude", "channel,colour")
    if case == "time that does not parse":
        rows[7] = {**rows[7], d.TIME: "next tuesday"}
        return rows, ()
    if case == "target not 0/1":
        rows[3] = {**rows[3], d.TARGET: "maybe"}
        return rows, ()
    if case == "missing target":
        return [{k: v for k, v in r.items() if k != d.TARGET} for r in rows], ()
    if case == "missing time":
        return [{k: v for k, v in r.items() if k != d.TIME} for r in rows], ()
    if case == "missing id":
        return [{k: v for k, v in r.items() if k != d.ID} for r in rows], ()
    if case == "post-call column":
        return [{**r, "call_duration": 35 + i % 90} for i, r in enumerate(rows)], ()
    raise AssertionError(case)


BAD_INPUTS = {
    "constant target": r"whole period has only one class of target \(\d+ of \d+ rows positive\)",
    "one class in the holdout": r"holdout period has only one class of target \(0 of \d+",
    "one class in training": r"training period has only one class of target \(0 of \d+",
    "nothing before --until": r"No history row is before 2024-06-30",
    "unknown --exclude": r"--exclude names colour, which is not a column",
    "time that does not parse": r"time column contacted_at holds 'next tuesday', which is not a date",
    "target not 0/1": r"target column converted holds 'maybe'; a target is 0/1 or yes/no",
    "missing target": r"The target column converted is not in the file",
    "missing time": r"The time column contacted_at is not in the file",
    "missing id": r"The id column customer is not in the file",
    "post-call column": r"Column call_duration looks known only after the call.*--exclude call_duration",
}


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_a_bad_history_is_refused_naming_the_fault_and_writes_nothing(
    db: None, tmp_path: Path, model_dir: Path, case: str
) -> None:
    rows, extra = _bad(case)
    path = d.write_csv(
        tmp_path / "history.csv", rows, columns=list(dict.fromkeys(k for r in rows for k in r))
    )
    with pytest.raises(CommandError, match=BAD_INPUTS[case]):
        train(path, *extra)
    assert not ScoringModel.objects.filter(name=NAME).exists()
    assert d.files_under(model_dir) == []


def test_a_post_call_column_can_be_excluded(db: None, tmp_path: Path) -> None:
    rows = [{**r, "call_duration": 35 + i % 90} for i, r in enumerate(d.history_rows())]
    train(d.write_csv(tmp_path / "history.csv", rows), "--exclude", "call_duration")
    model = ScoringModel.objects.get(name=NAME)
    assert "call_duration" not in {f["name"] for f in model.features}
    assert model.info["excluded"] == ["call_duration"]


def test_sensitive_columns_never_become_features(db: None, tmp_path: Path) -> None:
    rows = [
        {**r, "religion": "none", "民族": "汉族", "health_status": i % 3}
        for i, r in enumerate(d.history_rows())
    ]
    train(d.write_csv(tmp_path / "history.csv", rows))
    model = ScoringModel.objects.get(name=NAME)
    names = {f["name"] for f in model.features}
    assert not names & {"religion", "民族", "health_status"}
    assert sorted(model.info["sensitive_left_out"]) == sorted(["religion", "民族", "health_status"])


def test_until_trains_only_on_earlier_rows(db: None, csv_history: Path) -> None:
    train(csv_history, "--until", "2025-09-01")
    model = ScoringModel.objects.get(name=NAME)
    assert model.window["train_to"] < "2025-09-01"
    assert model.window["holdout_to"] < "2025-09-01"
    earlier = sum(r[d.TIME] < dt.datetime(2025, 9, 1) for r in d.history_rows())
    assert model.rows["train"] + model.rows["holdout"] == earlier
    assert model.info["until"] == "2025-09-01"


def test_until_that_is_not_a_date_is_refused(db: None, csv_history: Path) -> None:
    with pytest.raises(CommandError, match="--until takes a date"):
        train(csv_history, "--until", "30/06/2026")


# --- no look-ahead ------------------------------------------------------------------------------------------


@pytest.fixture
def tiny(tmp_path: Path) -> history.Frame:
    """Customer a: a miss, then at one moment a success and a miss, then a miss ten days later; customer b:
    successes that say nothing about a. Returned in the loader's order (time, then file order)."""
    t = dt.datetime(2025, 3, 1, 10)
    rows = [
        {d.ID: "a", d.TIME: t, d.TARGET: 0},
        {d.ID: "b", d.TIME: t - dt.timedelta(days=1), d.TARGET: 1},
        {d.ID: "a", d.TIME: t + dt.timedelta(days=2), d.TARGET: 1},
        {d.ID: "a", d.TIME: t + dt.timedelta(days=2), d.TARGET: 0},
        {d.ID: "b", d.TIME: t + dt.timedelta(days=3), d.TARGET: 1},
        {d.ID: "a", d.TIME: t + dt.timedelta(days=12), d.TARGET: 0},
    ]
    path = d.write_csv(tmp_path / "tiny.csv", rows)
    frame, _ = history.load_history(path, target=d.TARGET, time_col=d.TIME, id_col=d.ID)
    return frame


def _of_a(frame: history.Frame, name: str) -> list[float | None]:
    values = frame.column(name)
    return [None if np.isnan(v) else float(v) for v, i in zip(values, frame.ids, strict=True) if i == "a"]


def test_derived_features_count_only_strictly_earlier_contacts(tiny: history.Frame) -> None:
    assert _of_a(tiny, "h_prev_n") == [0, 1, 1, 3]


def test_an_outcome_is_not_known_at_its_own_moment(tiny: history.Frame) -> None:
    assert _of_a(tiny, "h_prev_pos") == [0, 0, 0, 1]
    assert _of_a(tiny, "h_prev_rate") == [None, 0, 0, pytest.approx(1 / 3)]


def test_days_since_previous_contact_looks_back_only(tiny: history.Frame) -> None:
    assert _of_a(tiny, "h_days_since_prev") == [None, 2, 2, 10]
    assert _of_a(tiny, "h_days_since_pos") == [None, None, None, 10]


def test_the_day_rate_uses_only_earlier_days(tiny: history.Frame) -> None:
    # Before a's first contact only b's success of the day before is known; on a's second day, b's success
    # and a's miss; the same day's outcomes never count.
    assert _of_a(tiny, "g_rate_30")[:3] == [1.0, 0.5, 0.5]


# --- scoring a file -----------------------------------------------------------------------------------------


def test_scoring_writes_id_score_and_reasons(trained: ScoringModel, tmp_path: Path) -> None:
    rows = [{k: v for k, v in r.items() if k != d.TARGET} for r in d.history_rows(40, seed=9)]
    output = tmp_path / "out" / "scores.csv"
    printed = score(d.write_csv(tmp_path / "new.csv", rows), output)
    with output.open(encoding="utf-8") as handle:
        scored = list(csv.DictReader(handle))
    assert f"{len(rows)} rows scored" in printed
    assert list(scored[0]) == [d.ID, d.TIME, "score", "reasons"]
    assert sorted(r[d.ID] for r in scored) == sorted(r[d.ID] for r in rows)
    assert all(0.0 <= float(r["score"]) <= 1.0 for r in scored)
    assert any(re.match(r"\w+=.* \(\+\d+\.\d\d\)", r["reasons"]) for r in scored)


def test_scoring_a_file_without_a_needed_column_names_it_and_writes_nothing(
    trained: ScoringModel, tmp_path: Path
) -> None:
    rows = [{k: v for k, v in r.items() if k not in ("segment", "income")} for r in d.history_rows(20)]
    output = tmp_path / "scores.csv"
    with pytest.raises(CommandError, match=r"lacks columns the model needs: segment, income"):
        score(d.write_csv(tmp_path / "new.csv", rows), output)
    assert not output.exists()
    assert list(tmp_path.glob("*scores*")) == []


def test_scoring_with_an_unknown_model_is_refused(db: None, tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="No active model is called nobody"):
        score(d.write_csv(tmp_path / "new.csv", d.history_rows(5)), tmp_path / "o.csv", name="nobody")


# --- model files --------------------------------------------------------------------------------------------


def test_an_altered_model_file_is_refused(trained: ScoringModel, model_dir: Path) -> None:
    path = model_dir / trained.file
    doc = json.loads(path.read_text(encoding="utf-8"))
    booster = doc["booster"]
    at = booster.index("leaf_value=") + len("leaf_value=")
    digit = next(i for i in range(at, len(booster)) if booster[i].isdigit())
    doc["booster"] = booster[:digit] + str((int(booster[digit]) + 1) % 10) + booster[digit + 1 :]
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    with translation.override("en"), pytest.raises(ModelFileError, match="does not match its checksum"):
        services.load(trained)


def test_a_model_file_of_another_format_is_refused_naming_it(trained: ScoringModel, model_dir: Path) -> None:
    path = model_dir / trained.file
    doc = json.loads(path.read_text(encoding="utf-8"))
    path.write_text(json.dumps({**doc, "format": "xiaodai-model/9"}), encoding="utf-8")
    with translation.override("en"), pytest.raises(ModelFileError, match=r"has format xiaodai-model/9; this"):
        services.load(trained)


def test_a_missing_model_file_is_refused(trained: ScoringModel, model_dir: Path) -> None:
    (model_dir / trained.file).unlink()
    with translation.override("en"), pytest.raises(ModelFileError, match="does not exist"):
        services.load(trained)


def test_writing_a_model_leaves_no_temporary_file(trained: ScoringModel, model_dir: Path) -> None:
    assert d.files_under(model_dir) == [model_dir / trained.file]
    assert trained.file == f"{NAME}/v1.json"


# --- versions and activation --------------------------------------------------------------------------------


def test_a_version_that_does_not_beat_the_active_one_is_kept(
    db: None, clean: tuple[learn.Trained, dict[str, Any]], noisy: tuple[learn.Trained, dict[str, Any]]
) -> None:
    first = register(clean)
    second = register(noisy)
    first.refresh_from_db()
    assert (second.version, second.status, second.beats_active) == (2, "kept", False)
    assert second.metrics["active"]["version"] == 1
    assert second.metrics["active"]["auc"] >= second.metrics["model"]["auc"]
    assert first.status == "active"


def test_a_version_that_beats_the_active_one_replaces_it(
    db: None, clean: tuple[learn.Trained, dict[str, Any]], noisy: tuple[learn.Trained, dict[str, Any]]
) -> None:
    first = register(noisy)
    second = register(clean)
    first.refresh_from_db()
    assert (second.status, second.beats_active, first.status) == ("active", True, "retired")
    assert list(ScoringModel.objects.filter(name=NAME, status="active")) == [second]


def test_training_and_activation_are_audited(
    db: None, clean: tuple[learn.Trained, dict[str, Any]], noisy: tuple[learn.Trained, dict[str, Any]]
) -> None:
    first = register(clean)
    kept = register(noisy)
    events = AuditEvent.objects.filter(object_type="scoring.scoringmodel")
    trained_events = events.filter(action=Action.MODEL_TRAIN)
    activated = events.filter(action=Action.MODEL_ACTIVATE)
    assert sorted(trained_events.values_list("object_id", flat=True)) == sorted([str(first.pk), str(kept.pk)])
    assert list(activated.values_list("object_id", flat=True)) == [str(first.pk)]
    assert trained_events.get(object_id=str(kept.pk)).detail["beats"] is False


def test_train_history_is_what_the_command_runs(db: None, csv_history: Path) -> None:
    with translation.override("en"):
        model = services.train_history(csv_history, name=NAME, target=d.TARGET, time_col=d.TIME, id_col=d.ID)
    assert (model.version, model.status, model.info["file"]) == (1, "active", "history.csv")


def test_the_product_name_is_reserved(db: None, csv_history: Path) -> None:
    with pytest.raises(CommandError, match="propensity is the product's own model"):
        train(csv_history, name="propensity")
