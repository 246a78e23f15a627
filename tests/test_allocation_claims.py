"""Claims (认领): who may claim what, the limit, release, the claimable and my-claims pages, the API."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from tests import factories as f
from tests.conftest import Cast
from tests.factories_allocation import AssignmentFactory, claim_scene, publish, unowned
from xiaodai.allocation import choices as c
from xiaodai.allocation.exceptions import AllocationError
from xiaodai.allocation.models import Assignment
from xiaodai.allocation.services import claim_customers, claim_policy, release_claim
from xiaodai.audit.choices import Action
from xiaodai.audit.models import AuditEvent
from xiaodai.customers.models import Customer, OptOut
from xiaodai.org.services import issue_api_token
from xiaodai.pools.choices import Block
from xiaodai.pools.models import PoolMember

API = "/api/v1"


def _worker(customer: Customer) -> int | None:
    return Customer.objects.values_list("worker_id", flat=True).get(pk=customer.pk)


def _codes(results: list[Any]) -> dict[int, str]:
    return {r.customer_id: r.code for r in results}


# --- the service ---------------------------------------------------------------------------------------


def test_a_claim_creates_an_active_assignment_with_its_dates_and_sets_the_worker(cast: Cast) -> None:
    first, *_ = claim_scene(cast)
    mgr = cast.staff["mgr"]
    [result] = claim_customers(mgr, [first.pk])
    assert result.ok
    assert result.code == "claimed"
    a = Assignment.objects.get(customer=first)
    policy = claim_policy(cast.branch.pk)
    today = timezone.localdate()
    assert (a.staff, a.kind, a.status, a.pool) == (mgr, c.Kind.CLAIM, c.Status.ACTIVE, "approved_undrawn")
    assert a.protected_until == today + dt.timedelta(days=policy.protection_days)
    assert a.lapses_on == today + dt.timedelta(days=policy.lapse_days)
    assert a.team == cast.t1
    assert _worker(first) == mgr.pk


def test_a_claimed_customer_enters_the_claimers_scope(cast: Cast) -> None:
    first, *_ = claim_scene(cast)
    assert not Customer.objects.for_staff(cast.user("tele")).filter(pk=first.pk).exists()
    claim_customers(cast.staff["tele"], [first.pk])
    assert Customer.objects.for_staff(cast.user("tele")).filter(pk=first.pk).exists()


def test_a_manager_may_claim_their_own_customer(cast: Cast) -> None:
    claim_scene(cast)
    [result] = claim_customers(cast.staff["mgr"], [cast.customers["own"].pk])
    assert result.ok


def test_someone_elses_customer_is_refused(cast: Cast) -> None:
    claim_scene(cast)
    [result] = claim_customers(cast.staff["mgr"], [cast.customers["other_team"].pk])
    assert (result.ok, result.code) == (False, "owned")
    assert "管户人" in result.message
    assert not Assignment.objects.exists()


def test_another_branchs_customer_is_refused_like_one_that_does_not_exist(cast: Cast) -> None:
    claim_scene(cast)
    results = claim_customers(cast.staff["mgr"], [cast.customers["other_branch"].pk, 99999999])
    assert {r.code for r in results} == {"not_found"}
    assert _worker(cast.customers["other_branch"]) is None


def test_another_sub_branchs_unowned_customer_is_refused(cast: Cast) -> None:
    claim_scene(cast)
    elsewhere = unowned(f.SubBranchFactory(branch=cast.branch), 1)[0]
    publish(cast.branch, [(elsewhere, "approved_undrawn", 100.0)])
    [result] = claim_customers(cast.staff["mgr"], [elsewhere.pk])
    assert result.code == "other_sub_branch"


def test_the_branch_head_may_claim_in_any_sub_branch(cast: Cast) -> None:
    elsewhere = unowned(f.SubBranchFactory(branch=cast.branch), 1)[0]
    publish(cast.branch, [(elsewhere, "approved_undrawn", 100.0)])
    [result] = claim_customers(cast.staff["head"], [elsewhere.pk])
    assert result.ok


def test_a_customer_someone_works_is_taken(cast: Cast) -> None:
    first, *_ = claim_scene(cast)
    claim_customers(cast.staff["tele"], [first.pk])
    [result] = claim_customers(cast.staff["mgr"], [first.pk])
    assert (result.code, result.message) == ("taken", "已被他人认领。")
    [again] = claim_customers(cast.staff["tele"], [first.pk])
    assert again.code == "already_yours"


def test_losing_the_unique_index_race_reports_taken_and_keeps_the_rest(cast: Cast) -> None:
    """An active assignment the claim did not see (another transaction's) makes the insert fail: that
    customer alone is reported taken, inside a savepoint, and the others are claimed."""
    first, second, _third = claim_scene(cast)
    AssignmentFactory(customer=first, staff=cast.staff["tele"])
    Customer.objects.filter(pk=first.pk).update(worker=None)  # as the claim would have read it a moment ago
    results = _codes(claim_customers(cast.staff["mgr"], [first.pk, second.pk]))
    assert results == {first.pk: "taken", second.pk: "claimed"}
    assert Assignment.objects.filter(status=c.Status.ACTIVE, customer=first).count() == 1


@pytest.mark.parametrize("flag", ["blocked", "vulnerable", "opted_out"])
def test_an_unworkable_customer_is_refused(cast: Cast, flag: str) -> None:
    first, *_ = claim_scene(cast)
    if flag == "blocked":
        PoolMember.objects.filter(customer=first).update(blocked=Block.NO_CONSENT)
    elif flag == "vulnerable":
        Customer.objects.filter(pk=first.pk).update(is_vulnerable=True)
    else:
        OptOut.objects.create(customer=first, channel="", recorded_at=timezone.now(), source="counter")
    [result] = claim_customers(cast.staff["mgr"], [first.pk])
    assert result.code == ("opted_out" if flag == "opted_out" else "not_workable")


def test_max_claims_stops_at_the_limit_and_says_so(cast: Cast) -> None:
    customers = claim_scene(cast, n=4)
    policy = claim_policy(cast.branch.pk)
    policy.max_claims = 3
    policy.save()
    AssignmentFactory(customer=f.CustomerFactory(sub_branch=cast.sub), staff=cast.staff["mgr"])
    results = claim_customers(cast.staff["mgr"], [cust.pk for cust in customers])
    assert [r.code for r in results] == ["claimed", "claimed", "limit", "limit"]
    assert "（3）" in results[2].message


def test_a_claim_is_one_audit_event_with_ids_and_count(cast: Cast) -> None:
    customers = claim_scene(cast)
    claim_customers(cast.staff["mgr"], [cust.pk for cust in customers] + [cast.customers["other_team"].pk])
    [event] = AuditEvent.objects.filter(action=Action.CLAIM)
    assert event.detail["count"] == 3
    assert sorted(event.detail["customer_ids"]) == sorted(cust.pk for cust in customers)
    assert event.detail["refused"] == {"owned": 1}
    assert "钱" not in str(event.detail)


def test_claiming_needs_the_permission(cast: Cast) -> None:
    first, *_ = claim_scene(cast)
    with pytest.raises(AllocationError) as exc:
        claim_customers(cast.staff["ops"], [first.pk])
    assert exc.value.code == "forbidden"


def test_an_empty_claim_is_refused(cast: Cast) -> None:
    with pytest.raises(AllocationError) as exc:
        claim_customers(cast.staff["mgr"], [])
    assert exc.value.message == "请至少选择一位客户。"


def test_release_ends_the_claim_and_clears_the_worker(cast: Cast) -> None:
    first, *_ = claim_scene(cast)
    [result] = claim_customers(cast.staff["mgr"], [first.pk])
    a = Assignment.objects.get(pk=result.assignment_id)
    release_claim(a, cast.staff["mgr"], "客户已有他行贷款")
    a.refresh_from_db()
    assert (a.status, a.ended_by, a.end_reason) == (c.Status.RELEASED, cast.staff["mgr"], "客户已有他行贷款")
    assert _worker(first) is None
    assert AuditEvent.objects.filter(action=Action.CLAIM_RELEASE, object_id=str(a.pk)).count() == 1
    [again] = claim_customers(cast.staff["tele"], [first.pk])
    assert again.ok


def test_releasing_twice_is_refused(cast: Cast) -> None:
    a = AssignmentFactory(customer=unowned(cast.sub, 1)[0], staff=cast.staff["mgr"])
    release_claim(a, cast.staff["mgr"])
    with pytest.raises(AllocationError) as exc:
        release_claim(a, cast.staff["mgr"])
    assert exc.value.code == "not_active"


def test_a_colleague_outside_the_scope_may_not_release(cast: Cast) -> None:
    a = AssignmentFactory(customer=unowned(cast.sub, 1)[0], staff=cast.staff["mgr"])
    with pytest.raises(AllocationError):
        release_claim(a, cast.staff["mgr2"])
    release_claim(a, cast.staff["lead"])  # the worker's team lead may


# --- the pages ------------------------------------------------------------------------------------------


def test_the_claimable_page_lists_unowned_workable_customers_masked_by_expected_value(cast: Cast) -> None:
    customers = claim_scene(cast)
    PoolMember.objects.filter(customer=customers[1]).update(blocked=Block.NO_CONSENT)
    page = cast.client("tele").get("/allocation/claim/")
    rows = list(page.context["page"])
    assert [m.customer_id for m in rows] == [customers[0].pk, customers[2].pk]
    html = page.content.decode()
    assert "钱*" in html
    assert "钱八" not in html
    assert cast.customers["other_team"].customer_no not in html
    assert cast.customers["own"].customer_no not in html  # owned by mgr, not by tele


def test_the_claimable_page_shows_the_viewers_own_unworked_customers(cast: Cast) -> None:
    claim_scene(cast)
    page = cast.client("mgr").get("/allocation/claim/")
    assert cast.customers["own"].pk in [m.customer_id for m in page.context["page"]]


def test_the_claimable_page_filters_by_pool_and_sorts(cast: Cast) -> None:
    customers = claim_scene(cast)
    client = cast.client("head")
    ascending = client.get("/allocation/claim/?sort=expected_value&pool=approved_undrawn")
    ids = [m.customer_id for m in ascending.context["page"]]
    assert ids[0] == customers[-1].pk
    assert client.get("/allocation/claim/?pool=current_borrower").context["page"].paginator.count == 0


def test_the_claimable_page_filters_by_sub_branch_for_the_head(cast: Cast) -> None:
    claim_scene(cast)
    other = f.SubBranchFactory(branch=cast.branch)
    elsewhere = unowned(other, 1)[0]
    PoolMember.objects.create(
        run=PoolMember.objects.filter(customer__branch=cast.branch).first().run,  # type: ignore[union-attr]
        customer=elsewhere,
        pool="approved_undrawn",
        is_primary=True,
        potential=1,
    )
    page = cast.client("head").get(f"/allocation/claim/?sub_branch={other.pk}")
    assert [m.customer_id for m in page.context["page"]] == [elsewhere.pk]
    tele = cast.client("tele").get(f"/allocation/claim/?sub_branch={other.pk}")
    assert list(tele.context["page"]) == []


def test_claim_selected_claims_and_reports(cast: Cast) -> None:
    customers = claim_scene(cast)
    client = cast.client("tele")
    response = client.post(
        "/allocation/claim/submit/",
        {
            "customer": [customers[0].pk, cast.customers["other_team"].pk, "junk"],
            "next": "/allocation/claim/",
        },
        follow=True,
    )
    text = response.content.decode()
    assert "已认领 1 位客户。" in text
    assert "1 位客户未认领：该客户已有管户人" in text
    assert _worker(customers[0]) == cast.staff["tele"].pk


def test_claim_selected_with_nothing_ticked_says_so(cast: Cast) -> None:
    response = cast.client("tele").post("/allocation/claim/submit/", {}, follow=True)
    assert "请至少选择一位客户。" in response.content.decode()


def test_claim_ignores_an_outside_next_address(cast: Cast) -> None:
    response = cast.client("tele").post("/allocation/claim/submit/", {"next": "https://evil.example/"})
    assert response["Location"] == "/allocation/claim/"


def test_my_claims_lists_my_active_assignments_with_their_dates(cast: Cast) -> None:
    customers = claim_scene(cast)
    claim_customers(cast.staff["tele"], [customers[0].pk])
    claim_customers(cast.staff["mgr"], [customers[1].pk])
    page = cast.client("tele").get("/allocation/mine/")
    rows = list(page.context["page"])
    assert [a.customer_id for a in rows] == [customers[0].pk]
    assert rows[0].lapses_on.strftime("%Y-%m-%d") in page.content.decode()


def test_a_lead_switches_to_the_teams_assignments(cast: Cast) -> None:
    customers = claim_scene(cast)
    claim_customers(cast.staff["tele"], [customers[0].pk])
    claim_customers(cast.staff["mgr2"], [customers[1].pk])
    page = cast.client("lead").get("/allocation/mine/?all=1")
    assert [a.customer_id for a in page.context["page"]] == [customers[0].pk]
    tele = cast.client("tele").get("/allocation/mine/?all=1")
    assert tele.context["wide"] is False


def test_the_release_button_releases(cast: Cast) -> None:
    customers = claim_scene(cast)
    [result] = claim_customers(cast.staff["tele"], [customers[0].pk])
    response = cast.client("tele").post(f"/allocation/{result.assignment_id}/release/", follow=True)
    assert "已释放" in response.content.decode()
    assert Assignment.objects.get(pk=result.assignment_id).status == c.Status.RELEASED


def test_releasing_someone_elses_assignment_is_404(cast: Cast) -> None:
    a = AssignmentFactory(customer=unowned(cast.sub, 1)[0], staff=cast.staff["mgr"])
    assert cast.client("mgr2").post(f"/allocation/{a.pk}/release/").status_code == 404
    assert Assignment.objects.get(pk=a.pk).status == c.Status.ACTIVE


def test_claimable_page_query_count_is_pinned(cast: Cast, django_assert_max_num_queries: Any) -> None:
    publish(
        cast.branch, [(cust, "approved_undrawn", 100.0 + i) for i, cust in enumerate(unowned(cast.sub, 30))]
    )
    client = cast.client("tele")
    client.get("/allocation/claim/")
    with django_assert_max_num_queries(14):  # 8 of them every page pays: session, user, staff, header
        assert client.get("/allocation/claim/").status_code == 200


def test_my_claims_query_count_is_pinned(cast: Cast, django_assert_max_num_queries: Any) -> None:
    for cust in unowned(cast.sub, 30):
        AssignmentFactory(customer=cust, staff=cast.staff["tele"])
    client = cast.client("tele")
    client.get("/allocation/mine/")
    with django_assert_max_num_queries(12):  # 8 of them every page pays: session, user, staff, header
        response = client.get("/allocation/mine/")
    assert response.context["page"].paginator.count == 30


# --- the API --------------------------------------------------------------------------------------------


def _api(cast: Cast, who: str) -> Client:
    token = issue_api_token(None, cast.staff[who], "test")
    return Client(headers={"Authorization": f"Bearer {token}"})


def test_the_api_claims_with_a_result_per_id(cast: Cast) -> None:
    customers = claim_scene(cast)
    ids = [customers[0].pk, cast.customers["other_branch"].pk]
    body = (
        _api(cast, "tele")
        .post(f"{API}/claims", {"customer_ids": ids}, content_type="application/json")
        .json()
    )
    assert body["claimed"] == 1
    assert [(r["customer_id"], r["ok"], r["code"]) for r in body["results"]] == [
        (customers[0].pk, True, "claimed"),
        (cast.customers["other_branch"].pk, False, "not_found"),
    ]


def test_the_api_refuses_an_empty_claim_with_400(cast: Cast) -> None:
    response = _api(cast, "tele").post(f"{API}/claims", {"customer_ids": []}, content_type="application/json")
    assert response.status_code == 400


def test_the_api_lists_my_assignments_masked(cast: Cast) -> None:
    customers = claim_scene(cast)
    claim_customers(cast.staff["tele"], [customers[0].pk])
    claim_customers(cast.staff["mgr"], [customers[1].pk])
    body = _api(cast, "tele").get(f"{API}/assignments").json()
    assert body["count"] == 1
    row = body["results"][0]
    assert (row["customer_id"], row["kind"], row["name"]) == (customers[0].pk, "claim", "钱*")
