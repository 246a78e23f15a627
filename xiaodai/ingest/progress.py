"""Live progress of a running import, kept in a small JSON file beside the database.

Why a file: on SQLite the import's transaction holds the only write lock until it commits, so progress written
to the database would wait for the very import it describes. The file's modification time is also the run's
heartbeat: a running import that has not written it for a while has died.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

STALE_AFTER_SECONDS = 600


@dataclass(frozen=True)
class Progress:
    done: int
    total: int
    step: str
    updated: float

    @property
    def percent(self) -> int:
        return min(100, int(self.done * 100 / self.total)) if self.total else 0


def _path(run_id: int) -> Path:
    folder = Path(settings.VAR_DIR) / "ingest" / "progress"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"run-{run_id}.json"


def write_progress(run_id: int, done: int, total: int, step: str) -> None:
    path = _path(run_id)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"done": done, "total": total, "step": step}), encoding="utf-8")
    os.replace(tmp, path)  # atomic: a reader never sees half a file


def read_progress(run_id: int) -> Progress | None:
    path = _path(run_id)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        updated = path.stat().st_mtime
    except (OSError, ValueError):
        return None
    return Progress(int(data["done"]), int(data["total"]), str(data["step"]), updated)


def clear_progress(run_id: int) -> None:
    _path(run_id).unlink(missing_ok=True)


def is_stale(run_id: int) -> bool:
    found = read_progress(run_id)
    return found is None or time.time() - found.updated > STALE_AFTER_SECONDS
