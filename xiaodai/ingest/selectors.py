"""Reads behind the import pages: which runs a person sees, the run list with its totals, the feed table.

Scoping (compliance A-02): a run belongs to the branch its drop is for (`ImportRun.branch`). Until the load
has read the drop's sub-branches the branch is not known (NULL); such a run is shown to people of the branch
of whoever started it, and, while it is queued or running, to every operations admin (the people who run
drops), so a CLI run can be watched from the web before its branch is known.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce
from django.http import QueryDict

from xiaodai.core.access import actor_of
from xiaodai.core.roles import Perm
from xiaodai.ingest.choices import BadRowMode, RunStatus
from xiaodai.ingest.contract import FEEDS_LIST, Feed
from xiaodai.ingest.models import FeedSetting, ImportFile, ImportRun, MissedDrop
from xiaodai.ingest.progress import STALE_AFTER_SECONDS, read_progress

ACTIVE = (RunStatus.QUEUED, RunStatus.RUNNING)

SORTS = {
    "started": ("created_at", "id"),
    "-started": ("-created_at", "-id"),
    "date": ("data_date", "id"),
    "-date": ("-data_date", "-id"),
    "status": ("status", "-id"),
    "-status": ("-status", "-id"),
}
DEFAULT_SORT = "-started"  # newest first

TOTALS = ("rows_read", "rows_loaded", "rows_updated", "rows_unchanged", "rows_rejected")


def runs_for(user: Any) -> QuerySet[ImportRun]:
    """Every import run `user` may see; an out-of-scope run is absent (404), never forbidden."""
    actor = actor_of(user)
    if not actor.has(Perm.VIEW_IMPORTS) or actor.branch_id is None:
        return ImportRun.objects.none()
    visible = Q(branch_id=actor.branch_id) | Q(branch__isnull=True, started_by__branch_id=actor.branch_id)
    if actor.has(Perm.MANAGE_IMPORTS):
        visible |= Q(branch__isnull=True, status__in=ACTIVE)
    return ImportRun.objects.filter(visible)


def with_totals(runs: QuerySet[ImportRun]) -> QuerySet[ImportRun]:
    """Runs with their files counted and row figures summed (one query, no per-row lookups)."""
    sums = {f"total_{name}": Coalesce(Sum(f"files__{name}"), Value(0)) for name in TOTALS}
    return runs.select_related("started_by").annotate(file_count=Count("files"), **sums)


@dataclass(frozen=True)
class RunFilter:
    status: str
    source: str
    sort: str


def run_list(user: Any, params: QueryDict) -> tuple[QuerySet[ImportRun], RunFilter]:
    """The run list page: scoped, filtered by status and source, sorted. Unknown values are ignored."""
    runs = runs_for(user)
    status = params.get("status", "")
    if status in RunStatus.values:
        runs = runs.filter(status=status)
    else:
        status = ""
    # NUL is dropped: PostgreSQL refuses it in a query parameter, which would turn a typo into a 500.
    source = params.get("source", "").replace("\x00", "").strip()[:50]
    if source:
        runs = runs.filter(source=source)
    sort = params.get("sort", DEFAULT_SORT)
    if sort not in SORTS:
        sort = DEFAULT_SORT
    return with_totals(runs).order_by(*SORTS[sort]), RunFilter(status=status, source=source, sort=sort)


def sources_for(user: Any) -> list[str]:
    """The sources of the runs `user` sees, for the filter."""
    return sorted(set(runs_for(user).order_by().values_list("source", flat=True).distinct()))


@dataclass(frozen=True)
class TotalLine:
    """One reconciled figure of a file: what the manifest declared, what the file held, what was stored."""

    name: str
    declared: str
    file_in: str
    stored: str

    @property
    def matches(self) -> bool:
        return self.file_in == self.stored and (not self.declared or self.declared == self.file_in)


# Runs whose files' figures say what was written (a refused or failed run's files were rolled back).
WITH_FIGURES = (RunStatus.LOADED, RunStatus.PARTIAL, RunStatus.ROLLED_BACK, RunStatus.SUPERSEDED)


@dataclass(frozen=True)
class RunTotals:
    files: int
    read: int
    new: int
    updated: int
    unchanged: int
    rejected: int


def run_totals(run: ImportRun, files: list[ImportFile]) -> RunTotals | None:
    """The run's figures over its files, for the page's summary line; None when nothing was written."""
    if run.status not in WITH_FIGURES or not files:
        return None
    return RunTotals(
        files=len(files),
        read=sum(f.rows_read for f in files),
        new=sum(f.rows_loaded for f in files),
        updated=sum(f.rows_updated for f in files),
        unchanged=sum(f.rows_unchanged for f in files),
        rejected=sum(f.rows_rejected for f in files),
    )


def _text(value: object) -> str:
    return "" if value is None else str(value)


def control_lines(file: ImportFile) -> list[TotalLine]:
    """The file's control totals as lines for the page: declared rows (if any), then each summed column."""
    control = file.control if isinstance(file.control, dict) else {}
    declared_sums = control.get("sums") if isinstance(control.get("sums"), dict) else {}
    sums_in = file.sums_in if isinstance(file.sums_in, dict) else {}
    sums_out = file.sums_out if isinstance(file.sums_out, dict) else {}
    lines: list[TotalLine] = []
    if "rows" in control:
        valid = file.rows_read - file.rows_rejected
        lines.append(TotalLine("rows", _text(control["rows"]), str(file.rows_read), str(valid)))
    for name in sorted(set(sums_in) | set(sums_out) | set(declared_sums or {})):
        lines.append(
            TotalLine(
                name,
                _text((declared_sums or {}).get(name)),
                _text(sums_in.get(name)),
                _text(sums_out.get(name)),
            )
        )
    return lines


@dataclass(frozen=True)
class FeedRow:
    feed: Feed
    mode: str
    mode_label: str
    updated_by: str


def feed_rows() -> list[FeedRow]:
    """Every feed of the contract with its current bad-row mode (the default when never set)."""
    settings = {s.feed: s for s in FeedSetting.objects.select_related("updated_by")}
    rows = []
    for feed in FEEDS_LIST:
        setting = settings.get(feed.name)
        mode = setting.mode if setting else BadRowMode.REJECT_FILE
        rows.append(
            FeedRow(
                feed=feed,
                mode=mode,
                mode_label=str(BadRowMode(mode).label) if mode in BadRowMode.values else mode,
                updated_by=setting.updated_by.name if setting and setting.updated_by else "",
            )
        )
    return rows


@dataclass(frozen=True)
class LiveProgress:
    done: int
    total: int
    step: str
    stale: bool = False  # running, but its progress file has not moved for a long while

    @property
    def percent(self) -> int:
        return min(100, int(self.done * 100 / self.total)) if self.total else 0


def live_progress(run: ImportRun) -> LiveProgress:
    """How far a run has got. A running load reports through its progress file (on SQLite its transaction
    holds the write lock, so figures written to the run row would only appear at the end); otherwise the
    figures stored on the run. No file (a worker on another machine) is not a sign of death."""
    if run.status == RunStatus.RUNNING:
        found = read_progress(run.pk)
        if found is not None:
            stale = time.time() - found.updated > STALE_AFTER_SECONDS
            return LiveProgress(found.done, found.total, found.step, stale)
    return LiveProgress(run.progress_done, run.progress_total, run.progress_step)


def open_alerts(user: Any) -> QuerySet[MissedDrop]:
    """Drops that missed the cut-off and have not come since (no run of that source and date), for the
    people who watch the imports. A source and a date are no one's personal data: every such viewer sees
    them."""
    if not actor_of(user).has(Perm.VIEW_IMPORTS):
        return MissedDrop.objects.none()
    arrived = ImportRun.objects.filter(source=OuterRef("source"), data_date=OuterRef("data_date"))
    return MissedDrop.objects.filter(~Exists(arrived))
