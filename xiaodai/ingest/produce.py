"""Reading, validating and preparing the staged files of a drop: the pure-Python half of a load.

`produce()` turns the drop's staged files, in load order, into a stream of messages (file started, prepared
rows with their problems, file ended or refused). The loader consumes them and does the database half. On a
large drop the stream comes from a second process, so the two halves run on both cores at once: validation
of the next rows (or the next file) while the database merges the last ones. Small drops run it in-process.
"""

from __future__ import annotations

import multiprocessing
import queue
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

from xiaodai.ingest import worker
from xiaodai.ingest.contract import FEEDS, Feed, credit_data_columns
from xiaodai.ingest.load import StagedFeed
from xiaodai.ingest.readers import FileProblem, open_table
from xiaodai.ingest.targets import TARGETS
from xiaodai.ingest.validate import RowProblem, RowValidator
from xiaodai.ingest.worker import Job

BATCH = 5_000
MAX_PROBLEMS = 100_000  # kept per file; the count of bad rows is always complete
PIPELINE_MIN_ROWS = 100_000  # below this a second process costs more (Django start-up) than it saves
QUEUE_BATCHES = 32  # how far validation may run ahead of the database: ~160,000 rows in flight
Message = tuple[Any, ...]


def header_problem(header: list[str], feed: Feed) -> tuple[str, str, str] | None:
    """(code, column, message) when a file's header does not fit the contract."""
    credit = credit_data_columns(header)
    if credit:
        from django.utils.translation import gettext as _

        message = _("Credit-bureau data (%(columns)s) may only come through licensed bureaus (C-10).") % {
            "columns": ", ".join(credit)
        }
        return "credit_data", ",".join(credit), message
    missing = [c for c in feed.column_names if c not in header]
    extra = [c for c in header if c not in feed.column_names]
    repeated = sorted({c for c in header if header.count(c) > 1})
    parts = []
    if missing:
        parts.append(f"missing columns: {', '.join(missing)}")
    if extra:
        parts.append(f"columns not in the contract: {', '.join(extra)}")
    if repeated:
        parts.append(f"repeated columns: {', '.join(repeated)}")
    return ("columns", "", "; ".join(parts)) if parts else None


def produce(job: Job) -> Iterator[Message]:
    """The message stream for every staged file of the job."""
    for feed_name, path in job.files:
        yield ("file", feed_name)
        yield from _one_file(job, FEEDS[feed_name], Path(path))


def _one_file(job: Job, feed: Feed, path: Path) -> Iterator[Message]:
    read = 0
    try:
        with open_table(path, encoding=job.encoding) as reader:
            problem = header_problem(reader.header, feed)
            if problem is not None:
                yield ("refused", *problem, reader.encoding)
                return
            quarantine = feed.name in job.quarantine
            validator = RowValidator(
                feed, reader.header, job.data_date, formulas=reader.format == "xlsx", duplicates=False
            )
            preparer = StagedFeed(
                feed, TARGETS[feed.name], run_id=job.run_id, data_date=job.data_date, branch_id=job.branch_id
            )
            sums = {c: Decimal(0) for c in feed.sums}
            sum_index = [(c, feed.column_names.index(c)) for c in feed.sums]
            bad = kept = 0
            batch: list[tuple[int, list[Any]]] = []
            problems: list[RowProblem] = []
            for line, cells in reader.rows():
                read += 1
                values, found = validator.check(line, cells)
                if values is None:
                    bad += 1
                    if kept < MAX_PROBLEMS:
                        problems.extend(found)
                        kept += len(found)
                    elif not quarantine:
                        break  # refused anyway; the first hundred thousand are enough to fix the file
                    continue
                for column, index in sum_index:
                    if values[index] is not None:
                        sums[column] += values[index]
                batch.append((line, values))
                if len(batch) >= BATCH:
                    yield ("rows", preparer.prepare(batch), problems, read)
                    batch, problems = [], []
            yield ("rows", preparer.prepare(batch), problems, read)
            yield (
                "end",
                read,
                bad,
                {c: str(v.quantize(Decimal("0.01"))) for c, v in sums.items()},
                reader.encoding,
            )
    except FileProblem as exc:
        yield ("problem", exc.code, exc.message, exc.line, read)


class Producer:
    """The message stream, from this process or from a second one."""

    def __init__(self, job: Job, *, pipelined: bool) -> None:
        self.process: Any = None
        if not pipelined or not job.files:
            self.messages: Iterator[Message] = produce(job)
            return
        # spawn, not fork: the parent may be a threaded job worker holding locks a forked child would inherit.
        context = multiprocessing.get_context("spawn")
        self.queue: Any = context.Queue(maxsize=QUEUE_BATCHES)
        self.process = context.Process(target=worker.run, args=(job, self.queue), daemon=True)
        self.process.start()
        self.messages = self._from_queue()

    def _from_queue(self) -> Iterator[Message]:
        while True:
            try:
                message = self.queue.get(timeout=5)
            except queue.Empty:
                if not self.process.is_alive():
                    raise RuntimeError("the validating process ended without finishing the drop") from None
                continue
            if message is None:
                return
            if message[0] == "error":
                raise RuntimeError(f"the validating process failed:\n{message[1]}")
            yield message

    def next(self) -> Message:
        return next(self.messages)

    def close(self) -> None:
        if self.process is not None and self.process.is_alive():
            self.process.terminate()
        if self.process is not None:
            self.process.join(timeout=10)
