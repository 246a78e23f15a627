"""Pool rules: seeded from xiaodai.pools.rules, edited by an ops admin; each change is a new audited version
that the next pipeline run picks up. And the pool step itself, as the pipeline calls it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from xiaodai.audit.choices import Action
from xiaodai.audit.services import record
from xiaodai.org.models import Staff
from xiaodai.pools import rules as r
from xiaodai.pools.exceptions import RuleError
from xiaodai.pools.models import PoolRule, PoolRuleVersion

# The feeds whose data the pools read; a date whose drop lacks one cannot be run (yesterday's results stay).
REQUIRED_FEEDS = ("customers", "consents", "credit_lines", "loans", "cards", "deposits", "applications")


def ensure_rules() -> list[PoolRule]:
    """Every pool and the general settings have a rule row (version 1 = the defaults)."""
    existing = {rule.code: rule for rule in PoolRule.objects.all()}
    for pool in (*r.POOLS, r.GENERAL):
        if pool.code not in existing:
            with transaction.atomic():
                rule = PoolRule.objects.create(
                    code=pool.code, priority=pool.priority, params=r.defaults(pool.code)
                )
                PoolRuleVersion.objects.create(
                    rule=rule, version=1, priority=rule.priority, is_active=True, params=rule.params,
                    note="defaults",
                )  # fmt: skip
            existing[pool.code] = rule
    return sorted(existing.values(), key=lambda rule: (rule.priority, rule.code))


@transaction.atomic
def update_rule(
    code: str, *, params: dict[str, object], priority: object, is_active: bool, note: str, by: Staff | None
) -> PoolRule:
    """Validate everything first; a bad value raises RuleError and nothing changes."""
    if code not in r.BY_CODE:
        raise RuleError("code", _("unknown rule"))
    clean = r.parse_params(code, params)
    try:
        rank = int(str(priority).strip())
    except ValueError:
        raise RuleError("priority", _("must be a whole number")) from None
    if not 1 <= rank <= 999 and code != r.GENERAL.code:
        raise RuleError("priority", _("must be between 1 and 999"))
    ensure_rules()
    rule = PoolRule.objects.select_for_update().get(code=code)
    before = {"params": rule.params, "priority": rule.priority, "is_active": rule.is_active}
    after = {"params": clean, "priority": rank if code != r.GENERAL.code else 0, "is_active": is_active}
    if before == after:
        return rule
    rule.params, rule.is_active = clean, is_active
    rule.priority = rank if code != r.GENERAL.code else 0
    rule.version += 1
    rule.updated_by = by
    rule.save()
    PoolRuleVersion.objects.create(
        rule=rule, version=rule.version, priority=rule.priority, is_active=is_active, params=clean,
        note=note[:200], created_by=by,
    )  # fmt: skip
    record(
        Action.POOL_RULE_CHANGE,
        user=by.user if by else None,
        object_type="pool_rule",
        object_id=code,
        detail={"version": rule.version, "before": before, "after": after, "note": note[:200]},
    )
    return rule


@dataclass(frozen=True)
class PoolConfig:
    rules: dict[str, dict[str, Any]]  # typed params per active pool, and "general"
    priorities: dict[str, int]  # active pools only, in priority order
    versions: dict[str, int]


def current_config() -> PoolConfig:
    rules = ensure_rules()
    active = [rule for rule in rules if rule.is_active and rule.code != r.GENERAL.code]
    typed = {rule.code: r.typed(rule.code, rule.params) for rule in rules}
    return PoolConfig(
        rules=typed,
        priorities={rule.code: rule.priority for rule in active},
        versions={rule.code: rule.version for rule in rules},
    )


def lake_days(config: PoolConfig) -> int:
    """How far back the snapshot reads the lake's events: the longest window any rule looks at."""
    g = config.rules[r.GENERAL.code]
    leads = config.rules.get("scenario_channel", {}).get("look_back_days", 0)
    return max(g["coverage_days"], g["funnel_days"], leads)
