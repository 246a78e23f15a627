"""The data contract: the document is generated from the code, and the code is consistent with itself."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.management import call_command

from xiaodai.ingest.contract import FEEDS, FEEDS_LIST, Target, credit_data_columns
from xiaodai.ingest.contract_doc import render_markdown
from xiaodai.ingest.targets import TARGETS

DOC = Path(__file__).resolve().parents[1] / "docs" / "data-contract.md"


def test_the_document_matches_the_code() -> None:
    assert DOC.read_text(encoding="utf-8") == render_markdown(), "run `xiaodai contract`"


def test_the_check_command_passes_on_the_committed_document() -> None:
    call_command("contract", "--check")


def test_every_reference_points_at_an_earlier_feed_key() -> None:
    order = [f.name for f in FEEDS_LIST]
    for feed in FEEDS_LIST:
        for col in feed.columns:
            if col.refers_to:
                target, key = col.refers_to
                assert key in FEEDS[target].column_names
                assert order.index(target) < order.index(feed.name), (feed.name, col.name)


@pytest.mark.parametrize("feed", [f for f in FEEDS_LIST if f.target is Target.DATABASE and f.name in TARGETS])
def test_every_database_feed_maps_its_columns(feed: object) -> None:
    target = TARGETS[feed.name]  # type: ignore[attr-defined]
    mapped = set(target.copy) | {r.column for r in target.refs} | set(target.skip)
    assert set(feed.column_names) - mapped <= {"customer_no"} | {r.column for r in target.refs}  # type: ignore[attr-defined]


def test_keys_are_columns_and_examples_are_given() -> None:
    for feed in FEEDS_LIST:
        assert set(feed.key) <= set(feed.column_names)
        assert all(col.example or not col.required for col in feed.columns), feed.name


@pytest.mark.parametrize("name", ["credit_score", "征信报告", "Bureau_Grade", "芝麻分"])
def test_credit_data_column_names_are_recognised(name: str) -> None:
    assert credit_data_columns(["customer_no", name]) == [name]


@pytest.mark.parametrize("feed", FEEDS_LIST, ids=lambda f: f.name)
def test_every_example_row_is_valid(feed: object) -> None:
    from datetime import date

    from xiaodai.ingest.validate import RowValidator

    names = list(feed.column_names)  # type: ignore[attr-defined]
    validator = RowValidator(feed, names, date(2026, 11, 28))  # type: ignore[arg-type]
    cells = [col.example or None for col in feed.columns]  # type: ignore[attr-defined]
    _values, problems = validator.check(2, cells)
    assert problems == []
