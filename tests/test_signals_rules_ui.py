"""Editing signal rules from the web: every change is a new audited version; every bad value is refused on its
field, with the reason, and changes nothing."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Cast
from xiaodai.audit.choices import Action
from xiaodai.audit.models import AuditEvent
from xiaodai.signals import rules as r
from xiaodai.signals.models import SignalRule, SignalRuleVersion

EDIT = "/capital-flow/rules/scenario/"


def _good() -> dict[str, str]:
    """The scenario rule's defaults as the form posts them, with two changes and a note."""
    data = {
        f"param_{k}": "\n".join(v) if isinstance(v, list) else v for k, v in r.defaults("scenario").items()
    }
    data.update(
        param_spending_multiple="4",
        param_renovation_keywords="装修\n装饰, 建材、家装\n软装",
        is_active="on",
        note="旺季前放宽倍数",
    )
    return data


def _state() -> list[tuple[str, int, bool, dict[str, Any]]]:
    return [(x.code, x.version, x.is_active, x.params) for x in SignalRule.objects.order_by("code")]


def test_rule_list_shows_every_rule(cast: Cast) -> None:
    body = cast.client("ops").get("/capital-flow/rules/").content.decode()
    for defn in r.ALL:
        assert f'data-rule="{defn.code}"' in body


def test_edit_form_has_a_field_per_parameter(cast: Cast) -> None:
    body = cast.client("ops").get(EDIT).content.decode()
    for p in r.BY_CODE["scenario"].params:
        assert f'name="param_{p.name}"' in body
    assert '<textarea name="param_renovation_keywords"' in body
    assert "1 – 100" in body  # the spending multiple's range


def test_a_merchant_code_list_shows_what_it_covers(cast: Cast) -> None:
    body = cast.client("ops").get(EDIT).content.decode()
    hint = body.split('data-testid="codes-furniture_mcc">', 1)[1].split("</div>", 1)[0]
    assert " 7 " in hint  # 5712-5714 (3 known codes), 5718, 5719, 5722 and 5732
    assert "<code>5712</code>" in hint


def test_saving_a_rule_adds_a_version_and_an_audit_event(cast: Cast) -> None:
    response = cast.client("ops").post(EDIT, _good(), follow=True)
    rule = SignalRule.objects.get(code="scenario")
    assert (rule.version, rule.params["spending_multiple"]) == (2, "4")
    assert rule.params["renovation_keywords"] == ["装修", "装饰", "建材", "家装", "软装"]
    assert rule.updated_by == cast.staff["ops"]
    version = SignalRuleVersion.objects.get(rule=rule, version=2)
    assert (version.note, version.created_by) == ("旺季前放宽倍数", cast.staff["ops"])
    event = AuditEvent.objects.get(action=Action.SIGNAL_RULE_CHANGE)
    assert (event.object_id, event.username, event.detail["version"]) == ("scenario", "ops", 2)
    assert response.redirect_chain[-1][0] == EDIT
    assert [m.level_tag for m in response.context["messages"]] == ["success"]


def test_the_history_shows_who_why_and_what_changed(cast: Cast) -> None:
    client = cast.client("ops")
    client.post(EDIT, _good())
    history = client.get(EDIT).content.decode().split('data-testid="history"', 1)[1]
    assert "v2" in history
    assert "旺季前放宽倍数" in history
    assert "<del>5</del>" in history
    assert "软装" in history


def test_switching_a_signal_off(cast: Cast) -> None:
    data = {k: v for k, v in _good().items() if k != "is_active"}
    cast.client("ops").post(EDIT, data)
    assert SignalRule.objects.get(code="scenario").is_active is False


def test_saving_the_same_values_adds_no_version(cast: Cast) -> None:
    data = {**_good(), "param_spending_multiple": "5", "param_renovation_keywords": "装修\n装饰\n建材\n家装"}
    response = cast.client("ops").post(EDIT, data, follow=True)
    assert SignalRule.objects.get(code="scenario").version == 1
    assert [m.level_tag for m in response.context["messages"]] == ["info"]


def test_a_rule_that_is_always_on_has_no_switch(cast: Cast) -> None:
    body = cast.client("ops").get("/capital-flow/rules/compliance/").content.decode()
    assert '<input type="hidden" name="is_active"' in body
    assert 'type="checkbox" name="is_active"' not in body


def test_unknown_rule_is_404(cast: Cast) -> None:
    assert cast.client("ops").get("/capital-flow/rules/nonsense/").status_code == 404


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("param_min_amount", "-1"),  # negative
        ("param_spending_multiple", "1000"),  # out of range
        ("param_no_history_amount", "二万"),  # not a number
        ("param_min_amount", ""),  # missing
        ("param_renovation_mcc", "5211\n9999"),  # not a merchant code
        ("param_furniture_mcc", "5719-5712"),  # a range running backwards
        ("param_car_mcc", "55111"),  # malformed
        ("param_renovation_keywords", "装修\n装饰\n装修"),  # a keyword twice
        ("param_travel_keywords", "旅" * 31),  # too long
    ],
)
def test_a_bad_value_is_refused_on_its_field_and_changes_nothing(cast: Cast, field: str, value: str) -> None:
    client = cast.client("ops")
    client.get(EDIT)  # the rows exist before the comparison
    before = _state()
    response = client.post(EDIT, {**_good(), field: value})
    assert response.status_code == 400
    assert f'data-testid="error-{field}"' in response.content.decode()
    assert _state() == before
    assert not AuditEvent.objects.filter(action=Action.SIGNAL_RULE_CHANGE).exists()


def test_switching_off_a_rule_that_cannot_be_is_refused(cast: Cast) -> None:
    client = cast.client("ops")
    body = client.get("/capital-flow/rules/compliance/").content.decode()
    assert "is-invalid" not in body
    before = _state()
    data = {
        f"param_{k}": "\n".join(v) if isinstance(v, list) else v for k, v in r.defaults("compliance").items()
    }
    data.update(param_watch_days="20", note="试图关闭")  # no is_active: a tampered post
    response = client.post("/capital-flow/rules/compliance/", data)
    assert response.status_code == 400
    assert 'data-testid="error-is_active"' in response.content.decode()
    assert _state() == before


def test_a_list_that_must_not_be_empty_is_refused(cast: Cast) -> None:
    client = cast.client("ops")
    client.get("/capital-flow/rules/other_lender/")
    before = _state()
    data = {
        f"param_{k}": "\n".join(v) if isinstance(v, list) else v
        for k, v in r.defaults("other_lender").items()
    }
    data.update(param_lender_keywords=" \n ", is_active="on", note="清空")
    response = client.post("/capital-flow/rules/other_lender/", data)
    assert 'data-testid="error-param_lender_keywords"' in response.content.decode()
    assert _state() == before


def test_a_note_is_required(cast: Cast) -> None:
    client = cast.client("ops")
    client.get(EDIT)
    before = _state()
    response = client.post(EDIT, {**_good(), "note": "  "})
    assert 'data-testid="error-note"' in response.content.decode()
    assert _state() == before
