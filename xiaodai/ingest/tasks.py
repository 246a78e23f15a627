"""Jobs of the ingest app. Jobs take ids, never objects: the row is read fresh when the job starts."""

from __future__ import annotations

from huey.contrib.djhuey import db_task

from xiaodai.ingest import services


@db_task()
def run_import(run_id: int) -> None:
    """Load a queued run (prepared by services.prepare_run); progress and outcome are written to the run."""
    services.execute_run(run_id)
