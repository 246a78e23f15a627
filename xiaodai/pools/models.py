"""Pool rules (versioned parameters), pool membership of the latest published run, and pre-aggregated figures
per run, pool and organisation unit (the inventory page reads only these)."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _

from xiaodai.customers.models import Customer
from xiaodai.org.models import Branch, Staff, SubBranch, Team
from xiaodai.pipeline.models import PipelineRun
from xiaodai.pools import choices as c
from xiaodai.pools.querysets import FigureQuerySet, MemberQuerySet

MONEY: dict[str, Any] = {"max_digits": 18, "decimal_places": 2}


class PoolRule(models.Model):
    """The current parameters of one pool (or of the general settings); every change adds a version."""

    code = models.CharField(max_length=32, unique=True)
    priority = models.PositiveSmallIntegerField(_("priority"))
    is_active = models.BooleanField(_("active"), default=True)
    params = models.JSONField(default=dict)
    version = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(Staff, on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["priority", "code"]

    def __str__(self) -> str:
        return f"{self.code} v{self.version}"


class PoolRuleVersion(models.Model):
    """One saved state of a rule: what a run used is recorded by version number (explainability, C-11)."""

    rule = models.ForeignKey(PoolRule, on_delete=models.CASCADE, related_name="versions")
    version = models.PositiveIntegerField()
    priority = models.PositiveSmallIntegerField()
    is_active = models.BooleanField()
    params = models.JSONField()
    note = models.CharField(_("reason for the change"), max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(Staff, on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["rule", "-version"]
        constraints = [models.UniqueConstraint(fields=["rule", "version"], name="pools_rule_version_unique")]


class PoolMember(models.Model):
    """A customer in a pool as of the latest published run, with the facts its reason is worded from."""

    run = models.ForeignKey(PipelineRun, on_delete=models.CASCADE, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="pool_members")
    pool = models.CharField(_("pool"), max_length=32)
    is_primary = models.BooleanField(_("primary pool"))
    blocked = models.PositiveSmallIntegerField(default=0)  # c.Block bits; 0 = workable
    channels = models.PositiveSmallIntegerField(default=0)  # c.Channels bits
    potential = models.DecimalField(_("potential"), **MONEY)
    basis = models.DecimalField(
        **MONEY, null=True
    )  # the amount a reason quotes: limit, loan, salary, AUM ...
    days = models.IntegerField(null=True)  # idle days, days stalled, days to maturity ... per pool
    on_date = models.DateField(null=True)  # line expiry, loan maturity, last salary ... per pool
    detail = models.CharField(max_length=32, blank=True)  # application stage, scenario ...
    is_new = models.BooleanField(default=False)  # not in this pool at the previous run
    # The customer's score, copied here so a pool list sorts by expected value through its own index.
    probability = models.FloatField(_("probability"), null=True)
    expected_value = models.DecimalField(_("expected value"), **MONEY, null=True)

    objects = MemberQuerySet.as_manager()

    class Meta:
        ordering = ["-potential", "customer_id"]
        constraints = [models.UniqueConstraint(fields=["pool", "customer"], name="pools_member_unique")]
        indexes = [
            models.Index(fields=["pool", "blocked", "-potential"]),
            models.Index(fields=["pool", "blocked", "-expected_value"], name="pools_member_ev"),
        ]

    @property
    def workable(self) -> bool:
        return self.blocked == 0


class PoolFigure(models.Model):
    """Counts and sums of one pool at one organisation unit after one run (pre-aggregated for the page)."""

    run = models.ForeignKey(PipelineRun, on_delete=models.CASCADE, related_name="pool_figures")
    pool = models.CharField(max_length=32)
    level = models.CharField(max_length=16, choices=c.Level.choices)
    branch = models.ForeignKey(Branch, on_delete=models.CASCADE, related_name="+")
    sub_branch = models.ForeignKey(SubBranch, on_delete=models.CASCADE, null=True, related_name="+")
    team = models.ForeignKey(Team, on_delete=models.CASCADE, null=True, related_name="+")
    owner = models.ForeignKey(Staff, on_delete=models.CASCADE, null=True, related_name="+")
    customers = models.PositiveIntegerField(default=0)
    primary = models.PositiveIntegerField(default=0)  # customers whose primary pool this is
    workable = models.PositiveIntegerField(default=0)
    potential = models.DecimalField(**MONEY, default=0)
    workable_potential = models.DecimalField(**MONEY, default=0)
    # Counted once per customer (in their primary pool): these add up across pools without double counting.
    primary_workable = models.PositiveIntegerField(default=0)
    primary_potential = models.DecimalField(**MONEY, default=0)
    covered = models.PositiveIntegerField(default=0)  # workable, contacted within coverage_days
    entered = models.PositiveIntegerField(default=0)  # joined since the previous run
    left = models.PositiveIntegerField(default=0)  # gone since the previous run
    contacted = models.PositiveIntegerField(default=0)
    reached = models.PositiveIntegerField(default=0)
    interested = models.PositiveIntegerField(default=0)
    applied = models.PositiveIntegerField(default=0)
    approved = models.PositiveIntegerField(default=0)
    disbursed = models.PositiveIntegerField(default=0)
    drawn = models.PositiveIntegerField(default=0)

    objects = FigureQuerySet.as_manager()

    class Meta:
        indexes = [models.Index(fields=["run", "level", "pool"])]

    @property
    def coverage(self) -> float:
        return self.covered / self.workable if self.workable else 0.0

    FUNNEL = ("contacted", "reached", "interested", "applied", "approved", "disbursed", "drawn")
