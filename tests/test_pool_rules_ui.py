"""Editing pool rules from the web: every change is a new audited version; every bad value is refused on its
field, with the reason, and changes nothing."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Cast
from xiaodai.audit.choices import Action
from xiaodai.audit.models import AuditEvent
from xiaodai.pools import rules as r
from xiaodai.pools.models import PoolRule, PoolRuleVersion

EDIT = "/pools/rules/approved_undrawn/"
GOOD = {
    "param_max_utilisation": "0.20",
    "param_min_idle_days": "45",
    "param_min_limit": "10000",
    "priority": "10",
    "is_active": "on",
    "note": "旺季前扩大名单",
}


def _state() -> list[tuple[str, int, dict[str, Any]]]:
    return [(rule.code, rule.version, rule.params) for rule in PoolRule.objects.order_by("code")]


def test_rule_list_shows_every_rule(cast: Cast) -> None:
    body = cast.client("ops").get("/pools/rules/").content.decode()
    for pool in (*r.POOLS, r.GENERAL):
        assert f'data-rule="{pool.code}"' in body


def test_edit_form_has_a_field_per_parameter_with_its_range(cast: Cast) -> None:
    body = cast.client("ops").get(EDIT).content.decode()
    for name in ("max_utilisation", "min_idle_days", "min_limit"):
        assert f'name="param_{name}"' in body
    assert "0 – 3,650" in body  # the idle-days range


def test_saving_a_rule_adds_a_version_and_an_audit_event(cast: Cast) -> None:
    response = cast.client("ops").post(EDIT, GOOD, follow=True)
    rule = PoolRule.objects.get(code="approved_undrawn")
    assert (rule.version, rule.params["min_idle_days"], rule.params["max_utilisation"]) == (2, "45", "0.20")
    assert rule.updated_by == cast.staff["ops"]
    version = PoolRuleVersion.objects.get(rule=rule, version=2)
    assert (version.note, version.created_by) == ("旺季前扩大名单", cast.staff["ops"])
    event = AuditEvent.objects.get(action=Action.POOL_RULE_CHANGE)
    assert (event.object_id, event.username, event.detail["version"]) == ("approved_undrawn", "ops", 2)
    assert response.redirect_chain[-1][0] == EDIT
    assert [m.level_tag for m in response.context["messages"]] == ["success"]


def test_the_history_shows_who_why_and_what_changed(cast: Cast) -> None:
    client = cast.client("ops")
    client.post(EDIT, GOOD)
    body = client.get(EDIT).content.decode()
    history = body.split('data-testid="history"', 1)[1]
    assert "v2" in history
    assert "旺季前扩大名单" in history
    assert "ops" in history
    assert "<del>30</del>" in history
    assert "45" in history
    assert "<del>0.10</del>" in history


def test_switching_a_pool_off(cast: Cast) -> None:
    data = {k: v for k, v in GOOD.items() if k != "is_active"}
    cast.client("ops").post(EDIT, data)
    assert PoolRule.objects.get(code="approved_undrawn").is_active is False


def test_saving_the_same_values_adds_no_version(cast: Cast) -> None:
    data = {**GOOD, "param_max_utilisation": "0.10", "param_min_idle_days": "30"}
    response = cast.client("ops").post(EDIT, data, follow=True)
    assert PoolRule.objects.get(code="approved_undrawn").version == 1
    assert [m.level_tag for m in response.context["messages"]] == ["info"]
    assert not AuditEvent.objects.filter(action=Action.POOL_RULE_CHANGE).exists()


@pytest.mark.parametrize(
    ("url", "change", "field"),
    [
        (EDIT, {"param_min_idle_days": "-5"}, "param_min_idle_days"),
        (EDIT, {"param_max_utilisation": "1.5"}, "param_max_utilisation"),
        (EDIT, {"param_min_limit": "十万"}, "param_min_limit"),
        (EDIT, {"param_min_limit": "1e3"}, "param_min_limit"),
        (EDIT, {"param_max_utilisation": "NaN"}, "param_max_utilisation"),
        (EDIT, {"param_min_idle_days": ""}, "param_min_idle_days"),
        (EDIT, {"note": ""}, "note"),
        (EDIT, {"note": "   "}, "note"),
        (EDIT, {"priority": "0"}, "priority"),
        (EDIT, {"priority": "abc"}, "priority"),
        (
            "/pools/rules/general/",
            {
                "param_min_age": "60",
                "param_max_age": "40",
                "param_coverage_days": "30",
                "param_funnel_days": "90",
            },
            "param_max_age",
        ),
    ],
)
def test_a_bad_value_is_refused_on_its_field_and_changes_nothing(
    cast: Cast, url: str, change: dict[str, str], field: str
) -> None:
    before = _state()
    data = {**GOOD, **change} if url == EDIT else {"note": "调整年龄", **change}
    response = cast.client("ops").post(url, data)
    assert response.status_code == 200  # the form again, not a redirect
    assert response.context["form"].errors[field]
    assert f'data-testid="error-{field}"' in response.content.decode()
    assert _state() == before
    assert not AuditEvent.objects.filter(action=Action.POOL_RULE_CHANGE).exists()


def test_the_general_settings_have_no_priority_or_switch(cast: Cast) -> None:
    body = cast.client("ops").get("/pools/rules/general/").content.decode()
    assert 'name="param_min_age"' in body
    assert 'name="priority"' not in body
    assert 'name="is_active"' not in body


def test_unknown_rule_is_404(cast: Cast) -> None:
    assert cast.client("ops").get("/pools/rules/nope/").status_code == 404
    assert cast.client("ops").post("/pools/rules/nope/", GOOD).status_code == 404


def test_a_branch_head_cannot_edit_rules(cast: Cast) -> None:
    assert cast.client("head").post(EDIT, GOOD).status_code == 403
    assert PoolRule.objects.get(code="approved_undrawn").version == 1
