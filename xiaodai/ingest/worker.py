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
    batch: int  # records per chunk: a chunk's good rows travel as one batch
    # Feeds whose chunks are shared out between `parts` processes (chunk i to process i % parts); this one is
    # process `part`. Other feeds are all validated by process 0; the others skip them.
    split: frozenset[str] = frozenset()
    part: int = 0
    parts: int = 1


def run(job: Job, out: Any, spool: str) -> None:
    """Entry point of the spawned process: stream `produce(job)` into the queue, then None. Batches of rows
    go to the spool folder and the queue carries where they are."""
    import django

    django.setup()  # models and settings only: this process never opens a database connection
    from pathlib import Path

    from xiaodai.ingest.produce import Spool, produce

    writer = Spool(Path(spool))
    try:
        for message in produce(job):
            out.put(writer.write(message) if message[0] == "rows" else message)
    except BaseException:
        out.put(("error", traceback.format_exc()))
    finally:
        writer.close()
    out.put(None)
