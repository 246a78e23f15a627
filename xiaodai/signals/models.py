"""Capital flow (资金流): signal rules (versioned), the customers' current signals, the log of when each
signal was first seen (conversions are measured from it), what each run read (counts of bad transactions,
the closed loop), and the loan-use alerts post-loan staff review (C-17)."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _

from xiaodai.customers.models import Customer
from xiaodai.org.models import Branch, Staff
from xiaodai.pipeline.models import PipelineRun
from xiaodai.signals import choices as c
from xiaodai.signals.querysets import CustomerRowQuerySet, RunQuerySet

MONEY: dict[str, Any] = {"max_digits": 18, "decimal_places": 2}


class SignalRule(models.Model):
    """The current parameters of one signal rule; every change adds a version (like a pool rule)."""

    code = models.CharField(max_length=32, unique=True)
    is_active = models.BooleanField(_("active"), default=True)
    params = models.JSONField(default=dict)
    version = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(Staff, on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} v{self.version}"


class SignalRuleVersion(models.Model):
    """One saved state of a signal rule; a run records the versions it used."""

    rule = models.ForeignKey(SignalRule, on_delete=models.CASCADE, related_name="versions")
    version = models.PositiveIntegerField()
    is_active = models.BooleanField()
    params = models.JSONField()
    note = models.CharField(_("reason for the change"), max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(Staff, on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["rule", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["rule", "version"], name="signals_rule_version_unique")
        ]


class Signal(models.Model):
    """A need (or risk) a customer's money shows as of the latest published run, with its evidence in figures
    (never the raw transactions: marketing roles read these)."""

    run = models.ForeignKey(PipelineRun, on_delete=models.CASCADE, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="signals")
    kind = models.CharField(_("signal"), max_length=24, choices=c.Kind.choices)
    detail = models.CharField(max_length=32, blank=True)  # scenario, salary change, ...
    first_on = models.DateField(_("first seen"))
    last_on = models.DateField(_("latest"))
    txns = models.PositiveIntegerField(_("transactions"))
    amount = models.DecimalField(_("amount"), **MONEY)
    largest = models.DecimalField(_("largest"), **MONEY)
    basis = models.DecimalField(**MONEY, null=True)  # usual payment, previous salary, deposits ...
    counterparty = models.CharField(_("counterparty"), max_length=100, blank=True)
    mcc = models.CharField(_("merchant code"), max_length=4, blank=True)
    is_new = models.BooleanField(default=False)  # not present at the previous run

    objects = CustomerRowQuerySet.as_manager()

    class Meta:
        ordering = ["-last_on", "-amount", "customer_id"]
        constraints = [
            models.UniqueConstraint(fields=["customer", "kind", "detail"], name="signals_signal_unique")
        ]
        indexes = [models.Index(fields=["kind", "-last_on"])]


class SignalLog(models.Model):
    """Each time a signal appears for a customer (it was not there at the previous run). Kept across runs:
    the page counts signals over time and the applications that followed them."""

    branch = models.ForeignKey(Branch, on_delete=models.CASCADE, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="signal_log")
    run = models.ForeignKey(PipelineRun, on_delete=models.SET_NULL, null=True, related_name="+")
    kind = models.CharField(max_length=24, choices=c.Kind.choices)
    detail = models.CharField(max_length=32, blank=True)
    seen_on = models.DateField()  # the run's data date
    amount = models.DecimalField(**MONEY)

    objects = CustomerRowQuerySet.as_manager()

    class Meta:
        indexes = [models.Index(fields=["branch", "seen_on", "kind"])]


class FlowRun(models.Model):
    """What one run's signal step read and made of it: bad transactions counted (never silently dropped),
    signals found, and the closed-loop figures of ecosystem 2.0."""

    run = models.OneToOneField(PipelineRun, on_delete=models.CASCADE, related_name="flow")
    branch = models.ForeignKey(Branch, on_delete=models.CASCADE, related_name="+")
    data_date = models.DateField()
    read = models.PositiveBigIntegerField(default=0)
    used = models.PositiveBigIntegerField(default=0)
    duplicates = models.PositiveBigIntegerField(default=0)
    foreign_currency = models.PositiveBigIntegerField(default=0)
    bad_amount = models.PositiveBigIntegerField(default=0)
    unknown_mcc = models.PositiveBigIntegerField(default=0)
    missing_counterparty = models.PositiveBigIntegerField(default=0)
    signals = models.PositiveIntegerField(default=0)
    alerts = models.PositiveIntegerField(default=0)  # new alerts raised by this run
    loans = models.PositiveIntegerField(default=0)
    disbursed = models.DecimalField(**MONEY, default=0)
    closed_loop = models.DecimalField(**MONEY, default=0)

    objects = RunQuerySet.as_manager()

    class Meta:
        ordering = ["-data_date", "-run_id"]

    @property
    def closed_loop_rate(self) -> float | None:
        return float(self.closed_loop / self.disbursed) if self.disbursed else None


class FlowAlert(models.Model):
    """Consumer-loan money that reached a securities account, a developer or a down payment within the watch
    window (C-17). Raised by the pipeline once per transaction; reviewed by post-loan staff only."""

    branch = models.ForeignKey(Branch, on_delete=models.CASCADE, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="flow_alerts")
    run = models.ForeignKey(PipelineRun, on_delete=models.SET_NULL, null=True, related_name="+")
    kind = models.CharField(_("where the money went"), max_length=16, choices=c.AlertKind.choices)
    txn_id = models.CharField(_("transaction"), max_length=32)
    flow_on = models.DateField(_("moved on"))
    amount = models.DecimalField(_("amount"), **MONEY)
    counterparty = models.CharField(_("counterparty"), max_length=100, blank=True)
    loan_disbursed_on = models.DateField(_("loan disbursed on"))
    loan_amount = models.DecimalField(_("loan amount"), **MONEY)
    days_after = models.PositiveIntegerField(_("days after disbursement"))
    status = models.CharField(
        _("status"), max_length=16, choices=c.AlertStatus.choices, default=c.AlertStatus.OPEN
    )
    note = models.TextField(_("review note"), blank=True)
    reviewed_by = models.ForeignKey(Staff, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    reviewed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = CustomerRowQuerySet.as_manager()

    class Meta:
        ordering = ["status", "-flow_on", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["customer", "txn_id", "kind"], name="signals_alert_unique")
        ]
        indexes = [models.Index(fields=["branch", "status", "-flow_on"])]
