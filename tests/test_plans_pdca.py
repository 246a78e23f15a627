"""PDCA records: the deviations flagged (far behind pace, pools, conversion drops, uncontacted claims),
findings and adjustments with each refusal, a team lead's reach, the plan page's PDCA part and the forms."""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal
from typing import Any

import pytest

from tests import factories as f
from tests.conftest import Cast
from tests.outreach_data import frozen
from tests.plans_data import MONTH, TODAY, at, fact
from xiaodai.allocation.models import Assignment
from xiaodai.audit.models import AuditEvent
from xiaodai.org.models import Staff
from xiaodai.plans import pdca
from xiaodai.plans.choices import FunnelStage
from xiaodai.plans.exceptions import PlanError
from xiaodai.plans.models import Adjustment, Finding, FunnelFact, Plan, Target

PREV = (dt.date(2026, 10, 2), dt.date(2026, 10, 31))  # the 30 days before November


def plan_of(cast: Cast, branch: Any = None, **kw: Any) -> Plan:
    branch = branch or cast.branch
    head = cast.staff["head"] if branch == cast.branch else cast.staff["head_b"]
    return Plan.objects.create(
        branch=branch,
        name=kw.pop("name", "十一月计划"),
        kind="month",
        starts_on=MONTH[0],
        ends_on=MONTH[1],
        created_by=head,
        **kw,
    )


def target(plan: Plan, figure: str, value: str, *, staff: Staff | None = None, **kw: Any) -> Target:
    scope = "staff" if staff else kw.pop("scope", "team" if kw.get("team") else "branch")
    return Target.objects.create(
        plan=plan,
        branch=plan.branch,
        scope=scope,
        staff=staff,
        figure=figure,
        value=Decimal(value),
        starts_on=plan.starts_on,
        ends_on=plan.ends_on,
        updated_by=plan.created_by,
        **kw,
    )


def funnel(staff: Staff, day: dt.date, counts: dict[int, int], pool: str = "approved_undrawn") -> None:
    for stage, n in counts.items():
        FunnelFact.objects.create(
            branch_id=staff.branch_id,
            day=day,
            sub_branch_id=staff.sub_branch_id,
            team_id=staff.team_id,
            staff=staff,
            pool=pool,
            stage=stage,
            entries=n,
        )


def claim(cast: Cast, staff: Staff, days_ago: int, contacted: bool = False) -> Assignment:
    customer: Any = f.CustomerFactory(sub_branch=cast.sub)
    a = Assignment.objects.create(
        branch=cast.branch,
        customer=customer,
        staff=staff,
        team=staff.team,
        kind="claim",
        created_by=staff,
        protected_until=TODAY + dt.timedelta(30),
        last_contact_at=at(TODAY) if contacted else None,
    )
    Assignment.objects.filter(pk=a.pk).update(created_at=at(TODAY - dt.timedelta(days_ago)))
    return a


def kinds(devs: list[pdca.Deviation]) -> list[tuple[str, Any]]:
    return [
        (d.kind, d.subject.get("staff_id") or d.subject.get("team_id") or d.subject.get("pool")) for d in devs
    ]


# --- Check: deviations --------------------------------------------------------------------------------------


def test_a_target_under_70_percent_of_pace_is_flagged(cast: Cast) -> None:
    plan = plan_of(cast)
    tele = cast.staff["tele"]
    t = target(plan, "calls", "100", staff=tele)
    fact(tele, "calls", 60)
    devs = pdca.deviations(cast.user("head"), plan, TODAY)
    assert kinds(devs) == [("behind_pace", tele.pk)]
    assert devs[0].flag["target_id"] == t.pk
    assert devs[0].flag["ratio"] == "60.0"


def test_a_target_behind_but_above_70_percent_is_not_flagged(cast: Cast) -> None:
    plan = plan_of(cast)
    tele = cast.staff["tele"]
    target(plan, "calls", "100", staff=tele)
    fact(tele, "calls", 75)  # 'behind' on read.pace's band, not far behind
    assert pdca.deviations(cast.user("head"), plan, TODAY) == []


def test_a_pool_far_behind_its_previous_period_is_flagged(cast: Cast) -> None:
    plan = plan_of(cast)
    tele = cast.staff["tele"]
    funnel(tele, PREV[0], {FunnelStage.LISTED: 30, FunnelStage.APPLIED: 10})
    funnel(tele, MONTH[0], {FunnelStage.LISTED: 36, FunnelStage.APPLIED: 4})
    funnel(tele, PREV[0], {FunnelStage.LISTED: 10, FunnelStage.APPLIED: 10}, pool="good_past_borrower")
    devs = [d for d in pdca.deviations(cast.user("head"), plan, TODAY) if d.subject.get("scope") == "pool"]
    assert [(d.subject["pool"], d.numbers["now"], d.numbers["before"]) for d in devs] == [
        ("approved_undrawn", 4, 10)
    ]  # the other pool had under 30 entries: too few to judge


def _drop(tele: Staff, before: int, now: int, base: int = 100) -> None:
    """Contact rates before/now in % over `base` entries listed in each period."""
    funnel(tele, PREV[0], {FunnelStage.LISTED: base - before, FunnelStage.CONTACTED: before})
    funnel(tele, MONTH[0], {FunnelStage.LISTED: base - now, FunnelStage.CONTACTED: now})


def test_a_conversion_drop_of_five_points_is_flagged_for_the_person_and_the_team(cast: Cast) -> None:
    plan = plan_of(cast)
    tele = cast.staff["tele"]
    _drop(tele, 60, 55)
    devs = [d for d in pdca.deviations(cast.user("head"), plan, TODAY) if d.kind == "conversion_drop"]
    assert sorted((d.subject["scope"], d.numbers["drop"]) for d in devs) == [
        ("staff", "5.0"),
        ("team", "5.0"),
    ]
    assert all(d.numbers["stage"] == FunnelStage.CONTACTED for d in devs)


def test_a_drop_under_five_points_is_not_flagged(cast: Cast) -> None:
    plan = plan_of(cast)
    _drop(cast.staff["tele"], 60, 56)
    assert not [d for d in pdca.deviations(cast.user("head"), plan, TODAY) if d.kind == "conversion_drop"]


def test_a_drop_over_fewer_than_30_entries_is_not_flagged(cast: Cast) -> None:
    plan = plan_of(cast)
    _drop(cast.staff["tele"], 20, 5, base=29)
    assert not [d for d in pdca.deviations(cast.user("head"), plan, TODAY) if d.kind == "conversion_drop"]


def test_claims_uncontacted_over_three_days_are_flagged_per_person(cast: Cast) -> None:
    plan = plan_of(cast)
    tele = cast.staff["tele"]
    claim(cast, tele, 5)
    claim(cast, tele, 4)
    claim(cast, tele, 1)  # too recent
    claim(cast, tele, 9, contacted=True)
    devs = pdca.deviations(cast.user("head"), plan, TODAY)
    assert kinds(devs) == [("uncontacted_claims", tele.pk)]
    assert devs[0].numbers["n"] == 2
    assert devs[0].numbers["oldest"] == "2026-11-25"


def test_a_lead_sees_the_deviations_of_their_team_only(cast: Cast) -> None:
    plan = plan_of(cast)
    tele, mgr2 = cast.staff["tele"], cast.staff["mgr2"]
    target(plan, "calls", "100", staff=tele)
    target(plan, "calls", "100", staff=mgr2)
    claim(cast, mgr2, 5)
    assert sorted(kinds(pdca.deviations(cast.user("lead"), plan, TODAY))) == [("behind_pace", tele.pk)]
    assert len(pdca.deviations(cast.user("head"), plan, TODAY)) == 3


def test_nothing_is_flagged_before_the_plan_starts(cast: Cast) -> None:
    plan = plan_of(cast)
    target(plan, "calls", "100", staff=cast.staff["tele"])
    claim(cast, cast.staff["tele"], 5)
    assert pdca.deviations(cast.user("head"), plan, dt.date(2026, 10, 20)) == []


# --- Check: findings ----------------------------------------------------------------------------------------


def _flag(cast: Cast, plan: Plan, who: str = "tele") -> dict[str, Any]:
    staff = cast.staff[who]
    target(plan, "calls", "100", staff=staff)
    return next(
        d.flag for d in pdca.deviations(cast.user("head"), plan, TODAY) if d.subject["staff_id"] == staff.pk
    )


def test_a_finding_keeps_its_flag_and_is_audited(cast: Cast) -> None:
    plan = plan_of(cast)
    flag = _flag(cast, plan)
    finding = pdca.write_finding(cast.staff["lead"], plan, "behind_pace", "  外呼时段不对  ", flag)
    finding.refresh_from_db()
    assert (finding.text, finding.flag["staff_id"]) == ("外呼时段不对", cast.staff["tele"].pk)
    event = AuditEvent.objects.get(action="plans.finding")
    assert event.object_id == str(finding.pk)


@pytest.mark.parametrize(
    ("who", "kind", "text", "flag", "code"),
    [
        ("lead", "other", "   ", None, "text_required"),
        ("tele", "other", "找到了", None, "not_allowed"),
        ("lead", "nonsense", "找到了", None, "bad_kind"),
        ("lead", "other", "找到了", {"staff_id": "1 OR 1"}, "bad_flag"),
        ("lead", "other", "找到了", {"password": 1}, "bad_flag"),
        ("head_b", "other", "找到了", None, "out_of_reach"),
    ],
)
def test_a_bad_finding_is_refused_and_nothing_written(
    cast: Cast, who: str, kind: str, text: str, flag: Any, code: str
) -> None:
    plan = plan_of(cast)
    with pytest.raises(PlanError) as err:
        pdca.write_finding(cast.staff[who], plan, kind, text, flag)
    assert err.value.code == code
    assert not Finding.objects.exists()


def test_a_lead_cannot_write_about_another_team(cast: Cast) -> None:
    plan = plan_of(cast)
    flag = _flag(cast, plan, "mgr2")
    with pytest.raises(PlanError) as err:
        pdca.write_finding(cast.staff["lead"], plan, "behind_pace", "二组落后", flag)
    assert err.value.code == "out_of_reach"


def test_a_forged_team_on_a_flag_does_not_widen_a_leads_reach(cast: Cast) -> None:
    plan = plan_of(cast)
    flag = {"kind": "behind_pace", "staff_id": cast.staff["mgr2"].pk, "team_id": cast.t1.pk}
    with pytest.raises(PlanError) as err:
        pdca.write_finding(cast.staff["lead"], plan, "behind_pace", "二组落后", flag)
    assert err.value.code == "out_of_reach"


def test_a_lead_cannot_write_about_a_branch_wide_pool(cast: Cast) -> None:
    plan = plan_of(cast)
    with pytest.raises(PlanError) as err:
        pdca.write_finding(cast.staff["lead"], plan, "behind_pace", "池子", {"scope": "pool", "pool": "x"})
    assert err.value.code == "out_of_reach"


def test_a_closed_plan_takes_no_finding(cast: Cast) -> None:
    plan = plan_of(cast, status="closed")
    with pytest.raises(PlanError) as err:
        pdca.write_finding(cast.staff["head"], plan, "other", "复盘", None)
    assert err.value.code == "plan_closed"


# --- Act: adjustments ---------------------------------------------------------------------------------------


def _finding(cast: Cast, plan: Plan) -> Finding:
    return pdca.write_finding(cast.staff["head"], plan, "other", "复盘发现", None)


def test_a_target_adjustment_changes_the_target_and_keeps_the_old_value(cast: Cast) -> None:
    plan = plan_of(cast)
    t = target(plan, "calls", "100", staff=cast.staff["tele"])
    finding = _finding(cast, plan)
    adj = pdca.make_adjustment(cast.staff["lead"], plan, finding, "target", "下调", t, "80")
    t.refresh_from_db()
    assert (t.value, adj.old_value, adj.new_value, adj.finding_id) == (80, 100, 80, finding.pk)
    assert AuditEvent.objects.get(action="plans.adjustment").object_id == str(adj.pk)


def test_a_resources_adjustment_needs_no_target(cast: Cast) -> None:
    plan = plan_of(cast)
    adj = pdca.make_adjustment(cast.staff["head"], plan, _finding(cast, plan), "resources", "增派两人")
    assert (adj.kind, adj.target_id, adj.new_value) == ("resources", None, None)


@pytest.mark.parametrize(
    ("figure", "value", "code"),
    [("calls", "-5", "negative"), ("calls", "80.5", "not_whole"), ("calls", "", "value_required")],
)
def test_a_bad_new_value_is_refused_and_nothing_changed(
    cast: Cast, figure: str, value: str, code: str
) -> None:
    plan = plan_of(cast)
    t = target(plan, figure, "100", staff=cast.staff["tele"])
    finding = _finding(cast, plan)
    with pytest.raises(PlanError) as err:
        pdca.make_adjustment(cast.staff["head"], plan, finding, "target", "调整", t, value)
    assert err.value.code == code
    t.refresh_from_db()
    assert t.value == 100
    assert not Adjustment.objects.exists()


def test_money_targets_take_fen(cast: Cast) -> None:
    plan = plan_of(cast)
    t = target(plan, "disbursed_amount", "100000", staff=cast.staff["mgr"])
    pdca.make_adjustment(cast.staff["head"], plan, _finding(cast, plan), "target", "调", t, "95000.50")
    t.refresh_from_db()
    assert t.value == Decimal("95000.50")


def test_a_split_target_is_refused(cast: Cast) -> None:
    plan = plan_of(cast)
    parent = target(plan, "calls", "200", team=cast.t1)
    target(plan, "calls", "200", staff=cast.staff["tele"], parent=parent)
    with pytest.raises(PlanError) as err:
        pdca.make_adjustment(cast.staff["head"], plan, _finding(cast, plan), "target", "调", parent, "150")
    assert err.value.code == "has_children"
    parent.refresh_from_db()
    assert parent.value == 200


def test_an_adjustment_needs_a_finding_of_its_plan(cast: Cast) -> None:
    plan, other = plan_of(cast), plan_of(cast, name="十二月")
    for finding in (None, _finding(cast, other)):
        with pytest.raises(PlanError) as err:
            pdca.make_adjustment(cast.staff["head"], plan, finding, "process", "改话术")
        assert err.value.code == "bad_finding"
    assert not Adjustment.objects.exists()


def test_a_target_of_another_plan_or_kind_is_refused(cast: Cast) -> None:
    plan, other = plan_of(cast), plan_of(cast, name="十二月")
    foreign = target(other, "calls", "100", staff=cast.staff["tele"])
    mine = target(plan, "calls", "100", staff=cast.staff["tele"])
    finding = _finding(cast, plan)
    for kind, t in (("target", foreign), ("process", mine)):
        with pytest.raises(PlanError) as err:
            pdca.make_adjustment(cast.staff["head"], plan, finding, kind, "调", t, "50")
        assert err.value.code == "bad_target"


def test_a_lead_cannot_change_a_branch_or_other_team_target(cast: Cast) -> None:
    plan = plan_of(cast)
    finding = _finding(cast, plan)
    for t in (target(plan, "calls", "900"), target(plan, "visits", "10", staff=cast.staff["mgr2"])):
        with pytest.raises(PlanError) as err:
            pdca.make_adjustment(cast.staff["lead"], plan, finding, "target", "调", t, "5")
        assert err.value.code == "out_of_reach"


def test_a_closed_plan_takes_no_adjustment(cast: Cast) -> None:
    plan = plan_of(cast)
    finding = _finding(cast, plan)
    Plan.objects.filter(pk=plan.pk).update(status="closed")
    plan.refresh_from_db()
    with pytest.raises(PlanError) as err:
        pdca.make_adjustment(cast.staff["head"], plan, finding, "process", "改")
    assert err.value.code == "plan_closed"


# --- the plan page's PDCA part and the forms ----------------------------------------------------------------


def test_findings_about_a_person_are_for_them_their_lead_and_the_head(cast: Cast) -> None:
    plan = plan_of(cast)
    pdca.write_finding(cast.staff["lead"], plan, "behind_pace", "李四落后", _flag(cast, plan))
    pdca.write_finding(cast.staff["head"], plan, "other", "全行复盘", None)
    seen = {
        who: len(pdca.cycle_context(cast.user(who), plan, TODAY)["pdca"].findings)
        for who in ("head", "lead", "tele", "mgr", "mgr2")
    }
    assert seen == {"head": 2, "lead": 2, "tele": 2, "mgr": 1, "mgr2": 1}


def test_the_cycle_reads_in_a_fixed_number_of_queries(cast: Cast, django_assert_max_num_queries: Any) -> None:
    plan = plan_of(cast)
    for who in ("tele", "mgr", "mgr2"):
        target(plan, "calls", "100", staff=cast.staff[who])
        claim(cast, cast.staff[who], 5)
    _drop(cast.staff["tele"], 60, 40)
    for _ in range(3):
        finding = _finding(cast, plan)
        pdca.make_adjustment(cast.staff["head"], plan, finding, "process", "改")
    user = cast.user("head")
    user.staff  # noqa: B018 - the request has its staff already
    with django_assert_max_num_queries(20):
        pdca.cycle_context(user, plan, TODAY)


def test_the_plan_page_shows_do_check_and_act(cast: Cast) -> None:
    plan = plan_of(cast)
    flag = _flag(cast, plan)
    finding = pdca.write_finding(cast.staff["head"], plan, "behind_pace", "李四落后", flag)
    pdca.make_adjustment(cast.staff["head"], plan, finding, "process", "改时段")
    target(plan, "calls", "1000")  # the head's own level: Do lists it
    with frozen():
        page = cast.client("head").get(f"/plans/{plan.pk}/").content.decode()
        check = cast.client("head").get(f"/plans/{plan.pk}/deviations/").content.decode()
    for testid in (
        'data-testid="do-row"',
        'data-testid="deviations-loading"',
        f'data-finding="{finding.pk}"',
    ):
        assert testid in page
    assert 'data-testid="adjustment"' in page
    assert 'data-testid="deviation"' in check
    assert 'data-testid="write-finding"' in check


def test_the_deviations_load_after_the_page(cast: Cast) -> None:
    plan = plan_of(cast)
    _flag(cast, plan)
    with frozen():
        page = cast.client("head").get(f"/plans/{plan.pk}/").content.decode()
        check = cast.client("head").get(f"/plans/{plan.pk}/deviations/")
    assert 'data-testid="deviation"' not in page
    assert f'hx-get="/plans/{plan.pk}/deviations/"' in page
    assert check.status_code == 200
    assert check.content.decode().count('data-testid="deviation"') == 1


def test_another_branchs_deviations_are_404(cast: Cast) -> None:
    plan = plan_of(cast, branch=cast.branch_b)
    assert cast.client("head").get(f"/plans/{plan.pk}/deviations/").status_code == 404


def test_a_front_line_viewer_gets_no_write_buttons(cast: Cast) -> None:
    plan = plan_of(cast)
    _flag(cast, plan)
    with frozen():
        page = cast.client("tele").get(f"/plans/{plan.pk}/deviations/").content.decode()
    assert 'data-testid="deviation"' in page
    assert 'data-testid="write-finding"' not in page


def test_the_finding_form_is_prefilled_from_a_deviation(cast: Cast) -> None:
    plan = plan_of(cast)
    _flag(cast, plan)
    deviation = pdca.deviations(cast.user("head"), plan, TODAY)[0]
    with frozen():
        response = cast.client("head").get(f"/plans/{plan.pk}/findings/new/?{deviation.query}")
    page = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="flag"' in page
    assert 'value="behind_pace" selected' in page


def test_posting_a_finding_writes_it_and_returns_to_the_plan(cast: Cast) -> None:
    plan = plan_of(cast)
    flag = _flag(cast, plan)
    data = {"kind": "behind_pace", "text": "时段不对", "flag": json.dumps(flag)}
    with frozen():
        response = cast.client("lead").post(f"/plans/{plan.pk}/findings/new/", data)
    assert response.status_code == 302
    assert response["Location"] == f"/plans/{plan.pk}/#pdca"
    assert Finding.objects.get().flag["target_id"] == flag["target_id"]


@pytest.mark.parametrize(
    ("data", "testid"),
    [
        ({"kind": "other", "text": ""}, "error-text"),
        ({"kind": "other", "text": "x", "flag": "{not json"}, "error-flag"),
        ({"kind": "bogus", "text": "x"}, "error-kind"),
    ],
)
def test_a_bad_finding_form_shows_why_and_writes_nothing(
    cast: Cast, data: dict[str, str], testid: str
) -> None:
    plan = plan_of(cast)
    with frozen():
        response = cast.client("head").post(f"/plans/{plan.pk}/findings/new/", data)
    assert response.status_code == 200
    assert f'data-testid="{testid}"' in response.content.decode()
    assert not Finding.objects.exists()


def test_another_branchs_plan_is_404_on_both_forms(cast: Cast) -> None:
    plan = plan_of(cast, branch=cast.branch_b)
    client = cast.client("head")
    assert client.get(f"/plans/{plan.pk}/findings/new/").status_code == 404
    assert (
        client.post(f"/plans/{plan.pk}/adjustments/new/", {"kind": "process", "text": "x"}).status_code == 404
    )


def test_posting_a_target_adjustment_changes_the_target(cast: Cast) -> None:
    plan = plan_of(cast)
    t = target(plan, "calls", "100", staff=cast.staff["tele"])
    finding = _finding(cast, plan)
    data = {"finding": finding.pk, "kind": "target", "text": "下调", "target": t.pk, "new_value": "70"}
    with frozen():
        response = cast.client("lead").post(f"/plans/{plan.pk}/adjustments/new/", data)
    assert response.status_code == 302
    t.refresh_from_db()
    assert t.value == 70


@pytest.mark.parametrize(
    ("change", "testid"),
    [
        ({"new_value": "-1"}, "error-new_value"),
        ({"new_value": "abc"}, "error-new_value"),
        ({"finding": ""}, "error-finding"),
        ({"finding": "999999"}, "error-finding"),
        ({"target": "999999"}, "error-target"),
        ({"text": " "}, "error-text"),
    ],
)
def test_a_bad_adjustment_form_shows_why_and_changes_nothing(
    cast: Cast, change: dict[str, str], testid: str
) -> None:
    plan = plan_of(cast)
    t = target(plan, "calls", "100", staff=cast.staff["tele"])
    finding = _finding(cast, plan)
    data = {
        "finding": str(finding.pk),
        "kind": "target",
        "text": "下调",
        "target": str(t.pk),
        "new_value": "70",
    }
    with frozen():
        response = cast.client("head").post(f"/plans/{plan.pk}/adjustments/new/", {**data, **change})
    assert response.status_code == 200
    assert f'data-testid="{testid}"' in response.content.decode()
    t.refresh_from_db()
    assert t.value == 100
    assert not Adjustment.objects.exists()


def test_the_adjustment_form_lists_only_unsplit_targets_within_reach(cast: Cast) -> None:
    plan = plan_of(cast)
    parent = target(plan, "calls", "200", team=cast.t1)
    leaf = target(plan, "calls", "200", staff=cast.staff["tele"], parent=parent)
    target(plan, "calls", "50", staff=cast.staff["mgr2"])
    _finding(cast, plan)
    with frozen():
        page = cast.client("lead").get(f"/plans/{plan.pk}/adjustments/new/").content.decode()
    select = re.search(r'<select name="target".*?</select>', page, re.S)
    assert select is not None
    offered = {int(v) for v in re.findall(r'<option value="(\d+)"', select.group(0))}
    assert offered == {leaf.pk}


def test_do_lists_the_viewers_level_and_the_one_below(cast: Cast) -> None:
    plan = plan_of(cast)
    target(plan, "calls", "1000")
    target(plan, "calls", "100", staff=cast.staff["tele"])
    head = pdca.cycle_context(cast.user("head"), plan, TODAY)["pdca"].do
    lead = pdca.cycle_context(cast.user("lead"), plan, TODAY)["pdca"].do
    assert [r.progress.target.scope for r in head] == ["branch"]
    assert [r.progress.target.scope for r in lead] == ["staff"]


def test_check_lists_the_worst_ten_of_a_kind_and_counts_the_rest(cast: Cast) -> None:
    plan = plan_of(cast)
    for _ in range(12):
        person = f.StaffFactory(branch=cast.branch, sub_branch=cast.sub, team=cast.t1, role="telemarketer")
        target(plan, "calls", "100", staff=person)
    cycle = pdca.cycle_context(cast.user("head"), plan, TODAY)["pdca"]
    assert len([d for d in cycle.deviations if d.kind == "behind_pace"]) == pdca.DEVIATIONS_PER_KIND
    assert cycle.more_deviations == 2
