"""After the claim: hand-off (攻坚 → 跟进), contacts that keep a claim alive, the nightly lapse and
expiry, and the claim settings."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from tests import factories as f
from tests.conftest import Cast
from tests.factories_allocation import AssignmentFactory, unowned
from xiaodai.allocation import choices as c
from xiaodai.allocation.exceptions import AllocationError
from xiaodai.allocation.models import Assignment, ClaimPolicy
from xiaodai.allocation.services import (
    claim_policy,
    end_for_customer,
    hand_off,
    lapse_unworked,
    touch,
    update_claim_policy,
)
from xiaodai.allocation.tasks import nightly_in_shanghai
from xiaodai.audit.choices import Action
from xiaodai.audit.models import AuditEvent
from xiaodai.customers.models import Customer
from xiaodai.org.choices import TeamKind

TODAY = timezone.localdate()


def _claim(cast: Cast, who: str = "mgr", **kw: object) -> Assignment:
    return AssignmentFactory(customer=unowned(cast.sub, 1)[0], staff=cast.staff[who], **kw)


def _worker(a: Assignment) -> int | None:
    return Customer.objects.values_list("worker_id", flat=True).get(pk=a.customer_id)


# --- hand-off -------------------------------------------------------------------------------------------


def test_hand_off_ends_the_assignment_and_gives_the_receiver_a_new_one(cast: Cast) -> None:
    old = _claim(cast)
    deadline = TODAY + dt.timedelta(days=10)
    new = hand_off(old, cast.staff["mgr2"], "已面谈，客户关心利率，下周二回访", deadline, cast.staff["mgr"])
    old.refresh_from_db()
    assert (old.status, old.ended_by) == (c.Status.HANDED_OFF, cast.staff["mgr"])
    assert (new.kind, new.status, new.previous, new.deadline) == (
        c.Kind.HANDOFF,
        c.Status.ACTIVE,
        old,
        deadline,
    )
    assert (new.staff, new.team, new.note) == (
        cast.staff["mgr2"],
        cast.t2,
        "已面谈，客户关心利率，下周二回访",
    )
    assert _worker(new) == cast.staff["mgr2"].pk
    [event] = AuditEvent.objects.filter(action=Action.HANDOFF)
    assert event.detail["previous"] == old.pk
    assert "利率" not in str(event.detail)


def test_hand_off_needs_a_note(cast: Cast) -> None:
    old = _claim(cast)
    with pytest.raises(AllocationError) as exc:
        hand_off(old, cast.staff["mgr2"], "   ", TODAY, cast.staff["mgr"])
    assert exc.value.code == "note_required"
    assert Assignment.objects.get(pk=old.pk).status == c.Status.ACTIVE


def test_hand_off_refuses_a_deadline_in_the_past(cast: Cast) -> None:
    old = _claim(cast)
    with pytest.raises(AllocationError) as exc:
        hand_off(old, cast.staff["mgr2"], "请跟进", TODAY - dt.timedelta(days=1), cast.staff["mgr"])
    assert exc.value.message == "截止日期不能早于今天。"
    assert Assignment.objects.filter(status=c.Status.ACTIVE).count() == 1


@pytest.mark.parametrize("receiver", ["ops", "mgr_b", "mgr"])
def test_hand_off_to_someone_who_cannot_take_it_is_refused(cast: Cast, receiver: str) -> None:
    old = _claim(cast)
    with pytest.raises(AllocationError) as exc:
        hand_off(old, cast.staff[receiver], "请跟进", TODAY, cast.staff["mgr"])
    assert exc.value.code in ("bad_receiver", "same_receiver")


def test_a_control_group_customer_is_not_handed_off(cast: Cast) -> None:
    old = _claim(cast, kind=c.Kind.ALLOCATION, control=True)
    with pytest.raises(AllocationError) as exc:
        hand_off(old, cast.staff["mgr2"], "请跟进", TODAY, cast.staff["mgr"])
    assert exc.value.code == "control_customer"


def test_the_hand_off_page_hands_off_and_lists_follow_up_teams_first(cast: Cast) -> None:
    follow = f.TeamFactory(sub_branch=cast.sub, name="跟进组", kind=TeamKind.FOLLOW_UP)
    receiver = f.StaffFactory(branch=cast.branch, sub_branch=cast.sub, team=follow, name="周九")
    old = _claim(cast)
    client = cast.client("mgr")
    page = client.get(f"/allocation/{old.pk}/handoff/")
    first = next(iter(page.context["form"].fields["to_staff"].queryset))
    assert first == receiver
    day = (TODAY + dt.timedelta(days=3)).isoformat()
    response = client.post(
        f"/allocation/{old.pk}/handoff/", {"to_staff": receiver.pk, "note": "请跟进授信", "deadline": day}
    )
    assert response["Location"] == "/allocation/mine/"
    assert Assignment.objects.get(status=c.Status.ACTIVE, customer_id=old.customer_id).staff == receiver


@pytest.mark.parametrize(
    ("data", "field"),
    [({"note": ""}, "note"), ({"deadline": "2001-01-01"}, "deadline"), ({"deadline": ""}, "deadline")],
)
def test_the_hand_off_page_refuses_bad_input(cast: Cast, data: dict[str, str], field: str) -> None:
    old = _claim(cast)
    form = {"to_staff": cast.staff["mgr2"].pk, "note": "请跟进", "deadline": TODAY.isoformat()} | data
    response = cast.client("mgr").post(f"/allocation/{old.pk}/handoff/", form)
    assert response.status_code == 200
    assert f'data-testid="error-{field}"' in response.content.decode()
    assert Assignment.objects.get(pk=old.pk).status == c.Status.ACTIVE


@pytest.mark.parametrize(("who", "status"), [("mgr", 200), ("lead", 200), ("head", 200), ("mgr2", 404)])
def test_the_worker_their_lead_and_the_head_may_hand_off(cast: Cast, who: str, status: int) -> None:
    old = _claim(cast)
    assert cast.client(who).get(f"/allocation/{old.pk}/handoff/").status_code == status


def test_another_branchs_assignment_is_404_for_hand_off(cast: Cast) -> None:
    theirs = AssignmentFactory(
        customer=f.CustomerFactory(sub_branch=cast.sub_b), staff=cast.staff["mgr_b"], team=None
    )
    client = cast.client("head")
    assert client.get(f"/allocation/{theirs.pk}/handoff/").status_code == 404
    response = client.post(
        f"/allocation/{theirs.pk}/handoff/",
        {"to_staff": cast.staff["mgr"].pk, "note": "x", "deadline": TODAY.isoformat()},
    )
    assert response.status_code == 404


# --- contacts, lapse and expiry --------------------------------------------------------------------------


def test_a_contact_moves_the_lapse_date_on(cast: Cast) -> None:
    a = _claim(cast, lapses_on=TODAY + dt.timedelta(days=1))
    at = timezone.now()
    touch(a.customer_id, at)
    a.refresh_from_db()
    assert a.last_contact_at == at
    assert a.lapses_on == TODAY + dt.timedelta(days=claim_policy(cast.branch.pk).lapse_days)


def test_a_contact_without_an_assignment_changes_nothing(cast: Cast) -> None:
    touch(cast.customers["own"].pk, timezone.now())
    assert not Assignment.objects.exists()


def test_an_unworked_claim_lapses_and_the_customer_goes_back(cast: Cast) -> None:
    a = _claim(cast, lapses_on=TODAY - dt.timedelta(days=1))
    report = lapse_unworked(TODAY)
    a.refresh_from_db()
    assert (report.lapsed, report.expired, a.status) == (1, 0, c.Status.LAPSED)
    assert _worker(a) is None
    assert AuditEvent.objects.filter(action=Action.CLAIM_LAPSE).get().detail["lapsed"] == 1


def test_a_recently_contacted_claim_does_not_lapse(cast: Cast) -> None:
    a = _claim(cast, lapses_on=TODAY - dt.timedelta(days=1), last_contact_at=timezone.now())
    assert lapse_unworked(TODAY).lapsed == 0
    assert Assignment.objects.get(pk=a.pk).status == c.Status.ACTIVE


def test_an_allocation_does_not_lapse_but_expires_after_its_protection(cast: Cast) -> None:
    a = _claim(cast, kind=c.Kind.ALLOCATION, lapses_on=None, protected_until=TODAY - dt.timedelta(days=1))
    keep = _claim(cast, "tele", kind=c.Kind.ALLOCATION, lapses_on=None)
    report = lapse_unworked(TODAY)
    assert (report.lapsed, report.expired) == (0, 1)
    assert Assignment.objects.get(pk=a.pk).status == c.Status.EXPIRED
    assert _worker(a) is None
    assert _worker(keep) == cast.staff["tele"].pk


def test_the_sweep_with_nothing_to_do_writes_nothing(cast: Cast) -> None:
    _claim(cast)
    assert lapse_unworked(TODAY).lapsed == 0
    assert not AuditEvent.objects.filter(action=Action.CLAIM_LAPSE).exists()


def test_the_lapse_command_runs_the_sweep_for_a_date(cast: Cast) -> None:
    _claim(cast, lapses_on=TODAY + dt.timedelta(days=2))
    out = StringIO()
    call_command("lapse_claims", "--date", (TODAY + dt.timedelta(days=3)).isoformat(), stdout=out)
    assert "1 claims lapsed" in out.getvalue()


def test_the_nightly_job_fires_at_half_past_midnight_in_shanghai() -> None:
    assert nightly_in_shanghai(dt.datetime(2026, 11, 29, 16, 30))  # 00:30 in Shanghai, huey's clock in UTC
    assert not nightly_in_shanghai(dt.datetime(2026, 11, 29, 0, 30))


def test_end_for_customer_cancels_the_work_and_clears_the_worker(cast: Cast) -> None:
    a = _claim(cast)
    customer = Customer.objects.get(pk=a.customer_id)
    assert end_for_customer(customer, status=c.Status.CANCELLED, reason="do not call", by=None) == 1
    assert Assignment.objects.get(pk=a.pk).status == c.Status.CANCELLED
    assert customer.worker is None
    assert _worker(a) is None


# --- claim settings -------------------------------------------------------------------------------------


def test_the_settings_page_saves_a_new_version_audited(cast: Cast) -> None:
    client = cast.client("head")
    assert client.get("/allocation/settings/").status_code == 200
    data = {"protection_days": "20", "lapse_days": "5", "max_claims": "150", "control_share": "5"}
    assert client.post("/allocation/settings/", data)["Location"] == "/allocation/settings/"
    policy = ClaimPolicy.objects.get(branch=cast.branch)
    assert (policy.protection_days, policy.lapse_days, policy.max_claims) == (20, 5, 150)
    assert (policy.control_share, policy.version, policy.updated_by) == (
        Decimal("0.05"),
        2,
        cast.staff["head"],
    )
    [event] = AuditEvent.objects.filter(action=Action.CLAIM_POLICY)
    assert event.detail["before"]["protection_days"] == "30"
    assert event.detail["after"]["protection_days"] == "20"


def test_saving_the_same_values_adds_no_version(cast: Cast) -> None:
    data = {"protection_days": "30", "lapse_days": "7", "max_claims": "300", "control_share": "0"}
    response = cast.client("head").post("/allocation/settings/", data, follow=True)
    assert "未作更改" in response.content.decode()
    assert claim_policy(cast.branch.pk).version == 1


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"protection_days": "0"}, "protection_days"),
        ({"protection_days": "400"}, "protection_days"),
        ({"lapse_days": "91"}, "lapse_days"),
        ({"lapse_days": "40", "protection_days": "30"}, "lapse_days"),
        ({"max_claims": "0"}, "max_claims"),
        ({"control_share": "60"}, "control_share"),
        ({"control_share": "abc"}, "control_share"),
    ],
)
def test_bad_settings_are_refused_and_nothing_changes(cast: Cast, data: dict[str, str], field: str) -> None:
    form = {"protection_days": "30", "lapse_days": "7", "max_claims": "300", "control_share": "0"} | data
    response = cast.client("head").post("/allocation/settings/", form)
    assert response.status_code == 200
    assert f'data-testid="error-{field}"' in response.content.decode()
    assert claim_policy(cast.branch.pk).version == 1
    assert not AuditEvent.objects.filter(action=Action.CLAIM_POLICY).exists()


def test_the_service_refuses_a_lapse_longer_than_the_protection(cast: Cast) -> None:
    with pytest.raises(AllocationError) as exc:
        update_claim_policy(
            cast.branch.pk,
            by=cast.staff["head"],
            protection_days=5,
            lapse_days=10,
            max_claims=10,
            control_share=Decimal(0),
        )
    assert exc.value.code == "lapse_longer"


def test_the_service_refuses_an_out_of_range_value(cast: Cast) -> None:
    with pytest.raises(AllocationError) as exc:
        update_claim_policy(
            cast.branch.pk,
            by=cast.staff["head"],
            protection_days=30,
            lapse_days=7,
            max_claims=10,
            control_share=Decimal("0.9"),
        )
    assert exc.value.code == "bad_policy"
    assert claim_policy(cast.branch.pk).control_share == 0
