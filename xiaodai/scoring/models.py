"""The model registry, retraining jobs, and the scores of the latest published run per customer."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from xiaodai.customers.models import Customer
from xiaodai.org.models import Staff
from xiaodai.pipeline.models import PipelineRun
from xiaodai.scoring import choices as c

MONEY: dict[str, Any] = {"max_digits": 18, "decimal_places": 2}
PRODUCT_MODEL = "propensity"  # the family the pipeline scores with; "rules v1" is its first version


class ScoringModel(models.Model):
    """One trained (or rule) model version with its card: window, features, data size, holdout metrics."""

    name = models.CharField(_("name"), max_length=64)
    version = models.PositiveIntegerField(_("version"))
    kind = models.CharField(_("kind"), max_length=16, choices=c.ModelKind.choices)
    source = models.CharField(_("trained on"), max_length=16, choices=c.ModelSource.choices)
    status = models.CharField(_("status"), max_length=16, choices=c.ModelStatus.choices)
    features = models.JSONField(default=list)  # [{name, kind, origin, description}]
    window = models.JSONField(default=dict)  # train_from/to, holdout_from/to
    rows = models.JSONField(default=dict)  # train, train_positive, holdout, holdout_positive
    metrics = models.JSONField(default=dict)  # {method: {auc, ap, capture, gains}} on the holdout
    notes = models.JSONField(default=list)  # where it does not beat a baseline
    params = models.JSONField(default=dict)
    info = models.JSONField(default=dict)  # the history file's columns and options; left-out columns
    beats_active = models.BooleanField(null=True)  # None: there was nothing to compare with
    file = models.CharField(max_length=200, blank=True)  # relative to the model directory; "" for rules
    checksum = models.CharField(max_length=64, blank=True)
    trigger = models.CharField(_("started from"), max_length=16, choices=c.Trigger.choices)
    trained_by = models.ForeignKey(Staff, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    trained_at = models.DateTimeField(_("trained at"), auto_now_add=True)
    activated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["name", "version"], name="scoring_model_version_unique"),
            models.UniqueConstraint(
                fields=["name"], condition=Q(status="active"), name="scoring_one_active_model"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"

    @property
    def label(self) -> str:
        return f"{self.kind} v{self.version}" if self.kind == c.ModelKind.RULES else str(self)


class TrainingRun(models.Model):
    """A retraining job (on demand or on schedule): its progress and the model it produced."""

    status = models.CharField(
        max_length=16, choices=c.TrainingStatus.choices, default=c.TrainingStatus.QUEUED
    )
    trigger = models.CharField(max_length=16, choices=c.Trigger.choices)
    requested_by = models.ForeignKey(Staff, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    model = models.ForeignKey(
        ScoringModel, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    message = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["trigger"], condition=Q(status__in=["queued", "running"]), name="scoring_one_training"
            )
        ]


class ScoreRun(models.Model):
    """What made a run's ranked lists (C-11 explainability): the model version and the parameters."""

    run = models.OneToOneField(PipelineRun, on_delete=models.CASCADE, related_name="scoring")
    model = models.ForeignKey(ScoringModel, on_delete=models.PROTECT, related_name="+")
    params = models.JSONField(default=dict)
    criteria_hash = models.CharField(max_length=64)
    scored = models.PositiveIntegerField(default=0)
    non_personalised = models.PositiveIntegerField(default=0)  # ranked by the pool prior only (C-11)


class CustomerScore(models.Model):
    """A workable customer's score as of the latest published run of their branch."""

    run = models.ForeignKey(PipelineRun, on_delete=models.CASCADE, related_name="+")
    customer = models.OneToOneField(Customer, on_delete=models.CASCADE, related_name="score")
    model = models.ForeignKey(ScoringModel, on_delete=models.PROTECT, related_name="+")
    probability = models.FloatField(_("probability"))
    expected_amount = models.DecimalField(_("expected amount"), **MONEY)
    expected_value = models.DecimalField(_("expected value"), **MONEY)
    reasons = models.JSONField(default=list)  # [[code, {params}], ...] best first; worded by reasons.py
    personalised = models.BooleanField(default=True)
