"""Signal rules: seeded from xiaodai.signals.rules, edited by an ops admin; each change is a new audited
version the next pipeline run picks up. And the configuration a run computes with."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from xiaodai.audit.choices import Action
from xiaodai.audit.services import record
from xiaodai.org.models import Staff
from xiaodai.pools.exceptions import RuleError
from xiaodai.signals import rules as r
from xiaodai.signals.models import SignalRule, SignalRuleVersion


def ensure_rules() -> list[SignalRule]:
    """Every rule has a row (version 1 = the defaults)."""
    existing = {rule.code: rule for rule in SignalRule.objects.all()}
    for definition in r.ALL:
        if definition.code not in existing:
            with transaction.atomic():
                rule, created = SignalRule.objects.get_or_create(
                    code=definition.code, defaults={"params": r.defaults(definition.code)}
                )
                if created:
                    SignalRuleVersion.objects.create(
                        rule=rule, version=1, is_active=True, params=rule.params, note="defaults"
                    )
            existing[definition.code] = rule
    order = {d.code: i for i, d in enumerate(r.ALL)}
    return sorted(
        (rule for rule in existing.values() if rule.code in order), key=lambda rule: order[rule.code]
    )


@transaction.atomic
def update_rule(
    code: str, *, params: dict[str, object], is_active: bool, note: str, by: Staff | None
) -> SignalRule:
    """Validate everything first; a bad value raises RuleError and nothing changes."""
    if code not in r.BY_CODE:
        raise RuleError("code", _("unknown rule"))
    definition = r.BY_CODE[code]
    if not is_active and not definition.can_switch_off:
        raise RuleError("is_active", _("this rule cannot be switched off"))
    clean = r.parse_params(code, params)
    ensure_rules()
    rule = SignalRule.objects.select_for_update().get(code=code)
    before = {"params": rule.params, "is_active": rule.is_active}
    after = {"params": clean, "is_active": is_active}
    if before == after:
        return rule
    rule.params, rule.is_active = clean, is_active
    rule.version += 1
    rule.updated_by = by
    rule.save()
    SignalRuleVersion.objects.create(
        rule=rule, version=rule.version, is_active=is_active, params=clean, note=note[:200], created_by=by
    )
    record(
        Action.SIGNAL_RULE_CHANGE,
        user=by.user if by else None,
        object_type="signal_rule",
        object_id=code,
        detail={"version": rule.version, "before": before, "after": after, "note": note[:200]},
    )
    return rule


@dataclass(frozen=True)
class SignalConfig:
    """What a run computes with: typed params of every rule, the signal kinds switched on, the versions."""

    rules: dict[str, dict[str, Any]]
    active: frozenset[str]  # signal kinds (rules.SIGNAL_KINDS) switched on
    versions: dict[str, int]

    def window_days(self) -> int:
        """How far back the snapshot reads transactions: usual spending, every look-back, the watch."""
        g = self.rules["general"]
        looks = [p.get("look_back_days", 0) for p in self.rules.values()]
        loop = self.rules["closed_loop"]
        return max(
            g["baseline_days"] + g["recent_days"],
            *looks,
            self.rules["compliance"]["watch_days"] + g["recent_days"],
            loop["window_days"] + loop["loop_days"],
            # the salary rule compares the latest month with min_months before it
            31 * (self.rules["salary_change"]["min_months"] + 2),
        )


def current_config() -> SignalConfig:
    rules = ensure_rules()
    return SignalConfig(
        rules={rule.code: r.typed(rule.code, rule.params) for rule in rules},
        active=frozenset(rule.code for rule in rules if rule.is_active and rule.code in r.SIGNAL_KINDS),
        versions={f"signal:{rule.code}": rule.version for rule in rules},
    )


def default_config() -> SignalConfig:
    """The defaults without a database (benchmarks, the step's own tests)."""
    return SignalConfig(
        rules={d.code: r.typed(d.code, r.defaults(d.code)) for d in r.ALL},
        active=frozenset(r.SIGNAL_KINDS),
        versions={f"signal:{d.code}": 1 for d in r.ALL},
    )
