"""A small demo branch (300 customers, a fixed business date) for the demo tests."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from xiaodai.demo import DemoResult, build_demo

AS_OF = date(2026, 11, 28)
SMALL = 300


@pytest.fixture
def demo(db: Any) -> DemoResult:
    return build_demo(customers=SMALL, seed=7, as_of=AS_OF)
