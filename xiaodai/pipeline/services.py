"""The daily batch: check the drop, snapshot it, compute the pools on the chosen engine, publish the results.

A run is one row per branch at a time (a partial unique constraint); each step commits its own status, so the
page shows progress while the run goes on. Only the last step writes results, in one transaction: a failure
anywhere leaves the previous run's results on the pages.

The steps import the engine side (ibis, DuckDB, Arrow: ~150 MB and a second or two) where they run, because
the web pages import this module too.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from xiaodai.audit.choices import Action, Outcome
from xiaodai.audit.services import record
from xiaodai.ingest.choices import APPLIED
from xiaodai.ingest.models import ImportFile, ImportRun
from xiaodai.org.models import Branch, Staff
from xiaodai.pipeline import engines
from xiaodai.pipeline.choices import ACTIVE, Engine, RunStatus, StepStatus
from xiaodai.pipeline.exceptions import PipelineError
from xiaodai.pipeline.models import PipelineRun, PipelineStep
from xiaodai.pools import services as pools
from xiaodai.pools.exceptions import RuleError

SCORE_HISTORY_DAYS = 400
STEPS = ("check", "snapshot", "pools", "signals", "scores", "publish")


def latest_data_date() -> dt.date | None:
    return ImportRun.objects.filter(status__in=APPLIED).aggregate(d=Max("data_date"))["d"]


def queue_run(
    *,
    data_date: dt.date | None = None,
    engine: str | None = None,
    trigger: str,
    by: Staff | None = None,
    branch_id: int | None = None,
) -> PipelineRun:
    """Create a queued run (refused while another runs for the branch); PipelineError says why not.

    `branch_id`: the branch to run (a person's own, from a page); by default the branch of the latest drop."""
    engine = engine or engines.default_engine()
    if engine not in Engine.values:
        raise PipelineError(_("Unknown engine %(engine)s: use duckdb or spark.") % {"engine": engine})
    if engine == Engine.SPARK and engines.spark_problem():
        raise PipelineError(engines.spark_problem())
    drops = ImportRun.objects.filter(status__in=APPLIED, branch__isnull=False)
    if branch_id is not None:
        drops = drops.filter(branch_id=branch_id)
    day = data_date or drops.aggregate(d=Max("data_date"))["d"]
    if day is None:
        raise PipelineError(_("No data drop has been loaded yet: load one with `xiaodai ingest` first."))
    branch_id = (
        drops.filter(data_date__lte=day)
        .order_by("-data_date", "-id")
        .values_list("branch_id", flat=True)
        .first()
    )
    if branch_id is None:
        raise PipelineError(_("No data drop has been loaded for %(day)s or before.") % {"day": day})
    try:
        with transaction.atomic():
            run = PipelineRun.objects.create(
                branch_id=branch_id, data_date=day, engine=engine, trigger=trigger, started_by=by
            )
            PipelineStep.objects.bulk_create(
                PipelineStep(run=run, position=i, name=name) for i, name in enumerate(STEPS)
            )
    except IntegrityError:
        raise PipelineError(_("A pipeline run is already queued or running for this branch.")) from None
    record(
        Action.PIPELINE_QUEUE,
        user=by.user if by else None,
        username="" if by else f"pipeline:{trigger}",
        object_type="pipeline_run",
        object_id=str(run.pk),
        detail={"data_date": day.isoformat(), "engine": engine},
    )
    return run


def run_pipeline(**kwargs: Any) -> PipelineRun:
    """Queue and execute in this process (the CLI and tests)."""
    return execute_run(queue_run(**kwargs).pk)


def execute_run(run_id: int, on_step: Callable[[PipelineStep], None] | None = None) -> PipelineRun:
    with translation.override(settings.LANGUAGE_CODE):  # stored messages in the installation's language
        return _execute(run_id, on_step)


def _execute(run_id: int, on_step: Callable[[PipelineStep], None] | None) -> PipelineRun:
    run = PipelineRun.objects.get(pk=run_id)
    if run.status != RunStatus.QUEUED:
        return run
    run.status, run.started_at, run.pid = RunStatus.RUNNING, timezone.now(), os.getpid()
    run.save(update_fields=["status", "started_at", "pid"])
    steps = {s.name: s for s in run.steps.all()}
    state: dict[str, Any] = {}
    current: PipelineStep | None = None
    try:
        for name in STEPS:
            current = steps[name]
            _begin(current)
            rows = _STEP_FUNCS[name](run, state)
            _end(current, StepStatus.DONE, rows=rows)
            if on_step:
                on_step(current)
        run.status = RunStatus.DONE
        run.message = state.get("message", "")
    except (PipelineError, RuleError) as exc:
        _fail(run, current, str(exc))
    except Exception as exc:  # the run must end visibly failed whatever broke; the trace goes to the log
        _fail(run, current, _("The run failed: %(error)s") % {"error": type(exc).__name__})
        raise
    finally:
        from xiaodai.pipeline.snapshot import discard

        discard(run.pk)
        run.finished_at = timezone.now()
        run.save(update_fields=["status", "message", "finished_at", "rule_versions", "is_published"])
        record(
            Action.PIPELINE_RUN,
            user=run.started_by.user if run.started_by else None,
            username="" if run.started_by else f"pipeline:{run.trigger}",
            object_type="pipeline_run",
            object_id=str(run.pk),
            outcome=Outcome.SUCCESS if run.status == RunStatus.DONE else Outcome.FAILURE,
            detail={"data_date": run.data_date.isoformat(), "engine": run.engine, "status": run.status},
        )
    return run


def _fail(run: PipelineRun, step: PipelineStep | None, message: str) -> None:
    run.status, run.message = RunStatus.FAILED, message
    if step is not None:
        _end(step, StepStatus.FAILED, message=message)
        PipelineStep.objects.filter(run=run, status=StepStatus.WAITING).update(status=StepStatus.SKIPPED)


def _begin(step: PipelineStep) -> None:
    step.status, step.started_at = StepStatus.RUNNING, timezone.now()
    step.save(update_fields=["status", "started_at"])


def _end(step: PipelineStep, status: str, *, rows: int | None = None, message: str = "") -> None:
    step.status, step.finished_at, step.rows, step.message = status, timezone.now(), rows, message[:2000]
    step.save(update_fields=["status", "finished_at", "rows", "message"])


# --- the steps -------------------------------------------------------------------------------------------


def _check(run: PipelineRun, state: dict[str, Any]) -> int:
    """The drop of the run's date must have loaded every feed the pools read."""
    runs = ImportRun.objects.filter(branch_id=run.branch_id, data_date=run.data_date, status__in=APPLIED)
    if not runs.exists():
        raise PipelineError(
            _("No data drop is loaded for %(day)s; the previous results stay in place.")
            % {"day": run.data_date}
        )
    loaded = set(ImportFile.objects.filter(run__in=runs, accepted=True).values_list("feed", flat=True))
    missing = [feed for feed in pools.REQUIRED_FEEDS if feed not in loaded]
    if missing:
        raise PipelineError(
            _("The drop for %(day)s lacks %(feeds)s; the previous results stay in place.")
            % {"day": run.data_date, "feeds": ", ".join(missing)}
        )
    from xiaodai.signals.services import current_config as signal_config

    state["config"] = config = pools.current_config()
    state["signal_config"] = signal_config()
    run.rule_versions = {**config.versions, **state["signal_config"].versions}
    run.save(update_fields=["rule_versions"])
    return len(loaded)


def _snapshot(run: PipelineRun, state: dict[str, Any]) -> int:
    from xiaodai.pipeline import snapshot

    counts: dict[str, int] = {}
    state["files"] = snapshot.take(
        run.pk,
        run.branch_id,
        run.data_date,
        # The scores read a year of contact history (recency, earlier outcomes), the pools their own windows.
        lake_days=max(pools.lake_days(state["config"]), SCORE_HISTORY_DAYS),
        transaction_days=state["signal_config"].window_days(),
        progress=lambda name, rows: counts.__setitem__(name, rows),
    )
    state["counts"] = counts
    return counts.get("customers", 0)


def _pools(run: PipelineRun, state: dict[str, Any]) -> int:
    from xiaodai.pools.compute import compute

    started = time.perf_counter()
    with engines.connect(run.engine) as con:
        state["members"], state["figures"] = compute(
            con, state["files"], run.data_date, state["config"], prefix=f"run{run.pk}"
        )
    state["compute_seconds"] = time.perf_counter() - started
    return int(state["members"].num_rows)


def _signals(run: PipelineRun, state: dict[str, Any]) -> int:
    """Needs and risks read from the customers' transactions; its events go beside the snapshot (scores)."""
    import pyarrow.parquet as pq

    from xiaodai.signals.compute import compute as signals

    with engines.connect(run.engine) as con:
        result = signals(con, state["files"], run.data_date, state["signal_config"], prefix=f"run{run.pk}sig")
    state["signals"] = result
    events = state["files"]["customers"].parent / "signal_events.parquet"
    pq.write_table(result.events, events)
    state["files"]["signal_events"] = events
    return int(result.signals.num_rows)


def _scores(run: PipelineRun, state: dict[str, Any]) -> int:
    from xiaodai.scoring.exceptions import ScoringError
    from xiaodai.scoring.services import active_model
    from xiaodai.scoring.step import score_members

    model = active_model()
    if model is None:
        raise PipelineError(_("No scoring model is active; the previous results stay in place."))
    try:
        scored = score_members(state["files"], run.data_date, state["members"], model)
    except ScoringError as exc:  # a damaged or missing model file: say which, keep yesterday's lists
        raise PipelineError(
            _("%(model)s cannot score: %(error)s The previous results stay in place.")
            % {"model": model, "error": exc}
        ) from exc
    state["scored"] = scored
    state["members"] = scored.members
    return int(scored.scores.num_rows)


def _publish(run: PipelineRun, state: dict[str, Any]) -> int:
    from xiaodai.pools import publish
    from xiaodai.signals.publish import extra

    rows = publish.publish_run(
        run.pk,
        run.branch_id,
        state["members"],
        state["figures"],
        only_branch=Branch.objects.count() == 1,
        scored=state.get("scored"),
        extra=extra(state["signals"], run.pk, run.branch_id, run.data_date, timezone.now()),
    )
    run.is_published = True  # written by publish_run, in its transaction
    state["message"] = _("%(members)s pool memberships for %(customers)s customers.") % {
        "members": f"{rows:,}",
        "customers": f"{state['counts'].get('customers', 0):,}",
    }
    return rows


_STEP_FUNCS: dict[str, Callable[[PipelineRun, dict[str, Any]], int]] = {
    "check": _check,
    "snapshot": _snapshot,
    "pools": _pools,
    "signals": _signals,
    "scores": _scores,
    "publish": _publish,
}


def is_active(run: PipelineRun) -> bool:
    return run.status in ACTIVE
