"""The landing folder and the cut-off (compliance D-11: timeliness and completeness).

The bank's scheduler delivers each day's drop as a folder under XIAODAI_LANDING_DIR. A folder is taken up
only once it is complete: it holds its manifest.json (the trailer, with the control totals) or an empty
`_SUCCESS` or `.ok` flag, or a `<folder>.ok` flag lies beside it. Every landing folder is taken up once
(LandingPickup); a folder still being written is left for the next sweep. A drop folder given to
`xiaodai ingest DIR` or uploaded on the web is taken as complete: a person hands it over.

By the cut-off time (XIAODAI_DROP_CUTOFF, Beijing time) each expected source (XIAODAI_EXPECTED_SOURCES)
must have delivered the day before's drop; if none has arrived, a MissedDrop alert is raised once,
audited, logged and shown on the import pages until the drop comes.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from xiaodai.audit.choices import Action, Outcome
from xiaodai.audit.services import record
from xiaodai.ingest import services
from xiaodai.ingest.choices import RunStatus, Trigger
from xiaodai.ingest.models import ImportRun, LandingPickup, MissedDrop

logger = logging.getLogger(__name__)

# What marks a landing folder complete (inside it); `<folder>.ok` beside it counts too.
FLAGS = ("manifest.json", "_SUCCESS", ".ok")


def is_complete(folder: Path) -> bool:
    """Whether the folder's delivery has finished (its trailer or flag is there)."""
    return any((folder / name).is_file() for name in FLAGS) or folder.with_name(f"{folder.name}.ok").is_file()


@dataclass
class Sweep:
    """What one sweep of the landing folder did."""

    queued: list[ImportRun] = field(default_factory=list)  # runs to load now
    duplicates: list[ImportRun] = field(default_factory=list)
    waiting: list[str] = field(default_factory=list)  # folder names without their flag yet
    failed: list[str] = field(default_factory=list)  # folder names that could not be taken up
    missed: list[MissedDrop] = field(default_factory=list)


def landing_dir() -> Path:
    return Path(settings.XIAODAI_LANDING_DIR)


def sweep(now: dt.datetime | None = None) -> Sweep:
    """Take up every complete landing folder not taken up before (oldest name first), then check the
    cut-off. The runs are queued, not loaded: the caller starts them (the job queue, or the command)."""
    now = now or timezone.now()
    done = Sweep()
    root = landing_dir()
    found = root.iterdir() if root.is_dir() else iter(())
    folders = sorted(p for p in found if p.is_dir() and not p.name.startswith("."))
    taken = set(LandingPickup.objects.values_list("folder", flat=True))
    for folder in folders:
        key = str(folder.resolve())
        if key in taken:
            continue
        if not is_complete(folder):
            done.waiting.append(folder.name)
            continue
        _take_up(folder, key, done)
    done.missed = check_cutoff(now)
    return done


def _take_up(folder: Path, key: str, done: Sweep) -> None:
    try:
        run = services.prepare_run(folder, trigger=Trigger.SCHEDULE)
    except services.IngestError as exc:
        if exc.code == "busy":  # the same source and date is loading now: try again next sweep
            done.waiting.append(folder.name)
            return
        with transaction.atomic():
            LandingPickup.objects.create(folder=key, error=f"{exc.code}: {exc.message}"[:2000])
            record(
                Action.IMPORT_RUN,
                username="ingest:schedule",
                object_type="landing_folder",
                object_id=folder.name[:100],
                outcome=Outcome.FAILURE,
                detail={"folder": folder.name, "code": exc.code},
            )
        logger.warning("landing folder %s not taken up: %s", folder.name, exc.code)
        done.failed.append(folder.name)
        return
    LandingPickup.objects.create(folder=key, run=run)
    (done.queued if run.status == RunStatus.QUEUED else done.duplicates).append(run)


def check_cutoff(now: dt.datetime) -> list[MissedDrop]:
    """After the cut-off: one alert per expected source whose drop of the day before has not arrived (any
    run of it, whatever its outcome: a refused drop arrived, and its run says why it was refused)."""
    local = timezone.localtime(now)
    cutoff = settings.XIAODAI_DROP_CUTOFF
    if local.time() < dt.time.fromisoformat(cutoff):
        return []
    day = local.date() - dt.timedelta(days=1)
    raised = []
    for source in settings.XIAODAI_EXPECTED_SOURCES:
        if ImportRun.objects.filter(source=source, data_date=day).exists():
            continue
        if MissedDrop.objects.filter(source=source, data_date=day).exists():
            continue
        try:
            with transaction.atomic():
                alert = MissedDrop.objects.create(source=source, data_date=day)
                record(
                    Action.IMPORT_MISSED,
                    username="ingest:schedule",
                    object_type="missed_drop",
                    object_id=str(alert.pk),
                    outcome=Outcome.FAILURE,
                    detail={"source": source, "data_date": day.isoformat(), "cutoff": cutoff},
                )
        except IntegrityError:
            continue  # raised already (by an earlier sweep)
        logger.warning("drop missed: %s for %s not delivered by %s", source, day, cutoff)
        raised.append(alert)
    return raised
