"""A page read without counting the list (core.paging.Window)."""

from __future__ import annotations

import pytest

from xiaodai.core.paging import Window

ROWS = list(range(1, 121))  # 120 rows: pages of 50, 50, 20


def test_a_middle_page_knows_both_neighbours() -> None:
    page = Window(ROWS, "2", 50)
    assert (next(iter(page)), len(page), page.has_previous(), page.has_next()) == (51, 50, True, True)
    assert (page.start_index(), page.end_index()) == (51, 100)


def test_the_last_page_has_no_next() -> None:
    page = Window(ROWS, 3, 50)
    assert (len(page), page.has_next(), page.previous_page_number()) == (20, False, 2)


def test_a_full_last_page_has_no_next() -> None:
    assert not Window(ROWS[:100], 2, 50).has_next()


@pytest.mark.parametrize("number", ["x", None, "-3", "0"])
def test_a_bad_page_number_is_the_first_page(number: object) -> None:
    assert Window(ROWS, number, 50).number == 1


def test_a_page_past_the_end_is_the_first_page() -> None:
    page = Window(ROWS, 9, 50)
    assert (page.number, next(iter(page))) == (1, 1)


def test_an_empty_list_is_one_empty_page() -> None:
    page = Window([], 1, 50)
    assert (len(page), page.has_next(), page.start_index()) == (0, False, 0)
