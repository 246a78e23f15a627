"""Jobs of the ingest app. Jobs take ids, never objects: the row is read fresh when the job starts."""

from __future__ import annotations

import shutil
from pathlib import Path

from django.conf import settings
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from xiaodai.ingest import landing, services
from xiaodai.ingest.choices import Trigger


@db_task()
def run_import(run_id: int) -> None:
    """Load a queued run (prepared by services.prepare_run); progress and outcome are written to the run."""
    run = services.execute_run(run_id)
    if run.trigger == Trigger.UPLOAD:
        discard_upload(Path(run.folder))


def discard_upload(folder: Path) -> None:
    """An uploaded drop holds personal data; once loaded (or refused) the copy has no further use
    (data minimisation, compliance P-03). Only folders under the upload area are ever removed."""
    uploads = (Path(settings.VAR_DIR) / "ingest" / "uploads").resolve()
    if folder.resolve().is_relative_to(uploads) and folder.resolve() != uploads:
        shutil.rmtree(folder, ignore_errors=True)


@db_periodic_task(crontab(minute="*/5"))
def watch_landing() -> None:
    """Every five minutes: take up the landing folder's complete drops (each loaded as its own job) and
    raise the cut-off alerts (landing.py)."""
    for run in landing.sweep().queued:
        run_import(run.pk)
