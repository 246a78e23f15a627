"""Channel hand-off (攻坚 → 跟进): a strike team passes an enterprise's customers it works to a follow-up
person in one step, with one note and one deadline; bad input changes nothing."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from tests import factories as f
from tests.conftest import Cast
from tests.factories_allocation import AssignmentFactory
from xiaodai.allocation.exceptions import AllocationError
from xiaodai.allocation.models import Assignment
from xiaodai.allocation.services import hand_off_channel
from xiaodai.audit.models import AuditEvent
from xiaodai.customers.models import Customer, Enterprise


def _enterprise(cast: Cast, name: str = "西湖电子") -> Enterprise:
    return Enterprise.objects.create(branch=cast.branch, code=f"E-{name}", name=name, industry="制造")


def _worked(cast: Cast, enterprise: Enterprise | None, staff: str, n: int, **kw: Any) -> list[Customer]:
    customers = [f.CustomerFactory(sub_branch=cast.sub, payroll_enterprise=enterprise) for _ in range(n)]
    for c in customers:
        AssignmentFactory(customer=c, staff=cast.staff[staff], **kw)
    return customers


def _deadline() -> dt.date:
    return timezone.localdate() + dt.timedelta(days=14)


def test_the_channel_goes_to_the_follow_up_person(cast: Cast) -> None:
    enterprise = _enterprise(cast)
    customers = _worked(cast, enterprise, "mgr", 3)
    new = hand_off_channel(
        enterprise.pk, cast.staff["tele"], "关键人：工会王主席", _deadline(), cast.staff["mgr"]
    )
    assert len(new) == 3
    assert set(
        Customer.objects.filter(pk__in=[c.pk for c in customers]).values_list("worker", flat=True)
    ) == {cast.staff["tele"].pk}
    assert Assignment.objects.filter(status="handed_off", staff=cast.staff["mgr"]).count() == 3
    assert {a.note for a in new} == {"关键人：工会王主席"}


def test_only_the_enterprises_customers_move(cast: Cast) -> None:
    enterprise, other = _enterprise(cast), _enterprise(cast, "滨江物流")
    _worked(cast, enterprise, "mgr", 1)
    kept = _worked(cast, other, "mgr", 2) + _worked(cast, None, "mgr", 1)
    hand_off_channel(enterprise.pk, cast.staff["tele"], "交接", _deadline(), cast.staff["mgr"])
    assert set(Customer.objects.filter(pk__in=[c.pk for c in kept]).values_list("worker", flat=True)) == {
        cast.staff["mgr"].pk
    }


def test_a_manager_hands_only_their_own_work(cast: Cast) -> None:
    enterprise = _enterprise(cast)
    _worked(cast, enterprise, "mgr", 1)
    others = _worked(cast, enterprise, "mgr2", 2)  # another team's work on the same enterprise
    hand_off_channel(enterprise.pk, cast.staff["tele"], "交接", _deadline(), cast.staff["mgr"])
    assert set(Customer.objects.filter(pk__in=[c.pk for c in others]).values_list("worker", flat=True)) == {
        cast.staff["mgr2"].pk
    }


def test_control_group_customers_stay_held_back(cast: Cast) -> None:
    enterprise = _enterprise(cast)
    _worked(cast, enterprise, "mgr", 1)
    held = _worked(cast, enterprise, "mgr", 1, control=True)
    hand_off_channel(enterprise.pk, cast.staff["tele"], "交接", _deadline(), cast.staff["mgr"])
    assert Assignment.objects.get(customer=held[0], status="active").staff == cast.staff["mgr"]


def test_one_audit_event_for_the_channel(cast: Cast) -> None:
    enterprise = _enterprise(cast)
    _worked(cast, enterprise, "mgr", 2)
    hand_off_channel(enterprise.pk, cast.staff["tele"], "交接", _deadline(), cast.staff["mgr"])
    [event] = AuditEvent.objects.filter(action="allocation.handoff")
    assert (event.detail["count"], event.detail["enterprise_id"]) == (2, enterprise.pk)


@pytest.mark.parametrize(
    ("note", "days", "code"),
    [(" ", 14, "note_required"), ("交接", -1, "deadline_past")],
)
def test_bad_hand_off_changes_nothing(cast: Cast, note: str, days: int, code: str) -> None:
    enterprise = _enterprise(cast)
    _worked(cast, enterprise, "mgr", 2)
    deadline = timezone.localdate() + dt.timedelta(days=days)
    with pytest.raises(AllocationError) as exc:
        hand_off_channel(enterprise.pk, cast.staff["tele"], note, deadline, cast.staff["mgr"])
    assert exc.value.code == code
    assert not Assignment.objects.filter(status="handed_off").exists()


def test_a_channel_nobody_of_yours_works_is_refused(cast: Cast) -> None:
    enterprise = _enterprise(cast)
    _worked(cast, enterprise, "mgr2", 1)
    with pytest.raises(AllocationError) as exc:
        hand_off_channel(enterprise.pk, cast.staff["tele"], "交接", _deadline(), cast.staff["mgr"])
    assert exc.value.code == "nothing_to_hand_off"


def test_a_receiver_of_another_branch_is_refused(cast: Cast) -> None:
    enterprise = _enterprise(cast)
    _worked(cast, enterprise, "mgr", 1)
    with pytest.raises(AllocationError) as exc:
        hand_off_channel(enterprise.pk, cast.staff["mgr_b"], "交接", _deadline(), cast.staff["mgr"])
    assert exc.value.code == "bad_receiver"


def test_the_page_hands_off_the_channel(cast: Cast) -> None:
    enterprise = _enterprise(cast)
    _worked(cast, enterprise, "mgr", 2)
    response = cast.client("mgr").post(
        "/allocation/handoff/channel/",
        {
            "enterprise": enterprise.pk,
            "to_staff": cast.staff["tele"].pk,
            "note": "关键人：工会王主席",
            "deadline": _deadline().isoformat(),
        },
    )
    assert response.status_code == 302
    assert Assignment.objects.filter(kind="handoff", staff=cast.staff["tele"]).count() == 2


def test_the_page_refuses_an_enterprise_you_do_not_work(cast: Cast) -> None:
    enterprise = _enterprise(cast)
    _worked(cast, enterprise, "mgr2", 1)
    response = cast.client("mgr").post(
        "/allocation/handoff/channel/",
        {
            "enterprise": enterprise.pk,
            "to_staff": cast.staff["tele"].pk,
            "note": "交接",
            "deadline": _deadline(),
        },
    )
    assert response.status_code == 400
    assert not Assignment.objects.filter(status="handed_off").exists()
