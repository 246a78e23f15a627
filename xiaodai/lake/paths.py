"""Where the lake lives on disk.

    <lake_root>/<feed>/month=YYYY-MM/batch<id>_<n>.parquet   published files, one set per import batch
    <lake_root>/_staging/<feed>/batch<id>/...                 a batch being written, not yet published
    <lake_root>/_staging/_tmp/                                DuckDB's spill directory

Staging sits under the lake root so that publishing is a rename on the same filesystem.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from django.conf import settings

STAGING = "_staging"
_FEED_NAME = re.compile(r"[a-z][a-z0-9_]{0,63}")


def lake_root() -> Path:
    """XIAODAI_LAKE_DIR, else <VAR_DIR>/lake."""
    configured = os.environ.get("XIAODAI_LAKE_DIR", "").strip()
    return Path(configured) if configured else Path(settings.VAR_DIR) / "lake"


def feed_dir(feed_name: str) -> Path:
    """The published files of one feed (a folder of month=YYYY-MM partitions)."""
    return lake_root() / _checked(feed_name)


def staging_root(feed_name: str) -> Path:
    return lake_root() / STAGING / _checked(feed_name)


def staging_dir(feed_name: str, batch_id: int) -> Path:
    """Where a batch is written before it is published."""
    return staging_root(feed_name) / f"batch{int(batch_id)}"


def temp_dir() -> Path:
    """DuckDB's spill directory (bounded memory for multi-GB files)."""
    return lake_root() / STAGING / "_tmp"


def _checked(feed_name: str) -> str:
    if not _FEED_NAME.fullmatch(feed_name):
        raise ValueError(f"not a feed name: {feed_name!r}")
    return feed_name
