"""The workbench pages: today's list (eligible, ordered, sized), the call screen, save-and-next, reveal,
the contact-rules page; scope (404) and bad input through the pages."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest

from tests import factories as f
from tests.conftest import Cast
from tests.outreach_data import NOW, assign, frozen, score, workable_customer
from xiaodai.audit.models import AuditEvent
from xiaodai.customers.models import Customer
from xiaodai.outreach.models import ContactPolicy, FollowUp, Outcome


@pytest.fixture(autouse=True)
def _in_the_window() -> Any:
    with frozen():
        yield


def _post(cast: Cast, who: str, customer_id: int, **fields: str) -> Any:
    data = {"token": str(uuid.uuid4()), "channel": "phone", "outcome": "no_answer"} | fields
    return cast.client(who).post(f"/work/call/{customer_id}/", data)


def test_list_orders_due_follow_ups_first_then_expected_value(cast: Cast) -> None:
    tele = cast.staff["tele"]
    low, high, due = (workable_customer(tele, name=n) for n in ("低分", "高分", "回访"))
    score(low, "100")
    score(high, "900")
    score(due, "50")
    source = Outcome.objects.create(
        token=uuid.uuid4(), branch=cast.branch, customer=due, staff=tele, channel="phone",
        occurred_at=NOW - dt.timedelta(days=3), outcome="not_now",
    )  # fmt: skip
    FollowUp.objects.create(
        branch=cast.branch, customer=due, staff=tele, channel="phone", due_on=NOW.date(), source=source
    )
    rows = cast.client("tele").get("/work/").context["list"].rows
    assert [r.customer.pk for r in rows] == [due.pk, high.pk, low.pk]


def test_list_leaves_out_the_control_group_and_the_unconsented(cast: Cast) -> None:
    tele = cast.staff["tele"]
    kept = workable_customer(tele, name="保留")
    held = workable_customer(tele, name="对照")
    held.assignments.update(control=True)
    no_consent = f.CustomerFactory(sub_branch=cast.sub, name="无授权")
    assign(no_consent, tele)
    rows = cast.client("tele").get("/work/").context["list"].rows
    assert [r.customer.pk for r in rows] == [kept.pk]


def test_list_is_sized_to_the_daily_workload(cast: Cast) -> None:
    tele = cast.staff["tele"]
    tele.daily_capacity = 2
    tele.save()
    for n in range(3):
        workable_customer(tele, name=f"客户{n}")
    listing = cast.client("tele").get("/work/").context["list"]
    assert (len(listing.rows), listing.total) == (2, 3)


def test_list_query_count_is_pinned(cast: Cast, django_assert_max_num_queries: Any) -> None:
    tele = cast.staff["tele"]
    for n in range(8):
        score(workable_customer(tele, name=f"客户{n}"), str(100 * n))
    client = cast.client("tele")
    client.get("/work/")
    with django_assert_max_num_queries(14):
        response = client.get("/work/")
    assert len(response.context["list"].rows) == 8


def test_call_screen_shows_masked_phone_and_the_rules(cast: Cast) -> None:
    customer = workable_customer(cast.staff["tele"])
    phone = customer.contact_points.get().value
    body = cast.client("tele").get(f"/work/call/{customer.pk}/").content.decode()
    assert phone not in body
    assert phone[-4:] in body
    assert 'data-testid="rule-problems"' not in body


def test_call_screen_of_another_branch_is_404(cast: Cast) -> None:
    response = cast.client("tele").get(f"/work/call/{cast.customers['other_branch'].pk}/")
    assert response.status_code == 404


def test_call_screen_of_a_customer_out_of_scope_is_404(cast: Cast) -> None:
    response = cast.client("tele").get(f"/work/call/{cast.customers['other_team'].pk}/")
    assert response.status_code == 404


def test_save_moves_to_the_next_customer(cast: Cast) -> None:
    tele = cast.staff["tele"]
    first, second = workable_customer(tele, name="甲"), workable_customer(tele, name="乙")
    score(first, "900")
    score(second, "100")
    response = _post(cast, "tele", first.pk, outcome="busy")
    assert response.status_code == 302
    assert response["Location"] == f"/work/call/{second.pk}/?channel=phone"
    assert Outcome.objects.get(customer=first).outcome == "busy"


def test_save_of_the_last_customer_goes_back_to_the_list(cast: Cast) -> None:
    customer = workable_customer(cast.staff["tele"])
    response = _post(cast, "tele", customer.pk)
    assert response["Location"] == "/work/?channel=phone"


def test_save_outside_scope_is_404_and_writes_nothing(cast: Cast) -> None:
    target = cast.customers["other_team"]
    f.ConsentFactory(customer=target)
    response = _post(cast, "tele", target.pk)
    assert response.status_code == 404
    assert not Outcome.objects.filter(customer=target).exists()


def test_double_click_saves_once_and_moves_on(cast: Cast) -> None:
    customer = workable_customer(cast.staff["tele"])
    token = str(uuid.uuid4())
    _post(cast, "tele", customer.pk, token=token)
    second = _post(cast, "tele", customer.pk, token=token)
    assert second.status_code == 302
    assert Outcome.objects.filter(customer=customer).count() == 1


def test_refused_save_shows_why_and_is_audited(cast: Cast) -> None:
    customer = workable_customer(cast.staff["tele"])
    f.OptOutFactory(customer=customer, channel="", recorded_at=NOW - dt.timedelta(days=1))
    response = _post(cast, "tele", customer.pk)
    assert response.status_code == 400
    assert "opted out" in response.content.decode() or "退出" in response.content.decode()
    assert not Outcome.objects.filter(customer=customer).exists()
    assert (
        AuditEvent.objects.filter(action="outreach.outcome_refused", object_id=str(customer.pk)).count() == 1
    )


def test_save_outside_the_window_is_refused(cast: Cast) -> None:
    customer = workable_customer(cast.staff["tele"])
    with frozen(dt.datetime(2026, 11, 30, 20, 30, tzinfo=NOW.tzinfo)):
        response = _post(cast, "tele", customer.pk)
    assert response.status_code == 400
    assert not Outcome.objects.filter(customer=customer).exists()


def test_save_with_a_past_follow_up_is_refused(cast: Cast) -> None:
    customer = workable_customer(cast.staff["tele"])
    response = _post(cast, "tele", customer.pk, outcome="not_now", follow_up_on="2026-11-01")
    assert response.status_code == 400
    assert not Outcome.objects.filter(customer=customer).exists()


def test_save_with_an_unknown_outcome_code_is_refused(cast: Cast) -> None:
    customer = workable_customer(cast.staff["tele"])
    assert _post(cast, "tele", customer.pk, outcome="hung_up_angrily").status_code == 400
    assert not Outcome.objects.filter(customer=customer).exists()


def test_reveal_from_the_call_screen_is_audited(cast: Cast) -> None:
    customer = workable_customer(cast.staff["tele"])
    client = cast.client("tele")
    client.post(f"/work/call/{customer.pk}/reveal/", {"channel": "phone"})
    assert AuditEvent.objects.filter(action="customer.reveal", object_id=str(customer.pk)).count() == 1
    assert customer.contact_points.get().value in client.get(f"/work/call/{customer.pk}/").content.decode()


def test_contact_rules_are_saved_as_a_new_version(cast: Cast) -> None:
    data = {
        "window_start": "09:30", "window_end": "19:00", "refusal_freeze_days": "200",
        "phone_per_day": "1", "phone_per_30d": "6", "visit_per_day": "1", "visit_per_30d": "4",
        "wechat_per_day": "2", "wechat_per_30d": "10",
    }  # fmt: skip
    response = cast.client("head").post("/work/rules/", data)
    assert response.status_code == 302
    policy = ContactPolicy.objects.get(branch=cast.branch)
    assert (policy.version, policy.phone_per_day, policy.window_start) == (2, 1, dt.time(9, 30))
    assert AuditEvent.objects.filter(action="outreach.policy").count() == 1


@pytest.mark.parametrize(
    ("field", "value"), [("window_end", "08:00"), ("phone_per_day", "0"), ("refusal_freeze_days", "-5")]
)
def test_bad_contact_rules_change_nothing(cast: Cast, field: str, value: str) -> None:
    data = {
        "window_start": "09:00", "window_end": "20:00", "refusal_freeze_days": "180",
        "phone_per_day": "2", "phone_per_30d": "8", "visit_per_day": "1", "visit_per_30d": "4",
        "wechat_per_day": "3", "wechat_per_30d": "12",
    } | {field: value}  # fmt: skip
    response = cast.client("head").post("/work/rules/", data)
    assert response.status_code == 400
    assert not ContactPolicy.objects.filter(branch=cast.branch, version__gt=1).exists()


def test_a_follow_up_of_a_customer_no_longer_yours_leaves_the_list(cast: Cast) -> None:
    """A claim that lapsed or was handed on takes the customer off the person's list, follow-up or not."""
    tele = cast.staff["tele"]
    kept, gone = workable_customer(tele, name="留下"), workable_customer(tele, name="移走")
    for customer in (kept, gone):
        source = Outcome.objects.create(
            token=uuid.uuid4(), branch=cast.branch, customer=customer, staff=tele, channel="phone",
            occurred_at=NOW - dt.timedelta(days=3), outcome="not_now",
        )  # fmt: skip
        FollowUp.objects.create(
            branch=cast.branch,
            customer=customer,
            staff=tele,
            channel="phone",
            due_on=NOW.date(),
            source=source,
        )
    gone.assignments.update(status="lapsed")
    Customer.objects.filter(pk=gone.pk).update(worker=None)
    response = cast.client("tele").get("/work/")
    assert [r.customer.pk for r in response.context["list"].rows] == [kept.pk]
    assert [fu.customer_id for fu in response.context["follow_ups"]] == [kept.pk]
