"""Roles, permissions and how far each role sees. The one table every access decision reads."""

from __future__ import annotations

from enum import IntEnum

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    BRANCH_HEAD = "branch_head", _("Branch head")
    TEAM_LEAD = "team_lead", _("Team lead")
    LOAN_MANAGER = "loan_manager", _("Loan customer manager")
    TELEMARKETER = "telemarketer", _("Telemarketer")
    LOBBY_MANAGER = "lobby_manager", _("Lobby manager")
    CORPORATE_RM = "corporate_rm", _("Corporate RM")
    WEALTH_ADVISOR = "wealth_advisor", _("Wealth advisor")
    OPS_ADMIN = "ops_admin", _("Operations admin")
    AUDITOR = "auditor", _("Auditor")
    POST_LOAN = "post_loan", _("Post-loan officer")


class Perm(models.TextChoices):
    VIEW_CUSTOMERS = "view_customers", _("View customers")
    REVEAL_PII = "reveal_pii", _("Reveal masked personal data")
    RECORD_CONSENT = "record_consent", _("Record consent and opt-outs")
    VIEW_STAFF = "view_staff", _("View staff")
    MANAGE_STAFF = "manage_staff", _("Manage staff accounts")
    VIEW_AUDIT = "view_audit", _("Read the audit trail")
    USE_API = "use_api", _("Use the API")
    VIEW_IMPORTS = "view_imports", _("See data-drop import runs")
    MANAGE_IMPORTS = "manage_imports", _("Run, upload and roll back data drops")
    VIEW_POOLS = "view_pools", _("See the resource pools and their customers")
    EXPORT_POOLS = "export_pools", _("Export pool customer lists to Excel")
    MANAGE_POOL_RULES = "manage_pool_rules", _("Edit pool rules")
    VIEW_PIPELINE = "view_pipeline", _("See pipeline runs")
    RUN_PIPELINE = "run_pipeline", _("Start pipeline runs")
    MANAGE_MODELS = "manage_models", _("See the model registry and retrain models")
    WORK_CALLS = "work_calls", _("Work a call list and record contact outcomes")
    CLAIM_CUSTOMERS = "claim_customers", _("Claim unowned customers from a pool")
    ALLOCATE = "allocate", _("Allocate customers to people and teams in bulk, hand customers over")
    SUPERVISE = "supervise", _("See the team's workload and conversion live")
    WRITE_SCRIPTS = "write_scripts", _("Write call scripts and submit them for review")
    APPROVE_SCRIPTS = "approve_scripts", _("Review and approve call scripts")
    MANAGE_CONTACT_RULES = "manage_contact_rules", _("Edit contact rules and claim settings")
    VIEW_CAPITAL_FLOW = "view_capital_flow", _("See capital-flow signals of the customers in scope")
    MANAGE_SIGNAL_RULES = "manage_signal_rules", _("Edit capital-flow signal rules")
    REVIEW_FLOW_ALERTS = "review_flow_alerts", _("Read loan-use alerts and their transactions, review them")
    VIEW_PERFORMANCE = "view_performance", _("See targets, progress, funnel, daily report and competitions")
    RECORD_EVENTS = "record_events", _("Record events held")
    MANAGE_TARGETS = "manage_targets", _("Set and split targets, write PDCA records, run competitions")


_FRONT_LINE = {
    Perm.VIEW_CUSTOMERS,
    Perm.RECORD_CONSENT,
    Perm.USE_API,
    Perm.VIEW_POOLS,
    Perm.WORK_CALLS,
    Perm.CLAIM_CUSTOMERS,
    Perm.VIEW_CAPITAL_FLOW,
    Perm.VIEW_PERFORMANCE,
    Perm.RECORD_EVENTS,
}
_LEADS = {
    Perm.REVEAL_PII,
    Perm.VIEW_STAFF,
    Perm.EXPORT_POOLS,
    Perm.ALLOCATE,
    Perm.SUPERVISE,
    Perm.WRITE_SCRIPTS,
    Perm.APPROVE_SCRIPTS,
    Perm.MANAGE_TARGETS,
}

# Segregation of duties (compliance A-04): the ops admin manages accounts but reads no customer data;
# the auditor reads the audit trail only. Revealing is for the roles that contact customers.
ROLE_PERMS: dict[str, frozenset[str]] = {
    Role.BRANCH_HEAD: frozenset(
        _FRONT_LINE | _LEADS | {Perm.VIEW_IMPORTS, Perm.VIEW_PIPELINE, Perm.MANAGE_CONTACT_RULES}
    ),
    Role.TEAM_LEAD: frozenset(_FRONT_LINE | _LEADS),
    Role.LOAN_MANAGER: frozenset(_FRONT_LINE | {Perm.REVEAL_PII}),
    Role.TELEMARKETER: frozenset(_FRONT_LINE | {Perm.REVEAL_PII}),
    Role.LOBBY_MANAGER: frozenset(_FRONT_LINE),
    Role.CORPORATE_RM: frozenset(_FRONT_LINE),
    Role.WEALTH_ADVISOR: frozenset(_FRONT_LINE),
    Role.OPS_ADMIN: frozenset(
        {
            Perm.VIEW_STAFF,
            Perm.MANAGE_STAFF,
            Perm.VIEW_IMPORTS,
            Perm.MANAGE_IMPORTS,
            Perm.MANAGE_POOL_RULES,
            Perm.VIEW_PIPELINE,
            Perm.RUN_PIPELINE,
            Perm.MANAGE_MODELS,
            Perm.MANAGE_SIGNAL_RULES,
        }
    ),
    Role.AUDITOR: frozenset({Perm.VIEW_AUDIT}),
    # Post-loan monitoring reads the flows behind a loan-use alert; it markets nothing (C-17).
    Role.POST_LOAN: frozenset({Perm.REVIEW_FLOW_ALERTS}),
}


class Level(IntEnum):
    """How much of a domain a role sees. Higher includes lower."""

    NONE = 0
    OWN = 1
    TEAM = 2
    BRANCH = 3


class Domain(models.TextChoices):
    CUSTOMER = "customer"  # customers and everything hanging off them (personal data)
    ORG = "org"  # staff and teams (no customer data)


ROLE_LEVELS: dict[str, dict[str, Level]] = {
    Domain.CUSTOMER: {
        Role.BRANCH_HEAD: Level.BRANCH,
        Role.TEAM_LEAD: Level.TEAM,
        Role.LOAN_MANAGER: Level.OWN,
        Role.TELEMARKETER: Level.OWN,
        Role.LOBBY_MANAGER: Level.OWN,
        Role.CORPORATE_RM: Level.OWN,
        Role.WEALTH_ADVISOR: Level.OWN,
        Role.OPS_ADMIN: Level.NONE,
        Role.AUDITOR: Level.NONE,
        Role.POST_LOAN: Level.BRANCH,
    },
    Domain.ORG: {
        Role.BRANCH_HEAD: Level.BRANCH,
        Role.TEAM_LEAD: Level.TEAM,
        Role.OPS_ADMIN: Level.BRANCH,
    },
}
