"""Bulk allocation (行内分配): the preview's figures, owners, capacity, the control group, the lead's reach,
the commit, the pages and the API."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import pytest
from django.db.models import Count
from django.test import Client
from django.utils import timezone

from tests.conftest import Cast
from tests.factories_allocation import AssignmentFactory, many_unowned, publish, unowned
from xiaodai.allocation import choices as c
from xiaodai.allocation import services
from xiaodai.allocation.exceptions import AllocationError, OverCapacity
from xiaodai.allocation.models import AllocationBatch, Assignment
from xiaodai.allocation.planning import AllocationParams, Plan, plan_allocation
from xiaodai.allocation.services import allocate_customers, claim_policy
from xiaodai.audit.choices import Action
from xiaodai.audit.models import AuditEvent
from xiaodai.customers.models import Customer
from xiaodai.org.models import Staff
from xiaodai.org.services import issue_api_token

SEED = 20261129


def _scene(cast: Cast, n: int = 10) -> list[Customer]:
    """`n` unowned customers of the cast's sub-branch (EV 1000, 900, ...), mgr's own (EV 550) and mgr2's
    (EV 450) customers, all workable in approved_undrawn."""
    customers = unowned(cast.sub, n)
    rows: list[tuple[Customer, str, float | None]] = [
        (cust, "approved_undrawn", 1000.0 - 100 * i) for i, cust in enumerate(customers)
    ]
    rows += [
        (cast.customers["own"], "approved_undrawn", 550.0),
        (cast.customers["other_team"], "approved_undrawn", 450.0),
    ]
    publish(cast.branch, rows)
    return customers


def _people(cast: Cast, *names: str, **kw: Any) -> AllocationParams:
    return AllocationParams(people=tuple(cast.staff[n].pk for n in names), **kw)


def _plan(cast: Cast, params: AllocationParams, who: str = "head", seed: int = SEED) -> Plan:
    return plan_allocation(cast.staff[who], params, seed=seed)


def _row(plan: Plan, staff: Staff) -> Any:
    return next(r for r in plan.rows if r.staff_id == staff.pk)


# --- planning -------------------------------------------------------------------------------------------


def test_the_preview_splits_by_room_and_gives_owned_customers_to_their_owner(cast: Cast) -> None:
    _scene(cast)
    plan = _plan(cast, _people(cast, "tele", "mgr2"))
    tele, mgr2, mgr = (_row(plan, cast.staff[n]) for n in ("tele", "mgr2", "mgr"))
    assert (tele.new, mgr2.new, mgr.new) == (6, 5, 1)  # mgr2's own customer counts in their room
    assert (mgr2.to_owner, mgr.to_owner) == (1, 1)
    assert mgr.target is False  # on the table only as an owner
    assert (tele.capacity, tele.daily, tele.existing) == (400, 80, 0)
    assert (plan.allocated, plan.to_owner, plan.held_back, plan.skipped_total) == (12, 2, 0, 0)


def test_best_expected_value_goes_first(cast: Cast) -> None:
    customers = _scene(cast)
    plan = _plan(cast, _people(cast, "tele", "mgr2", capacity=1, days=1, cap=True))
    targets = {cast.staff["tele"].pk, cast.staff["mgr2"].pk}
    assert [p[0] for p in plan.picks if p[1] in targets] == [customers[0].pk, customers[1].pk]


def test_existing_work_counts_against_capacity(cast: Cast) -> None:
    _scene(cast)
    for cust in unowned(cast.sub, 3):
        AssignmentFactory(customer=cust, staff=cast.staff["tele"])
    plan = _plan(cast, _people(cast, "tele", "mgr2", capacity=2, days=2))
    tele = _row(plan, cast.staff["tele"])
    assert (tele.existing, tele.new, tele.total, tele.room) == (3, 4, 7, -3)


def test_customers_someone_works_are_skipped(cast: Cast) -> None:
    customers = _scene(cast)
    AssignmentFactory(customer=customers[0], staff=cast.staff["lobby"])
    plan = _plan(cast, _people(cast, "tele"))
    assert plan.skipped["worked"] == 1
    assert customers[0].pk not in [p[0] for p in plan.picks]


def test_an_inactive_owner_keeps_their_customer_out_of_the_allocation(cast: Cast) -> None:
    _scene(cast)
    user = cast.user("mgr2")
    user.is_active = False
    user.save()
    plan = _plan(cast, _people(cast, "tele"))
    assert plan.skipped["owner_unavailable"] == 1
    assert cast.customers["other_team"].pk not in [p[0] for p in plan.picks]


def test_unworkable_members_are_counted_as_skipped(cast: Cast) -> None:
    customers = _scene(cast)
    Customer.objects.filter(pk=customers[0].pk).update(is_vulnerable=True)
    plan = _plan(cast, _people(cast, "tele"))
    assert plan.skipped["not_workable"] == 1
    assert plan.allocated == 11


def test_the_score_band_and_sub_branch_filter(cast: Cast) -> None:
    _scene(cast)
    banded = _plan(cast, _people(cast, "tele", prob_min=0.05, prob_max=0.08))  # EV 500–800 → 5.0 %–8.0 %
    assert banded.allocated == 4 + 1  # 800, 700, 600, 500 and mgr's own at 550
    ev = _plan(cast, _people(cast, "tele", ev_min=Decimal("900")))
    assert ev.allocated == 2


def test_only_unworked_leaves_out_customers_contacted_before(cast: Cast) -> None:
    customers = _scene(cast)
    AssignmentFactory(
        customer=customers[0],
        staff=cast.staff["tele"],
        status=c.Status.EXPIRED,
        last_contact_at=timezone.now(),
    )
    plan = _plan(cast, _people(cast, "tele", only_unworked=True))
    assert customers[0].pk not in [p[0] for p in plan.picks]
    assert _plan(cast, _people(cast, "tele")).allocated == 12


def test_teams_split_across_members_who_work_calls(cast: Cast) -> None:
    _scene(cast)
    plan = _plan(cast, AllocationParams(target=c.Target.TEAMS, teams=(cast.t1.pk,)))
    targets = {r.staff_id for r in plan.rows if r.target}
    assert targets == {cast.staff[n].pk for n in ("lead", "mgr", "tele")}


def test_the_control_group_is_a_deterministic_share_held_back(cast: Cast) -> None:
    many_unowned(cast.branch, cast.sub, 400)
    params = _people(cast, "tele", "mgr2", control_share=Decimal("0.25"))
    first, again, other = _plan(cast, params), _plan(cast, params), _plan(cast, params, seed=SEED + 1)
    held = {p[0] for p in first.picks if p[3]}
    assert held == {p[0] for p in again.picks if p[3]}
    assert held != {p[0] for p in other.picks if p[3]}
    assert 70 <= len(held) <= 130  # about a quarter of 400
    assert first.held_back == len(held)
    tele = _row(first, cast.staff["tele"])
    assert tele.new + tele.control == sum(1 for p in first.picks if p[1] == tele.staff_id)


def test_the_control_share_defaults_to_the_branch_setting(cast: Cast) -> None:
    _scene(cast)
    policy = claim_policy(cast.branch.pk)
    policy.control_share = Decimal("0.1")
    policy.save()
    assert _plan(cast, _people(cast, "tele")).control_share == Decimal("0.1")


def test_a_team_lead_reaches_only_their_team_and_their_sub_branchs_unowned(cast: Cast) -> None:
    customers = _scene(cast)
    plan = _plan(cast, _people(cast, "tele"), who="lead")
    picked = {p[0] for p in plan.picks}
    assert picked == {cust.pk for cust in customers} | {cast.customers["own"].pk}
    with pytest.raises(AllocationError) as exc:
        _plan(cast, _people(cast, "mgr2"), who="lead")
    assert exc.value.code == "bad_target"
    with pytest.raises(AllocationError):
        _plan(cast, AllocationParams(target=c.Target.TEAMS, teams=(cast.t2.pk,)), who="lead")


def test_a_manager_may_not_allocate(cast: Cast) -> None:
    _scene(cast)
    with pytest.raises(AllocationError) as exc:
        _plan(cast, _people(cast, "tele"), who="mgr")
    assert exc.value.code == "forbidden"


# --- committing -----------------------------------------------------------------------------------------


def test_commit_writes_the_batch_the_assignments_and_who_works_each_customer(cast: Cast) -> None:
    customers = _scene(cast)
    params = _people(cast, "tele", "mgr2", control_share=Decimal("0.3"))
    plan = _plan(cast, params)
    batch = allocate_customers(cast.staff["head"], params, seed=SEED)
    assert (batch.allocated, batch.to_owner, batch.held_back) == (12, 2, plan.held_back)
    rows = Assignment.objects.filter(batch=batch)
    assert {(a.customer_id, a.staff_id, a.pool, a.control) for a in rows} == set(plan.picks)
    assert all(a.kind == c.Kind.ALLOCATION and a.status == c.Status.ACTIVE for a in rows)
    assert rows.get(customer=cast.customers["own"]).staff == cast.staff["mgr"]
    workers = dict(Customer.objects.filter(pk__in=[x.pk for x in customers]).values_list("pk", "worker_id"))
    assert workers == {a.customer_id: a.staff_id for a in rows if a.customer_id in workers}
    [event] = AuditEvent.objects.filter(action=Action.ALLOCATE)
    assert event.detail["allocated"] == 12
    assert event.object_id == str(batch.pk)


def test_over_capacity_names_who_by_how_much_and_writes_nothing(cast: Cast) -> None:
    _scene(cast)
    with pytest.raises(OverCapacity) as exc:
        allocate_customers(cast.staff["head"], _people(cast, "tele", "mgr2", capacity=1, days=2), seed=SEED)
    assert "tele 超出容量 4 人（分配 6 / 容量 2）" in exc.value.message
    assert "mgr2 超出容量 3 人（分配 5 / 容量 2）" in exc.value.message
    assert not Assignment.objects.exists()
    assert not AllocationBatch.objects.exists()
    assert Customer.objects.filter(worker__isnull=False).count() == 0


def test_cap_at_capacity_allocates_up_to_capacity_and_skips_the_rest(cast: Cast) -> None:
    _scene(cast)
    params = _people(cast, "tele", "mgr2", capacity=1, days=2, cap=True)
    batch = allocate_customers(cast.staff["head"], params, seed=SEED)
    per_person = dict(
        Assignment.objects.filter(batch=batch)
        .values("staff__name")
        .annotate(n=Count("id"))
        .values_list("staff__name", "n")
    )
    assert per_person == {"tele": 2, "mgr2": 2, "mgr": 1}
    assert (batch.allocated, batch.skipped) == (5, 7)


def test_a_customer_claimed_while_the_allocation_is_written_keeps_their_claim(
    cast: Cast, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The plan was read, then somebody claimed one of its customers: the insert skips that customer (the
    unique index), the batch counts it as skipped and the claimer stays the customer's worker."""
    customers = _scene(cast)
    planned = services.plan_allocation

    def plan_then_someone_claims(*args: Any, **kwargs: Any) -> Plan:
        plan = planned(*args, **kwargs)
        AssignmentFactory(customer=customers[0], staff=cast.staff["lobby"])
        return plan

    monkeypatch.setattr(services, "plan_allocation", plan_then_someone_claims)
    batch = allocate_customers(cast.staff["head"], _people(cast, "tele", "mgr2"), seed=SEED)
    assert (batch.allocated, batch.skipped, batch.to_owner) == (11, 1, 2)
    assert Customer.objects.get(pk=customers[0].pk).worker == cast.staff["lobby"]
    assert Customer.objects.get(pk=customers[1].pk).worker == cast.staff["mgr2"]


def test_committing_nothing_is_refused(cast: Cast) -> None:
    _scene(cast)
    with pytest.raises(AllocationError) as exc:
        allocate_customers(cast.staff["head"], _people(cast, "tele", ev_min=Decimal("99999")), seed=SEED)
    assert exc.value.code == "nothing_to_allocate"


# --- the pages ------------------------------------------------------------------------------------------


def _form(cast: Cast, *names: str, **extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"target": "people", "people": [cast.staff[n].pk for n in names], "days": "5"}
    data["seed"] = str(SEED)
    data.update(extra)
    return data


def test_the_page_previews_then_commits(cast: Cast) -> None:
    _scene(cast)
    client = cast.client("head")
    assert client.get("/allocation/").status_code == 200
    preview = client.post("/allocation/", _form(cast, "tele", "mgr2", preview="1"))
    assert preview.context["plan"].allocated == 12
    assert 'data-testid="fig-allocated">12<' in preview.content.decode()
    assert not Assignment.objects.exists()
    fingerprint = preview.context["fingerprint"]
    done = client.post("/allocation/", _form(cast, "tele", "mgr2", commit="1", previewed=fingerprint))
    batch = AllocationBatch.objects.get()
    assert done["Location"] == f"/allocation/batches/{batch.pk}/"
    assert batch.allocated == 12


def test_a_commit_after_changing_the_settings_previews_again(cast: Cast) -> None:
    _scene(cast)
    client = cast.client("head")
    fingerprint = client.post("/allocation/", _form(cast, "tele", preview="1")).context["fingerprint"]
    response = client.post("/allocation/", _form(cast, "tele", "mgr2", commit="1", previewed=fingerprint))
    assert response.status_code == 200
    assert response.context["plan"] is not None
    assert "预览后条件已更改" in response.content.decode()
    assert not AllocationBatch.objects.exists()


def test_the_page_says_who_is_over_capacity(cast: Cast) -> None:
    _scene(cast)
    client = cast.client("head")
    form = _form(cast, "tele", "mgr2", capacity="1", days="2")
    fingerprint = client.post("/allocation/", form | {"preview": "1"}).context["fingerprint"]
    response = client.post("/allocation/", form | {"commit": "1", "previewed": fingerprint})
    text = response.content.decode()
    assert "tele 超出容量 4 人（分配 6 / 容量 2）" in text
    assert not AllocationBatch.objects.exists()


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"people": []}, "people"),
        ({"target": "teams"}, "teams"),
        ({"prob_min": "50", "prob_max": "10"}, "prob_max"),
        ({"days": "0"}, "days"),
        ({"control_share": "80"}, "control_share"),
        ({"capacity": "-3"}, "capacity"),
    ],
)
def test_bad_allocation_input_is_refused_with_a_message(
    cast: Cast, extra: dict[str, Any], field: str
) -> None:
    response = cast.client("head").post("/allocation/", _form(cast, "tele", preview="1") | extra)
    assert field in response.context["form"].errors
    assert f'data-testid="error-{field}"' in response.content.decode()


def test_a_lead_sees_only_their_team_as_targets(cast: Cast) -> None:
    form = cast.client("lead").get("/allocation/").context["form"]
    names = {label.split(" · ")[0] for _pk, label in form.fields["people"].choices}
    assert names == {"lead", "mgr", "tele"}
    assert [t for _pk, t in form.fields["teams"].choices] == [cast.t1.name]


def test_a_lead_choosing_someone_outside_the_team_is_refused(cast: Cast) -> None:
    response = cast.client("lead").post("/allocation/", _form(cast, "mgr2", preview="1"))
    assert "people" in response.context["form"].errors


def test_the_history_and_the_batch_page_show_the_figures(cast: Cast) -> None:
    _scene(cast)
    batch = allocate_customers(cast.staff["head"], _people(cast, "tele", "mgr2"), seed=SEED)
    client = cast.client("head")
    listing = client.get("/allocation/batches/")
    assert [b.pk for b in listing.context["page"]] == [batch.pk]
    detail = client.get(f"/allocation/batches/{batch.pk}/").content.decode()
    assert re.search(r'data-testid="fig-allocated">12<', detail)
    assert "tele" in detail
    assert "mgr2" in detail


def test_another_branchs_batch_is_404(cast: Cast) -> None:
    _scene(cast)
    batch = allocate_customers(cast.staff["head"], _people(cast, "tele"), seed=SEED)
    assert cast.client("head_b").get(f"/allocation/batches/{batch.pk}/").status_code in (403, 404)


# --- the API --------------------------------------------------------------------------------------------


def _api(cast: Cast, who: str) -> Client:
    token = issue_api_token(None, cast.staff[who], "test")
    return Client(headers={"Authorization": f"Bearer {token}"})


def test_the_api_previews_and_commits_the_same_allocation(cast: Cast) -> None:
    _scene(cast)
    client = _api(cast, "head")
    body = {"people": [cast.staff["tele"].pk, cast.staff["mgr2"].pk], "control_share": "20"}
    preview = client.post("/api/v1/allocations/preview", body, content_type="application/json").json()
    assert (preview["allocated"], preview["to_owner"]) == (12, 2)
    committed = client.post(
        "/api/v1/allocations", body | {"seed": preview["seed"]}, content_type="application/json"
    )
    assert committed.status_code == 201
    batch = AllocationBatch.objects.get(pk=committed.json()["id"])
    assert batch.held_back == preview["held_back"]


def test_the_api_reports_over_capacity_as_409(cast: Cast) -> None:
    _scene(cast)
    body = {"people": [cast.staff["tele"].pk], "capacity": 1, "days": 1}
    response = _api(cast, "head").post("/api/v1/allocations", body, content_type="application/json")
    assert response.status_code == 409
    assert "tele 超出容量" in response.json()["detail"]


def test_the_api_refuses_allocation_to_a_manager_with_403(cast: Cast) -> None:
    body = {"people": [cast.staff["tele"].pk]}
    response = _api(cast, "mgr").post("/api/v1/allocations/preview", body, content_type="application/json")
    assert response.status_code == 403
