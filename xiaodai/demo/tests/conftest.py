"""A small demo branch (300 customers, a fixed business date) for the demo tests, each with its own lake."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from xiaodai.demo import DemoResult, build_demo

AS_OF = date(2026, 11, 28)
SMALL = 300


@pytest.fixture(autouse=True)
def lake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The demo writes contact history and channel leads to the lake: never into the project's var/."""
    root = tmp_path / "lake"
    monkeypatch.setenv("XIAODAI_LAKE_DIR", str(root))
    return root


@pytest.fixture
def demo(db: Any) -> DemoResult:
    return build_demo(customers=SMALL, seed=7, as_of=AS_OF)
