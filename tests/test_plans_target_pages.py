"""The plans pages: list, new plan, the plan page with its target tree, setting a target and splitting one.
Refusals show their message and change nothing; another branch's plan is 404; query counts are pinned."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from tests.conftest import Cast
from tests.plans_data import MONTH
from xiaodai.plans import pdca
from xiaodai.plans import targets as t
from xiaodai.plans.models import Plan, Target


def _plan(cast: Cast, branch: str = "head", name: str = "11月计划", **kw: Any) -> Plan:
    data = {"name": name, "kind": "month", "starts_on": MONTH[0], "ends_on": MONTH[1], **kw}
    return t.create_plan(cast.staff[branch], data)


def _target(
    cast: Cast, plan: Plan, scope: str, obj: Any, figure: str = "calls", value: str = "100"
) -> Target:
    return t.set_target(cast.staff["head"], plan, scope, obj.pk, figure, value)


# --- the list ---


def test_the_list_shows_the_branchs_plans(cast: Cast) -> None:
    mine = _plan(cast)
    _plan(cast, "head_b", name="宁波")
    response = cast.client("mgr").get("/plans/")
    assert response.status_code == 200
    assert [p.pk for p in response.context["plans"]] == [mine.pk]


def test_the_list_counts_targets_in_the_viewers_scope(cast: Cast) -> None:
    plan = _plan(cast)
    _target(cast, plan, "team", cast.t1)
    _target(cast, plan, "team", cast.t2)
    _target(cast, plan, "staff", cast.staff["mgr"])
    assert cast.client("head").get("/plans/").context["plans"][0].n_targets == 3
    assert cast.client("mgr").get("/plans/").context["plans"][0].n_targets == 1


def test_the_list_query_count_does_not_grow_with_plans(
    cast: Cast, django_assert_max_num_queries: Any
) -> None:
    for i in range(6):
        start = dt.date(2026, i + 1, 1)
        plan = _plan(cast, name=f"{i + 1}月", starts_on=start, ends_on=start + dt.timedelta(days=27))
        _target(cast, plan, "team", cast.t1)
    client = cast.client("head")
    with django_assert_max_num_queries(10):
        assert client.get("/plans/").status_code == 200


def test_only_the_head_sees_the_new_plan_button(cast: Cast) -> None:
    assert b'data-testid="new-plan"' in cast.client("head").get("/plans/").content
    assert b'data-testid="new-plan"' not in cast.client("lead").get("/plans/").content


# --- a new plan ---


def test_the_head_creates_a_plan(cast: Cast) -> None:
    data = {"name": "12月计划", "kind": "month", "starts_on": "2026-12-01", "ends_on": "2026-12-31"}
    response = cast.client("head").post("/plans/new/", data | {"resources": "2 场沙龙"})
    plan = Plan.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/plans/{plan.pk}/"
    assert plan.resources == "2 场沙龙"


def test_a_quarter_plan_is_prefilled_with_the_quarter(cast: Cast) -> None:
    form = cast.client("head").get("/plans/new/?kind=quarter").context["form"]
    start, end = form.initial["starts_on"], form.initial["ends_on"]
    assert start.day == 1
    assert start.month in (1, 4, 7, 10)
    assert (end.month - start.month, form.initial["kind"]) == (2, "quarter")


def test_a_lead_is_told_only_the_head_creates_plans(cast: Cast) -> None:
    client = cast.client("lead")
    assert b'data-testid="refusal"' in client.get("/plans/new/").content
    data = {"name": "x", "kind": "month", "starts_on": "2026-12-01", "ends_on": "2026-12-31"}
    response = client.post("/plans/new/", data)
    assert response.status_code == 200
    assert not Plan.objects.exists()


def test_a_plan_ending_before_it_starts_is_refused(cast: Cast) -> None:
    data = {"name": "x", "kind": "month", "starts_on": "2026-12-31", "ends_on": "2026-12-01"}
    response = cast.client("head").post("/plans/new/", data)
    assert response.status_code == 200
    assert response.context["form"].errors["ends_on"]
    assert not Plan.objects.exists()


# --- the plan page ---


def test_the_plan_page_shows_the_tree(cast: Cast) -> None:
    plan = _plan(cast, resources="每人 20 张券")
    _target(cast, plan, "team", cast.t1, value="300")
    response = cast.client("head").get(f"/plans/{plan.pk}/")
    assert response.status_code == 200
    content = response.content.decode()
    assert 'data-testid="tree-calls"' in content
    assert 'data-testid="rolled-up"' in content  # the branch and sub-branch rows sum the team's
    assert "每人 20 张券" in content


def test_the_plan_page_shows_one_figure_at_a_time(cast: Cast) -> None:
    plan = _plan(cast)
    _target(cast, plan, "branch", cast.branch, "calls", "300")
    _target(cast, plan, "branch", cast.branch, "visits", "30")
    first = cast.client("head").get(f"/plans/{plan.pk}/").content.decode()
    chosen = cast.client("head").get(f"/plans/{plan.pk}/?figure=visits").content.decode()
    assert 'data-testid="figure-tabs"' in first
    assert ('data-testid="tree-calls"' in first, 'data-testid="tree-visits"' in first) == (True, False)
    assert ('data-testid="tree-calls"' in chosen, 'data-testid="tree-visits"' in chosen) == (False, True)


def test_an_unknown_figure_shows_the_first(cast: Cast) -> None:
    plan = _plan(cast)
    _target(cast, plan, "branch", cast.branch, "calls", "300")
    page = cast.client("head").get(f"/plans/{plan.pk}/?figure=nope").content.decode()
    assert 'data-testid="tree-calls"' in page


def test_another_branchs_plan_is_404(cast: Cast) -> None:
    plan = _plan(cast, "head_b")
    assert cast.client("head").get(f"/plans/{plan.pk}/").status_code == 404


def test_a_person_sees_only_their_own_target(cast: Cast) -> None:
    plan = _plan(cast)
    _target(cast, plan, "team", cast.t1)
    mine = _target(cast, plan, "staff", cast.staff["mgr"], value="40")
    trees = cast.client("mgr").get(f"/plans/{plan.pk}/").context["trees"]
    assert [r.target.pk for r in trees[0].rows] == [mine.pk]


def _many_targets(cast: Cast) -> Plan:
    plan = _plan(cast)
    for figure in ("calls", "visits", "disbursed_amount", "balance_growth"):
        _target(cast, plan, "branch", cast.branch, figure)
        _target(cast, plan, "sub_branch", cast.sub, figure)
        _target(cast, plan, "team", cast.t1, figure)
        for who in ("lead", "mgr", "tele"):
            _target(cast, plan, "staff", cast.staff[who], figure, "10")
    return plan


def test_the_target_tree_query_count_does_not_grow_with_targets(
    cast: Cast, django_assert_max_num_queries: Any, monkeypatch: Any
) -> None:
    """The plan page without its PDCA part: about four reads per level, whatever the number of targets."""
    monkeypatch.setattr(pdca, "cycle_context", lambda *args, **kwargs: {})
    plan, client = _many_targets(cast), cast.client("head")
    with django_assert_max_num_queries(24):
        assert client.get(f"/plans/{plan.pk}/").status_code == 200


def test_the_plan_page_query_count_is_pinned(cast: Cast, django_assert_max_num_queries: Any) -> None:
    """The whole page, PDCA part included."""
    plan, client = _many_targets(cast), cast.client("head")
    with django_assert_max_num_queries(30):
        assert client.get(f"/plans/{plan.pk}/").status_code == 200


# --- setting a target ---


def test_setting_a_target_from_the_page(cast: Cast) -> None:
    plan = _plan(cast)
    data = {"unit": f"team:{cast.t1.pk}", "figure": "calls", "value": "300"}
    response = cast.client("lead").post(f"/plans/{plan.pk}/targets/new/", data)
    assert response.status_code == 302
    assert Target.objects.get().value == 300


def test_a_lead_is_offered_only_their_team(cast: Cast) -> None:
    form = cast.client("lead").get(f"/plans/{_plan(cast).pk}/targets/new/").context["form"]
    keys = {key for _group, options in form.fields["unit"].choices for key, _name in options}
    assert f"team:{cast.t1.pk}" in keys
    assert f"team:{cast.t2.pk}" not in keys


def test_a_fractional_count_is_refused_on_the_page(cast: Cast) -> None:
    plan = _plan(cast)
    data = {"unit": f"team:{cast.t1.pk}", "figure": "calls", "value": "2.5"}
    response = cast.client("head").post(f"/plans/{plan.pk}/targets/new/", data)
    assert response.status_code == 200
    assert response.context["form"].errors["value"]
    assert not Target.objects.exists()


def test_a_negative_target_is_refused_on_the_page(cast: Cast) -> None:
    plan = _plan(cast)
    data = {"unit": f"team:{cast.t1.pk}", "figure": "calls", "value": "-5"}
    response = cast.client("head").post(f"/plans/{plan.pk}/targets/new/", data)
    assert response.status_code == 200
    assert not Target.objects.exists()


def test_an_overlapping_target_shows_the_refusal(cast: Cast) -> None:
    _target(cast, _plan(cast), "team", cast.t1)
    campaign = _plan(cast, name="冲刺", starts_on=dt.date(2026, 11, 20), ends_on=dt.date(2026, 12, 5))
    data = {"unit": f"team:{cast.t1.pk}", "figure": "calls", "value": "50"}
    response = cast.client("head").post(f"/plans/{campaign.pk}/targets/new/", data)
    assert response.status_code == 200
    assert b'data-testid="form-error"' in response.content
    assert Target.objects.count() == 1


def test_a_person_without_manage_targets_gets_403(cast: Cast) -> None:
    assert cast.client("mgr").get(f"/plans/{_plan(cast).pk}/targets/new/").status_code == 403


def test_setting_a_target_on_another_branchs_plan_is_404(cast: Cast) -> None:
    plan = _plan(cast, "head_b")
    assert cast.client("head").get(f"/plans/{plan.pk}/targets/new/").status_code == 404


# --- splitting ---


def test_the_split_page_proposes_an_even_split(cast: Cast) -> None:
    target = _target(cast, _plan(cast), "team", cast.t1, value="90")
    response = cast.client("lead").get(f"/plans/targets/{target.pk}/split/")
    assert response.status_code == 200
    assert {v for _n, v in response.context["proposal"].rows} == {Decimal(30)}


def test_the_split_page_says_when_it_falls_back_to_even(cast: Cast) -> None:
    target = _target(cast, _plan(cast), "team", cast.t1, value="90")
    response = cast.client("head").get(f"/plans/targets/{target.pk}/split/?rule=last_period")
    assert b'data-testid="fallback"' in response.content


def _split_post(cast: Cast, values: tuple[str, str, str]) -> dict[str, str]:
    s = cast.staff
    data = {"rule": "even"}
    for who, value in zip(("lead", "mgr", "tele"), values, strict=True):
        data[f"part_staff_{s[who].pk}"] = value
    return data


def test_saving_a_split_from_the_page(cast: Cast) -> None:
    target = _target(cast, _plan(cast), "team", cast.t1, value="90")
    response = cast.client("lead").post(
        f"/plans/targets/{target.pk}/split/", _split_post(cast, ("30", "40", "20"))
    )
    assert response.status_code == 302
    assert sorted(Target.objects.filter(parent=target).values_list("value", flat=True)) == [20, 30, 40]


def test_a_split_that_does_not_add_up_shows_the_difference(cast: Cast) -> None:
    target = _target(cast, _plan(cast), "team", cast.t1, value="90")
    response = cast.client("head").post(
        f"/plans/targets/{target.pk}/split/", _split_post(cast, ("30", "40", "10"))
    )
    assert response.status_code == 200
    assert b'data-testid="error"' in response.content
    assert b"-10" in response.content
    assert not Target.objects.filter(parent=target).exists()


def test_a_lead_cannot_split_another_team(cast: Cast) -> None:
    target = _target(cast, _plan(cast), "team", cast.t2, value="10")
    client = cast.client("lead")
    assert client.get(f"/plans/targets/{target.pk}/split/").status_code == 404
    data = {"rule": "even", f"part_staff_{cast.staff['mgr2'].pk}": "10"}
    assert client.post(f"/plans/targets/{target.pk}/split/", data).status_code == 404
    assert not Target.objects.filter(parent=target).exists()


def test_splitting_another_branchs_target_is_404(cast: Cast) -> None:
    plan = _plan(cast, "head_b")
    target = t.set_target(cast.staff["head_b"], plan, "branch", cast.branch_b.pk, "calls", "10")
    assert cast.client("head").get(f"/plans/targets/{target.pk}/split/").status_code == 404
