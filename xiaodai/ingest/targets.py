"""How each database feed of the contract maps onto the app's tables: copied columns, references resolved by
business key, values computed while staging, and the natural key rows are matched on."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from django.db import models
from pypinyin import Style, lazy_pinyin

from xiaodai.customers.models import (
    Application,
    Card,
    Consent,
    ContactPoint,
    CreditLine,
    Customer,
    Deposit,
    Loan,
    OptOut,
    PayrollLink,
)


@dataclass(frozen=True)
class Ref:
    """A contract column holding another table's business key, stored as that row's id."""

    column: str
    db_column: str
    table: str
    key: str
    branch_scoped: bool = False  # the referenced table has a branch_id: match within the drop's branch


@dataclass(frozen=True)
class Joined:
    """A db column looked up while merging, by a join in the same statement (a later UPDATE of freshly
    inserted rows would rewrite them and, on PostgreSQL, check their foreign keys again at commit)."""

    db_column: str
    join: str  # joined onto the staging table `s`
    expr: str


@dataclass(frozen=True)
class TableTarget:
    model: type[models.Model]
    copy: dict[str, str]  # contract column -> db column
    refs: tuple[Ref, ...]
    key: tuple[str, ...]  # db columns of the natural key (after references are resolved)
    computed: tuple[str, ...] = ()  # db columns filled by `compute` from the contract values
    compute: Callable[[list[Any]], tuple[Any, ...]] | None = None
    branch_column: str = ""  # db column set to the drop's branch
    timestamps: tuple[str, ...] = ()  # db columns set to now on insert/update
    immutable: bool = False  # evidence (consent, opt-out): an existing key with other values is refused
    skip: tuple[str, ...] = field(default=())  # contract columns handled after the load (customer tags)
    joined: tuple[Joined, ...] = ()

    @property
    def table(self) -> str:
        return self.model._meta.db_table


def _customer_ref() -> Ref:
    return Ref("customer_no", "customer_id", Customer._meta.db_table, "customer_no", branch_scoped=True)


def _staff_ref(column: str, db_column: str) -> Ref:
    return Ref(column, db_column, "org_staff", "employee_no")


@lru_cache(maxsize=200_000)
def _pinyin(name: str) -> tuple[str, str]:
    # Names repeat a lot in a branch's book; the cache makes pinyin cheap at a million customers.
    syllables = lazy_pinyin(name, style=Style.NORMAL, errors="ignore")
    return "".join(syllables).lower(), "".join(s[0] for s in syllables if s).lower()


def _customer_computed(values: list[Any]) -> tuple[Any, ...]:
    return _pinyin(values[1])  # name is the contract's second customer column


def _contact_computed(values: list[Any]) -> tuple[Any, ...]:
    digits = "".join(ch for ch in values[2] if ch.isdigit())
    return (digits[-4:],)


TARGETS: dict[str, TableTarget] = {
    "customers": TableTarget(
        Customer,
        copy={
            "customer_no": "customer_no",
            "name": "name",
            "gender": "gender",
            "birth_date": "birth_date",
            "id_number": "id_number",
            "occupation": "occupation",
            "employer_name": "employer_name",
            "monthly_income": "monthly_income",
            "address": "address",
            "district": "district",
            "is_vulnerable": "is_vulnerable",
            "no_personalised_marketing": "no_personalised_marketing",
            "opened_on": "opened_on",
        },
        refs=(
            Ref("payroll_enterprise_code", "payroll_enterprise_id", "customers_enterprise", "code"),
            Ref("sub_branch_code", "sub_branch_id", "org_subbranch", "code", branch_scoped=True),
            Ref("owner_employee_no", "owner_id", "org_staff", "employee_no", branch_scoped=True),
        ),
        key=("customer_no",),
        computed=("name_pinyin", "name_initials"),
        compute=_customer_computed,
        branch_column="branch_id",
        timestamps=("created_at", "updated_at"),
        skip=("tags",),
    ),
    "contacts": TableTarget(
        ContactPoint,
        copy={"kind": "kind", "value": "value", "is_primary": "is_primary"},
        refs=(_customer_ref(),),
        key=("customer_id", "kind", "value"),
        computed=("tail",),
        compute=_contact_computed,
    ),
    "consents": TableTarget(
        Consent,
        copy={
            "purpose": "purpose",
            "channel": "channel",
            "granted": "granted",
            "recorded_at": "recorded_at",
            "source": "source",
            "wording_version": "wording_version",
            "expires_at": "expires_at",
        },
        refs=(_customer_ref(), _staff_ref("collector_employee_no", "collector_id")),
        key=("customer_id", "purpose", "channel", "recorded_at"),
        immutable=True,
        # The sub-branch the consent was collected at: the collector's, when it was loaded.
        joined=(
            Joined(
                "collector_branch_id",
                "LEFT JOIN org_staff collector ON collector.id = s.r_collector_id",
                "collector.sub_branch_id",
            ),
        ),
    ),
    "opt_outs": TableTarget(
        OptOut,
        copy={"channel": "channel", "recorded_at": "recorded_at", "reason": "reason", "source": "source"},
        refs=(_customer_ref(),),
        key=("customer_id", "channel", "recorded_at"),
        immutable=True,
    ),
    "credit_lines": TableTarget(
        CreditLine,
        copy={
            "line_no": "line_no",
            "product": "product",
            "limit": "limit",
            "drawn": "drawn",
            "approved_on": "approved_on",
            "expires_on": "expires_on",
            "last_drawn_on": "last_drawn_on",
            "rate": "rate",
            "apr": "apr",
            "status": "status",
        },
        refs=(_customer_ref(),),
        key=("line_no",),
    ),
    "loans": TableTarget(
        Loan,
        copy={
            "loan_no": "loan_no",
            "kind": "kind",
            "product": "product",
            "amount": "amount",
            "balance": "balance",
            "rate": "rate",
            "apr": "apr",
            "status": "status",
            "overdue_days": "overdue_days",
            "disbursed_on": "disbursed_on",
            "matures_on": "matures_on",
        },
        refs=(_customer_ref(),),
        key=("loan_no",),
    ),
    "cards": TableTarget(
        Card,
        copy={
            "card_no": "card_no",
            "tier": "tier",
            "limit": "limit",
            "used": "used",
            "delinquent_cycles": "delinquent_cycles",
            "opened_on": "opened_on",
        },
        refs=(_customer_ref(),),
        key=("card_no",),
    ),
    "deposits": TableTarget(
        Deposit,
        copy={
            "account_no": "account_no",
            "kind": "kind",
            "balance": "balance",
            "opened_on": "opened_on",
            "matures_on": "matures_on",
        },
        refs=(_customer_ref(),),
        key=("account_no",),
    ),
    "applications": TableTarget(
        Application,
        copy={
            "app_no": "app_no",
            "product": "product",
            "amount": "amount",
            "stage": "stage",
            "status": "status",
            "started_at": "started_at",
            "last_step_at": "last_step_at",
        },
        refs=(_customer_ref(),),
        key=("app_no",),
    ),
    "payroll": TableTarget(
        PayrollLink,
        copy={
            "monthly_amount": "monthly_amount",
            "first_paid_on": "first_paid_on",
            "last_paid_on": "last_paid_on",
        },
        refs=(_customer_ref(), Ref("enterprise_code", "enterprise_id", "customers_enterprise", "code")),
        key=("customer_id", "enterprise_id"),
    ),
}

# Reverse load order, for rolling back: children before the rows they point at.
ROLLBACK_ORDER = [
    "payroll",
    "applications",
    "deposits",
    "cards",
    "loans",
    "credit_lines",
    "opt_outs",
    "consents",
    "contacts",
    "customers",
]
