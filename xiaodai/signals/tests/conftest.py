"""These tests run the batch engines on Parquet files and never touch the app database, so the suite's second
run on PostgreSQL (.ci/run) skips them: the first run covers them, and the Spark parity test takes minutes."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not os.environ.get("XIAODAI_DATABASE_URL", "").startswith("postgres"):
        return
    skip = pytest.mark.skip(reason="engine only, no app database: the SQLite run covers it")
    for item in items:
        if HERE in item.path.resolve().parents:
            item.add_marker(skip)
