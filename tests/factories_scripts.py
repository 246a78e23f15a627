"""Scripts for tests: a lint-clean version's fields and a helper that puts a script version in any status."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.utils import timezone

from xiaodai.org.models import Staff
from xiaodai.outreach.choices import ScriptStatus
from xiaodai.outreach.models import Script, ScriptVersion


def clean_fields(**overrides: Any) -> dict[str, Any]:
    """Fields that pass the lint."""
    fields: dict[str, Any] = {
        "opening": "您好，我是杭州分行西湖支行的客户经理，打扰您一分钟。",
        "selling_points": "年化利率3.45%起（单利），按日计息，随借随还。",
        "scenario_text": "装修、家电、教育、旅游都可以用。",
        "closing": "我把申请步骤发给您？",
        "apr": Decimal("3.45"),
        "objections": {
            "rate_high": ["我们年化利率3.45%起（单利），不用不计息。"],
            "no_time": ["我稍后再打给您？"],
        },
    }
    fields.update(overrides)
    return fields


def make_version(
    author: Staff,
    *,
    status: str = ScriptStatus.APPROVED,
    script: Script | None = None,
    reviewer: Staff | None = None,
    product: str = "消费贷",
    pool: str = "",
    scenario: str = "",
    title: str = "测试话术",
    reviewed_at: Any = None,
    **fields: Any,
) -> ScriptVersion:
    """A version written straight to the database (no services, no audit): the fixture for reads and pages."""
    if script is None:
        script = Script.objects.create(
            branch_id=author.branch_id,
            title=title,
            product=product,
            pool=pool,
            scenario=scenario,
            created_by=author,
        )
    number = (script.versions.order_by("-version").values_list("version", flat=True).first() or 0) + 1
    reviewed = status in (ScriptStatus.APPROVED, ScriptStatus.REJECTED, ScriptStatus.RETIRED)
    return ScriptVersion.objects.create(
        script=script,
        version=number,
        status=status,
        author=author,
        submitted_at=timezone.now() if status != ScriptStatus.DRAFT else None,
        reviewer=reviewer if reviewed else None,
        reviewed_at=(reviewed_at or timezone.now()) if reviewed else None,
        **clean_fields(**fields),
    )
