"""The resource inventory and a pool's customers: figures and lists within the viewer's scope, filters that
cannot break the page, a fixed number of queries."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from tests import factories as f
from tests.conftest import Cast
from tests.pools_data import Member, Pools, build_pools, publish_pools
from xiaodai.pools.models import PoolFigure

INVENTORY = "/pools/"
UNDRAWN = "/pools/approved_undrawn/"


@pytest.fixture
def pools(cast: Cast) -> Pools:
    return build_pools(cast)


def _body(client: Client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def _card(body: str, code: str, figure: str) -> str:
    """The number a pool card shows for `figure` (customers, workable, potential)."""
    card = body.split(f'data-pool="{code}"', 1)[1]
    return re.search(rf'data-testid="{figure}">([^<]*)<', card).group(1)  # type: ignore[union-attr]


def _island(body: str, name: str) -> Any:
    return json.loads(
        re.search(rf'<script id="{name}" type="application/json">(.*?)</script>', body, re.S).group(1)
    )  # type: ignore[union-attr]


# --- the inventory ---------------------------------------------------------------------------------------


def test_inventory_without_a_published_run_says_so(cast: Cast) -> None:
    body = _body(cast.client("head"), INVENTORY)
    assert 'data-testid="no-run"' in body
    assert "/pipeline/" in body  # the branch head may look at the pipeline runs


def test_inventory_empty_state_has_no_pipeline_link_for_a_manager(cast: Cast) -> None:
    body = _body(cast.client("mgr"), INVENTORY)
    assert 'data-testid="no-run"' in body
    assert 'href="/pipeline/"' not in body


def test_inventory_shows_the_data_date_and_run(cast: Cast, pools: Pools) -> None:
    body = _body(cast.client("head"), INVENTORY)
    assert "2026-11-28" in body
    assert f"#{pools.run.pk}" in body


def test_branch_head_sees_every_sub_branch(cast: Cast, pools: Pools) -> None:
    client = cast.client("head")
    body = _body(client, INVENTORY)
    assert _card(body, "approved_undrawn", "customers") == "3"
    assert _card(body, "approved_undrawn", "workable") == "2"
    assert _card(body, "approved_undrawn", "potential") == "33.00"
    matrix = body.split('data-testid="matrix"', 1)[1]
    assert cast.sub.name in matrix
    assert pools.sub2.name in matrix
    assert f"/pools/approved_undrawn/?sub_branch={pools.sub2.pk}" in matrix


def test_team_lead_sees_only_their_team(cast: Cast, pools: Pools) -> None:
    body = _body(cast.client("lead"), INVENTORY)
    assert _card(body, "approved_undrawn", "customers") == "2"  # own (mgr) and team (tele), both of T1
    assert _card(body, "current_borrower", "customers") == "0"  # mgr2 is in T2
    assert pools.sub2.name not in body
    assert "mgr2" not in body
    matrix = body.split('data-testid="matrix"', 1)[1]
    assert f"owner={cast.staff['mgr'].pk}" in matrix
    assert f"owner={cast.staff['tele'].pk}" in matrix


def test_a_manager_sees_only_their_own_row(cast: Cast, pools: Pools) -> None:
    body = _body(cast.client("mgr"), INVENTORY)
    assert _card(body, "approved_undrawn", "customers") == "1"
    assert _card(body, "premium_deposit", "customers") == "1"
    assert 'data-testid="matrix"' not in body  # nothing below a person to compare
    assert "tele" not in body.split('data-testid="units"', 1)[1]


def test_figures_come_from_the_viewers_branch_run(cast: Cast, pools: Pools) -> None:
    body = _body(cast.client("head_b"), INVENTORY)
    assert _card(body, "approved_undrawn", "customers") == "1"
    assert f"#{pools.run_b.pk}" in body


def test_distinct_customers_count_each_customer_once(cast: Cast, pools: Pools) -> None:
    response = cast.client("head").get(INVENTORY)
    inv = response.context["inv"]
    assert inv.distinct_customers == 4  # own is in two pools, primary in one
    assert inv.total.customers == 5


@pytest.mark.parametrize(
    ("level", "expected", "absent"),
    [
        ("sub_branch", ["西湖支行", "滨江支行"], []),
        ("team", ["西湖一组", "西湖二组"], ["滨江支行"]),
        ("owner", ["mgr", "tele", "mgr2"], ["滨江支行"]),
    ],
)
def test_level_switcher_lists_the_units_of_the_level(
    cast: Cast, pools: Pools, level: str, expected: list[str], absent: list[str]
) -> None:
    body = _body(cast.client("head"), f"{INVENTORY}?level={level}")
    table = body.split('data-testid="unit-table"', 1)[1].split("</table>", 1)[0]
    assert all(name in table for name in expected)
    assert not any(name in table for name in absent)


def test_a_lead_cannot_switch_to_the_branch_level(cast: Cast, pools: Pools) -> None:
    response = cast.client("lead").get(f"{INVENTORY}?level=branch")
    inv = response.context["inv"]
    assert [v for v, _label in inv.levels] == ["team", "owner"]
    assert inv.level == "owner"  # the default for a lead: their people


def test_unit_table_sorts_by_a_figure(cast: Cast, pools: Pools) -> None:
    response = cast.client("head").get(f"{INVENTORY}?level=owner&sort=-potential")
    rows = [(unit.label, c.potential) for unit, c in response.context["inv"].table]
    assert [p for _label, p in rows] == sorted((p for _label, p in rows), reverse=True)
    assert rows[-1][0] == "tele"  # 5万; mgr and mgr2 hold 30万 each, mgr's deposit pool counted once
    response = cast.client("head").get(f"{INVENTORY}?level=owner&sort=potential")
    assert next(unit.label for unit, _c in response.context["inv"].table) == "tele"


def test_the_all_pools_total_counts_a_customer_once(cast: Cast, pools: Pools) -> None:
    response = cast.client("head").get(f"{INVENTORY}?level=owner")
    mgr = next(c for unit, c in response.context["inv"].table if unit.label == "mgr")
    assert (
        mgr.potential
        == mgr.primary_potential
        < sum(card.counts.potential for card in response.context["inv"].cards)
    )


def test_a_selected_pool_narrows_the_table_and_funnel(cast: Cast, pools: Pools) -> None:
    body = _body(cast.client("head"), f"{INVENTORY}?pool=current_borrower&level=owner")
    funnel = _island(body, "funnel-chart")["series"][0]["data"]
    assert [d["value"] for d in funnel] == [1, 1, 1, 1, 0, 0, 0]
    table = body.split('data-testid="unit-table"', 1)[1].split("</table>", 1)[0]
    assert f"/pools/current_borrower/?owner={cast.staff['mgr2'].pk}" in table


def test_pools_chart_lists_every_pool(cast: Cast, pools: Pools) -> None:
    chart = _island(_body(cast.client("head"), INVENTORY), "pools-chart")
    assert len(chart["yAxis"]["data"]) == 9
    assert chart["series"][0]["data"][-1] == 3  # approved_undrawn, the first pool, drawn at the top


def test_matrix_shows_potential_on_request(cast: Cast, pools: Pools) -> None:
    body = _body(cast.client("head"), f"{INVENTORY}?measure=potential")
    matrix = body.split('data-testid="matrix-table"', 1)[1]
    assert ">25.00<" in matrix  # 西湖支行's approved_undrawn: 20万 + 5万
    assert ">8.00<" in matrix  # 滨江支行's


@pytest.mark.parametrize(
    "query",
    ["?level=nope", "?pool=%00", "?sort=;drop", "?measure=x", "?level=owner&sort=-unit", "?pool=general"],
)
def test_bad_inventory_parameters_are_ignored(cast: Cast, pools: Pools, query: str) -> None:
    assert cast.client("head").get(INVENTORY + query).status_code == 200


def test_inventory_query_count_does_not_grow_with_the_branch(
    cast: Cast, pools: Pools, django_assert_max_num_queries: Any
) -> None:
    client = cast.client("head")
    # Session, user, staff, the base layout's sub-branch and branch, the session save (3); then the run, the
    # pool totals, the owner rows and the sub-branch rows of the matrix.
    with django_assert_max_num_queries(12):
        client.get(f"{INVENTORY}?level=owner")
    # Ten times the people and a row for each in every pool: still the same queries.
    extra = []
    for i in range(10):
        owner = f.StaffFactory(branch=cast.branch, sub_branch=cast.sub, team=cast.t2, name=f"员工{i}")
        customer = f.CustomerFactory(sub_branch=cast.sub, owner=owner)
        extra.append(Member(customer, "premium_card"))
    publish_pools(cast.branch, [*extra, Member(cast.customers["own"], "approved_undrawn")])
    assert PoolFigure.objects.filter(level="owner", pool="premium_card", run__is_published=True).count() == 10
    # Session, user, staff, the base layout's sub-branch and branch, the session save (3); then the run, the
    # pool totals, the owner rows and the sub-branch rows of the matrix.
    with django_assert_max_num_queries(12):
        client.get(f"{INVENTORY}?level=owner")


# --- a pool's customers ------------------------------------------------------------------------------------


def test_drill_down_lists_the_branch_members_with_masked_names(cast: Cast, pools: Pools) -> None:
    body = _body(cast.client("head"), UNDRAWN)
    table = body.split('data-testid="member-table"', 1)[1]
    for key in ("own", "team"):
        assert cast.customers[key].customer_no in table
    assert pools.walk_in.customer_no in table
    assert cast.customers["other_branch"].customer_no not in table
    assert "张*" in table
    assert "张三" not in table
    assert "孙*" in table
    assert "孙七" not in table


def test_drill_down_of_a_manager_lists_only_their_customers(cast: Cast, pools: Pools) -> None:
    body = _body(cast.client("mgr"), UNDRAWN)
    assert cast.customers["own"].customer_no in body
    assert cast.customers["team"].customer_no not in body
    assert pools.walk_in.customer_no not in body


def test_drill_down_of_a_lead_lists_their_team(cast: Cast, pools: Pools) -> None:
    body = _body(cast.client("lead"), UNDRAWN)
    assert cast.customers["own"].customer_no in body
    assert cast.customers["team"].customer_no in body
    assert pools.walk_in.customer_no not in body


def test_reason_is_worded_from_the_facts(cast: Cast, pools: Pools) -> None:
    body = _body(cast.client("mgr"), UNDRAWN)
    assert "授信20万元已闲置95天，额度到期2027-03-01" in body


def test_not_workable_members_show_why(cast: Cast, pools: Pools) -> None:
    body = _body(cast.client("head"), UNDRAWN + "?workable=0")
    assert cast.customers["team"].customer_no in body
    assert cast.customers["own"].customer_no not in body
    assert "无有效营销授权" in body or "No active marketing consent" in body


def test_sub_branch_filter(cast: Cast, pools: Pools) -> None:
    body = _body(cast.client("head"), f"{UNDRAWN}?sub_branch={pools.sub2.pk}")
    table = body.split('data-testid="member-table"', 1)[1]
    assert pools.walk_in.customer_no in table
    assert cast.customers["own"].customer_no not in table


@pytest.mark.parametrize(
    ("param", "who", "listed", "hidden"),
    [
        ("team", "t1", ["own", "team"], []),
        ("team", "t2", [], ["own", "team"]),
        ("owner", "tele", ["team"], ["own"]),
    ],
)
def test_team_and_owner_filters(
    cast: Cast, pools: Pools, param: str, who: str, listed: list[str], hidden: list[str]
) -> None:
    pk = getattr(cast, who).pk if param == "team" else cast.staff[who].pk
    table = _body(cast.client("head"), f"{UNDRAWN}?{param}={pk}").split('data-testid="member-table"', 1)[1]
    assert all(cast.customers[k].customer_no in table for k in listed)
    assert not any(cast.customers[k].customer_no in table for k in hidden)


def test_a_filter_outside_the_scope_finds_nothing(cast: Cast, pools: Pools) -> None:
    body = _body(cast.client("mgr"), f"{UNDRAWN}?owner={cast.staff['tele'].pk}")
    assert 'data-testid="empty"' in body


@pytest.mark.parametrize(
    "query",
    [
        "?sub_branch=abc",
        "?sub_branch=-1",
        "?team=1%27%20OR%201=1",
        "?owner=99999999999999999999999",
        "?workable=maybe",
        "?sort=customer__name",
        "?sub_branch=%00",
        "?page=-3",
        "?sub_branch=１",
    ],
)
def test_bad_filter_values_are_ignored(cast: Cast, pools: Pools, query: str) -> None:
    body = _body(cast.client("head"), UNDRAWN + query)
    assert pools.walk_in.customer_no in body or "?page" in query


@pytest.mark.parametrize("code", ["nope", "general", "APPROVED_UNDRAWN"])
def test_unknown_pool_is_404(cast: Cast, pools: Pools, code: str) -> None:
    assert cast.client("head").get(f"/pools/{code}/").status_code == 404


def test_drill_down_sorts_by_days(cast: Cast, pools: Pools) -> None:
    response = cast.client("head").get(UNDRAWN + "?sort=-days")
    assert [m.days for m in response.context["page"]] == [300, 95, 40]


def test_drill_down_defaults_to_largest_potential_first(cast: Cast, pools: Pools) -> None:
    response = cast.client("head").get(UNDRAWN)
    assert [m.potential for m in response.context["page"]] == [
        Decimal(200000),
        Decimal(80000),
        Decimal(50000),
    ]


def test_drill_down_pages_by_fifty(cast: Cast) -> None:
    members = [
        Member(f.CustomerFactory(sub_branch=cast.sub, owner=cast.staff["mgr"]), "premium_card")
        for _ in range(51)
    ]
    publish_pools(cast.branch, members)
    response = cast.client("head").get("/pools/premium_card/")
    assert len(response.context["page"].object_list) == 50
    assert response.context["page"].paginator.num_pages == 2


def test_drill_down_without_a_run_says_so(cast: Cast) -> None:
    body = _body(cast.client("head"), UNDRAWN)
    assert 'data-testid="empty"' in body
    assert 'data-testid="export"' not in body


def test_drill_down_query_count_does_not_grow_with_rows(
    cast: Cast, pools: Pools, django_assert_max_num_queries: Any
) -> None:
    members = []
    for i in range(30):
        owner = f.StaffFactory(branch=cast.branch, sub_branch=cast.sub, team=cast.t1, name=f"经理{i}")
        members.append(Member(f.CustomerFactory(sub_branch=cast.sub, owner=owner), "approved_undrawn"))
    publish_pools(cast.branch, members)
    client = cast.client("head")
    # Session, user, staff, the layout's sub-branch and branch, the session save (3); then the run, the
    # count, the page of members with customer, sub-branch, owner and team joined, and the sub-branch choices.
    with django_assert_max_num_queries(12):
        response = client.get(UNDRAWN)
    assert len(response.context["page"].object_list) == 30
    # The team and owner filters each read one name for their chip.
    with django_assert_max_num_queries(14):
        client.get(f"{UNDRAWN}?team={cast.t1.pk}&owner={cast.staff['mgr'].pk}")


def test_inventory_in_english_shows_the_chinese_word_beside_the_name(cast: Cast, pools: Pools) -> None:
    client = cast.client("head")
    client.post("/i18n/setlang/", {"language": "en", "next": INVENTORY})
    body = _body(client, INVENTORY)
    card = body.split('data-pool="approved_undrawn"', 1)[1].split('data-pool="', 1)[0]
    assert "Approved, not drawn" in card
    assert "已授信未用信" in card


def test_inventory_in_chinese_does_not_repeat_the_pool_name(cast: Cast, pools: Pools) -> None:
    body = _body(cast.client("head"), INVENTORY)
    card = body.split('data-pool="approved_undrawn"', 1)[1].split('data-pool="', 1)[0]
    assert card.count("已授信未用信") == 1
