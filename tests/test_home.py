"""The home page computes its figures from the scoped data."""

from __future__ import annotations

from decimal import Decimal

from tests import factories as f
from tests.conftest import Cast
from xiaodai.customers.models import Customer
from xiaodai.reports.selectors import portfolio


def test_branch_head_totals_match_the_data(cast: Cast) -> None:
    response = cast.client("head").get("/")
    total = response.context["total"]
    assert total.customers == 3  # own, team, other_team; not the other branch's
    assert total.limit == Decimal("600000.00")
    assert total.consumer_balance == Decimal("240000.00")


def test_branch_head_sees_rows_per_sub_branch_and_team(cast: Cast) -> None:
    response = cast.client("head").get("/")
    assert [g.label for g in response.context["groups"]] == ["西湖支行"]
    assert {t.label for t in response.context["teams"]} == {"西湖一组", "西湖二组"}


def test_team_lead_sees_rows_per_person(cast: Cast) -> None:
    response = cast.client("lead").get("/")
    assert {g.label: g.customers for g in response.context["groups"]} == {"mgr": 1, "tele": 1}


def test_manager_sees_own_portfolio(cast: Cast) -> None:
    f.CreditLineFactory(customer=cast.customers["own"], limit=Decimal("50000"), drawn=Decimal("20000"))
    total = cast.client("mgr").get("/").context["total"]
    assert (total.customers, total.lines, total.drawn) == (1, 2, Decimal("20000.00"))


def test_group_totals_add_up_to_the_ungrouped_total(cast: Cast) -> None:
    customers = Customer.objects.for_staff(cast.user("head"))
    whole, _ = portfolio(customers, None)
    grouped_total, groups = portfolio(customers, "owner__team__name")
    assert (grouped_total.customers, grouped_total.limit) == (whole.customers, whole.limit)
    assert sum(g.customers for g in groups) == whole.customers


def test_settled_loans_are_not_in_the_balance(cast: Cast) -> None:
    f.LoanFactory(customer=cast.customers["own"], status="settled", balance=Decimal("5000"))
    total = cast.client("mgr").get("/").context["total"]
    assert total.consumer_balance == Decimal("80000.00")


def test_ops_admin_home_shows_staff_not_customers(cast: Cast) -> None:
    response = cast.client("ops").get("/")
    assert response.context["mode"] == "staff"
    assert response.context["staff_total"] == 11
    assert "total" not in response.context


def test_auditor_home_shows_audit_figures(cast: Cast) -> None:
    cast.client("mgr").get(f"/customers/{cast.customers['own'].pk}/")
    response = cast.client("auditor").get("/")
    assert response.context["mode"] == "audit"
    assert response.context["audit_total"] >= 1


def test_home_query_count_is_constant(cast: Cast, django_assert_max_num_queries) -> None:  # type: ignore[no-untyped-def]
    for i in range(20):
        f.CreditLineFactory(
            customer=f.CustomerFactory(sub_branch=cast.sub, owner=cast.staff["mgr"], name=f"客{i}")
        )
    client = cast.client("head")
    with django_assert_max_num_queries(15):
        client.get("/")


def test_post_loan_home_counts_the_open_alerts(cast: Cast) -> None:
    from tests.factories_signals import FlowAlertFactory

    FlowAlertFactory(customer=cast.customers["own"])
    FlowAlertFactory(customer=cast.customers["other_branch"])  # another branch's: not counted
    response = cast.client("postloan").get("/")
    assert response.context["mode"] == "alerts"
    assert response.context["alerts"]["open"] == 1
