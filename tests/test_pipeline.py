"""The daily pipeline end to end on the app database: a loaded drop in, pools and figures published; a bad
run leaves the previous results in place; rule changes are versioned and picked up by the next run."""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from tests import drops
from tests.conftest import Cast
from xiaodai.audit.models import AuditEvent
from xiaodai.ingest import services as ingest
from xiaodai.ingest.choices import Trigger
from xiaodai.pipeline import services
from xiaodai.pipeline.choices import RunStatus
from xiaodai.pipeline.choices import Trigger as Started
from xiaodai.pipeline.engines import spark_problem
from xiaodai.pipeline.exceptions import PipelineError
from xiaodai.pipeline.models import PipelineRun
from xiaodai.pipeline.snapshot import run_dir
from xiaodai.pools.exceptions import RuleError
from xiaodai.pools.models import PoolFigure, PoolMember, PoolRule
from xiaodai.pools.services import update_rule

DAY = dt.date(2026, 11, 28)
DROPPED = {"customer__customer_no__startswith": "C9"}  # the drop's customers (the cast brings three more)


@pytest.fixture(autouse=True)
def lake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XIAODAI_LAKE_DIR", str(tmp_path / "lake"))
    return tmp_path / "lake"


def pool_drop(
    folder: Path, branch_code: str, *, without: tuple[str, ...] = (), day: str = "2026-11-28"
) -> Path:
    """The basic drop plus the feeds the pools need (empty where the test does not care)."""
    drops.basic_drop(folder, branch_code, data_date=day)
    for feed in ("cards", "deposits", "applications"):
        drops.write_csv(folder, feed, [])
    for feed in without:
        (folder / f"{feed}.csv").unlink()
    return folder


@pytest.fixture
def loaded(tmp_path: Path, cast: Cast) -> Path:
    folder = pool_drop(tmp_path / "20261128", cast.branch.code)
    run = ingest.run_ingest(folder, trigger=Trigger.CLI)
    assert run.status == "loaded", run.message
    return folder


def _run(**kwargs: object) -> PipelineRun:
    return services.run_pipeline(trigger=Started.CLI, **kwargs)


def test_a_run_publishes_pool_members(loaded: Path) -> None:
    run = _run()
    assert (run.status, run.is_published, run.data_date) == (RunStatus.DONE, True, DAY)
    assert PoolMember.objects.filter(pool="approved_undrawn", run=run, **DROPPED).count() == 3


def test_a_run_publishes_figures_per_level(loaded: Path, cast: Cast) -> None:
    run = _run()
    branch = PoolFigure.objects.get(run=run, pool="approved_undrawn", level="branch")
    dropped = PoolMember.objects.filter(run=run, pool="approved_undrawn")
    assert (branch.branch_id, branch.customers) == (cast.branch.pk, dropped.count())
    assert branch.potential == sum(m.potential for m in dropped)


def test_money_survives_the_trip_exactly(loaded: Path) -> None:
    run = _run()
    member = PoolMember.objects.filter(run=run, pool="approved_undrawn", **DROPPED).first()
    assert member is not None
    assert (str(member.potential), str(member.basis)) == ("200000.00", "200000.00")


def test_every_step_records_rows_and_time(loaded: Path) -> None:
    run = _run()
    steps = list(run.steps.values_list("name", "status"))
    assert steps == [
        ("check", "done"),
        ("snapshot", "done"),
        ("pools", "done"),
        ("signals", "done"),
        ("scores", "done"),
        ("publish", "done"),
    ]
    assert all(s.seconds is not None for s in run.steps.all())


def test_the_run_records_the_rule_versions_it_used(loaded: Path) -> None:
    run = _run()
    assert run.rule_versions["approved_undrawn"] == 1


def test_the_snapshot_is_removed_after_the_run(loaded: Path) -> None:
    run = _run()
    assert not run_dir(run.pk).exists()


def test_a_run_is_audited(loaded: Path) -> None:
    run = _run()
    assert AuditEvent.objects.filter(action="pipeline.run", object_id=str(run.pk), outcome="success").exists()


def test_a_second_run_replaces_the_members_and_knows_what_is_new(loaded: Path) -> None:
    first = _run()
    second = _run()
    assert not PoolMember.objects.filter(run=first).exists()
    assert PoolMember.objects.filter(run=second, is_new=False).count() == PoolMember.objects.count()
    assert list(PipelineRun.objects.filter(is_published=True)) == [second]


def test_a_drop_without_a_required_feed_fails_and_keeps_yesterday(
    loaded: Path, tmp_path: Path, cast: Cast
) -> None:
    published = _run()
    folder = pool_drop(tmp_path / "20261129", cast.branch.code, without=("cards",), day="2026-11-29")
    assert ingest.run_ingest(folder, trigger=Trigger.CLI).status == "loaded"
    run = _run(data_date=dt.date(2026, 11, 29))
    assert run.status == RunStatus.FAILED
    assert "cards" in run.message
    assert PoolMember.objects.filter(run=published, **DROPPED).count() == 3
    assert PipelineRun.objects.get(is_published=True) == published


def test_a_failed_step_skips_the_rest(loaded: Path, tmp_path: Path, cast: Cast) -> None:
    folder = pool_drop(tmp_path / "20261129", cast.branch.code, without=("loans",), day="2026-11-29")
    ingest.run_ingest(folder, trigger=Trigger.CLI)
    run = _run(data_date=dt.date(2026, 11, 29))
    assert list(run.steps.values_list("status", flat=True)) == ["failed"] + ["skipped"] * 5


def test_a_date_before_any_drop_is_refused(loaded: Path) -> None:
    with pytest.raises(PipelineError, match="2026-11-20"):
        services.queue_run(data_date=dt.date(2026, 11, 20), trigger=Started.CLI)


def test_a_date_whose_drop_is_missing_fails_the_check(loaded: Path) -> None:
    run = _run(data_date=dt.date(2026, 11, 30))
    assert (run.status, run.steps.get(name="check").status) == (RunStatus.FAILED, "failed")
    assert "2026-11-30" in run.message


def test_nothing_loaded_yet_is_refused(cast: Cast) -> None:
    with pytest.raises(PipelineError, match="xiaodai ingest"):
        services.queue_run(trigger=Started.CLI)
    assert not PipelineRun.objects.exists()


def test_an_unknown_engine_is_refused(loaded: Path) -> None:
    with pytest.raises(PipelineError, match="spork"):
        services.queue_run(engine="spork", trigger=Started.CLI)


def test_one_run_at_a_time(loaded: Path) -> None:
    services.queue_run(trigger=Started.CLI)
    with pytest.raises(PipelineError):
        services.queue_run(trigger=Started.CLI)
    assert PipelineRun.objects.count() == 1


def test_the_command_runs_the_pipeline(loaded: Path, capsys: pytest.CaptureFixture[str]) -> None:
    call_command("pipeline", "run", "--date", "2026-11-28")
    assert "done" in capsys.readouterr().out
    assert PoolMember.objects.exists()


def test_the_command_refuses_a_bad_date(loaded: Path) -> None:
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("pipeline", "run", "--date", "28/11/2026")


def test_the_command_fails_when_the_run_fails(loaded: Path) -> None:
    with pytest.raises(CommandError, match="failed"):
        call_command("pipeline", "run", "--date", "2026-11-30")


# --- rules ------------------------------------------------------------------------------------------------


def _params(code: str, **changes: object) -> dict[str, object]:
    rule = PoolRule.objects.get(code=code)
    return {**rule.params, **changes}


def test_a_rule_change_is_a_new_version_and_audited(cast: Cast) -> None:
    rule = update_rule(
        "approved_undrawn",
        params=_params("approved_undrawn", min_idle_days="60"),
        priority=10,
        is_active=True,
        note="focus on long-idle lines",
        by=cast.staff["ops"],
    )
    assert (rule.version, rule.params["min_idle_days"]) == (2, "60")
    assert rule.versions.count() == 2
    assert AuditEvent.objects.filter(action="pools.rule_changed", object_id="approved_undrawn").exists()


def test_the_next_run_uses_the_changed_rule(loaded: Path, cast: Cast) -> None:
    update_rule(
        "approved_undrawn",
        params=_params("approved_undrawn", min_idle_days="365"),
        priority=10,
        is_active=True,
        note="only long-idle lines",
        by=cast.staff["ops"],
    )
    run = _run()
    assert run.rule_versions["approved_undrawn"] == 2
    assert not PoolMember.objects.filter(pool="approved_undrawn", **DROPPED).exists()


@pytest.mark.parametrize(
    ("code", "changes", "field"),
    [
        ("approved_undrawn", {"min_idle_days": "-5"}, "min_idle_days"),
        ("approved_undrawn", {"max_utilisation": "1.5"}, "max_utilisation"),
        ("approved_undrawn", {"min_limit": "lots"}, "min_limit"),
        ("approved_undrawn", {"min_limit": ""}, "min_limit"),
        ("approved_undrawn", {"max_utilisation": "NaN"}, "max_utilisation"),
        ("approved_undrawn", {"surprise": "1"}, "surprise"),
        ("general", {"min_age": "16"}, "min_age"),
        ("general", {"min_age": "40", "max_age": "30"}, "max_age"),
        ("unfinished_application", {"look_back_days": "0"}, "look_back_days"),
    ],
)
def test_nonsense_rule_values_are_refused_and_change_nothing(
    cast: Cast, code: str, changes: dict[str, str], field: str
) -> None:
    before = PoolRule.objects.get(code=code)
    with pytest.raises(RuleError) as error:
        update_rule(
            code, params=_params(code, **changes), priority=before.priority, is_active=True, note="x", by=None
        )
    assert error.value.field == field
    after = PoolRule.objects.get(code=code)
    assert (after.version, after.params) == (before.version, before.params)


def test_a_priority_out_of_range_is_refused(cast: Cast) -> None:
    with pytest.raises(RuleError, match="priority"):
        update_rule(
            "premium_card", params=_params("premium_card"), priority="-3", is_active=True, note="", by=None
        )


def test_an_unchanged_save_adds_no_version(cast: Cast) -> None:
    rule = PoolRule.objects.get(code="premium_card")
    update_rule("premium_card", params=rule.params, priority=rule.priority, is_active=True, note="", by=None)
    assert PoolRule.objects.get(code="premium_card").version == 1


def test_the_demo_opens_with_its_pools_computed(db: None) -> None:
    call_command("demo", "--customers", "300", "--as-of", "2026-11-28", stdout=open(os.devnull, "w"))  # noqa: SIM115
    run = PipelineRun.objects.get()
    assert (run.status, run.is_published) == (RunStatus.DONE, True)
    assert PoolFigure.objects.filter(run=run, level="branch").exists()


def test_a_failure_while_publishing_keeps_yesterday(loaded: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    published = _run()
    before = sorted(PoolMember.objects.values_list("customer_id", "pool"))

    def broken(*args: object) -> int:
        raise RuntimeError("disk full")

    monkeypatch.setattr("xiaodai.pools.publish._insert", broken)
    with pytest.raises(RuntimeError):
        _run()
    failed = PipelineRun.objects.exclude(pk=published.pk).get()
    assert (failed.status, failed.is_published) == (RunStatus.FAILED, False)
    assert sorted(PoolMember.objects.values_list("customer_id", "pool")) == before
    assert PoolMember.objects.filter(run=published).count() == len(before)
    assert PipelineRun.objects.get(is_published=True) == published


def test_the_command_on_a_sqlite_file_publishes_and_keeps_it_intact(tmp_path: Path) -> None:
    """The real path outside the test transaction: ADBC in a child process, next to Django's own SQLite."""
    env = {k: v for k, v in os.environ.items() if k != "XIAODAI_DATABASE_URL"}
    env.update(XIAODAI_VAR_DIR=str(tmp_path / "var"), DJANGO_SETTINGS_MODULE="config.settings")
    command = [sys.executable, "-m", "xiaodai.cli"]
    demo = [*command, "demo", "--customers", "400", "--as-of", "2026-11-28"]
    subprocess.run(demo, env=env, check=True, capture_output=True)  # noqa: S603 (our own command)
    subprocess.run([*command, "pipeline", "run"], env=env, check=True, capture_output=True)  # noqa: S603
    db = sqlite3.connect(tmp_path / "var" / "xiaodai.sqlite3")
    try:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        published = db.execute("SELECT id FROM pipeline_pipelinerun WHERE is_published").fetchall()
        members = db.execute("SELECT COUNT(*), COUNT(DISTINCT run_id) FROM pools_poolmember").fetchone()
    finally:
        db.close()
    assert published == [(2,)]
    assert members[0] > 0
    assert members[1] == 1


@pytest.mark.skipif(bool(spark_problem()), reason=spark_problem() or "spark available")
def test_spark_and_duckdb_publish_the_same_pools_from_a_drop(loaded: Path) -> None:
    fields = (
        "customer_id",
        "pool",
        "is_primary",
        "blocked",
        "channels",
        "potential",
        "basis",
        "days",
        "on_date",
    )
    figure_fields = (
        "pool",
        "level",
        "sub_branch_id",
        "team_id",
        "owner_id",
        "customers",
        "potential",
        "left",
    )
    results = {}
    for engine in ("duckdb", "spark"):
        run = _run(engine=engine)
        assert run.status == RunStatus.DONE, run.message
        results[engine] = (
            sorted(PoolMember.objects.filter(run=run).values_list(*fields)),
            sorted(PoolFigure.objects.filter(run=run).values_list(*figure_fields), key=str),
        )
    assert results["duckdb"][0]
    assert results["duckdb"] == results["spark"]
