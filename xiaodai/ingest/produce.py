"""Reading, validating and preparing the staged files of a drop: the pure-Python half of a load.

`produce()` turns the drop's staged files, in load order, into a stream of messages (file started, prepared
rows with their problems, file ended or refused). The loader consumes them and does the database half. On a
large drop the stream comes from a second process, so the two halves run on both cores at once: validation
of the next rows (or the next file) while the database merges the last ones. Small drops run it in-process.

The second process writes its prepared batches to a spool on disk and sends only where they are, so it never
waits for the database: while the loader merges a million customers it validates the next files. Memory
stays bounded (the spool is read back one batch at a time); the loader deletes each spool segment once read.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import queue
import shutil
from collections.abc import Iterator
from dataclasses import replace
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
AHEAD_BATCHES = 2_000  # how far validation may run ahead of the database: ~10 million rows, on disk
# Validated by two processes at the start of a large drop: the first merge (customers, written with their
# AUM from the deposits) waits for both files.
SPLIT_FEEDS = frozenset({"customers", "deposits"})
SPOOL_SEGMENT_BYTES = 64 * 2**20  # a segment is deleted once read, so the spool holds only what is ahead
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
    """The message stream for every staged file of the job: this process's share of a split file, every
    other file in process 0 only."""
    for feed_name, path in job.files:
        split = feed_name in job.split
        if job.part and not split:
            continue
        yield ("file", feed_name)
        yield from _one_file(job, FEEDS[feed_name], Path(path), (job.part, job.parts) if split else (0, 1))


def _one_file(job: Job, feed: Feed, path: Path, share: tuple[int, int]) -> Iterator[Message]:
    """Every process sharing a file reads all of it (reading is cheap) but validates only its own chunks of
    `job.batch` records, sending one "rows" message per chunk: taken in turn, they come in line order."""
    part, parts = share
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
            pending = False  # a chunk of this process's is under way
            for line, cells in reader.rows():
                read += 1
                if (read - 1) // job.batch % parts != part:
                    continue  # another process's chunk
                pending = True
                values, found = validator.check(line, cells)
                if values is None:
                    bad += 1
                    if kept < MAX_PROBLEMS:
                        problems.extend(found)
                        kept += len(found)
                    elif not quarantine:
                        break  # refused anyway; the first hundred thousand are enough to fix the file
                else:
                    for column, index in sum_index:
                        if values[index] is not None:
                            sums[column] += values[index]
                    batch.append((line, values))
                if read % job.batch == 0:  # the chunk's last record
                    yield ("rows", preparer.prepare(batch), problems, read)
                    batch, problems, pending = [], [], False
            if pending:
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


class Spool:
    """The second process's side: prepared batches appended to segment files, one message per batch."""

    def __init__(self, folder: Path) -> None:
        self.folder, self.segment = folder, 0
        self.file = open(folder / "0", "wb")  # noqa: SIM115 - closed on rotation and in close()

    def write(self, message: Message) -> Message:
        """Append a "rows" message; return the small message saying where it is."""
        data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
        if self.file.tell() and self.file.tell() + len(data) > SPOOL_SEGMENT_BYTES:
            self.file.close()
            self.segment += 1
            self.file = open(self.folder / str(self.segment), "wb")  # noqa: SIM115
        offset = self.file.tell()
        self.file.write(data)
        self.file.flush()  # to the OS before the message: the loader reads it through its own handle
        return ("spooled", self.segment, offset, len(data))

    def close(self) -> None:
        self.file.close()


class _SpoolReader:
    """The loader's side: reads a batch back where the message says, deleting segments it has passed."""

    def __init__(self, folder: Path) -> None:
        self.folder, self.segment = folder, -1
        self.file: Any = None

    def read(self, segment: int, offset: int, length: int) -> Message:
        if segment != self.segment:
            self.close()
            if self.segment >= 0:
                (self.folder / str(self.segment)).unlink(missing_ok=True)
            self.segment, self.file = segment, open(self.folder / str(segment), "rb")  # noqa: SIM115
        self.file.seek(offset)
        # Written by our own second process into a folder only this account can read: as trusted as the
        # pickles multiprocessing itself sends through the queue.
        message: Message = pickle.loads(self.file.read(length))  # noqa: S301
        return message

    def close(self) -> None:
        if self.file is not None:
            self.file.close()
            self.file = None


def spool_root() -> Path:
    from django.conf import settings

    return Path(settings.VAR_DIR) / "ingest" / "spool"


def spool_folder(run_id: int, pid: int) -> Path:
    """A run's spool, named by the loading process too: test databases in parallel reuse run ids."""
    return spool_root() / f"run-{run_id}-{pid}"


def remove_spool(run_id: int, pid: int | None) -> None:
    """Delete a run's spool (it holds the drop's rows): after the run, or after a killed one."""
    if pid is not None:
        shutil.rmtree(spool_folder(run_id, pid), ignore_errors=True)


class _Worker:
    """One validating process: its queue and its spool."""

    def __init__(self, context: Any, job: Job, folder: Path) -> None:
        folder.mkdir(mode=0o700)
        self.spool = _SpoolReader(folder)
        self.queue: Any = context.Queue(maxsize=AHEAD_BATCHES)
        self.process: Any = context.Process(
            target=worker.run, args=(job, self.queue, str(folder)), daemon=True
        )
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
            if message[0] == "spooled":
                message = self.spool.read(*message[1:])
            yield message

    def close(self) -> None:
        if self.process.is_alive():
            self.process.terminate()
        self.process.join(timeout=10)
        self.spool.close()


class Producer:
    """The message stream, from this process or from second ones. Nothing can be merged before the customers
    and the deposits are validated (see feeds.load_feeds), so on a large drop two processes share those two
    files, chunk by chunk, and then the first goes on alone: the database has the other core from then on."""

    def __init__(self, job: Job, *, pipelined: bool) -> None:
        self.run_id = job.run_id
        self.workers: list[_Worker] = []
        if not pipelined or not job.files:
            self.messages: Iterator[Message] = produce(job)
            return
        root = spool_folder(job.run_id, os.getpid())
        shutil.rmtree(root, ignore_errors=True)
        root.mkdir(parents=True, mode=0o700)  # the drop's personal data: readable by this account only
        split = SPLIT_FEEDS & {name for name, _ in job.files}
        parts = 2 if split else 1
        # spawn, not fork: the parent may be a threaded job worker holding locks a forked child would inherit.
        context = multiprocessing.get_context("spawn")
        for part in range(parts):
            share = replace(job, split=split, part=part, parts=parts)
            self.workers.append(_Worker(context, share, root / str(part)))
        self.messages = self._merged([name for name, _ in job.files], split)

    def _merged(self, files: list[str], split: frozenset[str]) -> Iterator[Message]:
        """Walk the files in order: a split file's chunks taken from each process in turn (line order), the
        others from the first process."""
        streams = [w.messages for w in self.workers]
        for name in files:
            if name in split:
                yield from _interleave(streams)
            else:
                yield from _one_file_of(streams[0])

    def next(self) -> Message:
        return next(self.messages)

    def close(self) -> None:
        for w in self.workers:
            w.close()
        if self.workers:
            remove_spool(self.run_id, os.getpid())


_ENDS = ("end", "refused", "problem")  # the message that closes a file


def _one_file_of(stream: Iterator[Message]) -> Iterator[Message]:
    for message in stream:
        yield message
        if message[0] in _ENDS:
            return


def _interleave(streams: list[Iterator[Message]]) -> Iterator[Message]:
    """One file validated by several processes, as if by one: the chunks in turn, then one closing message."""
    started = [next(s) for s in streams]
    yield started[0]
    ends: list[Message | None] = [None] * len(streams)
    turn = 0
    while None in ends:
        k, turn = turn % len(streams), turn + 1
        if ends[k] is None:
            message = next(streams[k])
            if message[0] in _ENDS:
                ends[k] = message
            else:
                yield message
    yield combine_ends([m for m in ends if m is not None])


def combine_ends(ends: list[Message]) -> Message:
    """The closing message of a file from each process's: a broken or refused file wins; otherwise records
    read (every process reads the whole file), bad rows and sums added up."""
    for kind in ("problem", "refused"):
        for message in ends:
            if message[0] == kind:
                return message
    sums = {c: sum((Decimal(m[3][c]) for m in ends), Decimal(0)) for c in ends[0][3]}
    return (
        "end",
        max(m[1] for m in ends),
        sum(m[2] for m in ends),
        {c: str(v.quantize(Decimal("0.01"))) for c, v in sums.items()},
        ends[0][4],
    )
