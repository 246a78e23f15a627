"""Signal rules as services: versioned and audited changes, refusals that change nothing, the typed config."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.conftest import Cast
from xiaodai.audit.choices import Action
from xiaodai.audit.models import AuditEvent
from xiaodai.pools.exceptions import RuleError
from xiaodai.signals import rules as r
from xiaodai.signals import services as svc
from xiaodai.signals.models import SignalRule, SignalRuleVersion


def _params(code: str, **changes: object) -> dict[str, object]:
    return {**r.defaults(code), **changes}


@pytest.mark.django_db
def test_every_rule_starts_at_version_one_with_the_defaults() -> None:
    rules = svc.ensure_rules()
    assert [rule.code for rule in rules] == [d.code for d in r.ALL]
    assert all(rule.version == 1 and rule.params == r.defaults(rule.code) for rule in rules)


@pytest.mark.django_db
def test_a_change_adds_a_version_and_an_audit_event(cast: Cast) -> None:
    head = cast.staff["ops"]
    svc.update_rule(
        "scenario", params=_params("scenario", spending_multiple="8"), is_active=True, note="更严格", by=head
    )
    rule = SignalRule.objects.get(code="scenario")
    assert rule.version == 2
    assert rule.params["spending_multiple"] == "8"
    assert SignalRuleVersion.objects.get(rule=rule, version=2).note == "更严格"
    event = AuditEvent.objects.get(action=Action.SIGNAL_RULE_CHANGE)
    assert event.detail["after"]["params"]["spending_multiple"] == "8"


@pytest.mark.django_db
def test_saving_the_same_values_adds_no_version() -> None:
    svc.update_rule("other_lender", params=_params("other_lender"), is_active=True, note="", by=None)
    assert SignalRule.objects.get(code="other_lender").version == 1


@pytest.mark.django_db
def test_keyword_lists_accept_lines_and_chinese_commas() -> None:
    svc.update_rule(
        "provident_fund",
        params=_params("provident_fund", purpose_keywords="装修，购房\n大修"),
        is_active=True,
        note="",
        by=None,
    )
    assert SignalRule.objects.get(code="provident_fund").params["purpose_keywords"] == [
        "装修",
        "购房",
        "大修",
    ]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("code", "changes", "field"),
    [
        ("scenario", {"min_amount": "-1"}, "min_amount"),
        ("scenario", {"spending_multiple": "abc"}, "spending_multiple"),
        ("general", {"recent_days": "0"}, "recent_days"),
        ("scenario", {"car_mcc": "0001"}, "car_mcc"),
        ("scenario", {"travel_mcc": "4000-3000"}, "travel_mcc"),
        ("scenario", {"car_mcc": "55x1"}, "car_mcc"),
        ("other_lender", {"memo_keywords": "还款\n还款"}, "memo_keywords"),
        ("other_lender", {"lender_keywords": ""}, "lender_keywords"),
        ("provident_fund", {"purpose_keywords": "装" * 31}, "purpose_keywords"),
        ("deposit_outflow", {"bogus": "1"}, "bogus"),
        ("deposit_outflow", {"min_aum_share": ""}, "min_aum_share"),
    ],
)
def test_a_bad_value_is_refused_and_nothing_changes(
    code: str, changes: dict[str, object], field: str
) -> None:
    svc.ensure_rules()
    with pytest.raises(RuleError) as caught:
        svc.update_rule(code, params=_params(code, **changes), is_active=True, note="", by=None)
    assert caught.value.field == field
    assert SignalRule.objects.get(code=code).version == 1
    assert not AuditEvent.objects.filter(action=Action.SIGNAL_RULE_CHANGE).exists()


@pytest.mark.django_db
@pytest.mark.parametrize("code", ["general", "compliance", "closed_loop"])
def test_the_watch_and_the_settings_cannot_be_switched_off(code: str) -> None:
    with pytest.raises(RuleError):
        svc.update_rule(code, params=_params(code), is_active=False, note="", by=None)


@pytest.mark.django_db
def test_a_switched_off_signal_leaves_the_active_kinds() -> None:
    svc.update_rule("salary_change", params=_params("salary_change"), is_active=False, note="", by=None)
    config = svc.current_config()
    assert "salary_change" not in config.active
    assert config.versions["signal:salary_change"] == 2


def test_mcc_ranges_expand_to_the_codes_iso_18245_knows() -> None:
    config = svc.default_config()
    assert "5712" in config.rules["scenario"]["furniture_mcc"]
    assert "5719" in config.rules["scenario"]["furniture_mcc"]
    assert "5715" not in config.rules["scenario"]["furniture_mcc"]  # alcoholic beverage wholesalers
    assert config.rules["scenario"]["spending_multiple"] == Decimal("5")


def test_the_window_covers_the_baseline_and_the_watch() -> None:
    config = svc.default_config()
    g = config.rules["general"]
    assert config.window_days() >= g["baseline_days"] + g["recent_days"]
    assert config.window_days() >= config.rules["compliance"]["watch_days"]


# --- merchant code names ---


def test_every_name_marked_for_translation_is_one_the_standard_gives() -> None:
    import iso18245

    from xiaodai.signals.mcc_names import TRANSLATED

    standard = {m.iso_description or m.usda_description for m in iso18245.get_all_mccs()}
    assert [name for name in TRANSLATED if name not in standard] == []


def test_every_code_the_default_rules_list_has_a_chinese_name() -> None:
    from django.utils import translation

    from xiaodai.signals import mcc

    listed = {
        code
        for values in svc.default_config().rules.values()
        for name, value in values.items()
        if name.endswith("_mcc")
        for code in value
        if not "3000" <= code <= "3999"  # the schemes' brand ranges: see the next test
    }
    with translation.override("zh-hans"):
        unnamed = sorted(code for code in listed if mcc.label(code) == mcc.describe(code))
    assert unnamed == []


def test_a_brand_code_says_its_kind_before_the_brand() -> None:
    from django.utils import translation

    from xiaodai.signals import mcc

    with translation.override("zh-hans"):
        assert mcc.label("3000") == f"航空公司 · {mcc.describe('3000')}"
        assert mcc.label("3003") == "航空公司"  # a code of the range that names no brand
    with translation.override("en"):
        assert mcc.label("5211") == "Lumber and building materials outlets"
