"""The validating side of a large load, as a second process. This module imports nothing of Django at import
time: a spawned process unpickles `Job` and `run` before Django is set up."""

from __future__ import annotations

import traceback
from dataclasses import dataclass
from datetime import date
from typing import Any


@dataclass(frozen=True)
class Job:
    """What the validating side needs (picklable: it crosses to the second process)."""

    files: tuple[tuple[str, str], ...]  # (feed, path) of the staged files, in load order
    encoding: str | None
    data_date: date
    run_id: int
    branch_id: int
    quarantine: frozenset[str]  # feeds in quarantine mode


def run(job: Job, out: Any) -> None:
    """Entry point of the spawned process: stream `produce(job)` into the queue, then None."""
    import django

    django.setup()  # models and settings only: this process never opens a database connection
    from xiaodai.ingest.produce import produce

    try:
        for message in produce(job):
            out.put(message)
    except BaseException:
        out.put(("error", traceback.format_exc()))
    out.put(None)
