"""Contact rules, the script library and the append-only record of every call, visit and WeChat contact."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from xiaodai.customers.models import Customer, ImmutableRecord
from xiaodai.org.models import Branch, Staff, Team
from xiaodai.outreach import choices as c
from xiaodai.outreach.querysets import FollowUpQuerySet, OutcomeQuerySet, ScriptQuerySet

RATE: dict[str, Any] = {"max_digits": 7, "decimal_places": 4}


def _cap(label: Any, default: int) -> models.PositiveSmallIntegerField:
    return models.PositiveSmallIntegerField(
        label, default=default, validators=[MinValueValidator(1), MaxValueValidator(100)]
    )


class ContactPolicy(models.Model):
    """A branch's contact rules (compliance C-03, C-04, C-05); one row per branch, defaults on first use."""

    branch = models.OneToOneField(Branch, on_delete=models.CASCADE, related_name="contact_policy")
    window_start = models.TimeField(_("calls from"), default=dt.time(9, 0))
    window_end = models.TimeField(_("calls until"), default=dt.time(20, 0))
    holidays_allowed = models.BooleanField(_("calls on rest days and public holidays"), default=False)
    refusal_freeze_days = models.PositiveSmallIntegerField(
        _("no contact after a refusal for (days)"),
        default=180,
        validators=[MinValueValidator(1), MaxValueValidator(3650)],
    )
    # Frequency caps per customer, counted across all staff (C-05).
    phone_per_day = _cap(_("phone attempts per customer per day"), 2)
    phone_per_30d = _cap(_("phone contacts per customer in 30 days"), 8)
    visit_per_day = _cap(_("visits per customer per day"), 1)
    visit_per_30d = _cap(_("visits per customer in 30 days"), 4)
    wechat_per_day = _cap(_("WeChat contacts per customer per day"), 3)
    wechat_per_30d = _cap(_("WeChat contacts per customer in 30 days"), 12)
    version = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(Staff, on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    def caps(self, channel: str) -> tuple[int, int]:
        """(per day, per 30 days) for a work channel."""
        return int(getattr(self, f"{channel}_per_day")), int(getattr(self, f"{channel}_per_30d"))


class Script(models.Model):
    """A script (话术) for one product, optionally narrowed to a pool and a usage scenario."""

    branch = models.ForeignKey(Branch, on_delete=models.PROTECT, related_name="+")
    title = models.CharField(_("title"), max_length=100)
    product = models.CharField(_("product"), max_length=50)
    pool = models.CharField(_("pool"), max_length=32, blank=True)  # blank: any pool
    scenario = models.CharField(_("scenario"), max_length=32, blank=True)  # blank: any scenario
    created_by = models.ForeignKey(Staff, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScriptQuerySet.as_manager()

    class Meta:
        ordering = ["product", "pool", "scenario", "title"]

    def __str__(self) -> str:
        return self.title


class ScriptVersion(models.Model):
    """One version of a script. draft → review → approved, the approver is not the author (C-14); only the
    approved version reaches the call screen, and approving a new one retires the old."""

    script = models.ForeignKey(Script, on_delete=models.CASCADE, related_name="versions")
    version = models.PositiveIntegerField()
    status = models.CharField(
        _("status"), max_length=16, choices=c.ScriptStatus.choices, default=c.ScriptStatus.DRAFT
    )
    opening = models.TextField(_("opening line"))
    selling_points = models.TextField(_("selling points"))
    scenario_text = models.TextField(_("usage scenario"), blank=True)
    apr = models.DecimalField(_("APR (%)"), **RATE)  # 年化利率 shown with any price (C-13)
    closing = models.TextField(_("closing"), blank=True)
    # {objection code: [rebuttal, ...]}; outcomes point at a rebuttal by its index.
    objections = models.JSONField(_("objection handling"), default=dict)
    author = models.ForeignKey(Staff, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    reviewer = models.ForeignKey(Staff, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_note = models.CharField(_("review note"), max_length=500, blank=True)

    class Meta:
        ordering = ["script", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["script", "version"], name="outreach_script_version_unique"),
            models.UniqueConstraint(
                fields=["script"], condition=models.Q(status="approved"), name="outreach_one_approved"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.script_id} v{self.version} ({self.status})"


class Outcome(ImmutableRecord):
    """One contact with a customer and what came of it. Append-only (C-15): a correction is a new record
    pointing at the one it corrects. Carries what traceability needs: who, when, channel, script version,
    product, the APR shown and a recording reference."""

    token = models.UUIDField(unique=True)  # one per form: a double click cannot write twice
    branch = models.ForeignKey(Branch, on_delete=models.PROTECT, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="outcomes")
    staff = models.ForeignKey(Staff, on_delete=models.PROTECT, related_name="outcomes")
    team = models.ForeignKey(Team, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    assignment = models.ForeignKey(
        "allocation.Assignment", on_delete=models.PROTECT, null=True, blank=True, related_name="outcomes"
    )
    channel = models.CharField(_("channel"), max_length=16, choices=c.WorkChannel.choices)
    occurred_at = models.DateTimeField(_("time"))
    outcome = models.CharField(_("outcome"), max_length=16, choices=c.ContactOutcome.choices)
    objection = models.CharField(
        _("objection raised"), max_length=16, choices=c.Objection.choices, blank=True
    )
    rebuttal = models.PositiveSmallIntegerField(
        _("rebuttal used"), null=True, blank=True
    )  # index in the script
    purpose = models.CharField(
        _("stated loan purpose"), max_length=16, choices=c.LoanPurpose.choices, blank=True
    )
    amount = models.DecimalField(_("amount wanted"), max_digits=16, decimal_places=2, null=True, blank=True)
    follow_up_on = models.DateField(_("next follow-up"), null=True, blank=True)
    notes = models.CharField(_("notes"), max_length=500, blank=True)
    script_version = models.ForeignKey(
        ScriptVersion, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    product = models.CharField(_("product"), max_length=50, blank=True)
    apr_shown = models.DecimalField(_("APR shown (%)"), **RATE, null=True, blank=True)
    recording_ref = models.CharField(_("recording reference"), max_length=100, blank=True)
    visit_place = models.CharField(_("visit place"), max_length=16, choices=c.VisitPlace.choices, blank=True)
    wechat_kind = models.CharField(
        _("WeChat contact"), max_length=16, choices=c.WechatKind.choices, blank=True
    )
    outside_window = models.BooleanField(default=False)  # recorded outside the calling window (C-04 flag)
    corrects = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="corrected_by"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = OutcomeQuerySet.as_manager()

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(fields=["customer", "channel", "-occurred_at"]),
            models.Index(fields=["staff", "-occurred_at"]),
            models.Index(fields=["branch", "-occurred_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.channel} {self.outcome} @ {self.occurred_at:%Y-%m-%d %H:%M}"


class FollowUp(models.Model):
    """A promised next contact (due date, person); due ones come first on the call list."""

    branch = models.ForeignKey(Branch, on_delete=models.PROTECT, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="follow_ups")
    staff = models.ForeignKey(Staff, on_delete=models.PROTECT, related_name="follow_ups")
    channel = models.CharField(_("channel"), max_length=16, choices=c.WorkChannel.choices)
    due_on = models.DateField(_("due on"))
    status = models.CharField(
        _("status"), max_length=16, choices=c.FollowUpStatus.choices, default=c.FollowUpStatus.OPEN
    )
    source = models.ForeignKey(Outcome, on_delete=models.PROTECT, related_name="+")
    closed_by = models.ForeignKey(Outcome, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    closed_at = models.DateTimeField(null=True, blank=True)

    objects = FollowUpQuerySet.as_manager()

    class Meta:
        ordering = ["due_on", "id"]
        indexes = [
            models.Index(fields=["staff", "status", "due_on"]),
            models.Index(fields=["customer", "status"]),
        ]
