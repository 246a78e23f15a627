"""Plans with SMART targets, the daily figure rollup behind every dashboard, PDCA records, events held and
competitions (劳动竞赛)."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _

from xiaodai.org.models import Branch, Staff, SubBranch, Team
from xiaodai.plans import choices as c
from xiaodai.plans.querysets import (
    BranchWideQuerySet,
    CompetitionQuerySet,
    EventQuerySet,
    FactQuerySet,
    FlagSetQuerySet,
    TargetQuerySet,
)

MONEY: dict[str, Any] = {"max_digits": 18, "decimal_places": 2}


class Plan(models.Model):
    """A period's plan (month, quarter or a campaign's weeks): its targets and its PDCA cycle.

    Plan = the targets plus the resources and actions written here; Do = the figures (computed);
    Check = findings; Act = adjustments, each linked to a finding."""

    branch = models.ForeignKey(Branch, on_delete=models.PROTECT, related_name="+")
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=16, choices=c.PlanKind.choices)
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"))
    status = models.CharField(_("status"), max_length=16, choices=c.PlanStatus.choices, default="active")
    resources = models.TextField(_("resources"), blank=True)  # people, budget, benefits committed
    actions = models.TextField(_("planned actions"), blank=True)
    created_by = models.ForeignKey(Staff, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = BranchWideQuerySet.as_manager()

    class Meta:
        ordering = ["-starts_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_on__gte=models.F("starts_on")), name="plans_plan_dates"
            )
        ]

    def __str__(self) -> str:
        return self.name


class Target(models.Model):
    """One SMART target: a figure, a value, a scope (branch, sub-branch, team or person) and the plan's
    period. A child target may come from splitting its parent; the children of a split add up to it."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="targets")
    branch = models.ForeignKey(Branch, on_delete=models.PROTECT, related_name="+")
    scope = models.CharField(_("level"), max_length=16, choices=c.ScopeKind.choices)
    sub_branch = models.ForeignKey(
        SubBranch, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    team = models.ForeignKey(Team, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    staff = models.ForeignKey(Staff, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    figure = models.CharField(_("figure"), max_length=32, choices=c.Figure.choices)
    value = models.DecimalField(_("target"), **MONEY)
    # Copied from the plan so overlap checks and progress reads need no join.
    starts_on = models.DateField()
    ends_on = models.DateField()
    parent = models.ForeignKey(
        "self", on_delete=models.CASCADE, null=True, blank=True, related_name="children"
    )
    split_rule = models.CharField(max_length=16, choices=c.SplitRule.choices, blank=True)
    updated_by = models.ForeignKey(Staff, on_delete=models.PROTECT, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    objects = TargetQuerySet.as_manager()

    class Meta:
        ordering = ["plan", "figure", "scope", "id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(value__gte=0), name="plans_target_not_negative"),
        ]
        indexes = [models.Index(fields=["branch", "figure", "starts_on"])]

    def __str__(self) -> str:
        return f"{self.figure} {self.scope} {self.value}"

    @property
    def scope_id(self) -> int:
        return int(
            {
                "branch": self.branch_id,
                "sub_branch": self.sub_branch_id,
                "team": self.team_id,
                "staff": self.staff_id,
            }[self.scope]
            or 0
        )


class FigureFact(models.Model):
    """The daily rollup every dashboard reads: one figure's value for one day and one person (or team,
    sub-branch, or nobody for unattributed money). Rebuilt by rollup.refresh_figures, never edited."""

    branch = models.ForeignKey(Branch, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    sub_branch = models.ForeignKey(SubBranch, on_delete=models.CASCADE, null=True, related_name="+")
    team = models.ForeignKey(Team, on_delete=models.CASCADE, null=True, related_name="+")
    staff = models.ForeignKey(Staff, on_delete=models.CASCADE, null=True, related_name="+")
    figure = models.CharField(max_length=32)
    value = models.DecimalField(**MONEY)

    objects = FactQuerySet.as_manager()

    class Meta:
        # Every column: the pages' grouped sums read the index alone (a month of a 200-person branch is tens
        # of thousands of rows; looking each up in the table made the funnel page 7× slower, benchmarks).
        indexes = [
            models.Index(
                fields=["branch", "day", "figure", "staff", "team", "sub_branch", "value"],
                name="plans_fact_cover",
            )
        ]


class FunnelFact(models.Model):
    """The list funnel rolled up: how many list entries of one list day, person, pool and product got
    furthest to each stage (counted as of the refresh)."""

    branch = models.ForeignKey(Branch, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()  # the day the customer was put on the list
    sub_branch = models.ForeignKey(SubBranch, on_delete=models.CASCADE, null=True, related_name="+")
    team = models.ForeignKey(Team, on_delete=models.CASCADE, null=True, related_name="+")
    staff = models.ForeignKey(Staff, on_delete=models.CASCADE, null=True, related_name="+")
    pool = models.CharField(max_length=32, blank=True)
    product = models.CharField(max_length=50, blank=True)
    stage = models.PositiveSmallIntegerField(choices=c.FunnelStage.choices)
    entries = models.PositiveIntegerField()

    objects = FactQuerySet.as_manager()

    class Meta:
        indexes = [  # every column, as FigureFact's
            models.Index(
                fields=[
                    "branch",
                    "day",
                    "stage",
                    "staff",
                    "team",
                    "sub_branch",
                    "pool",
                    "product",
                    "entries",
                ],
                name="plans_funnel_cover",
            )
        ]


class FigureRefresh(models.Model):
    """One rebuild of a branch's rollup: the days and list days it covered, when, and what it wrote."""

    branch = models.ForeignKey(Branch, on_delete=models.CASCADE, related_name="+")
    days_from = models.DateField()
    days_to = models.DateField()
    funnel_from = models.DateField(null=True)
    as_of = models.DateField()  # the data date the stock (balance) rows were taken on
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField()
    fact_rows = models.PositiveIntegerField(default=0)
    funnel_rows = models.PositiveIntegerField(default=0)

    objects = BranchWideQuerySet.as_manager()

    class Meta:
        ordering = ["-finished_at", "-id"]


class FlagSet(models.Model):
    """A plan's funnel flags (pools behind, conversion drops) as one reach sees them (the whole branch, or
    one team), worked out by the refresh job right after it rebuilt the funnel, so that no page view pays
    for comparing two periods' funnels (a third of a second at a million customers). Good for that
    refresh of the funnel and that day only; pages work the flags out themselves otherwise."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="+")
    reach = models.CharField(max_length=24)  # "branch" or "team:<id>" (querysets.FlagSetQuerySet)
    refresh = models.ForeignKey(FigureRefresh, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    flags = models.JSONField(default=list)  # deviations.flags_to_json

    objects = FlagSetQuerySet.as_manager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["plan", "reach"], name="plans_flagset_one_per_reach")]


class MarketingEvent(models.Model):
    """An event held (沙龙, 进企业宣讲, 社区活动): the 'events held' process figure counts these."""

    branch = models.ForeignKey(Branch, on_delete=models.PROTECT, related_name="+")
    held_on = models.DateField(_("held on"))
    title = models.CharField(_("title"), max_length=100)
    place = models.CharField(_("place"), max_length=100, blank=True)
    attendees = models.PositiveIntegerField(_("attendees"), default=0)
    organiser = models.ForeignKey(Staff, on_delete=models.PROTECT, related_name="+")
    team = models.ForeignKey(Team, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    sub_branch = models.ForeignKey(
        SubBranch, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = EventQuerySet.as_manager()

    class Meta:
        ordering = ["-held_on", "-id"]
        indexes = [models.Index(fields=["branch", "held_on"])]


class Finding(models.Model):
    """A Check finding of a plan's PDCA cycle, written by a lead; `flag` keeps the deviation it answers."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="findings")
    kind = models.CharField(_("kind"), max_length=24, choices=c.FindingKind.choices)
    text = models.TextField(_("finding"))
    flag = models.JSONField(default=dict, blank=True)  # the computed deviation, frozen when written
    written_by = models.ForeignKey(Staff, on_delete=models.PROTECT, related_name="+")
    written_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["written_at", "id"]


class Adjustment(models.Model):
    """An Act of a plan's PDCA cycle: a change to targets, resources or process, made for a finding."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="adjustments")
    finding = models.ForeignKey(Finding, on_delete=models.CASCADE, related_name="adjustments")
    kind = models.CharField(_("kind"), max_length=16, choices=c.AdjustmentKind.choices)
    text = models.TextField(_("adjustment"))
    target = models.ForeignKey(Target, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    old_value = models.DecimalField(**MONEY, null=True, blank=True)
    new_value = models.DecimalField(**MONEY, null=True, blank=True)
    made_by = models.ForeignKey(Staff, on_delete=models.PROTECT, related_name="+")
    made_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["made_at", "id"]


class Competition(models.Model):
    """A competition (劳动竞赛): a period, people or teams, scoring rules over figures, a leaderboard."""

    branch = models.ForeignKey(Branch, on_delete=models.PROTECT, related_name="+")
    name = models.CharField(_("name"), max_length=100)
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"))
    participant_kind = models.CharField(_("participants"), max_length=8, choices=c.ParticipantKind.choices)
    staff = models.ManyToManyField(Staff, blank=True, related_name="+")
    teams = models.ManyToManyField(Team, blank=True, related_name="+")
    status = models.CharField(max_length=8, choices=c.CompetitionStatus.choices, default="open")
    created_by = models.ForeignKey(Staff, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    finalised_at = models.DateTimeField(null=True, blank=True)

    objects = CompetitionQuerySet.as_manager()

    class Meta:
        ordering = ["-starts_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_on__gte=models.F("starts_on")), name="plans_competition_dates"
            )
        ]

    def __str__(self) -> str:
        return self.name


class CompetitionRule(models.Model):
    """Points = figure ÷ per × points (e.g. 2 points per 10,000 yuan disbursed, 1 point per 10 calls)."""

    competition = models.ForeignKey(Competition, on_delete=models.CASCADE, related_name="rules")
    figure = models.CharField(_("figure"), max_length=32, choices=c.Figure.choices)
    per = models.DecimalField(_("per"), **MONEY)
    points = models.DecimalField(_("points"), max_digits=8, decimal_places=2)
    cap = models.DecimalField(_("at most (points)"), max_digits=10, decimal_places=2, null=True, blank=True)

    class Meta:
        ordering = ["id"]


class Standing(models.Model):
    """The final ranking of a competition, frozen when it is finalised."""

    competition = models.ForeignKey(Competition, on_delete=models.CASCADE, related_name="standings")
    rank = models.PositiveIntegerField()
    staff = models.ForeignKey(Staff, on_delete=models.PROTECT, null=True, related_name="+")
    team = models.ForeignKey(Team, on_delete=models.PROTECT, null=True, related_name="+")
    points = models.DecimalField(max_digits=14, decimal_places=2)
    figures = models.JSONField(default=dict)  # figure → value at the close

    class Meta:
        ordering = ["competition", "rank", "id"]
