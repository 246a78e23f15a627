"""Codes of the plans app: figures targets are set on, scope levels, split rules, PDCA, competitions."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Figure(models.TextChoices):
    """Every figure a target, a daily report or a competition rule can name (see figures.FIGURES)."""

    # Outcome figures (money and customers), from the bank's data drop (T+1).
    DISBURSED_AMOUNT = "disbursed_amount", _("Disbursed amount")
    NEW_DRAWDOWN_CUSTOMERS = "new_drawdown_customers", _("New drawdown customers")
    BALANCE_GROWTH = "balance_growth", _("Consumer-loan balance growth")
    APPROVED_AMOUNT = "approved_amount", _("Approved amount")
    # Process figures, from the workbench's outcomes and the events recorded.
    CALLS = "calls", _("Calls")
    REACHED = "reached", _("Reached contacts")
    VISITS = "visits", _("Visits")
    EVENTS = "events", _("Events held")
    REFERRALS = "referrals", _("Referrals")


class FigureKind(models.TextChoices):
    OUTCOME = "outcome", _("Outcome figure")
    PROCESS = "process", _("Process figure")


class ScopeKind(models.TextChoices):
    """Levels of the hierarchy a target is set at, widest first."""

    BRANCH = "branch", _("Branch")
    SUB_BRANCH = "sub_branch", _("Sub-branch")
    TEAM = "team", _("Team")
    STAFF = "staff", _("Person")


class PlanKind(models.TextChoices):
    MONTH = "month", _("Month")
    QUARTER = "quarter", _("Quarter")
    CAMPAIGN = "campaign", _("Campaign")


class PlanStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    CLOSED = "closed", _("Closed")


class SplitRule(models.TextChoices):
    """How a parent's target is proposed across its children (the lead may edit the figures after)."""

    EVEN = "even", _("Evenly")
    LAST_PERIOD = "last_period", _("By last period's share")
    POOL_POTENTIAL = "pool_potential", _("By pool potential")
    MANUAL = "manual", _("By hand")


class Pace(models.TextChoices):
    BEHIND = "behind", _("Behind")
    ON = "on", _("On pace")
    AHEAD = "ahead", _("Ahead")
    NO_TARGET = "none", _("No target")


class FunnelStage(models.IntegerChoices):
    """The list funnel: each list entry counts at the furthest stage its customer reached after listing."""

    LISTED = 0, _("Listed")
    CONTACTED = 1, _("Contacted")
    REACHED = 2, _("Reached")
    INTERESTED = 3, _("Interested")
    APPLIED = 4, _("Applied")
    APPROVED = 5, _("Approved")
    DISBURSED = 6, _("Disbursed")
    DRAWN = 7, _("Drawn")


class FindingKind(models.TextChoices):
    """What a Check finding is about; the flagged kinds are the deviations the product computes."""

    BEHIND_PACE = "behind_pace", _("Far behind pace")
    CONVERSION_DROP = "conversion_drop", _("Conversion dropped")
    UNCONTACTED_CLAIMS = "uncontacted_claims", _("Claims not contacted")
    OTHER = "other", _("Other finding")


class AdjustmentKind(models.TextChoices):
    TARGET = "target", _("Target")
    RESOURCES = "resources", _("Resources")
    PROCESS = "process", _("Process")


class ParticipantKind(models.TextChoices):
    STAFF = "staff", _("People")
    TEAM = "team", _("Teams")


class CompetitionStatus(models.TextChoices):
    OPEN = "open", _("Running")
    FINAL = "final", _("Final")
