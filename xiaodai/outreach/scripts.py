"""The script library's writes and its one read for the call screen.

A script (话术) moves draft → review → approved; the approver is never the author (A-04, C-14), a version
with a lint error cannot go to review or be approved (C-13, C-16), and approving a version retires the one
approved before it in the same transaction (one approved version per script, a partial unique index).
Only the author edits or submits a draft: authorship stays unambiguous, so "not the author" means something.
Every write is atomic and audited with ids and codes only.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import models, transaction
from django.db.models import Case, IntegerField, Q, Value, When
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from xiaodai.audit.choices import Action
from xiaodai.audit.services import record
from xiaodai.core.roles import ROLE_PERMS, Perm
from xiaodai.org.models import Staff
from xiaodai.outreach.choices import Objection, ScriptStatus
from xiaodai.outreach.models import Script, ScriptVersion
from xiaodai.outreach.script_lint import TEXT_FIELDS, LintError, lint
from xiaodai.pools.rules import POOL_CODES


class Scenario(models.TextChoices):
    """Consumption scenarios (场景) a script can be narrowed to: the codes the scenario-channel pool carries
    in its members' detail (xiaodai.pools.reasons.SCENARIOS, the `channel_leads` feed) and the capital-flow
    signals' scenarios (xiaodai.signals.choices.Scenario): a customer's scenario finds its script directly."""

    RENOVATION = "renovation", pgettext_lazy("scenario", "Renovation")
    FURNITURE = "furniture", pgettext_lazy("scenario", "Furniture and appliances")
    CAR = "car", pgettext_lazy("scenario", "Car purchase")
    EDUCATION = "education", pgettext_lazy("scenario", "Education")
    MEDICAL = "medical", pgettext_lazy("scenario", "Medical")
    TRAVEL = "travel", pgettext_lazy("scenario", "Travel")
    WEDDING = "wedding", pgettext_lazy("scenario", "Wedding")
    PROVIDENT_FUND = "provident_fund", pgettext_lazy("scenario", "Housing provident fund")


VERSION_FIELDS: tuple[str, ...] = (*TEXT_FIELDS, "apr", "objections")
REQUIRED_TEXTS = ("opening", "selling_points")
MAX_TEXT = 2000
MAX_REBUTTAL = 500
MAX_REBUTTALS = 10
MIN_NOTE = 2

MESSAGES: dict[str, Any] = {
    "title_required": _("Give the script a title."),
    "product_required": _("Name the product the script sells."),
    "pool_unknown": _("Choose a pool from the list, or none for any pool."),
    "scenario_unknown": _("Choose a scenario from the list, or none for any scenario."),
    "text_required": _("This text is required."),
    "text_too_long": _("This text is too long (at most %(limit)s characters)."),
    "apr_invalid": _("Give the APR as a number such as 3.45 (at most four decimals)."),
    "objections_invalid": _("Objection handling must list rebuttals under objection types."),
    "objection_unknown": _("“%(code)s” is not an objection type."),
    "rebuttal_too_long": _("A rebuttal is too long (at most %(limit)s characters)."),
    "too_many_rebuttals": _("At most %(limit)s rebuttals per objection."),
    "unknown_field": _("“%(code)s” is not a field of a script version."),
    "not_allowed": _("Your role may not do this with scripts."),
    "other_branch": _("This script belongs to another branch."),
    "not_draft": _("Only a draft can be changed or submitted; this version is “%(status)s”."),
    "draft_of_another": _("This draft is %(author)s's: only its author can change or submit it."),
    "not_in_review": _(
        "Only a version in review can be approved or sent back; this version is “%(status)s”."
    ),
    "self_approval": _("You wrote this version: another person must approve it (segregation of duties)."),
    "note_required": _("Say why the version is sent back, so its author can put it right."),
    "lint_failed": _("The script lint found problems: correct them before the script goes to review."),
}


class ScriptError(Exception):
    """A refused script action: a code (MESSAGES), the field it concerns, and the lint's findings if any."""

    def __init__(
        self,
        code: str,
        *,
        field: str = "",
        params: Mapping[str, Any] | None = None,
        lint_errors: list[LintError] | None = None,
    ) -> None:
        super().__init__(code)
        self.code = code
        self.field = field
        self.params = dict(params or {})
        self.lint_errors = lint_errors or []

    @property
    def message(self) -> str:
        return str(MESSAGES.get(self.code, self.code)) % self.params


# --- validation ------------------------------------------------------------------------------------


def _text(value: Any, field: str) -> str:
    text = "\n".join(line.rstrip() for line in str(value or "").replace("\r\n", "\n").split("\n")).strip()
    if field in REQUIRED_TEXTS and not text:
        raise ScriptError("text_required", field=field)
    if len(text) > MAX_TEXT:
        raise ScriptError("text_too_long", field=field, params={"limit": MAX_TEXT})
    return text


def _apr(value: Any) -> Decimal:
    """A number the APR column holds (seven digits, four decimals); whether it is sensible is the lint's."""
    try:
        apr = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise ScriptError("apr_invalid", field="apr") from None
    exponent = apr.as_tuple().exponent
    if not apr.is_finite() or apr < 0 or apr >= 1000 or (isinstance(exponent, int) and exponent < -4):
        raise ScriptError("apr_invalid", field="apr")
    return apr


def clean_objections(value: Any) -> dict[str, list[str]]:
    """{objection code: [rebuttal, ...]} with known codes only, blank lines dropped, in the choices' order."""
    if value in (None, ""):
        return {}
    if not isinstance(value, Mapping):
        raise ScriptError("objections_invalid", field="objections")
    known = set(Objection.values)
    cleaned: dict[str, list[str]] = {}
    for code, texts in value.items():
        if code not in known:
            raise ScriptError("objection_unknown", field="objections", params={"code": str(code)[:40]})
        if isinstance(texts, str):
            texts = texts.splitlines()
        if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
            raise ScriptError("objections_invalid", field=f"objections.{code}")
        lines = [" ".join(t.split()) for t in texts]
        lines = [t for t in lines if t]
        if len(lines) > MAX_REBUTTALS:
            raise ScriptError(
                "too_many_rebuttals", field=f"objections.{code}", params={"limit": MAX_REBUTTALS}
            )
        if any(len(t) > MAX_REBUTTAL for t in lines):
            raise ScriptError("rebuttal_too_long", field=f"objections.{code}", params={"limit": MAX_REBUTTAL})
        if lines:
            cleaned[code] = lines
    return {code: cleaned[code] for code in Objection.values if code in cleaned}


def clean_fields(fields: Mapping[str, Any], base: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """A full, valid set of version fields: `fields` over `base` (the version it starts from)."""
    unknown = sorted(set(fields) - set(VERSION_FIELDS))
    if unknown:
        raise ScriptError("unknown_field", params={"code": unknown[0][:40]})
    merged = {**(base or {}), **fields}
    cleaned: dict[str, Any] = {field: _text(merged.get(field), field) for field in TEXT_FIELDS}
    if merged.get("apr") in (None, ""):
        raise ScriptError("apr_invalid", field="apr")
    cleaned["apr"] = _apr(merged["apr"])
    cleaned["objections"] = clean_objections(merged.get("objections"))
    return cleaned


def fields_of(version: ScriptVersion) -> dict[str, Any]:
    """The version's editable fields, as lint() and save_draft() take them."""
    return {field: getattr(version, field) for field in VERSION_FIELDS}


def _require(by: Staff, perm: str, script: Script | None = None) -> None:
    """Defence in depth: the views check the permission too, the CLI and the demo seed do not."""
    if perm not in ROLE_PERMS.get(by.role, frozenset()) or not by.user.is_active:
        raise ScriptError("not_allowed")
    if script is not None and script.branch_id != by.branch_id:
        raise ScriptError("other_branch")


def _audit(action: str, by: Staff, version: ScriptVersion, **detail: Any) -> None:
    record(
        action,
        user=by.user,
        obj=version,
        detail={"script": version.script_id, "version": version.version, **detail},
    )


# --- writes ----------------------------------------------------------------------------------------


@transaction.atomic
def create_script(
    by: Staff, title: str, product: str, pool: str, scenario: str, fields: Mapping[str, Any]
) -> ScriptVersion:
    """A new script of `by`'s branch with version 1 as a draft (returned; its script is `.script`)."""
    _require(by, Perm.WRITE_SCRIPTS)
    title, product = " ".join(str(title).split()), " ".join(str(product).split())
    pool, scenario = (pool or "").strip(), (scenario or "").strip()
    if not title or len(title) > 100:
        raise ScriptError("title_required", field="title")
    if not product or len(product) > 50:
        raise ScriptError("product_required", field="product")
    if pool and pool not in POOL_CODES:
        raise ScriptError("pool_unknown", field="pool")
    if scenario and scenario not in Scenario.values:
        raise ScriptError("scenario_unknown", field="scenario")
    cleaned = clean_fields(fields)
    script = Script.objects.create(
        branch_id=by.branch_id, title=title, product=product, pool=pool, scenario=scenario, created_by=by
    )
    version = ScriptVersion.objects.create(script=script, version=1, author=by, **cleaned)
    _audit(Action.SCRIPT_SAVE, by, version, new_version=True, product=product, pool=pool, scenario=scenario)
    return version


@transaction.atomic
def save_draft(script: Script, by: Staff, fields: Mapping[str, Any]) -> ScriptVersion:
    """Edit the script's open draft, or start one: a new version copied from the latest, with `fields` on top.

    Only a draft is ever edited; a version in review, approved, sent back or retired stays as it was, and
    its text lives on in the new draft. Saving the same values again changes nothing (no new version, no
    audit event)."""
    _require(by, Perm.WRITE_SCRIPTS, script)
    Script.objects.select_for_update().filter(pk=script.pk).first()  # one new version at a time
    latest = script.versions.order_by("-version").first()
    if latest is not None and latest.status == ScriptStatus.DRAFT:
        if latest.author_id != by.pk:
            raise ScriptError("draft_of_another", params={"author": latest.author.name})
        before = fields_of(latest)
        cleaned = clean_fields(fields, before)
        changed = sorted(f for f in VERSION_FIELDS if cleaned[f] != before[f])
        if not changed:
            return latest
        for field, value in cleaned.items():
            setattr(latest, field, value)
        latest.save(update_fields=[*VERSION_FIELDS])
        _audit(Action.SCRIPT_SAVE, by, latest, new_version=False, fields=changed)
        return latest
    base = fields_of(latest) if latest is not None else {}
    cleaned = clean_fields(fields, base)
    version = ScriptVersion.objects.create(
        script=script,
        version=(latest.version + 1) if latest is not None else 1,
        author=by,
        **cleaned,
    )
    _audit(
        Action.SCRIPT_SAVE,
        by,
        version,
        new_version=True,
        from_version=latest.version if latest else None,
        fields=sorted(f for f in VERSION_FIELDS if cleaned[f] != base.get(f)),
    )
    return version


def _locked(version: ScriptVersion) -> ScriptVersion:
    """The version, re-read under lock. The script row is locked first (as save_draft does), so two
    approvals of one script's versions run one after the other and the second retires the first."""
    Script.objects.select_for_update().filter(pk=version.script_id).first()
    return (
        ScriptVersion.objects.select_for_update(of=("self",))
        .select_related("script", "author")
        .get(pk=version.pk)
    )


@transaction.atomic
def submit(version: ScriptVersion, by: Staff) -> ScriptVersion:
    """Send the author's draft to review; refused, with the lint's findings, if the lint finds anything."""
    version = _locked(version)
    _require(by, Perm.WRITE_SCRIPTS, version.script)
    if version.status != ScriptStatus.DRAFT:
        raise ScriptError("not_draft", params={"status": version.get_status_display()})
    if version.author_id != by.pk:
        raise ScriptError("draft_of_another", params={"author": version.author.name})
    errors = lint(fields_of(version))
    if errors:
        raise ScriptError("lint_failed", lint_errors=errors)
    version.status = ScriptStatus.REVIEW
    version.submitted_at = timezone.now()
    version.save(update_fields=["status", "submitted_at"])
    _audit(Action.SCRIPT_SUBMIT, by, version)
    return version


@transaction.atomic
def approve(version: ScriptVersion, by: Staff, note: str = "") -> ScriptVersion:
    """Approve a version in review (never its author's own) and retire the version approved before it."""
    version = _locked(version)
    _require(by, Perm.APPROVE_SCRIPTS, version.script)
    if version.status != ScriptStatus.REVIEW:
        raise ScriptError("not_in_review", params={"status": version.get_status_display()})
    if version.author_id == by.pk:
        raise ScriptError("self_approval")
    errors = lint(fields_of(version))  # the banned list may have grown since it was submitted
    if errors:
        raise ScriptError("lint_failed", lint_errors=errors)
    previous = list(
        ScriptVersion.objects.select_for_update()
        .filter(script_id=version.script_id, status=ScriptStatus.APPROVED)
        .values_list("pk", "version")
    )
    # Retire first: the partial unique index allows one approved version per script at any moment.
    ScriptVersion.objects.filter(pk__in=[pk for pk, _ in previous]).update(status=ScriptStatus.RETIRED)
    version.status = ScriptStatus.APPROVED
    version.reviewer = by
    version.reviewed_at = timezone.now()
    version.review_note = " ".join(str(note).split())[:500]
    version.save(update_fields=["status", "reviewer", "reviewed_at", "review_note"])
    _audit(Action.SCRIPT_APPROVE, by, version, retired=[v for _, v in previous])
    return version


@transaction.atomic
def reject(version: ScriptVersion, by: Staff, note: str) -> ScriptVersion:
    """Send a version in review back with a note saying why (an author may withdraw their own this way)."""
    version = _locked(version)
    _require(by, Perm.APPROVE_SCRIPTS, version.script)
    if version.status != ScriptStatus.REVIEW:
        raise ScriptError("not_in_review", params={"status": version.get_status_display()})
    note = " ".join(str(note or "").split())
    if len(note) < MIN_NOTE:
        raise ScriptError("note_required", field="note")
    version.status = ScriptStatus.REJECTED
    version.reviewer = by
    version.reviewed_at = timezone.now()
    version.review_note = note[:500]
    version.save(update_fields=["status", "reviewer", "reviewed_at", "review_note"])
    _audit(Action.SCRIPT_REJECT, by, version)
    return version


# --- the call screen's read ------------------------------------------------------------------------


def approved_script_for(
    branch_id: int,
    *,
    product: str | None = None,
    pool: str | None = None,
    scenario: str | None = None,
    scenario_first: bool = False,
) -> ScriptVersion | None:
    """The approved script version that fits a customer best, or None.

    Only approved versions (C-14). A script fits when its product is `product` (any product when None) and
    its pool and scenario are each blank ("any") or equal to the customer's. Best first: pool and scenario
    both matched, then pool, then scenario, then a generic script; ties go to the most recently approved.
    `scenario_first`: the scenario is the customer's need now (a capital-flow signal), it beats the pool.
    """
    qs = ScriptVersion.objects.filter(status=ScriptStatus.APPROVED, script__branch_id=branch_id)
    if product:
        qs = qs.filter(script__product=product)
    qs = qs.filter(Q(script__pool="") | Q(script__pool=pool or ""))
    qs = qs.filter(Q(script__scenario="") | Q(script__scenario=scenario or ""))
    pool_hit = When(~Q(script__pool=""), then=Value(2))
    scenario_hit = When(~Q(script__scenario=""), then=Value(1))
    return (
        qs.annotate(
            pool_rank=Case(pool_hit, default=Value(0), output_field=IntegerField()),
            scenario_rank=Case(scenario_hit, default=Value(0), output_field=IntegerField()),
        )
        .order_by(
            *(("-scenario_rank", "-pool_rank") if scenario_first else ("-pool_rank", "-scenario_rank")),
            "-reviewed_at",
            "-pk",
        )
        .select_related("script")
        .first()
    )
