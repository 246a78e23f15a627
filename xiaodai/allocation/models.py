"""Who works which customer: claims (认领), bulk allocations (行内分配) and strike → follow-up hand-offs."""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from xiaodai.allocation import choices as c
from xiaodai.allocation.querysets import AssignmentQuerySet, BatchQuerySet
from xiaodai.customers.models import Customer
from xiaodai.org.models import Branch, Staff, Team


class ClaimPolicy(models.Model):
    """A branch's claim settings; one row per branch, created with the defaults on first use."""

    branch = models.OneToOneField(Branch, on_delete=models.CASCADE, related_name="claim_policy")
    protection_days = models.PositiveSmallIntegerField(
        _("protection period (days)"), default=30, validators=[MinValueValidator(1), MaxValueValidator(365)]
    )
    lapse_days = models.PositiveSmallIntegerField(
        _("lapse when not contacted within (days)"),
        default=7,
        validators=[MinValueValidator(1), MaxValueValidator(90)],
    )
    max_claims = models.PositiveIntegerField(
        _("open claims per person at most"), default=300, validators=[MinValueValidator(1)]
    )
    control_share = models.DecimalField(
        _("control group share"),
        max_digits=4,
        decimal_places=3,
        default=0,
        validators=[MinValueValidator(0), MaxValueValidator(0.5)],
        help_text=_("Share of each allocation held back and not called, to measure the lift (0 = off)."),
    )
    version = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(Staff, on_delete=models.PROTECT, null=True, blank=True, related_name="+")


class AllocationBatch(models.Model):
    """One committed bulk allocation: its parameters and what it did (the preview is not stored)."""

    branch = models.ForeignKey(Branch, on_delete=models.PROTECT, related_name="+")
    created_by = models.ForeignKey(Staff, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    params = models.JSONField(default=dict)  # pool, sub-branch, score band, targets, capacity, days
    allocated = models.PositiveIntegerField(default=0)
    to_owner = models.PositiveIntegerField(default=0)  # went to their existing owner
    held_back = models.PositiveIntegerField(default=0)  # control group
    skipped = models.PositiveIntegerField(default=0)  # already worked by someone, or not eligible

    objects = BatchQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]


class Assignment(models.Model):
    """A customer worked by one person for a while. At most one is active per customer (a partial unique
    index), which is what makes two simultaneous claims of one customer end with exactly one winner."""

    branch = models.ForeignKey(Branch, on_delete=models.PROTECT, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="assignments")
    staff = models.ForeignKey(Staff, on_delete=models.PROTECT, related_name="assignments")
    team = models.ForeignKey(Team, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    kind = models.CharField(_("kind"), max_length=16, choices=c.Kind.choices)
    status = models.CharField(_("status"), max_length=16, choices=c.Status.choices, default=c.Status.ACTIVE)
    pool = models.CharField(_("pool"), max_length=32, blank=True)
    # Held back as the control group: never on a call list, counted on the funnel to measure the lift.
    control = models.BooleanField(_("control group"), default=False)
    batch = models.ForeignKey(
        AllocationBatch, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    previous = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    note = models.CharField(_("hand-off note"), max_length=500, blank=True)
    deadline = models.DateField(_("deadline"), null=True, blank=True)
    created_by = models.ForeignKey(Staff, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    protected_until = models.DateField(_("protected until"))
    lapses_on = models.DateField(_("lapses if not contacted by"), null=True, blank=True)
    last_contact_at = models.DateTimeField(_("last contact"), null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_by = models.ForeignKey(Staff, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    end_reason = models.CharField(max_length=200, blank=True)

    objects = AssignmentQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer"],
                condition=models.Q(status="active"),
                name="allocation_one_active_per_customer",
            )
        ]
        indexes = [
            models.Index(fields=["staff", "status"]),
            models.Index(fields=["status", "lapses_on"]),
            models.Index(fields=["branch", "status", "kind"]),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} → {self.staff_id} ({self.kind}, {self.status})"
