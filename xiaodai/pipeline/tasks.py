"""Jobs of the pipeline app. Jobs take ids, never objects: the run is read fresh when the job starts."""

from __future__ import annotations

from huey.contrib.djhuey import db_task

from xiaodai.pipeline import services


@db_task()
def run_pipeline(run_id: int) -> None:
    """Execute a queued run (made by services.queue_run); steps and outcome are written to the run."""
    services.execute_run(run_id)
