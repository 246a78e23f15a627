"""Customer search: name, pinyin, phone tail, customer number; bad input never fails or leaks."""

from __future__ import annotations

import pytest

from tests import factories as f
from tests.conftest import Cast
from xiaodai.customers import selectors
from xiaodai.customers.models import Customer


def _found(cast: Cast, who: str, q: str) -> set[str]:
    return set(selectors.search(Customer.objects.for_staff(cast.user(who)), q).values_list("name", flat=True))


@pytest.mark.parametrize(
    "q", ["张三", "张", "zhangsan", "ZhangSan", "zhang", "zs", "ｚｈａｎｇｓａｎ", " zhang san "]
)
def test_name_and_pinyin_find_zhang_san(cast: Cast, q: str) -> None:
    assert _found(cast, "head", q) == {"张三"}


def test_phone_tail_finds_customer(cast: Cast) -> None:
    tail = cast.customers["team"].contact_points.get().value[-4:]
    assert _found(cast, "head", tail) == {"李四"}


def test_masked_phone_finds_customer(cast: Cast) -> None:
    value = cast.customers["team"].contact_points.get().value
    assert _found(cast, "head", f"{value[:3]}****{value[-4:]}") == {"李四"}


def test_full_mobile_finds_customer(cast: Cast) -> None:
    assert _found(cast, "head", cast.customers["own"].contact_points.get().value) == {"张三"}


def test_customer_number_finds_customer(cast: Cast) -> None:
    assert _found(cast, "head", cast.customers["other_team"].customer_no.lower()) == {"王五"}


def test_search_never_crosses_scope(cast: Cast) -> None:
    assert _found(cast, "mgr", "zhaoliu") == set()
    assert _found(cast, "mgr_b", "zhaoliu") == {"赵六"}


@pytest.mark.parametrize(
    "q",
    ["'; DROP TABLE customers_customer; --", "%", "_", "\\", "a\x00b\x1f", "<script>", "1" * 500, "😀", "**"],
)
def test_malformed_search_finds_nothing_and_does_not_fail(cast: Cast, q: str) -> None:
    assert _found(cast, "head", q) == set()


def test_control_characters_alone_are_no_search(cast: Cast) -> None:
    assert _found(cast, "head", "\x00\x1f") == {"张三", "李四", "王五"}


@pytest.mark.parametrize("q", ["%", "\x00", "a" * 1000, "<script>alert(1)</script>"])
def test_malformed_search_page_is_200(cast: Cast, q: str) -> None:
    response = cast.client("head").get("/customers/", {"q": q})
    assert response.status_code == 200
    assert b"<script>alert(1)</script>" not in response.content


@pytest.mark.parametrize("page", ["999999", "-3", "abc", "1e9", ""])
def test_odd_page_numbers_show_a_page(cast: Cast, page: str) -> None:
    response = cast.client("head").get("/customers/", {"page": page})
    assert response.status_code == 200
    assert "张三".encode() not in response.content  # names are masked in the list
    assert "张*".encode() in response.content


def test_unknown_filter_values_are_ignored_not_500(cast: Cast) -> None:
    response = cast.client("head").get("/customers/", {"sub_branch": "999999", "sort": "bogus", "tag": "x"})
    assert response.status_code == 200


def test_sub_branch_filter_of_another_branch_finds_nothing(cast: Cast) -> None:
    response = cast.client("head").get("/customers/", {"sub_branch": str(cast.sub_b.pk)})
    assert response.status_code == 200
    assert "赵*".encode() not in response.content


def test_htmx_refresh_returns_only_the_table(cast: Cast) -> None:
    response = cast.client("head").get("/customers/", {"q": "zhangsan"}, HTTP_HX_REQUEST="true")
    assert b"<html" not in response.content
    assert b"customer-table" in response.content


def test_sort_by_aum_descending(cast: Cast) -> None:
    rich = f.CustomerFactory(sub_branch=cast.sub, owner=cast.staff["mgr"], name="钱多多", aum=10**7)
    response = cast.client("mgr").get("/customers/", {"sort": "-aum"})
    rows = list(response.context["page"])
    assert rows[0].pk == rich.pk


def test_customer_list_query_count_is_pinned(cast: Cast, django_assert_max_num_queries) -> None:  # type: ignore[no-untyped-def]
    for i in range(30):
        customer = f.CustomerFactory(sub_branch=cast.sub, owner=cast.staff["mgr"], name=f"客户{i}")
        f.ContactPointFactory(customer=customer)
        f.CreditLineFactory(customer=customer)
    client = cast.client("head")
    # Constant whatever the page holds: session, user, staff, count, rows, 2 prefetches, filter choices,
    # header, session save. 30 rows on the page would be 60+ queries with an N+1.
    with django_assert_max_num_queries(15):
        client.get("/customers/")
