"""Import runs: prepare (checks + lock), execute (one transaction per drop), roll back, per-feed settings.

run = prepare_run(folder, trigger=Trigger.CLI)   # queued, or DUPLICATE straight away
run = execute_run(run.pk)                         # LOADED / PARTIAL / REJECTED / FAILED
"""

from __future__ import annotations

import gc
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar, cast

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from xiaodai.audit.choices import Action, Outcome
from xiaodai.audit.services import record
from xiaodai.ingest import drop as drops
from xiaodai.ingest import progress
from xiaodai.ingest.choices import APPLIED, BadRowMode, RunStatus
from xiaodai.ingest.contract import CONTRACT_VERSION, FEEDS
from xiaodai.ingest.exceptions import IngestError
from xiaodai.ingest.feeds import Refused, load_feeds, staged_feeds
from xiaodai.ingest.masking import mask_cell
from xiaodai.ingest.models import FeedSetting, ImportFile, ImportRun, RowError
from xiaodai.ingest.produce import BATCH, PIPELINE_MIN_ROWS, Producer, remove_spool
from xiaodai.ingest.rollback import remove_lake_batches, undo_run
from xiaodai.ingest.worker import Job
from xiaodai.org.models import Branch, Staff

__all__ = ["IngestError", "execute_run", "prepare_run", "rollback_run", "run_ingest", "set_feed_mode"]
MAX_STORED_ERRORS = 100_000
F = TypeVar("F", bound=Callable[..., Any])


def _in_default_language(func: F) -> F:
    """Run and file messages are stored: write them in the installation's language (Chinese by default),
    whether the run was started from a page, a job or the command line."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with translation.override(settings.LANGUAGE_CODE):
            return func(*args, **kwargs)

    return cast(F, wrapper)


@_in_default_language
def prepare_run(
    folder: Path,
    *,
    trigger: str,
    started_by: Staff | None = None,
    source: str | None = None,
    data_date: date | None = None,
    encoding: str | None = None,
) -> ImportRun:
    """Check the drop's folder and manifest and queue a run; an identical drop already loaded is recorded as a
    duplicate at once. Raises IngestError when the drop cannot even be attempted."""
    found = drops.scan(Path(folder), source=source, data_date=data_date, encoding=encoding)
    branch = _branch_of(found.branch_code)
    _clear_stale_runs(found.source, found.data_date)
    fingerprint = drops.fingerprint(found)
    same = (
        ImportRun.objects.filter(source=found.source, data_date=found.data_date, status__in=APPLIED)
        .order_by("-id")
        .first()
    )
    base: dict[str, Any] = {
        "branch": branch,
        "source": found.source,
        "data_date": found.data_date,
        "contract_version": CONTRACT_VERSION,
        "fingerprint": fingerprint,
        "trigger": trigger,
        "started_by": started_by,
        "folder": str(Path(folder).resolve()),
    }
    if same is not None and same.fingerprint == fingerprint:
        now = timezone.now()
        run = ImportRun.objects.create(
            **base,
            status=RunStatus.DUPLICATE,
            started_at=now,
            finished_at=now,
            message=_("Identical to run #%(run)s, loaded %(when)s; nothing changed.")
            % {"run": same.pk, "when": f"{same.finished_at:%Y-%m-%d %H:%M}"},
        )
        _audit(run, Action.IMPORT_RUN, Outcome.SUCCESS)
        return run
    try:
        with transaction.atomic():
            run = ImportRun.objects.create(**base, status=RunStatus.QUEUED)
    except IntegrityError:
        raise IngestError(
            "busy", f"a run for {found.source} {found.data_date} is already queued or running; wait for it"
        ) from None
    return run


@_in_default_language
def execute_run(run_id: int) -> ImportRun:
    """Load a queued run's drop in one transaction: a refused file leaves the database as it was."""
    run = ImportRun.objects.get(pk=run_id)
    if run.status != RunStatus.QUEUED:
        return run
    found = drops.scan(Path(run.folder), source=run.source, data_date=run.data_date, encoding=None)
    run.status, run.started_at, run.pid = RunStatus.RUNNING, timezone.now(), os.getpid()
    run.save(update_fields=["status", "started_at", "pid"])
    progress.write_progress(run.pk, 0, found.estimated_rows, "starting")
    outcome = _Outcome()
    collecting = gc.isenabled()
    # A drop allocates millions of short-lived containers; the cyclic collector would rescan them over and
    # over (a third of the run). Nothing here builds reference cycles, so it rests until the load is done.
    gc.disable()
    try:
        superseded = _load(run, found, outcome)
    except Refused as exc:
        outcome.status, outcome.message = RunStatus.REJECTED, str(exc)
        superseded = None
    except IngestError as exc:
        outcome.status, outcome.message = RunStatus.FAILED, exc.message
        superseded = None
    except Exception as exc:  # a bug or the database failing: the transaction rolled back, say so plainly
        outcome.status, outcome.message = RunStatus.FAILED, f"{type(exc).__name__}: {exc}"[:1000]
        superseded = None
    finally:
        if collecting:
            gc.enable()
    _finish(run, outcome, superseded)
    return run


def run_ingest(folder: Path, **kwargs: Any) -> ImportRun:
    """Prepare and execute in this process (the CLI and the demo)."""
    run = prepare_run(folder, **kwargs)
    return execute_run(run.pk)


@_in_default_language
def rollback_run(run_id: int, *, by: Staff | None) -> ImportRun:
    """Undo an applied run: restore the rows it changed, delete the rows it added, remove its lake files."""
    run = ImportRun.objects.get(pk=run_id)
    if run.status not in APPLIED:
        raise IngestError(
            "not_applied", f"run #{run.pk} is {run.get_status_display()}; only loaded runs roll back"
        )
    later = list(ImportRun.objects.filter(pk__gt=run.pk, status__in=APPLIED).values_list("pk", flat=True))
    if later:
        listed = ", ".join(f"#{pk}" for pk in later)
        raise IngestError("not_latest", f"later runs {listed} built on this one; roll them back first")
    try:
        with transaction.atomic():
            undo_run(run)
            run.status, run.rolled_back_at, run.rolled_back_by = RunStatus.ROLLED_BACK, timezone.now(), by
            run.save(update_fields=["status", "rolled_back_at", "rolled_back_by"])
            _audit(run, Action.IMPORT_ROLLBACK, Outcome.SUCCESS, by=by)
    except IntegrityError:
        raise IngestError(
            "rollback_blocked", "records created since this run point at rows it added; they must go first"
        ) from None
    return run


def set_feed_mode(feed: str, mode: str, *, by: Staff) -> FeedSetting:
    """The admin's choice for a feed: refuse a file with any bad row, or load good rows and quarantine bad."""
    if feed not in FEEDS:
        raise IngestError("unknown_feed", f"no feed named {feed} in contract {CONTRACT_VERSION}")
    if mode not in BadRowMode.values:
        raise IngestError("unknown_mode", f"mode must be one of {', '.join(BadRowMode.values)}")
    with transaction.atomic():
        setting, _ = FeedSetting.objects.select_for_update().get_or_create(feed=feed)
        before = setting.mode
        setting.mode, setting.updated_by = mode, by
        setting.save()
        record(
            Action.FEED_SETTING,
            user=by.user,
            object_type="feed",
            object_id=feed,
            detail={"from": before, "to": mode},
        )
    return setting


def feed_modes() -> dict[str, str]:
    stored = dict(FeedSetting.objects.values_list("feed", "mode"))
    return {name: stored.get(name, BadRowMode.REJECT_FILE) for name in FEEDS}


# --- internals ----------------------------------------------------------------------------------------------


@dataclass
class _Outcome:
    status: str = RunStatus.LOADED
    message: str = ""
    files: list[ImportFile] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    error_count: int = 0


def _load(run: ImportRun, found: drops.Drop, outcome: _Outcome) -> ImportRun | None:
    modes = feed_modes()
    previous = (
        ImportRun.objects.filter(source=run.source, data_date=run.data_date, status__in=APPLIED)
        .exclude(pk=run.pk)
        .order_by("-id")
        .first()
    )
    if previous is not None:
        later = ImportRun.objects.filter(pk__gt=previous.pk, status__in=APPLIED).exclude(pk=run.pk)
        if later.exists():
            raise IngestError(
                "redelivery_blocked",
                f"a corrected {run.data_date} replaces run #{previous.pk}, "
                "but later runs were loaded on top of it; "
                "roll those back first",
            )
    with transaction.atomic():
        _tune_for_bulk()
        if previous is not None:
            undo_run(
                previous
            )  # a re-delivery replaces that date's slice: undo the old one, then load the new
        refused: list[str] = []
        job = Job(
            files=tuple((f.feed, str(f.path)) for f in staged_feeds(found)),
            encoding=found.encoding,
            data_date=found.data_date,
            run_id=run.pk,
            branch_id=run.branch_id or 0,
            quarantine=frozenset(name for name, mode in modes.items() if mode == BadRowMode.QUARANTINE),
            batch=BATCH,
        )
        producer = Producer(job, pipelined=found.estimated_rows >= PIPELINE_MIN_ROWS)
        try:
            quarantine = {name: mode == BadRowMode.QUARANTINE for name, mode in modes.items()}
            for result in load_feeds(run, found, quarantine, producer):
                feed = FEEDS[result.file.feed]
                outcome.files.append(result.file)
                for problem in result.problems:
                    outcome.error_count += 1
                    if len(outcome.errors) < MAX_STORED_ERRORS:
                        column = feed.column(problem.field) if problem.field in feed.column_names else None
                        outcome.errors.append(
                            RowError(
                                filename=result.file.filename,
                                line=problem.line,
                                field=problem.field,
                                code=problem.code,
                                message=problem.message[:500],
                                value=problem.value if problem.masked else mask_cell(column, problem.value),
                            )
                        )
                if not result.file.accepted:
                    refused.append(result.file.filename)
                elif result.file.rows_rejected:
                    outcome.status = RunStatus.PARTIAL
        finally:
            producer.close()
        if refused:
            raise Refused(
                _("Refused: %(files)s. Nothing was loaded; see the error report.")
                % {"files": ", ".join(refused)}
            )
        outcome.message = _variance(run, outcome.files)  # the figures are the files' own (pages render them)
        for name in found.lake_feeds:
            from xiaodai.lake.writer import publish_batch

            publish_batch(name, run.pk)
    return previous


def _tune_for_bulk() -> None:
    """SQLite's default page cache is 2 MB; index upkeep for a million rows wants more. 64 MB stays well
    inside the 1 GB budget whatever the file size (it is a cache, not a buffer of rows). PostgreSQL's 4 MB of
    memory per sort or hash spills a million staged rows to disk; this transaction alone may use more (it is
    the server's memory, and one load runs at a time per source and date)."""
    with connection.cursor() as cur:
        if connection.vendor == "sqlite":
            cur.execute("PRAGMA cache_size = -65536")
        else:
            cur.execute("SET LOCAL work_mem = '256MB'")


def _finish(run: ImportRun, outcome: _Outcome, superseded: ImportRun | None) -> None:
    with transaction.atomic():
        for f in outcome.files:
            f.run = run
            if outcome.status in (RunStatus.REJECTED, RunStatus.FAILED):  # the transaction rolled back
                f.rows_loaded = f.rows_updated = f.rows_unchanged = 0
                f.sums_out, f.reconciled = {}, False  # nothing is stored to reconcile with
        ImportFile.objects.bulk_create(outcome.files)
        for e in outcome.errors:
            e.run = run
        RowError.objects.bulk_create(outcome.errors, batch_size=2_000)
        if outcome.error_count > len(outcome.errors):
            kept = _("%(count)s errors; the first %(kept)s are kept in the report.") % {
                "count": outcome.error_count,
                "kept": len(outcome.errors),
            }
            outcome.message = " ".join(filter(None, (outcome.message, kept)))
        run.status, run.message, run.finished_at = outcome.status, outcome.message, timezone.now()
        totals = [f.rows_read for f in outcome.files]
        run.progress_done = run.progress_total = sum(totals)
        run.save()
        if superseded is not None:
            superseded.status = RunStatus.SUPERSEDED
            superseded.message = _("Replaced by run #%(run)s (a corrected delivery).") % {"run": run.pk}
            superseded.save(update_fields=["status", "message"])
        ok = outcome.status in APPLIED
        _audit(run, Action.IMPORT_RUN, Outcome.SUCCESS if ok else Outcome.FAILURE)
    if outcome.status not in APPLIED:
        remove_lake_batches(run.pk, [f.feed for f in outcome.files])
    progress.clear_progress(run.pk)


VARIANCE_ALERT = 0.30  # a feed 30 % smaller than on the previous day is flagged (compliance D-07)


def _variance(run: ImportRun, files: list[ImportFile]) -> str:
    """Flag feeds that shrank sharply against the source's previous loaded day: often a partial extract."""
    before = (
        ImportRun.objects.filter(source=run.source, data_date__lt=run.data_date, status__in=APPLIED)
        .order_by("-data_date", "-id")
        .first()
    )
    if before is None:
        return ""
    previous = dict(before.files.values_list("feed", "rows_read"))
    alerts = []
    for f in files:
        was = previous.get(f.feed)
        if was and f.rows_read < was * (1 - VARIANCE_ALERT):
            drop = round(100 * (was - f.rows_read) / was)
            f.message = _("Variance: %(pct)s%% fewer rows than on %(day)s (%(now)s against %(was)s).") % {
                "pct": drop,
                "day": before.data_date,
                "now": f.rows_read,
                "was": was,
            }
            alerts.append(f"{f.feed} −{drop}%")
    if not alerts:
        return ""
    return _("Check: fewer rows than the day before: %(feeds)s.") % {"feeds": ", ".join(alerts)}


def _branch_of(code: str | None) -> Branch:
    if code:
        branch = Branch.objects.filter(code=code).first()
        if branch is None:
            raise IngestError(
                "unknown_branch", f"manifest names branch {code}, which this installation does not have"
            )
        return branch
    branches = list(Branch.objects.all()[:2])
    if len(branches) != 1:
        raise IngestError("branch_required", "state the branch in manifest.json (branch_code)")
    return branches[0]


def _clear_stale_runs(source: str, data_date: date) -> None:
    """A run that died (process killed) keeps its lock; free it so the rerun can complete."""
    for run in ImportRun.objects.filter(source=source, data_date=data_date, status=RunStatus.RUNNING):
        alive = run.pid is not None and _pid_alive(run.pid) and not progress.is_stale(run.pk)
        if not alive:
            run.status = RunStatus.FAILED
            run.message = _("Interrupted: the process ended before it finished; nothing of it was kept.")
            run.finished_at = timezone.now()
            run.save(update_fields=["status", "message", "finished_at"])
            remove_lake_batches(run.pk, list(FEEDS))
            remove_spool(run.pk, run.pid)
            progress.clear_progress(run.pk)


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _audit(run: ImportRun, action: str, outcome: str, by: Staff | None = None) -> None:
    who = by or run.started_by
    record(
        action,
        user=who.user if who else None,
        username="" if who else f"ingest:{run.trigger}",
        object_type="import_run",
        object_id=str(run.pk),
        outcome=outcome,
        detail={"source": run.source, "data_date": run.data_date.isoformat(), "status": run.status},
    )
